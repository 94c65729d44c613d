"""One entry point from a scoring rule to its kernel (and to its scalar reference)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calib.kernels.curves import (
    linear_points,
    linear_points_scalar,
    piecewise_points,
    piecewise_points_scalar,
)
from calib.kernels.steps import (
    incident_points,
    incident_points_scalar,
    step_points,
    step_points_scalar,
)
from calib.kernels.tiers import tier_points, tier_points_scalar
from calib.policy.rules import Linear, PerIncident, Piecewise, StepDeduction, TierTable

NUMERIC_KERNELS: dict[type, tuple[Callable[[np.ndarray, Any], np.ndarray],
                                  Callable[[float, Any], float]]] = {
    TierTable: (tier_points, tier_points_scalar),
    StepDeduction: (step_points, step_points_scalar),
    PerIncident: (incident_points, incident_points_scalar),
    Linear: (linear_points, linear_points_scalar),
    Piecewise: (piecewise_points, piecewise_points_scalar),
}


def score_values(values: np.ndarray, rule: Any) -> np.ndarray:
    """Points of numeric values under any numeric rule (labels go through ``label_points``)."""
    return NUMERIC_KERNELS[type(rule)][0](values, rule)


def score_value_scalar(value: float, rule: Any) -> float:
    """The scalar reference for one value."""
    return NUMERIC_KERNELS[type(rule)][1](value, rule)
