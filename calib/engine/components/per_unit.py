"""R29/R31/R34: ``rate`` per unit of a column (20 per discipline violation, 0.20 per ticket),
optionally capped at ``max`` per person.
"""

from __future__ import annotations

import numpy as np

from calib.engine.components.context import PayContext
from calib.engine.components.kind import Bounds, ComponentKind, Reads
from calib.policy import pay as P


def before_cap(c: PayContext, comp: P.PerUnit, path: str) -> np.ndarray:
    """The column × the rate."""
    return np.nan_to_num(c.number(comp.column)) * comp.rate


def amount(c: PayContext, comp: P.PerUnit, path: str) -> np.ndarray:
    """The column × the rate, at most ``max``."""
    out = before_cap(c, comp, path)
    return np.minimum(out, comp.max) if comp.max is not None else out


def bounds(c: PayContext, comp: P.PerUnit, path: str) -> Bounds | None:
    """Where ``max`` bit, and the amount before it."""
    if comp.max is None:
        return None
    before = before_cap(c, comp, path)
    return Bounds.of(before, (before > comp.max, f"{path}.max"))


KIND = ComponentKind(P.PerUnit, amount, reads=lambda comp: Reads(values=(comp.column,)),
                     bounds=bounds)
