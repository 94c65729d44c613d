"""R24/R25 quotas: apportion a group among grades by ratios (hamilton, webster, dhondt)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import weights_summing_to

from calib.kernels.apportion import apportion, exact_quotas

METHODS = ["hamilton", "webster", "dhondt"]

# SCHEMES.md R25: the supervisor's grade picks the team's ratio row (A+, A, B, C, C−), in percent.
CASCADE = {
    "A+": [20, 30, 50, 0, 0],
    "A": [10, 30, 60, 0, 0],
    "B": [5, 25, 60, 10, 0],
    "C": [0, 20, 60, 15, 5],
    "C−": [0, 10, 60, 20, 10],
}


@st.composite
def percent_rows(draw, min_grades: int = 2, max_grades: int = 5) -> list[int]:
    """A ratio row as HR types it: whole percentages (some may be 0) adding up to 100."""
    n = draw(st.integers(min_grades, max_grades))
    return [int(p) for p in draw(weights_summing_to(n))]


def ratios_of(percents: list[int]) -> np.ndarray:
    """Percentages → the ratio row the kernels take (shares summing to 1)."""
    return np.array(percents, dtype=np.float64) / 100


sizes = st.integers(min_value=0, max_value=60)


class TestProperties:
    @pytest.mark.parametrize("method", METHODS)
    @given(size=sizes, percents=percent_rows())
    def test_quotas_sum_to_group(self, method, size, percents):
        """Every method hands out exactly n places: Σ quotas = group size, each quota ≥ 0."""
        q = apportion(np.array([size]), ratios_of(percents), method)
        assert q.shape == (1, len(percents))
        assert q.dtype.kind == "i"
        assert int(q.sum()) == size
        assert (q >= 0).all()

    @pytest.mark.parametrize("method", METHODS)
    @given(size=sizes, percents=percent_rows())
    def test_zero_ratio_gets_zero(self, method, size, percents):
        """A grade with ratio 0 (no C− under an A+ supervisor) never gets a place."""
        q = apportion(np.array([size]), ratios_of(percents), method)[0]
        assert all(q[k] == 0 for k, p in enumerate(percents) if p == 0), (percents, q)

    @given(size=sizes, percents=percent_rows())
    def test_hamilton_within_one_of_exact_share(self, size, percents):
        """Largest remainder: floor(n×ratio) ≤ quota ≤ ceil(n×ratio), with n×ratio computed exactly."""
        q = apportion(np.array([size]), ratios_of(percents), "hamilton")[0]
        for quota, p in zip(q, percents, strict=True):
            share = Fraction(size * p, 100)
            assert math.floor(share) <= quota <= math.ceil(share), (size, percents, q)

    @pytest.mark.parametrize("method", METHODS)
    @given(size=sizes, percents=percent_rows())
    def test_deterministic(self, method, size, percents):
        """The same group and ratios give the same quotas every time."""
        first = apportion(np.array([size]), ratios_of(percents), method)
        for _ in range(3):
            np.testing.assert_array_equal(apportion(np.array([size]), ratios_of(percents), method), first)

    @pytest.mark.parametrize("method", METHODS)
    @given(data=st.data())
    def test_vectorised_equals_one_group_at_a_time(self, method, data):
        """Many groups at once (one ratio row each, or one row for all) = each group on its own."""
        grades = data.draw(st.integers(2, 5))
        n = data.draw(st.integers(1, 12))
        group_sizes = data.draw(st.lists(sizes, min_size=n, max_size=n))
        rows = [data.draw(percent_rows(grades, grades)) for _ in range(n)]
        together = apportion(np.array(group_sizes), np.array([ratios_of(r) for r in rows]), method)
        shared = apportion(np.array(group_sizes), ratios_of(rows[0]), method)
        for i, (size, row) in enumerate(zip(group_sizes, rows, strict=True)):
            alone = apportion(np.array([size]), ratios_of(row), method)[0]
            np.testing.assert_array_equal(together[i], alone)
            first_row = apportion(np.array([size]), ratios_of(rows[0]), method)[0]
            np.testing.assert_array_equal(shared[i], first_row)

    @pytest.mark.parametrize("method", ["webster", "dhondt"])
    @given(percents=percent_rows(), size=st.integers(0, 40))
    @example(percents=[20, 20, 60], size=2)
    @example(percents=[50, 50], size=0)
    def test_divisor_methods_are_house_monotone(self, method, percents, size):
        """Divisor methods never take a place from a grade when the group grows by one person: webster
        20/20/60 gives 1, 0, 1 for 2 people (B 1.2, then the tie at .4 to A+) and 1, 1, 1 for 3.
        """
        q = apportion(np.array([size, size + 1]), ratios_of(percents), method)
        assert (q[1] >= q[0]).all(), (percents, size, q.tolist())


class TestWorkedExamples:
    def test_exact_quotas(self):
        """exact_quotas = n × ratio, cleaned of float noise: 7 × (.1, .3, .6) = .7, 2.1, 4.2; 10 × .3 = 3."""
        out = exact_quotas(np.array([7, 10]), np.array([0.1, 0.3, 0.6]))
        np.testing.assert_array_equal(out, [[0.7, 2.1, 4.2], [1.0, 3.0, 6.0]])

    @pytest.mark.parametrize("method", METHODS)
    def test_team_of_ten_under_a_plus_supervisor(self, method):
        """B2: 10 × (20, 30, 50)% = 2, 3, 5 exactly, so every method gives 2 A+, 3 A, 5 B."""
        q = apportion(np.array([10]), ratios_of(CASCADE["A+"]), method)
        assert q.tolist() == [[2, 3, 5, 0, 0]]

    def test_team_of_seven_under_a_supervisor_hamilton(self):
        """B2: 7 × (10, 30, 60)% = .7, 2.1, 4.2 → floors 0, 2, 4 (6); the 1 left goes to the largest
        remainder .7 → 1 A+, 2 A, 4 B.
        """
        q = apportion(np.array([7]), ratios_of(CASCADE["A"]), "hamilton")
        assert q.tolist() == [[1, 2, 4, 0, 0]]

    def test_team_of_seven_under_a_supervisor_webster(self):
        """Webster priorities r/(s+.5): B 1.2, A .6, B .4, B .24, then A+ .1/.5 = .2 and A .3/1.5 = .2
        (both fit in 7), B .6/3.5 = .171 → 1 A+, 2 A, 4 B (the rounding of .7, 2.1, 4.2).
        """
        q = apportion(np.array([7]), ratios_of(CASCADE["A"]), "webster")
        assert q.tolist() == [[1, 2, 4, 0, 0]]

    def test_team_of_seven_under_a_supervisor_dhondt(self):
        """D'Hondt priorities r/(s+1): B .6, A .3, B .3, B .2, A .15, B .15, B .12 are the 7 largest
        (A+ .1 is 8th) → 0 A+, 2 A, 5 B: D'Hondt favours the grade with the largest ratio.
        """
        q = apportion(np.array([7]), ratios_of(CASCADE["A"]), "dhondt")
        assert q.tolist() == [[0, 2, 5, 0, 0]]

    def test_small_team_under_a_supervisor_dhondt_tie(self):
        """D'Hondt, 5 under an A supervisor: B .6, A .3, B .3, B .2, then A .3/2 = .15 ties B .6/4 = .15
        for the last place; the better grade A wins → 0 A+, 2 A, 3 B.
        """
        q = apportion(np.array([5]), ratios_of(CASCADE["A"]), "dhondt")
        assert q.tolist() == [[0, 2, 3, 0, 0]]


class TestTies:
    @pytest.mark.parametrize("method", METHODS)
    def test_one_place_two_equal_grades(self, method):
        """1 person, ratios 50/50: exact .5 and .5 tie; the place goes to the better grade → 1, 0."""
        assert apportion(np.array([1]), np.array([0.5, 0.5]), method).tolist() == [[1, 0]]

    @pytest.mark.parametrize("method", METHODS)
    def test_three_places_two_equal_grades(self, method):
        """3 people, 50/50: exact 1.5 and 1.5; the odd place goes to the better grade → 2, 1."""
        assert apportion(np.array([3]), np.array([0.5, 0.5]), method).tolist() == [[2, 1]]

    @pytest.mark.parametrize("method", METHODS)
    def test_two_places_three_equal_grades(self, method):
        """2 people, thirds: exact .667 each; the 2 places go to the two better grades → 1, 1, 0."""
        assert apportion(np.array([2]), np.full(3, 1 / 3), method).tolist() == [[1, 1, 0]]

    @pytest.mark.parametrize("method", METHODS)
    def test_one_place_four_equal_grades(self, method):
        """1 person, 25% each: the place goes to the best grade → 1, 0, 0, 0."""
        assert apportion(np.array([1]), np.full(4, 0.25), method).tolist() == [[1, 0, 0, 0]]

    def test_hamilton_equal_remainders_in_a_cascade_row(self):
        """Hamilton, 10 under a B supervisor: 10 × (5, 25, 60, 10)% = .5, 2.5, 6, 1 → floors 0, 2, 6, 1
        (9); the 1 left ties at remainder .5 between A+ and A → the better grade A+ → 1, 2, 6, 1, 0.
        """
        q = apportion(np.array([10]), ratios_of(CASCADE["B"]), "hamilton")
        assert q.tolist() == [[1, 2, 6, 1, 0]]

    def test_webster_tie_in_a_cascade_row(self):
        """Webster, 10 under a B supervisor: priorities r/(s+.5) B 1.2, A .5, B .4, B .24, C .2,
        B .171, A .167, B .133, B .109 fill 9 places; the 10th ties A+ .05/.5 = .1 with A .25/2.5 = .1
        → the better grade A+ → 1, 2, 6, 1, 0.
        """
        q = apportion(np.array([10]), ratios_of(CASCADE["B"]), "webster")
        assert q.tolist() == [[1, 2, 6, 1, 0]]

    def test_webster_tie_five_under_a_supervisor(self):
        """Webster, 5 under an A supervisor: B 1.2, A .6, B .4, B .24, then A+ .1/.5 = .2 ties A
        .3/1.5 = .2 for the 5th place → the better grade A+ → 1, 1, 3.
        """
        q = apportion(np.array([5]), ratios_of(CASCADE["A"]), "webster")
        assert q.tolist() == [[1, 1, 3, 0, 0]]


def alabama_cases(method: str, rows: dict[str, list[int]], largest: int) -> list[tuple]:
    """Every (row, n, grade) where growing a group from n to n + 1 takes a place from a grade."""
    found = []
    group_sizes = np.arange(0, largest + 1)
    for name, row in rows.items():
        q = apportion(group_sizes, ratios_of(row), method)
        for i, k in np.argwhere(q[1:] < q[:-1]):
            found.append((name, int(group_sizes[i]), int(k)))
    return found


class TestAlabamaParadox:
    def test_hamilton_shows_the_paradox_on_the_cascade_rows(self):
        """Searching teams of 0–40 under every R25 supervisor grade finds the paradox for hamilton:
        under a B supervisor 10 people give .5, 2.5, 6, 1 → 1 A+, 2 A, 6 B, 1 C (the tie at .5 goes
        to A+), but 11 give .55, 2.75, 6.6, 1.1 → floors 0, 2, 6, 1 and the 2 left go to .75 (A) and
        .6 (B) → 0 A+, 3 A, 7 B, 1 C: one more person and the A+ place is gone. Under a C supervisor
        9 → 10 loses the C− place the same way. Webster and D'Hondt never do on the same cases.
        """
        found = alabama_cases("hamilton", CASCADE, 40)
        assert ("B", 10, 0) in found
        assert ("C", 9, 4) in found
        q = apportion(np.array([10, 11]), ratios_of(CASCADE["B"]), "hamilton")
        assert q.tolist() == [[1, 2, 6, 1, 0], [0, 3, 7, 1, 0]]
        for name, n, _ in found:
            for method in ("webster", "dhondt"):
                q = apportion(np.array([n, n + 1]), ratios_of(CASCADE[name]), method)
                assert (q[1] >= q[0]).all(), (method, name, n, q.tolist())

    def test_hamilton_paradox_without_ties(self):
        """Ratios 2/13/85: n = 18 → .36, 2.34, 15.3, floors 0, 2, 15, the 1 left to .36 → 1, 2, 15;
        n = 19 → .38, 2.47, 16.15, floors 0, 2, 16, the 1 left to .47 → 0, 3, 16: A+ loses its place.
        Webster: 18 → 0, 2, 16 (B .85/15.5 = .055 beats A .13/2.5 = .052), 19 → 0, 3, 16; D'Hondt:
        18 → 0, 2, 16, 19 → 0, 2, 17. Neither takes a place away.
        """
        r = ratios_of([2, 13, 85])
        both = np.array([18, 19])
        assert apportion(both, r, "hamilton").tolist() == [[1, 2, 15], [0, 3, 16]]
        assert apportion(both, r, "webster").tolist() == [[0, 2, 16], [0, 3, 16]]
        assert apportion(both, r, "dhondt").tolist() == [[0, 2, 16], [0, 2, 17]]

    def test_brute_force_finds_paradox_only_for_hamilton(self):
        """Over 3-grade rows in steps of 5% and teams of 0–30, hamilton shows the paradox somewhere;
        D'Hondt never does (webster is covered by the house-monotone property).
        """
        rows = {f"{a}/{b}": [a, b, 100 - a - b] for a in range(0, 101, 5) for b in range(0, 101 - a, 5)}
        assert alabama_cases("hamilton", rows, 30)
        assert alabama_cases("dhondt", rows, 30) == []
