"""Exact money (R27–R34): rounding typed amounts to whole units, and sharing a bonus pool (R33)."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from calib.kernels.money import PoolError, allocate_pool, from_units, to_units, units_to_float

DECIMAL_RULES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}


# --- to_units ------------------------------------------------------------------------------------

class TestToUnits:
    @pytest.mark.parametrize(("amount", "cents"), [
        (693.745, 69375), (2.675, 268), (0.125, 13), (0.005, 1), (1.005, 101), (0.0, 0),
        (-693.745, -69375), (-2.675, -268), (-0.125, -13), (-0.005, -1)])
    def test_half_up_on_typed_numbers(self, amount, cents):
        """half_up to the cent on what people type: 693.745 → 69375 (the float is 693.74499…),
        2.675 → 268, 0.125 → 13; negatives round away from zero the same way (−0.125 → −13).
        """
        assert to_units(np.array([amount]), 0.01, "half_up").tolist() == [cents]

    @pytest.mark.parametrize(("amount", "cents"), [
        (0.125, 12), (0.135, 14), (2.675, 268), (-0.125, -12), (0.115, 12), (693.745, 69374)])
    def test_half_even(self, amount, cents):
        """half_even (banker's): a half goes to the even cent: 0.125 → 12, 0.135 → 14, 693.745 → 69374."""
        assert to_units(np.array([amount]), 0.01, "half_even").tolist() == [cents]

    @pytest.mark.parametrize(("amount", "cents"), [
        (0.129, 12), (-0.129, -12), (2.675, 267), (693.749, 69374), (0.29, 29), (0.57, 57)])
    def test_down(self, amount, cents):
        """down truncates towards zero: 0.129 → 12, −0.129 → −12; 0.29 / 0.01 = 28.999999999999996 and
        0.57 / 0.01 = 56.99999999999999 still give 29 and 57 (float noise is not a lost cent).
        """
        assert to_units(np.array([amount]), 0.01, "down").tolist() == [cents]

    @pytest.mark.parametrize(("rounding", "amount", "units"), [
        ("half_up", 2.5, 3), ("half_up", 3.5, 4), ("half_up", -2.5, -3), ("half_up", 2.4999, 2),
        ("half_even", 2.5, 2), ("half_even", 3.5, 4), ("down", 2.99, 2), ("down", -2.99, -2)])
    def test_whole_yuan(self, rounding, amount, units):
        """Unit 1.0 (whole yuan): 2.5 → 3 half_up, 2 half_even; 2.99 → 2 down."""
        assert to_units(np.array([amount]), 1.0, rounding).tolist() == [units]

    @pytest.mark.parametrize("rounding", list(DECIMAL_RULES))
    @given(typed=st.decimals(min_value=-1_000_000, max_value=1_000_000, places=3))
    @example(typed=Decimal("693.745"))
    @example(typed=Decimal("-999999.995"))
    def test_matches_decimal_on_typed_amounts(self, rounding, typed):
        """Any amount typed with up to 3 decimals rounds to the cent exactly as Decimal arithmetic does."""
        want = int((typed * 100).quantize(Decimal(1), rounding=DECIMAL_RULES[rounding]))
        assert to_units(np.array([float(typed)]), 0.01, rounding).tolist() == [want]

    @pytest.mark.parametrize("rounding", list(DECIMAL_RULES))
    @given(typed=st.lists(st.decimals(min_value=-10_000, max_value=10_000, places=3), max_size=30),
           signs=st.sampled_from(["any", "not negative"]))
    def test_arrays_match_decimal(self, rounding, typed, signs):
        """A whole array rounds each amount as Decimal does: all not negative (one pass) or
        mixed signs (rounded away from zero by sign)."""
        if signs == "not negative":
            typed = [abs(t) for t in typed]
        want = [int((t * 100).quantize(Decimal(1), rounding=DECIMAL_RULES[rounding]))
                for t in typed]
        assert to_units(np.array([float(t) for t in typed]), 0.01, rounding).tolist() == want

    def test_one_amount(self):
        """``amount_units`` rounds one amount as ``to_units`` does (5,000,000.005 → 500000001)."""
        from calib.kernels.money import amount_units

        assert amount_units(5_000_000.005, 0.01) == 500_000_001
        assert amount_units(-0.125, 0.01) == -13
        assert amount_units(2.5, 1.0, "half_even") == 2

    def test_vectorised(self):
        """Many amounts at once: 0.125, 2.675, −0.125 → 13, 268, −13 (int64)."""
        out = to_units(np.array([0.125, 2.675, -0.125]), 0.01)
        assert out.dtype == np.int64
        assert out.tolist() == [13, 268, -13]

    def test_unknown_rounding(self):
        """An unknown rounding rule is refused, naming the ones that exist."""
        with pytest.raises(ValueError) as e:
            to_units(np.array([1.0]), 0.01, "up")
        assert e.value.args == ("unknown rounding 'up'; use one of half_up, half_even, down",)

    def test_units_back_to_amounts(self):
        """69375 cents → 693.75; −1 → −0.01; whole yuan stay whole; Decimal 693.75 exactly."""
        assert units_to_float(np.array([69375, -1, 0]), 0.01).tolist() == [693.75, -0.01, 0.0]
        assert units_to_float(np.array([3]), 1.0).tolist() == [3.0]
        assert from_units(np.array([69375, -1]), 0.01) == [Decimal("693.75"), Decimal("-0.01")]


# --- allocate_pool -------------------------------------------------------------------------------

def reference_shares(pool: int, weights: list[float], caps: list[float], floors: list[float]
                     ) -> np.ndarray:
    """Real shares min(cap, max(floor, λ·w)) adding up to ``pool``, λ found by bisection."""
    w, c, f = (np.array(v, dtype=np.float64) for v in (weights, caps, floors))

    def total(lam: float) -> float:
        return float(np.clip(lam * w, f, c).sum())

    lo, hi = 0.0, 1.0
    while total(hi) < pool:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) < pool else (lo, mid)
    return np.clip(hi * w, f, c)


