"""R28: score bands → share of performance pay (100 → 100%, [95, 100) → 95%, …), with a floor
share per group (frontline never below 75%).
"""

from __future__ import annotations

import numpy as np

from calib._util.text import as_text
from calib._util.tolerance import tol
from calib.engine.components.context import PayContext, by_value
from calib.engine.components.kind import Bounds, ComponentKind, Reads, Steps
from calib.policy import pay as P


def band_share(c: PayContext, comp: P.ScoreBands) -> np.ndarray:
    """The share of the highest band the score reaches (≥ its minimum), before the floors."""
    score = c.pop.score  # a missing score is in no band
    share = np.full(c.pop.n, comp.otherwise)
    for band in reversed(comp.bands):
        share = np.where(score >= band.min - tol(band.min), band.share, share)
    return share


def amount(c: PayContext, comp: P.ScoreBands, path: str) -> np.ndarray:
    """The base × the share of the highest band the score reaches, at least the row's floor."""
    share = band_share(c, comp)
    if comp.floor_by is not None:
        share = np.maximum(share, by_value(c.pop, comp.floor_by, comp.floors, 0.0))
    return c.amount(comp.base, f"{path}.base") * share


def bounds(c: PayContext, comp: P.ScoreBands, path: str) -> Bounds | None:
    """Where a floor share bit (``floors.<value of floor_by>``), and the amount before it."""
    if comp.floor_by is None:
        return None
    share = band_share(c, comp)
    base = c.amount(comp.base, f"{path}.base")
    floor = by_value(c.pop, comp.floor_by, comp.floors, 0.0)
    value = as_text(c.pop.column(comp.floor_by), "")
    paths = np.array([f"{path}.floors.{v}" for v in value], dtype=object)
    return Bounds.of(base * share, ((floor > share) & (base != 0), paths))


def steps(comp: P.ScoreBands) -> Steps:
    """A score at a band's minimum is in the band."""
    return Steps(np.array([b.min - tol(b.min) for b in comp.bands]), strict=False)


KIND = ComponentKind(P.ScoreBands, amount, reads=lambda comp: Reads(score=True), steps=steps,
                     bounds=bounds)
