"""R6/R8: step deductions from a threshold, and per-incident deductions, with a floor."""

from __future__ import annotations

import math

import numpy as np

from calib._util.tolerance import clean_count, tol
from calib.policy.rules import PerIncident, StepDeduction


def _steps(excess: np.ndarray, rule: StepDeduction) -> np.ndarray:
    raw = clean_count(np.maximum(excess, 0.0) / rule.step)
    if rule.partial == "started":
        return np.ceil(raw)
    if rule.partial == "completed":
        return np.floor(raw)
    return raw


def step_points(values: np.ndarray, rule: StepDeduction) -> np.ndarray:
    """Points after deducting ``deduct`` per step beyond the threshold, never below the floor.

    Worked example (SCHEMES.md B1): complaint rate 3.1% with a 2% limit and 0.5 pp steps is
    1.1 pp over = 2.2 steps → 3 started steps → −6 points (proportional: −4.4).
    """
    v = np.asarray(values, dtype=np.float64)
    excess = v - rule.threshold if rule.direction == "max" else rule.threshold - v
    excess = np.where(np.abs(excess) <= tol(rule.threshold), 0.0, excess)
    out = np.round(rule.points - _steps(excess, rule) * rule.deduct, 9)
    if rule.floor is not None:
        out = np.maximum(out, rule.floor)
    return out  # NaN propagates through every step above


def step_points_scalar(value: float, rule: StepDeduction) -> float:
    """Reference implementation for one value."""
    if value != value:
        return float("nan")
    excess = value - rule.threshold if rule.direction == "max" else rule.threshold - value
    if excess <= tol(rule.threshold):
        steps = 0.0
    else:
        raw = float(np.round(excess / rule.step, 9))
        steps = {"started": math.ceil(raw), "completed": math.floor(raw)}.get(rule.partial, raw)
    points = float(np.round(rule.points - steps * rule.deduct, 9))
    return points if rule.floor is None else max(points, rule.floor)


def incident_points(counts: np.ndarray, rule: PerIncident) -> np.ndarray:
    """Points after deducting ``each`` per incident beyond the ``free`` ones, never below floor."""
    c = np.asarray(counts, dtype=np.float64)
    out = np.round(rule.points - np.maximum(c - rule.free, 0.0) * rule.each, 9)
    if rule.floor is not None:
        out = np.maximum(out, rule.floor)
    return out


def incident_points_scalar(count: float, rule: PerIncident) -> float:
    """Reference implementation for one count."""
    if count != count:
        return float("nan")
    points = float(np.round(rule.points - max(count - rule.free, 0) * rule.each, 9))
    return points if rule.floor is None else max(points, rule.floor)