def check_pool(out: np.ndarray, pool: int, caps=None, floors=None) -> None:
    """An allocation is whole units, adds up to the pool, and keeps everyone within their bounds."""
    assert out.dtype.kind == "i"
    assert int(out.sum()) == pool
    if caps is not None:
        assert (out <= np.asarray(caps)).all(), (out, caps)
    if floors is not None:
        assert (out >= np.asarray(floors)).all(), (out, floors)


weight = st.integers(1, 1000).map(float)


@st.composite
def capped_pools(draw):
    """Positive weights, caps and floors (each floor ≤ its cap) and a pool they can hold."""
    n = draw(st.integers(1, 8))
    weights = draw(st.lists(weight, min_size=n, max_size=n))
    floors = draw(st.lists(st.integers(0, 50), min_size=n, max_size=n))
    caps = [f + draw(st.integers(0, 500)) for f in floors]
    pool = draw(st.integers(sum(floors), sum(caps)))
    return pool, weights, caps, floors


class TestAllocatePool:
    @given(pool=st.integers(0, 10**9), weights=st.lists(weight, min_size=1, max_size=20))
    def test_sums_to_pool_and_proportional(self, pool, weights):
        """No caps: the payouts add up to the pool exactly and each is within one unit of pool×w/Σw."""
        out = allocate_pool(pool, np.array(weights))
        check_pool(out, pool)
        exact = pool * np.array(weights) / sum(weights)
        assert (np.abs(out - exact) < 1 + 1e-6).all(), (out, exact)

    @given(case=capped_pools())
    def test_within_caps_and_floors(self, case):
        """With caps and floors that can hold the pool: sums exactly, nobody above a cap or below a floor,
        and each payout within one unit of min(cap, max(floor, λ·w)) for the λ that pays out the pool.
        """
        pool, weights, caps, floors = case
        out = allocate_pool(pool, np.array(weights), np.array(caps), np.array(floors))
        check_pool(out, pool, caps, floors)
        ref = reference_shares(pool, weights, caps, floors)
        assert (np.abs(out - ref) < 1 + 1e-6).all(), (out, ref)

    def test_cap_cut_goes_to_others_in_proportion(self):
        """Pool 100 over weights 1, 1, 2 → 25, 25, 50; a cap of 10 on the first leaves 90 shared 1 : 2
        → 10, 30, 60.
        """
        out = allocate_pool(100, np.array([1.0, 1.0, 2.0]), caps_units=np.array([10, 100, 100]))
        assert out.tolist() == [10, 30, 60]

    def test_floor_taken_from_others(self):
        """Pool 100 over weights 1 : 1 → 50, 50; a floor of 70 on the first → 70, 30."""
        out = allocate_pool(100, np.array([1.0, 1.0]), floors_units=np.array([70, 0]))
        assert out.tolist() == [70, 30]

    def test_remainder_to_largest_then_earlier(self):
        """100 over thirds: 33.33 each → 33 each, the 1 left goes to the first row (equal remainders)."""
        assert allocate_pool(100, np.array([1.0, 1.0, 1.0])).tolist() == [34, 33, 33]
        assert allocate_pool(3, np.ones(4)).tolist() == [1, 1, 1, 0]

    def test_million_over_awkward_weights(self):
        """1,000,000.00 = 100000000 cents over weights 1/3, 1/3, 2/3, 1/7, 0.1+0.2: Σw = 1.7095…;
        each payout within a cent of its exact share and the total exactly 100000000.
        """
        weights = np.array([1 / 3, 1 / 3, 2 / 3, 1 / 7, 0.1 + 0.2])
        out = allocate_pool(100_000_000, weights)
        check_pool(out, 100_000_000)
        exact = 100_000_000 * weights / weights.sum()
        assert (np.abs(out - exact) < 1).all()
        assert units_to_float(out, 0.01).sum().round(2) == 1_000_000.00

    def test_zero_weights_share_equally(self):
        """Nobody has weight: the pool is shared equally, 100 → 34, 33, 33."""
        assert allocate_pool(100, np.zeros(3)).tolist() == [34, 33, 33]

    def test_zero_weight_gets_nothing(self):
        """Weights 1, 0, 0: the whole pool goes to the one with weight → 100, 0, 0."""
        assert allocate_pool(100, np.array([1.0, 0.0, 0.0])).tolist() == [100, 0, 0]

    def test_zero_pool(self):
        """A pool of 0 pays 0 to everyone; nobody to share 0 among gives an empty result."""
        assert allocate_pool(0, np.array([1.0, 2.0])).tolist() == [0, 0]
        assert allocate_pool(0, np.array([])).tolist() == []

    def test_capped_weight_with_zero_weight_others(self):
        """Weights 1, 0 and a cap of 10 on the first, pool 100: the first takes 10; the 90 it cannot take
        must go to the other (or the pool is refused) — never a result that breaks the pool or a cap.
        """
        try:
            out = allocate_pool(100, np.array([1.0, 0.0]), caps_units=np.array([10, 100]))
        except PoolError:
            return
        check_pool(out, 100, caps=[10, 100])

    def test_floor_above_cap(self):
        """A floor of 20 over a cap of 10 cannot be met (Σ floors 20 ≤ 100 ≤ Σ caps 110 though): refuse
        the pool, or at least never pay someone below their floor or above their cap.
        """
        try:
            out = allocate_pool(100, np.array([1.0, 1.0]), caps_units=np.array([10, 100]),
                                floors_units=np.array([20, 0]))
        except PoolError:
            return
        check_pool(out, 100, caps=[10, 100], floors=[20, 0])

    @given(pool=st.integers(0, 1000), weights=st.lists(st.integers(0, 5).map(float), min_size=1, max_size=6),
           data=st.data())
    def test_never_breaks_pool_or_bounds(self, pool, weights, data):
        """Any weights (zeros too), caps and floors: either PoolError, or an exact payout within bounds."""
        n = len(weights)
        caps = data.draw(st.lists(st.integers(0, 400), min_size=n, max_size=n))
        floors = data.draw(st.lists(st.integers(0, 100), min_size=n, max_size=n))
        assume(sum(floors) <= pool <= sum(caps))
        try:
            out = allocate_pool(pool, np.array(weights), np.array(caps), np.array(floors))
        except PoolError:
            return
        check_pool(out, pool, caps, floors)


