"""R29: ``rate`` per score point below ``threshold`` (2 yuan per point below 85)."""

from __future__ import annotations

import numpy as np

from calib.engine.components.context import PayContext
from calib.engine.components.kind import ComponentKind, Reads
from calib.policy import pay as P


def prepare(c: PayContext, comp: P.PointsBelow, path: str) -> tuple[float, float]:
    """The threshold and the rate."""
    return comp.threshold, comp.rate


def into(params: tuple[float, float], score: np.ndarray, out: np.ndarray) -> None:
    """The points below the threshold, max(threshold − score, 0), × the rate, into ``out``."""
    threshold, rate = params
    np.subtract(threshold, score, out=out)
    np.maximum(out, 0.0, out=out)
    out *= rate


def amount(c: PayContext, comp: P.PointsBelow, path: str) -> np.ndarray:
    """The kernel: ``into`` on the population's scores."""
    out = np.empty(c.pop.n)
    into(prepare(c, comp, path), c.scores(), out)
    return out


KIND = ComponentKind(P.PointsBelow, amount, reads=lambda comp: Reads(score=True),
                     prepare=prepare, into=into)
