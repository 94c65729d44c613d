"""R31: Σ rate × count over the piece columns, scaled down per group so that the group's average
is at most ``max_mean`` (capped so the average is at most 500 a month).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib._util.memo import remember
from calib.engine.components.context import PayContext
from calib.engine.components.kind import Bounds, ComponentKind, Reads
from calib.engine.grading import Population
from calib.policy import pay as P


def period_groups(pop: Population, by: str | None) -> np.ndarray:
    """A code per row for its period (and ``by`` column): the data's alone, kept for re-runs."""
    parts = [pop.period] + ([np.asarray(pop.column(by), dtype=object)] if by else [])
    key = pd.MultiIndex.from_arrays(parts) if len(parts) > 1 else pd.Index(parts[0])
    return pd.factorize(key)[0]


def before_cap(c: PayContext, comp: P.PieceRate, path: str) -> np.ndarray:
    """Σ count × rate."""
    out = np.zeros(c.pop.n)
    for col, rate in comp.rates.items():
        out += np.nan_to_num(c.number(col)) * rate
    return out


def _scale(c: PayContext, comp: P.PieceRate, out: np.ndarray) -> np.ndarray:
    """Per row, the factor (≤ 1) that brings its period's (and group's) mean to ``max_mean``."""
    assert comp.max_mean is not None
    pop = c.pop
    codes = remember(pop.memo, ("piece rate groups", comp.mean_by, pop.rows_key),
                     lambda: period_groups(pop, comp.mean_by))
    paid = c.pop.rated
    total = np.bincount(codes, weights=np.where(paid, out, 0.0))
    count = np.bincount(codes, weights=paid.astype(float))
    mean = total / np.maximum(count, 1)
    scale = np.where(mean > comp.max_mean, comp.max_mean / np.maximum(mean, 1e-12), 1.0)
    return scale[codes]


def amount(c: PayContext, comp: P.PieceRate, path: str) -> np.ndarray:
    """Σ count × rate, scaled down per period (and group) to the mean cap."""
    out = before_cap(c, comp, path)
    if comp.max_mean is not None:
        out = out * _scale(c, comp, out)
    return out


def bounds(c: PayContext, comp: P.PieceRate, path: str) -> Bounds | None:
    """Where the mean cap scaled the amount down, and the amount before it."""
    if comp.max_mean is None:
        return None
    before = before_cap(c, comp, path)
    return Bounds.of(before, ((_scale(c, comp, before) < 1.0) & (before > 0), f"{path}.max_mean"))


def reads(comp: P.PieceRate) -> Reads:
    """The piece columns per row; with a mean cap, the group's other rows too."""
    return Reads(values=tuple(comp.rates), other_rows=comp.max_mean is not None)


KIND = ComponentKind(P.PieceRate, amount, reads=reads, bounds=bounds)
