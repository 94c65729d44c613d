"""Grading by the scale's thresholds (R23): the first grade whose minimum the score reaches."""

from __future__ import annotations

import numpy as np

from calib.engine.grading.core import Grades, Population, by_threshold
from calib.engine.grading.method import GradingMethod
from calib.policy.grading import GradeScale, GradingRule


def _thresholds(pop: Population, rows: np.ndarray, rule: GradingRule, name: str,
                scale: GradeScale, card_index: dict[str, int], out: Grades) -> None:
    by_threshold(pop, rows, name, scale, out)


METHOD = GradingMethod("thresholds", _thresholds, "thresholds")
