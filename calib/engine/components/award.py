"""R36: ``amount`` to the top ``top`` people by rank in their group (quarterly outstanding
employee), to everyone above a score, or to everyone meeting ``when`` (a quarter without
complaints → 300).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib._util.tolerance import tol
from calib.engine.components.context import PayContext
from calib.engine.components.kind import ComponentKind, Reads, Steps
from calib.errors import DataError
from calib.policy import pay as P


def amount(c: PayContext, comp: P.Award, path: str) -> np.ndarray:
    """The amount where the row is rated, in the top ranks and above the score."""
    hit = c.pop.rated.copy()
    if comp.top is not None:
        if c.rank is None:
            raise DataError(pd.DataFrame([{"table": "policy", "row": None, "id": None,
                                           "column": None, "problem": "an award by rank needs "
                                           "grading.ranking", "value": None,
                                           "fix": "add grading.ranking"}]))
        hit &= (c.rank >= 1) & (c.rank <= comp.top)
    if comp.score_above is not None:
        hit &= c.pop.score > comp.score_above + tol(comp.score_above)
    return np.where(hit, comp.amount, 0.0)


def reads(comp: P.Award) -> Reads:
    """The rank (``top``) and the score (``score_above``)."""
    return Reads(score=comp.score_above is not None, rank=comp.top is not None)


def steps(comp: P.Award) -> Steps:
    """A score exactly at ``score_above`` is not above it."""
    assert comp.score_above is not None
    return Steps(np.array([comp.score_above + tol(comp.score_above)]), strict=True)


KIND = ComponentKind(P.Award, amount, reads=reads, steps=steps)