class TestPoolErrors:
    def test_caps_too_small(self):
        """Caps 10 + 20 = 30 cannot hold a pool of 100."""
        with pytest.raises(PoolError) as e:
            allocate_pool(100, np.array([1.0, 1.0]), caps_units=np.array([10, 20]))
        assert e.value.args == ("the caps add up to 30 units, less than the pool (100)",)

    def test_floors_too_large(self):
        """Floors 60 + 50 = 110 are more than a pool of 100."""
        with pytest.raises(PoolError) as e:
            allocate_pool(100, np.array([1.0, 1.0]), floors_units=np.array([60, 50]))
        assert e.value.args == ("the floors add up to 110 units, more than the pool (100)",)

    @pytest.mark.parametrize("weights", [[1.0, -1.0], [1.0, np.nan], [np.inf, 1.0]])
    def test_bad_weights(self, weights):
        """A negative, NaN or infinite weight is refused."""
        with pytest.raises(PoolError) as e:
            allocate_pool(100, np.array(weights))
        assert e.value.args == ("pool weights must be finite and not negative",)

    def test_nobody(self):
        """A pool of 5 with nobody to pay is refused."""
        with pytest.raises(PoolError) as e:
            allocate_pool(5, np.array([]))
        assert e.value.args == ("a pool with nobody to share it among",)

    def test_pool_error_is_a_value_error(self):
        """PoolError is a ValueError, so callers catching bad values catch it too."""
        assert issubclass(PoolError, ValueError)


