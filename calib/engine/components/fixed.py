"""R34: a fixed part of pay (base 800, post pay by level, allowance, full attendance 50)."""

from __future__ import annotations

import numpy as np

from calib.engine.components.context import PayContext
from calib.engine.components.kind import ComponentKind, Reads
from calib.policy import pay as P


def amount(c: PayContext, comp: P.Fixed, path: str) -> np.ndarray:
    """The base per row."""
    return c.amount(comp.base, f"{path}.base")


KIND = ComponentKind(P.Fixed, amount, reads=lambda comp: Reads(), pays_not_rated=True)
