"""R32: the rate of the tier that the group's per-capita output reaches, times ``base`` (a
measure computed with ``group_by``, e.g. department sales / headcount).
"""

from __future__ import annotations

import numpy as np

from calib._util.tolerance import tol
from calib.engine.components.context import PayContext
from calib.engine.components.kind import ComponentKind, Reads
from calib.policy import pay as P


def amount(c: PayContext, comp: P.Commission, path: str) -> np.ndarray:
    """The base × the rate of the highest tier the output is above."""
    output = np.nan_to_num(c.number(comp.output))
    rate = np.zeros(c.pop.n)
    for tier in reversed(comp.tiers):
        rate = np.where(output > tier.above + tol(tier.above), tier.rate, rate)
    return c.amount(comp.base, f"{path}.base") * rate


KIND = ComponentKind(P.Commission, amount, reads=lambda comp: Reads(values=(comp.output,)))
