"""Forced distribution within groups (R24): each group's quotas by the ratios, graded by place."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib._util.memo import json_key, remember, stored_key
from calib.engine.grading.core import Grades, Population, by_threshold, group_codes, ratio_row
from calib.engine.grading.method import GradingMethod
from calib.engine.grading.quotas import assign, ranking, small_groups
from calib.policy.grading import ForcedDistribution, GradeScale, GradingRule


def _forced(pop: Population, rows: np.ndarray, rule: GradingRule, name: str, scale: GradeScale,
            card_index: dict[str, int], out: Grades) -> None:
    settings = rule.forced
    assert settings is not None
    # which rows, which groups and their order do not depend on the ratios: kept for sliders
    key = ("forced", name, json_key(settings, exclude={"ratios", "method"}),
           json_key(rule, include={"scorecards"}), pop.rows_key, stored_key(pop.memo, rows))
    # which rows go by threshold, which groups: the rows' status and columns decide, not
    # the scores (a KPI slider keeps them); the ranking is kept per scores
    threshold_rows, rows, codes, names = remember(
        pop.memo, key, lambda: _forced_groups(pop, rows, settings))
    order = remember(pop.memo, (*key, pop.key), lambda: (
        ranking(pop, rows, codes, names, settings) if len(rows) else None))
    if len(threshold_rows):
        by_threshold(pop, threshold_rows, name, scale, out)
    if len(rows) == 0:
        return
    ratio = np.broadcast_to(ratio_row(settings.ratios, scale), (len(names), len(scale.grades)))
    assign(pop, rows, names, ratio, settings, scale, name, out, order)


def _forced_groups(pop: Population, rows: np.ndarray, settings: ForcedDistribution
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Rows of small groups graded by thresholds; the other rows, their group codes and the
    groups' names.
    """
    codes, names = group_codes(pop, rows, settings.by)
    codes, names, by_threshold = small_groups(pop, rows, codes, names, settings)
    threshold_rows = rows[by_threshold]
    if by_threshold.any():
        rows, codes = rows[~by_threshold], codes[~by_threshold]
        codes, uniques = pd.factorize(codes)
        names = [names[u] for u in uniques]
    return threshold_rows, rows, codes, names




METHOD = GradingMethod("forced", _forced, "quotas")