def test_pool_by_grade_coefficients_worked_example():
    """100 units over A, B, B, C (1.2, 1.0, 1.0, 0.6): 31.58 / 26.32 ×2 / 15.79 → the two units
    left go to C (.79) then A (.58)."""
    from calib.kernels.money import allocate_pools

    units = allocate_pools(np.zeros(4, dtype=np.int64), 100, np.array([1.2, 1.0, 1.0, 0.6]))
    assert units.tolist() == [32, 26, 26, 16]


@given(st.data(), st.booleans())
def test_pools_match_a_plain_largest_remainder(data, sort):
    """Many groups at once (in any row order) give what sharing each group alone gives: floors,
    then one unit each to the largest remainders, earlier rows first on ties. ``sort``: by the
    sorting path that very large pools take instead of the buckets."""
    from unittest import mock

    from calib.kernels import money

    n = data.draw(st.integers(1, 80))
    group = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
    group = np.unique(group, return_inverse=True)[1]
    weights = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.6, 1.0, 1.07, 1.2, 2.5, 92.0]),
                                          min_size=n, max_size=n)))
    pool = data.draw(st.sampled_from([1, 3, 100, 12_345, 5_000_000]))
    with mock.patch.object(money, "SORT_ROWS", 0 if sort else money.SORT_ROWS):
        got = money.allocate_pools(group, pool, weights)
    want = np.zeros(n, dtype=np.int64)
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        w = weights[rows]
        share = pool * w / w.sum() if w.sum() > 0 else np.full(len(rows), pool / len(rows))
        units = np.floor(np.round(share, 6)).astype(np.int64)
        rem = np.round(share - units, 9)
        order = sorted(range(len(rows)), key=lambda i: (-rem[i], i))
        for i in order[:pool - units.sum()]:
            units[i] += 1
        want[rows] = units
    assert got.tolist() == want.tolist()
