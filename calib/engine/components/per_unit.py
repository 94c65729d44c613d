"""R29/R31/R34: ``rate`` per unit of a column (20 per discipline violation, 0.20 per ticket),
optionally capped at ``max`` per person.
"""

from __future__ import annotations

import numpy as np

from calib.engine.components.context import PayContext
from calib.engine.components.kind import ComponentKind, Reads
from calib.policy import pay as P


def amount(c: PayContext, comp: P.PerUnit, path: str) -> np.ndarray:
    """The column × the rate, at most ``max``."""
    out = np.nan_to_num(c.number(comp.column)) * comp.rate
    return np.minimum(out, comp.max) if comp.max is not None else out


KIND = ComponentKind(P.PerUnit, amount, reads=lambda comp: Reads(values=(comp.column,)))
