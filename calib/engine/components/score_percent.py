"""R11: base × score / 100 (750 × score%: score 50 → 375), optionally capped at ``max_percent``."""

from __future__ import annotations

import numpy as np

from calib.engine.components.context import PayContext
from calib.engine.components.kind import Bounds, ComponentKind, Reads, formula_kernel
from calib.policy import pay as P

Parameters = tuple[float | np.ndarray, float | None]


def prepare(c: PayContext, comp: P.ScorePercent, path: str) -> Parameters:
    """The base (a number when fixed: it multiplies as one, the same products as a column of
    it) and the cap on the score.
    """
    base = (comp.base.amount if comp.base.amount is not None
            else c.amount(comp.base, f"{path}.base"))
    return base, comp.max_percent


def into(params: Parameters, score: np.ndarray, out: np.ndarray) -> None:
    """The base × min(score, cap) / 100, into ``out``."""
    base, cap = params
    if cap is None:
        np.copyto(out, score)
    else:
        np.minimum(score, cap, out=out)
    np.multiply(base, out, out=out)
    out /= 100.0


def bounds(c: PayContext, comp: P.ScorePercent, path: str) -> Bounds | None:
    """Where ``max_percent`` bit (a score above it), and the amount on the whole score."""
    if comp.max_percent is None:
        return None
    base, cap = prepare(c, comp, path)
    score = c.scores()
    before = np.empty(c.pop.n)
    into((base, None), score, before)
    return Bounds.of(before, (score > cap, f"{path}.max_percent"))


KIND = ComponentKind(P.ScorePercent, formula_kernel(prepare, into),
                     reads=lambda comp: Reads(score=True), prepare=prepare, into=into,
                     bounds=bounds)
