"""A pool per group (issue 21, item 8): the policy says how the amount meets the groups of
``by`` (each group the whole amount, shared by headcount, or an envelope each), and every group
is paid its amount exactly, in the run and in the Monte Carlo.

grade_pay (tests/fixtures): team east has 6 rated people in 2025-01 and in 2025-02 (E1–E5, L1);
west has 3 in 2025-01 (W4 on probation) and 4 in 2025-02.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import calib
from calib.simulate.monte_carlo import simulate

DATA = Path(__file__).parents[1] / "fixtures"
FOLDER = DATA / "grade_pay"
BASE = calib.load_policy(DATA / "grade_pay.yaml").to_dict()
TEAMS = pd.read_csv(FOLDER / "people.csv").rename(columns={"employee_id": "id"})[["id", "team"]]


def policy(**pool) -> calib.Policy:
    spec = {k: v for k, v in BASE["pay"]["pool"].items() if k != "cap"}
    spec.update(pool)
    spec = {k: v for k, v in spec.items() if v is not None}
    return calib.Policy.model_validate({**BASE, "pay": {**BASE["pay"], "pool": spec}})


def pools(result: calib.Result) -> dict[tuple[str, str], Decimal]:
    p = result.payouts.merge(TEAMS, on="id")
    sums = p.groupby(["period", "team"])["pool"].sum()
    return {k: Decimal(str(round(v, 2))) for k, v in sums.items()}


def test_each_group_gets_the_whole_amount() -> None:
    got = pools(calib.run(policy(by="team", split="each"), FOLDER))
    assert set(got.values()) == {Decimal("10000.00")} and len(got) == 4


def test_the_amount_shared_across_groups_by_rated_headcount() -> None:
    got = pools(calib.run(policy(by="team", split="headcount"), FOLDER))
    # 2025-01: 10,000 × 6/9 = 6,666.666… and × 3/9 = 3,333.333…: the last cent by largest remainder
    assert got[("2025-01", "east")] == Decimal("6666.67")
    assert got[("2025-01", "west")] == Decimal("3333.33")
    assert (got[("2025-02", "east")], got[("2025-02", "west")]) == (Decimal("6000.00"),
                                                                    Decimal("4000.00"))


def test_envelopes_each_group_its_own_amount() -> None:
    result = calib.run(policy(by="team", amount=None, envelopes={"east": 6000, "west": "2,500.50"}),
                       FOLDER)
    got = pools(result)
    assert got[("2025-01", "east")] == Decimal("6000.00")
    assert got[("2025-02", "west")] == Decimal("2500.50")


@pytest.mark.parametrize(("pool", "said"), [
    ({"by": "team"}, "say how the amount meets the groups"),
    ({"split": "each"}, "give by"),
    ({"by": "team", "envelopes": {"east": 1, "west": 1}}, "not both"),
    ({"by": "team", "amount": None, "split": "each"}, "give the pool's amount"),
])
def test_a_pool_that_does_not_say_is_refused(pool: dict, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        policy(**pool)


def test_a_group_without_an_envelope_is_named() -> None:
    with pytest.raises(calib.DataError) as err:
        calib.run(policy(by="team", amount=None, envelopes={"east": 6000}), FOLDER)
    problem = err.value.problems.iloc[0]
    assert (problem["column"], problem["value"]) == ("team", "west")
    assert "west: <amount>" in problem["fix"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**8), st.integers(0, 10**8))
def test_any_envelopes_are_paid_to_the_cent(east: int, west: int) -> None:
    amounts = {"east": Decimal(east) / 100, "west": Decimal(west) / 100}
    got = pools(calib.run(policy(by="team", amount=None,
                                 envelopes={k: str(v) for k, v in amounts.items()}), FOLDER))
    for (_, team), paid in got.items():
        assert paid == amounts[team]


def test_the_monte_carlo_pays_each_groups_amount() -> None:
    shared = policy(by="team", split="headcount")
    sim = simulate(shared, calib.run(shared, FOLDER), n=20, seed=3, months=2)
    assert sim.pool_total == 20000.00  # the whole amount each month someone is rated
    envelopes = policy(by="team", amount=None, envelopes={"east": 6000, "west": "2500.50"})
    sim = simulate(envelopes, calib.run(envelopes, FOLDER), n=20, seed=3, months=1)
    # east (6 people) always has someone rated; west pays its envelope when one of 4 is
    assert 6000.00 <= sim.pool_total <= 8500.50
    assert sim.pool_total > 6000.00
