"""The Monte Carlo's fast kernels give the plain computation's numbers: the forced-distribution
kernel (one sort of packed keys per group, quota thresholds, quotas from a table, who is not
active found in the joiners' and leavers' pairs; the counts at each grade straight from its
comparisons) the general sort-and-place kernel's grades and apportioning every group, ties and
all; the pay from each scenario's counts the sum of every person-period's pay; the grade counts
per scenario a count one by one.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calib.engine.components import Steps, points_below, score_percent
from calib.kernels.apportion import apportion
from calib.simulate.blocks import _grade_counts
from calib.simulate.draw import _Workspace
from calib.simulate.grade import (
    _forced_counts,
    _forced_rows,
    _rank_grades,
    _rank_padded,
    _Rule,
)
from calib.simulate.pay import (
    _fold_const,
    _pay_rows,
    _pay_totals,
    _PayPlan,
    _rated_counts,
    _split_by_grade,
)

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

    @pytest.mark.parametrize("share_better", [False, True])
    @pytest.mark.parametrize("seed", [0, 1, 2, 3])
    def test_not_active_found_in_the_given_pairs(self, share_better, seed):
        """Who is not active found in the (scenario, slot) pairs that hold them all (joiners'
        and leavers') gives the grades of a pass over every element.
        """
        rng = np.random.default_rng(seed)
        c, P, n = 4, 6, 200
        rule = forced_rule(n, 5, "hamilton", share_better, seed)
        score, _ = rows(n, c * P, seed)
        partial = rng.random((c, n)) < 0.3  # pairs whose window is not the whole year
        start = np.where(partial, rng.integers(0, P + 1, (c, n)), 0)
        end = np.where(partial, rng.integers(0, P + 1, (c, n)), P)
        month = np.arange(P)[None, :, None]
        active = ((month >= start[:, None, :]) & (month < end[:, None, :])).reshape(c * P, n)
        pairs = (c, *np.nonzero(partial))
        fast = _rank_padded(score, active, rule, rule.at_slots, pairs=pairs).copy()
        assert np.array_equal(fast, _rank_padded(score, active, rule, rule.at_slots))
        slow = _rank_grades(score, active, rule.gcode, rule.n_groups, rule)
        assert np.array_equal(fast[active], slow[active])

    @pytest.mark.parametrize("share_better", [False, True])
    @pytest.mark.parametrize("method", METHODS)
    def test_counts_straight_from_the_comparisons(self, method, share_better):
        """Periods at each grade per (scenario, slot) counted from the quota comparisons equal
        the counts of the grades.
        """
        rng = np.random.default_rng(7)
        c, P, n = 3, 12, 150
        rule = forced_rule(n, 4, method, share_better, 7)
        score, _ = rows(n, c * P, 7)
        partial = rng.random((c, n)) < 0.3
        start = np.where(partial, rng.integers(0, P + 1, (c, n)), 0)
        end = np.where(partial, rng.integers(0, P + 1, (c, n)), P)
        month = np.arange(P)[None, :, None]
        rated = ((month >= start[:, None, :]) & (month < end[:, None, :])).reshape(c * P, n)
        pairs = (c, *np.nonzero(partial))
        grades = _rank_padded(score, rated, rule, rule.at_slots)
        expected = _grade_counts(grades, c, len(RATIOS), _Workspace())
        counts = _forced_counts(rule, score, rated, pairs, _rated_counts(rated, c))
        assert np.array_equal(counts, expected)

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


def pay_parts(N: int, K: int, rng: np.random.Generator) -> tuple[np.ndarray, list[tuple]]:
    """Constant units and one part of each kind read per element or by grade, for ``N`` slots."""
    const = rng.integers(-500, 5_000, N)
    grades = ("grades", rng.integers(0, 90_000, (N, K + 1)).ravel(), None,
              np.arange(N, dtype=np.int64) * (K + 1) + 1)
    bands = ("steps", rng.integers(0, 9_000, (N, 3)).ravel(), Steps(np.array([90.0, 80.0]), False),
             np.arange(N, dtype=np.int64) * 3)
    when = rng.random(N) > 0.2
    percent = ("formula", score_percent.into, (rng.uniform(100, 900, N), 110.0), 1, when)
    below = ("formula", points_below.into, (85.0, 12.5), -1, np.ones(N, dtype=bool))
    above = ("steps", np.c_[rng.integers(0, 3_000, N), np.zeros(N, dtype=np.int64)].ravel(),
             Steps(np.array([92.0]), True), np.arange(N, dtype=np.int64) * 2)
    return const, [percent, grades, below, above, bands]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 13), st.integers(1, 40), st.integers(2, 6),
       st.integers(0, 2 ** 32 - 1), st.booleans(), st.booleans())
def test_pay_by_counts_equals_every_person_period_summed(c, P, N, K, seed, graded, pairs):
    """Without a clip, a scenario's pay from its counts (rated periods, periods at each grade)
    plus the parts read per element (some summed as floats, less the elements not rated, found
    in the given (scenario, slot) pairs or from ``rated``) is the sum of every rated
    person-period's pay.
    """
    rng = np.random.default_rng(seed)
    const, parts = pay_parts(N, K, rng)
    score = np.round(rng.uniform(60, 115, (c * P, N)), 3)
    rated = rng.random((c * P, N)) > 0.25
    grades = np.where(rated & (rng.random((c * P, N)) > 0.1),
                      rng.integers(0, K, (c * P, N)), -1).astype(np.int8) if graded else None

    def plan(lo):
        return _PayPlan(0.01, "half_up", const.copy(), list(parts), {}, lo, None, None, None, 0)

    by_element = plan(-10 ** 12)  # a clip that never bites: every person-period summed
    _fold_const(by_element)
    expected = _pay_rows(by_element, score, rated, grades).reshape(c, -1).sum(axis=1)
    by_counts = plan(None)
    _split_by_grade(by_counts)
    per_grade = _grade_counts(grades, c, K, _Workspace()) if graded else None
    partial = np.nonzero(np.ones((c, N), dtype=bool)) if pairs else None
    totals = _pay_totals(by_counts, score, rated, grades, per_grade, c, partial=partial)
    assert np.array_equal(totals, expected)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 300), st.integers(1, 30), st.integers(1, 7),
       st.integers(0, 2 ** 32 - 1))
def test_grade_counts_per_scenario(c, P, N, K, seed):
    """Each slot's periods at each grade per scenario, as counting them one by one."""
    g = np.random.default_rng(seed).integers(-1, K, (c * P, N)).astype(np.int8)
    counts = _grade_counts(g, c, K, _Workspace())
    expected = np.zeros((K, c, N), dtype=np.int64)
    for row, slot in np.ndindex(g.shape):
        if g[row, slot] >= 0:
            expected[g[row, slot], row // P, slot] += 1
    assert np.array_equal(counts, expected)


def test_noise_is_the_normal_to_its_quantiles():
    """The noise's 65,536 values are the normal's quantiles: symmetric (mean 0 to the last bit),
    variance exactly 1, and drawn uniformly — the shares beyond 1, 1.96 and 3 sd are the
    normal's (68.3%, 5%, 0.27%) within sampling error of 400,000 draws; the tails stop at 4.33.
    """
    from scipy.special import ndtr

    from calib.simulate.draw import _noise, _normal_quantiles

    q = _normal_quantiles()
    assert len(q) == 2**16 and (np.diff(q) > 0).all()
    assert np.array_equal(q, -q[::-1]) and q.sum() == 0.0
    assert np.mean(q * q) == pytest.approx(1.0, abs=1e-15)
    assert 4.3 < q[-1] < 4.35
    z = _noise(np.random.default_rng(7), np.empty((400, 1000)), np.empty((400, 1000), np.int64))
    for k in (1.0, 1.96, 3.0):
        expected = 2 * ndtr(-k)
        share = float((np.abs(z) > k).mean())
        assert abs(share - expected) < 5 * np.sqrt(expected * (1 - expected) / z.size), k
    assert abs(z.mean()) < 5 / np.sqrt(z.size) and abs(z.std() - 1) < 0.01
    again = _noise(np.random.default_rng(7), np.empty((400, 1000)), np.empty((400, 1000), np.int64))
    assert np.array_equal(z, again)  # seeded: the same draws
