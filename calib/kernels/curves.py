"""R11/R12: linear and capped-linear points, and piecewise-linear multipliers."""

from __future__ import annotations

import itertools

import numpy as np

from calib.policy.rules import Linear, Piecewise


def _clip(out: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    if lo is not None:
        out = np.maximum(out, lo)
    if hi is not None:
        out = np.minimum(out, hi)
    return out


def linear_points(values: np.ndarray, rule: Linear) -> np.ndarray:
    """Intercept + slope × value, clipped to [min, max] (100 × achievement capped at 120)."""
    v = np.asarray(values, dtype=np.float64)
    return _clip(np.round(rule.intercept + rule.slope * v, 9), rule.min, rule.max)


def linear_points_scalar(value: float, rule: Linear) -> float:
    """Reference implementation for one value."""
    if value != value:
        return float("nan")
    out = float(np.round(rule.intercept + rule.slope * value, 9))
    if rule.min is not None:
        out = max(out, rule.min)
    if rule.max is not None:
        out = min(out, rule.max)
    return out


def piecewise_points(values: np.ndarray, rule: Piecewise) -> np.ndarray:
    """Interpolate between knots; extend with the end slopes (flat where no slope is given)."""
    v = np.asarray(values, dtype=np.float64)
    xs = np.array([k.x for k in rule.knots])
    ys = np.array([k.y for k in rule.knots])
    out = np.interp(v, xs, ys)
    if rule.slope_below is not None:
        below = v < xs[0]
        out = np.where(below, ys[0] - (xs[0] - v) * rule.slope_below, out)
    if rule.slope_above is not None:
        above = v > xs[-1]
        out = np.where(above, ys[-1] + (v - xs[-1]) * rule.slope_above, out)
    out = _clip(np.round(out, 9), rule.min, rule.max)
    out[np.isnan(v)] = np.nan
    return out


def piecewise_points_scalar(value: float, rule: Piecewise) -> float:
    """Reference implementation for one value, segment by segment."""
    if value != value:
        return float("nan")
    knots = [(k.x, k.y) for k in rule.knots]
    if value < knots[0][0]:
        out = knots[0][1] - (knots[0][0] - value) * (rule.slope_below or 0.0)
    elif value > knots[-1][0]:
        out = knots[-1][1] + (value - knots[-1][0]) * (rule.slope_above or 0.0)
    else:
        out = knots[-1][1]
        for (x0, y0), (x1, y1) in itertools.pairwise(knots):
            if x0 <= value <= x1:
                out = (y1 - y0) / (x1 - x0) * (value - x0) + y0  # np.interp's order
                break
    out = float(np.round(out, 9))
    if rule.min is not None:
        out = max(out, rule.min)
    if rule.max is not None:
        out = min(out, rule.max)
    return out
