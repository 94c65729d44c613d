"""The Monte Carlo's fast forced-distribution kernel (one sort of packed keys per group, quota
thresholds, quotas from a table) gives the same grades as the general sort-and-place kernel and
as apportioning every group, ties and all.
"""

from __future__ import annotations

import numpy as np
import pytest

from calib.kernels.apportion import apportion
from calib.simulate_grade import _forced_rows, _rank_grades, _rank_padded, _Rule

RATIOS = np.array([0.1, 0.2, 0.5, 0.15, 0.05])
METHODS = ["hamilton", "webster", "dhondt"]


def forced_rule(n: int, groups: int, method: str, share_better: bool, seed: int,
                ratios: np.ndarray = RATIOS) -> _Rule:
    """A rule over ``n`` slots in ``groups`` groups of unequal sizes (slots shuffled)."""
    rng = np.random.default_rng(seed)
    gcode = rng.integers(0, groups, n)
    gcode[:groups] = np.arange(groups)
    rule = _Rule("staff", "forced", np.arange(n), True, gcode=gcode, n_groups=groups,
                 ratios=ratios, apportion=method, share_better=share_better)
    assert rule.padded() is not None
    return rule


def rows(n: int, R: int, seed: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Scores on a half-point grid (many ties) and about one slot in six not active."""
    rng = np.random.default_rng(seed)
    score = np.round(rng.normal(85, 5, (R, n)) * 2) / 2 * scale
    score[:, ::7] += 1e-10  # equal to the nine decimals the engine ranks on
    return score, rng.random((R, n)) > 0.15


class TestRankPadded:
    @pytest.mark.parametrize("share_better", [False, True])
    @pytest.mark.parametrize("method", METHODS)
    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_equals_the_general_kernel(self, method, share_better, seed):
        """Forced: the packed-key thresholds give the general kernel's grades where active."""
        rule = forced_rule(300, 7, method, share_better, seed)
        score, active = rows(300, 40, seed)
        fast = _rank_padded(score, active, rule, rule.at)
        slow = _rank_grades(score, active, rule.gcode, rule.n_groups, rule)
        assert np.array_equal(fast[active], slow[active])
        assert (fast[~active] == -1).all()

    @pytest.mark.parametrize("share_better", [False, True])
    @pytest.mark.parametrize("method", METHODS)
    def test_cascade_ratios_by_leader_grade(self, method, share_better):
        """Cascade: each group's ratio row is its leader's grade's; no leader grade, no grades."""
        ratios = np.array([[0.3, 0.3, 0.2, 0.1, 0.1], [0.2, 0.3, 0.3, 0.1, 0.1],
                           [0.1, 0.2, 0.5, 0.15, 0.05], [0.05, 0.15, 0.5, 0.2, 0.1],
                           [0.0, 0.1, 0.5, 0.3, 0.1]])
        rule = forced_rule(200, 6, method, share_better, 5, ratios)
        score, active = rows(200, 30, 5)
        lead = np.random.default_rng(6).integers(-1, 5, (30, 6))
        fast = _rank_padded(score, active, rule, rule.at, lead)
        graded = active & (lead.take(rule.gcode, axis=1) >= 0)
        slow = _rank_grades(score, graded, rule.gcode, rule.n_groups, rule, lead)
        assert np.array_equal(fast[graded], slow[graded])
        assert (fast[~graded] == -1).all()

    def test_scores_too_large_for_the_packed_key_fall_back(self):
        """Scores of 10⁶ points do not fit the float key: the general kernel grades them."""
        rule = forced_rule(120, 3, "hamilton", False, 3)
        score, active = rows(120, 10, 3, scale=1e4)
        assert _rank_padded(score, active, rule, rule.at) is None
        fell_back = _forced_rows(rule, score, active, None)
        slow = _rank_grades(score, active, rule.gcode, rule.n_groups, rule)
        assert np.array_equal(fell_back[active], slow[active])

    def test_nobody_active(self):
        """No one active: every grade is −1."""
        rule = forced_rule(60, 3, "hamilton", True, 4)
        score, _ = rows(60, 5, 4)
        out = _rank_padded(score, np.zeros_like(score, dtype=bool), rule, rule.at)
        assert (out == -1).all()


@pytest.mark.parametrize("method", METHODS)
def test_quota_table_equals_apportioning_every_group(method):
    """Cumulative quotas from the table (forced) or per distinct leader grade and size
    (cascade) equal ``apportion`` on every group at once.
    """
    rule = forced_rule(150, 4, method, False, 0)
    sizes = np.random.default_rng(1).integers(0, 151, (20, 4))
    expected = np.cumsum(apportion(sizes.ravel(), RATIOS, method), axis=1)[:, :4]
    assert np.array_equal(rule.quotas(sizes).reshape(-1, 4), expected)
    rule.ratios = np.stack([RATIOS, RATIOS[::-1], np.full(5, 0.2)])
    lead = np.random.default_rng(2).integers(-1, 3, (20, 4))
    rows_ratios = rule.ratios[np.maximum(lead, 0)].reshape(-1, 5)
    expected = np.cumsum(apportion(sizes.ravel(), rows_ratios, method), axis=1)[:, :4]
    assert np.array_equal(rule.quotas(sizes, lead).reshape(-1, 4), expected)
