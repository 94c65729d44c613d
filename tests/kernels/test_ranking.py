"""Ranking in groups, grades by quota, demotion by complaints (R24–R26) and score thresholds (R23)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from calib.engine.grading import thresholds
from calib.kernels.ranking import demoted_order, grade_by_quota, rank_in_groups
from calib.policy.grading import GradeScale


def rank(group, score, person=None, ties=(), tie_desc=()):
    """rank_in_groups on plain lists; person codes default to 0, 1, 2, …"""
    group = np.asarray(group, dtype=np.int64)
    person = np.arange(len(group)) if person is None else np.asarray(person, dtype=np.int64)
    return rank_in_groups(group, np.asarray(score, dtype=np.float64),
                          [np.asarray(t, dtype=np.float64) for t in ties], list(tie_desc), person)


def grades_by_row(ranked, quotas, share_better):
    """Grade index and boundary flag per input row (grade_by_quota answers in rank order)."""
    grade, boundary = grade_by_quota(ranked, np.asarray(quotas, dtype=np.int64), share_better)
    out_grade = np.empty_like(grade)
    out_boundary = np.empty_like(boundary)
    out_grade[ranked.order] = grade
    out_boundary[ranked.order] = boundary
    return out_grade.tolist(), out_boundary.tolist()


class TestRankInGroups:
    def test_score_descending(self):
        """Scores 90, 95, 80 in one group → order rows 1, 0, 2; places 0, 1, 2."""
        r = rank([0, 0, 0], [90, 95, 80])
        assert r.order.tolist() == [1, 0, 2]
        assert r.place.tolist() == [0, 1, 2]

    def test_places_restart_per_group(self):
        """Places restart per group: g0 scores 90, 95, 70 → rows 1, 0, 4; g1 80, 85 → rows 3, 2."""
        r = rank([0, 0, 1, 1, 0], [90, 95, 80, 85, 70])
        assert r.order.tolist() == [1, 0, 4, 3, 2]
        assert r.group.tolist() == [0, 0, 0, 1, 1]
        assert r.place.tolist() == [0, 1, 2, 0, 1]

    def test_tie_columns_then_person(self):
        """Equal scores 90: the tie column (tenure, higher first) decides, then the person code (lower first):
        rows (tenure 2, p 7), (5, p 9), (2, p 3) → row 1 (tenure 5), row 2 (p 3), row 0 (p 7).
        """
        r = rank([0, 0, 0], [90, 90, 90], person=[7, 9, 3], ties=[[2, 5, 2]], tie_desc=[True])
        assert r.order.tolist() == [1, 2, 0]

    def test_tie_column_ascending_and_second_column(self):
        """Tie columns errors (fewer first) then tenure (more first): (1, 3), (0, 1), (1, 8) → 1, 2, 0."""
        r = rank([0, 0, 0], [90, 90, 90], ties=[[1, 0, 1], [3, 1, 8]], tie_desc=[False, True])
        assert r.order.tolist() == [1, 2, 0]

    def test_float_noise_is_a_tie(self):
        """0.1 + 0.2 = 0.30000000000000004 and 0.3 are the same score: the person code decides
        (p 0 before p 1), and both are in one run of equal scores.
        """
        r = rank([0, 0], [0.1 + 0.2, 0.3], person=[1, 0])
        assert r.order.tolist() == [1, 0]
        assert r.run.tolist() == [0, 0]

    def test_runs_of_equal_scores(self):
        """Scores 95, 90, 90, 80 | 90 in two groups → runs 0, 1, 1, 2 | 3 (a run never crosses groups)."""
        r = rank([0, 0, 0, 0, 1], [95, 90, 90, 80, 90])
        assert r.run.tolist() == [0, 1, 1, 2, 3]


class TestGradeByQuota:
    def test_top_places_take_the_best_grade(self):
        """Quotas 2, 3, 5 over 10 people ranked by score 100…91: places 0–1 → grade 0, 2–4 → 1, 5–9 → 2."""
        r = rank([0] * 10, list(range(100, 90, -1)))
        grade, boundary = grades_by_row(r, [[2, 3, 5]], share_better=False)
        assert grade == [0, 0, 1, 1, 1, 2, 2, 2, 2, 2]
        assert boundary == [False] * 10

    def test_each_group_its_own_quotas(self):
        """Group 0 quotas 1, 1, 1; group 1 quotas 0, 1, 1: g0 90, 80, 70 → 0, 1, 2; g1 99, 50 → 1, 2."""
        r = rank([0, 0, 0, 1, 1], [90, 80, 70, 99, 50])
        grade, _ = grades_by_row(r, [[1, 1, 1], [0, 1, 1]], share_better=False)
        assert grade == [0, 1, 2, 1, 2]

    def test_tie_across_boundary_flagged_and_split(self):
        """Quotas 1, 2, 1; scores 95, 90, 90, 90: places 1–3 tie at 90 across the A/B boundary (places 1–2
        A, place 3 B) → flagged; without share_better the person code splits them → 0, 1, 1, 2.
        """
        r = rank([0] * 4, [95, 90, 90, 90])
        grade, boundary = grades_by_row(r, [[1, 2, 1]], share_better=False)
        assert grade == [0, 1, 1, 2]
        assert boundary == [False, True, True, True]

    def test_tie_across_boundary_share_better(self):
        """Same tie with share_better: all three 90s take the better grade A → 0, 1, 1, 1 (one B short)."""
        r = rank([0] * 4, [95, 90, 90, 90])
        grade, boundary = grades_by_row(r, [[1, 2, 1]], share_better=True)
        assert grade == [0, 1, 1, 1]
        assert boundary == [False, True, True, True]

    def test_tie_at_the_top(self):
        """Quotas 1, 2, 1; scores 95, 95, 80, 70: the two 95s straddle the A+ boundary → both A+ with
        share_better (0, 0, 1, 2), split 0, 1, 1, 2 otherwise; only the 95s are flagged.
        """
        r = rank([0] * 4, [95, 95, 80, 70])
        assert grades_by_row(r, [[1, 2, 1]], share_better=True) == ([0, 0, 1, 2], [True, True, False, False])
        assert grades_by_row(r, [[1, 2, 1]], share_better=False)[0] == [0, 1, 1, 2]

    def test_tie_inside_a_grade_not_flagged(self):
        """Quotas 1, 2, 1; scores 95, 90, 90, 80: the 90s both fall in A → not flagged."""
        r = rank([0] * 4, [95, 90, 90, 80])
        assert grades_by_row(r, [[1, 2, 1]], share_better=False) == ([0, 1, 1, 2], [False] * 4)

    @pytest.mark.parametrize("share_better", [False, True])
    @given(data=st.data())
    def test_higher_score_never_worse_grade(self, share_better, data):
        """In a group a higher score never gets a larger grade index, and equal scores with share_better
        get the same grade; random scores with many ties, random quotas adding up to each group.
        """
        n = data.draw(st.integers(1, 30))
        groups = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        scores = data.draw(st.lists(st.sampled_from([70.0, 80.0, 85.0, 90.0, 90.5, 95.0, 0.1 + 0.2, 0.3]),
                                    min_size=n, max_size=n))
        codes = np.unique(groups, return_inverse=True)[1]
        sizes = np.bincount(codes)
        quotas = []
        for size in sizes:
            cuts = sorted(data.draw(st.lists(st.integers(0, int(size)), min_size=2, max_size=2)))
            quotas.append([cuts[0], cuts[1] - cuts[0], int(size) - cuts[1]])
        r = rank(codes, scores)
        grade, _ = grades_by_row(r, quotas, share_better)
        s = np.round(scores, 9)
        for i in range(n):
            for j in range(n):
                if codes[i] == codes[j] and s[i] > s[j]:
                    assert grade[i] <= grade[j], (scores, quotas, grade)
                if share_better and codes[i] == codes[j] and s[i] == s[j]:
                    assert grade[i] == grade[j], (scores, quotas, grade)


def _by_place(ranked, quotas, share_better):
    """The rule as written: a row's grade is the number of cumulative quotas at or below its
    place; a tie takes the grades of its first and last rows (the better one if shared).
    """
    cum = np.cumsum(quotas, axis=1)
    grade = np.array([(cum[g] <= p).sum() for g, p in zip(ranked.group, ranked.place,
                                                          strict=True)])
    lo = np.array([grade[ranked.run == r].min() for r in ranked.run])
    hi = np.array([grade[ranked.run == r].max() for r in ranked.run])
    return (lo if share_better else grade), lo != hi


@given(st.data(), st.booleans())
def test_grade_by_quota_matches_the_rule_per_place(data, share_better):
    """The one-pass step marking equals counting cumulative quotas place by place, with empty
    grades, a grade taking the whole group and ties across boundaries."""
    n_groups = data.draw(st.integers(1, 4))
    sizes = data.draw(st.lists(st.integers(1, 9), min_size=n_groups, max_size=n_groups))
    k = data.draw(st.integers(1, 4))
    quotas = []
    for size in sizes:
        cuts = sorted(data.draw(st.lists(st.integers(0, size), min_size=k - 1, max_size=k - 1)))
        quotas.append(np.diff([0, *cuts, size]))
    quotas = np.array(quotas, dtype=np.int64)
    group = np.repeat(np.arange(n_groups), sizes)
    score = data.draw(st.lists(st.sampled_from([70.0, 80.0, 85.5, 90.0, 92.0]),
                               min_size=len(group), max_size=len(group)))
    ranked = rank(group, score)
    grade, boundary = grade_by_quota(ranked, quotas, share_better)
    want_grade, want_boundary = _by_place(ranked, quotas, share_better)
    assert grade.tolist() == want_grade.tolist()
    assert boundary.tolist() == want_boundary.tolist()


@given(st.data())
def test_layout_gives_the_same_ranking(data):
    """Ranking through a fixed layout (groups, tie columns, people sorted once; each group
    sorted by score alone) equals sorting every row by every key."""
    from calib.kernels.ranking import group_layout

    n = data.draw(st.integers(1, 40))
    group = np.array(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)))
    group = np.unique(group, return_inverse=True)[1]
    score = np.array(data.draw(st.lists(st.sampled_from([60.0, 80.0, 80.0 + 1e-12, 92.5, 100.0]),
                                        min_size=n, max_size=n)))
    person = np.array(data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)))
    n_ties = data.draw(st.integers(0, 2))
    ties = [np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0, 2.5]), min_size=n,
                                        max_size=n))) for _ in range(n_ties)]
    desc = [data.draw(st.booleans()) for _ in range(n_ties)]
    plain = rank_in_groups(group, score, ties, desc, person)
    laid = rank_in_groups(group, score, ties, desc, person, group_layout(group, ties, desc, person))
    # rows equal on every key may come in either order; their places and runs may not differ
    assert (group[plain.order] == group[laid.order]).all()
    assert np.allclose(score[plain.order], score[laid.order], rtol=1e-9)
    assert (person[plain.order] == person[laid.order]).all()
    assert plain.place.tolist() == laid.place.tolist()
    assert plain.run.tolist() == laid.run.tolist()


class TestDemotion:
    SCORES = (99.0, 98.0, 97.0, 96.0, 95.0)

    def test_no_complaints(self):
        """No demotions: ranks follow the scores 99…95 → 1…5."""
        out = demoted_order(np.zeros(5, dtype=np.int64), np.array(self.SCORES), np.arange(5), np.zeros(5))
        assert out.tolist() == [1, 2, 3, 4, 5]

    def test_one_complaint_one_place(self):
        """R26: the first (99) has one verified complaint → moves below the second: ranks 2, 1, 3, 4, 5."""
        out = demoted_order(np.zeros(5, dtype=np.int64), np.array(self.SCORES), np.arange(5),
                            np.array([1, 0, 0, 0, 0]))
        assert out.tolist() == [2, 1, 3, 4, 5]

    def test_two_complaints_two_places(self):
        """Two complaints move the first down two places: ranks 3, 1, 2, 4, 5."""
        out = demoted_order(np.zeros(5, dtype=np.int64), np.array(self.SCORES), np.arange(5),
                            np.array([2, 0, 0, 0, 0]))
        assert out.tolist() == [3, 1, 2, 4, 5]

    def test_last_place_stays_last(self):
        """The last person (95) with a complaint has nowhere lower to go: ranks 1…5 unchanged."""
        out = demoted_order(np.zeros(5, dtype=np.int64), np.array(self.SCORES), np.arange(5),
                            np.array([0, 0, 0, 0, 1]))
        assert out.tolist() == [1, 2, 3, 4, 5]

    def test_ranks_per_group(self):
        """Two groups of 3: g0 (99, 98, 97), g1 (96, 95, 94) with a complaint on 96 → 1, 2, 3 | 2, 1, 3."""
        out = demoted_order(np.array([0, 0, 0, 1, 1, 1]), np.array([99.0, 98, 97, 96, 95, 94]),
                            np.arange(6), np.array([0, 0, 0, 1, 0, 0]))
        assert out.tolist() == [1, 2, 3, 2, 1, 3]

    @given(data=st.data())
    def test_one_person_moves_exactly_k_places(self, data):
        """One person demoted k places lands at min(place + k, last); everyone else keeps their order."""
        n = data.draw(st.integers(1, 15))
        scores = data.draw(st.lists(st.integers(60, 100).map(float), min_size=n, max_size=n))
        who = data.draw(st.integers(0, n - 1))
        k = data.draw(st.integers(1, 3))
        demotions = np.zeros(n)
        demotions[who] = k
        person = np.arange(n)
        before = np.argsort(demoted_order(np.zeros(n, dtype=np.int64), np.array(scores), person,
                                          np.zeros(n)), kind="stable").tolist()
        after = np.argsort(demoted_order(np.zeros(n, dtype=np.int64), np.array(scores), person, demotions),
                           kind="stable").tolist()
        expected = [p for p in before if p != who]
        expected.insert(min(before.index(who) + k, n - 1), who)
        assert after == expected, (scores, who, k)


# --- R23 score thresholds ------------------------------------------------------------------------

def r23_scale(inclusive: bool = True) -> GradeScale:
    """R23: ≥ 95 A+, ≥ 90 A, ≥ 85 B, ≥ 80 C, else C−."""
    return GradeScale(grades=[{"name": "A+", "min": 95}, {"name": "A", "min": 90}, {"name": "B", "min": 85},
                              {"name": "C", "min": 80}, {"name": "C−"}], inclusive=inclusive)


def grade_names(scores, inclusive: bool = True) -> list[str]:
    """Grade names for scores under the R23 scale."""
    scale = r23_scale(inclusive)
    return [scale.names()[i] for i in thresholds(np.array(scores, dtype=np.float64), scale)]


class TestThresholds:
    @pytest.mark.parametrize(("score", "name"), [
        (95, "A+"), (94.999, "A"), (95.5, "A+"), (100, "A+"), (90, "A"), (89.99, "B"), (85, "B"),
        (80, "C"), (79.99, "C−"), (0, "C−"), (-5, "C−")])
    def test_r23_bounds(self, score, name):
        """R23: a score on a bound takes the bound's grade (95 → A+, 80 → C); just below goes down."""
        assert grade_names([score]) == [name]

    def test_worked_example_supervisor(self):
        """B2: a supervisor rated 93 (branch) and 98 (HQ) → (93 + 98) / 2 = 95.5 → A+."""
        assert grade_names([(93 + 98) / 2]) == ["A+"]

    @pytest.mark.parametrize(("expr", "score", "name"), [
        ("0.3·76 + 0.7·96", 0.3 * 76 + 0.7 * 96, "A"),
        ("0.05·76 + 0.95·96", 0.05 * 76 + 0.95 * 96, "A+"),
        ("0.2·87 + 0.8·97", 0.2 * 87 + 0.8 * 97, "A+"),
        ("0.1·89 + 0.9·79", 0.1 * 89 + 0.9 * 79, "C"),
        ("(0.1 + 0.2)·300", (0.1 + 0.2) * 300, "A")])
    def test_float_noise_on_a_bound(self, expr, score, name):
        """Weighted scores that are exactly a bound by hand but a hair off in floats land on the bound's
        grade: 0.3·76 + 0.7·96 = 90 (float 89.99999999999999) → A; 0.05·76 + 0.95·96 = 95 → A+.
        """
        assert score != round(score), expr  # the float really is off the bound
        assert grade_names([score]) == [name]

    @pytest.mark.parametrize(("score", "name"), [
        (95, "A"), (95.5, "A+"), (90, "B"), (80, "C−"), (80.01, "C"), (0.2 * 87 + 0.8 * 97, "A"),
        (0.05 * 76 + 0.95 * 96, "A")])
    def test_exclusive_bounds(self, score, name):
        """inclusive: false — the bound itself goes down: 95 → A, 80 → C−; 95 + float noise → A too."""
        assert grade_names([score], inclusive=False) == [name]

    def test_vectorised(self):
        """Many scores at once: 95, 94.999, 95.5, 80, 79.99 → A+, A, A+, C, C−."""
        assert grade_names([95, 94.999, 95.5, 80, 79.99]) == ["A+", "A", "A+", "C", "C−"]


