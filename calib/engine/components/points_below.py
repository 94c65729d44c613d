"""R29: ``rate`` per score point below ``threshold`` (2 yuan per point below 85)."""

from __future__ import annotations

import numpy as np

from calib.engine.components.context import PayContext
from calib.engine.components.kind import ComponentKind, Reads, formula_kernel
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


KIND = ComponentKind(P.PointsBelow, formula_kernel(prepare, into),
                     reads=lambda comp: Reads(score=True), prepare=prepare, into=into)
