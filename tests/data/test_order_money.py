"""Order independence and money bounds, as properties (issue 18: nothing silently wrong)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from conftest import DATA
from hypothesis import given
from hypothesis import strategies as st

import calib
from calib.bounds import MAX_TOTAL_UNITS, MAX_UNITS
from calib.data.canonical import natural_ranks
from calib.io.report import results_table
from calib.kernels.money import MoneyError, to_units, total_units


class TestToUnits:
    """Typed amounts become exact whole units up to the documented bound, else are refused."""

    @given(st.integers(min_value=-(10**13), max_value=10**13))
    def test_typed_cents_are_exact(self, cents: int):
        """Any amount typed with two decimals, up to 10^11 yuan, is its own cents."""
        typed = float(str(Decimal(cents) / 100))
        assert to_units(np.array([typed]), 0.01)[0] == cents

    @given(st.integers(min_value=0, max_value=10**12))
    def test_half_cents_round_up(self, mills_half: int):
        """x.xx5 typed (a half cent) rounds half up, however large, as a person would."""
        typed = Decimal(mills_half) / 100 + Decimal("0.005")
        expected = int((typed * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert to_units(np.array([float(typed)]), 0.01)[0] == expected

    @pytest.mark.parametrize("amount", [1e13, -1e13, 1.1e17, 1e308, np.inf, -np.inf])
    def test_beyond_the_bound_is_refused(self, amount: float):
        """Past MAX_UNITS (10^14 cents = 10^12 yuan) nothing is rounded: MoneyError."""
        with pytest.raises(MoneyError, match="too large to pay exactly") as err:
            to_units(np.array([1.0, amount]), 0.01)
        assert err.value.rows.tolist() == [1]

    def test_the_bound_itself_is_paid(self):
        """Exactly MAX_UNITS units is still paid, to the unit."""
        assert to_units(np.array([MAX_UNITS * 0.01]), 0.01)[0] == MAX_UNITS

    def test_missing_amount_is_zero_units(self):
        """NaN (a row with no amount, which the caller does not pay) is 0, never int64's minimum."""
        assert to_units(np.array([np.nan, 2.5]), 1).tolist() == [0, 3]

    @pytest.mark.parametrize(("typed", "cents"), [("0.92", 92), ("1.07", 107), ("2.5", 250),
                                                  ("693.745", 69375), ("1.005", 101),
                                                  ("1.015", 102), ("0.125", 13)])
    def test_numbers_people_type(self, typed: str, cents: int):
        """The amounts people actually type round as by hand (half up)."""
        assert to_units(np.array([float(typed)]), 0.01)[0] == cents


class TestTotals:
    """Totals are exact integers or refused."""

    @given(st.lists(st.integers(min_value=-MAX_UNITS, max_value=MAX_UNITS), max_size=200))
    def test_total_is_exact(self, units: list[int]):
        """The total of whole units equals Python's exact sum."""
        assert total_units(np.array(units, dtype=np.int64)) == sum(units)

    def test_total_past_int64_refused(self):
        """A total that could wrap around 64 bits is refused, not printed negative."""
        units = np.full(MAX_TOTAL_UNITS // MAX_UNITS + 1, MAX_UNITS, dtype=np.int64)
        with pytest.raises(MoneyError, match="too large to add exactly"):
            total_units(units)


class TestNaturalRanks:
    """Ids and periods are ordered as people read them."""

    def test_digit_runs_compare_as_numbers(self):
        """E2 before E10 when lengths differ; missing last."""
        ranks = natural_ranks(pd.Series(["E10", "E2", None, "E1", "D99"]))
        assert ranks.tolist() == [3, 2, 4, 1, 0]

    def test_one_length_compares_as_text(self):
        """Zero-padded ids keep their text order."""
        assert natural_ranks(pd.Series(["A0100", "A0012", "B0001"])).tolist() == [1, 0, 2]

    @given(st.lists(st.from_regex(r"[A-C]?[0-9]{1,4}", fullmatch=True), min_size=1, max_size=30))
    def test_order_is_a_function_of_the_values(self, ids: list[str]):
        """Equal values share a rank and the ranking does not depend on the input's order."""
        forward = dict(zip(ids, natural_ranks(pd.Series(ids)), strict=True))
        backward = dict(zip(ids[::-1], natural_ranks(pd.Series(ids[::-1])), strict=True))
        assert forward == backward

    @given(st.lists(st.from_regex(r"E[0-9]{1,3}", fullmatch=True), min_size=2, max_size=30,
                    unique=True))
    def test_numbers_in_order(self, ids: list[str]):
        """Ids of a letter and a number sort by the number (leading zeros after the value)."""
        ranks = natural_ranks(pd.Series(ids))
        in_order = [i for _, i in sorted(zip(ranks, ids, strict=True))]

        def key(i: str) -> tuple[int, str]:
            return int(re.sub(r"\D", "", i)), i
        if len({len(i) for i in ids}) > 1:
            assert in_order == sorted(ids, key=key)
        else:
            assert in_order == sorted(ids)


class TestOrderIndependence:
    """Any order of the rows and columns of the input tables gives the same results."""

    policy = calib.load_policy(DATA / "grade_pay.yaml")
    people = pd.read_csv(DATA / "grade_pay" / "people.csv", dtype=str)
    records = pd.read_csv(DATA / "grade_pay" / "records.csv", dtype=str)
    expected = results_table(calib.run(policy, {"people": people, "records": records})
                             ).to_csv(index=False)

    @given(st.randoms(use_true_random=False))
    def test_shuffled_tables_same_results(self, rnd):
        """Results (grades on quota boundaries, pool shares to the cent) and the data's
        fingerprint do not move when rows or columns are shuffled."""
        def shuffle(frame: pd.DataFrame) -> pd.DataFrame:
            rows = list(range(len(frame)))
            cols = list(frame.columns)
            rnd.shuffle(rows)
            rnd.shuffle(cols)
            return frame.iloc[rows][cols].reset_index(drop=True)

        tables = {"people": shuffle(self.people), "records": shuffle(self.records)}
        result = calib.run(self.policy, tables)
        assert results_table(result).to_csv(index=False) == self.expected
        base = calib.load_data({"people": self.people, "records": self.records}, self.policy)
        assert calib.load_data(tables, self.policy).fingerprint() == base.fingerprint()