@pytest.mark.parametrize("scale", [1.0, 1e7])
def test_layout_ranking_small_and_huge_scores(scale):
    """Scores under a million are sorted as integers on the 1e-9 grid; larger ones (sales
    totals used as scores) take the float sort: both rank like the plain sort."""
    from calib.kernels.ranking import group_layout

    group = np.array([0, 0, 0, 1, 1, 0, 1])
    score = np.array([92.5, 80.0, 92.5, 70.0, 70.000000001, 100.0, 69.0]) * scale
    person = np.array([3, 1, 2, 5, 4, 0, 6])
    plain = rank_in_groups(group, score, [], [], person)
    laid = rank_in_groups(group, score, [], [], person, group_layout(group, [], [], person))
    assert plain.order.tolist() == laid.order.tolist()
    assert plain.run.tolist() == laid.run.tolist()


def test_quotas_must_fill_each_group():
    """Grades are the quotas written out in rank order, so quotas that leave rows of a group
    without a grade (or give it more rows than it has) are refused, not silently shifted."""
    r = rank([0, 0, 0, 1, 1], [90, 80, 70, 60, 50])
    with pytest.raises(ValueError, match="add up to each group's size"):
        grade_by_quota(r, np.array([[1, 1], [1, 1]]), False)
    with pytest.raises(ValueError, match="add up to each group's size"):
        grade_by_quota(r, np.array([[2, 1]]), False)
    assert grades_by_row(r, [[1, 2], [0, 2]], False)[0] == [0, 1, 1, 1, 1]


@given(st.data())
def test_a_layout_re_sorts_only_the_groups_whose_scores_moved(data):
    """A slider moves a few scores at a time: ranking through a kept layout after each move
    (only the groups holding a moved score sorted again) equals sorting every row afresh."""
    from calib.kernels.ranking import group_layout

    n = data.draw(st.integers(8, 60))
    group = np.unique(np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))),
                      return_inverse=True)[1]
    person = np.arange(n)
    grid = st.sampled_from([60.0, 80.0, 85.5, 90.0, 92.0, 92.0 + 1e-12, 100.0])
    score = np.array(data.draw(st.lists(grid, min_size=n, max_size=n)))
    layout = group_layout(group, [], [], person)
    for _ in range(data.draw(st.integers(1, 6))):
        moved = data.draw(st.lists(st.integers(0, n - 1), max_size=max(1, n // 10)))
        score = score.copy()
        for i in moved:
            score[i] = data.draw(grid)
        laid = rank_in_groups(group, score, [], [], person, layout)
        plain = rank_in_groups(group, score, [], [], person)
        assert laid.order.tolist() == plain.order.tolist()
        assert laid.place.tolist() == plain.place.tolist()
        assert laid.run.tolist() == plain.run.tolist()
