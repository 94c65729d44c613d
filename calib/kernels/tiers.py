"""R5/R7: tier tables and deduction brackets, as sums of comparisons (faster than ``np.select``)."""

from __future__ import annotations

import numpy as np

from calib._util.tolerance import tol
from calib.policy.rules import TierTable


def tier_points(values: np.ndarray, rule: TierTable) -> np.ndarray:
    """Points of each value under a tier table; NaN (excluded) stays NaN.

    The index of the first band that holds equals the number of bands that fail, because the
    bands are ordered (checked by the model): lower bounds decreasing, upper bounds increasing.
    """
    v = np.asarray(values, dtype=np.float64)
    idx = np.zeros(v.shape, dtype=np.intp)
    for band in rule.bands:
        t = tol(band.at)
        if rule.bound == "lower":
            fails = v < band.at - t if rule.inclusive else v <= band.at + t
        else:
            fails = v > band.at + t if rule.inclusive else v >= band.at - t
        idx += fails
    table = np.array([b.points for b in rule.bands] + [rule.otherwise], dtype=np.float64)
    out = table[idx]
    out[np.isnan(v)] = np.nan
    return out


def tier_points_scalar(value: float, rule: TierTable) -> float:
    """Reference implementation, one value at a time, written as a person reads the table."""
    if value != value:
        return float("nan")
    for band in rule.bands:
        t = tol(band.at)
        if rule.bound == "lower":
            holds = value >= band.at - t if rule.inclusive else value > band.at + t
        else:
            holds = value <= band.at + t if rule.inclusive else value < band.at - t
        if holds:
            return band.points
    return rule.otherwise
