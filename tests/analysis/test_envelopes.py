"""Budgets per group (issue 21, item 8): the over/under table and the solver per envelope.

grade_pay (tests/fixtures) as tests/engine/test_pool_groups.py reads it: team east has 6 rated
people in 2025-01 and 2025-02 (E1–E5, L1); west has 3 rated in 2025-01 (W4 on probation, paid
nothing) and 4 in 2025-02. The sums below are its payouts by hand (750 × score% pro rata, 1000 ×
the grade's coefficient pro rata, the 10,000.00 pool).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calib
from calib.analysis.budget import envelopes
from calib.analysis.calibrate import CalibrationError
from calib.analysis.envelope_solver import solve_envelopes
from calib.errors import PolicyError
from calib.policy.hashing import policy_sha256

DATA = Path(__file__).parents[1] / "fixtures"
FOLDER = DATA / "grade_pay"
BASE = calib.load_policy(DATA / "grade_pay.yaml")
DATASETS = Path(__file__).parents[2] / "datasets"


def with_budgets(budgets: dict | None = None, pool: dict | None = None) -> calib.Policy:
    d = BASE.to_dict()
    if budgets is not None:
        d["budgets"] = budgets
    if pool is not None:
        spec = {k: v for k, v in d["pay"]["pool"].items() if k != "cap"}
        spec.update(pool)
        d["pay"]["pool"] = {k: v for k, v in spec.items() if v is not None}
    return calib.Policy.model_validate(d)


def by_hand(result: calib.Result) -> dict[tuple[str, str], Decimal]:
    """Each team's payout per period, summed from the payouts table in Decimal."""
    teams = pd.read_csv(FOLDER / "people.csv").set_index("employee_id")["team"]
    pay = result.payouts
    out: dict[tuple[str, str], Decimal] = {}
    for row in pay.itertuples():
        key = (str(row.period), teams[str(row.id)])
        out[key] = out.get(key, Decimal(0)) + Decimal(f"{row.payout:.2f}")
    return out


def test_the_over_under_table_per_period_to_the_cent() -> None:
    policy = with_budgets({"by": "team", "per": "period", "amounts": {"east": 15000, "west": 9000}})
    result = calib.run(policy, FOLDER)
    table = envelopes(result).set_index(["period", "team"])
    hand = by_hand(result)
    # the hand sums of the four (period, team) cells, checked once against the fixture's facts:
    # 2025-01 west pays W1–W3 only (W4 on probation is paid nothing)
    assert set(hand) == {("2025-01", "east"), ("2025-01", "west"), ("2025-02", "east"),
                         ("2025-02", "west")}
    for (period, team), paid in hand.items():
        row = table.loc[(period, team)]
        assert Decimal(f"{row['paid']:.2f}") == paid
        budget = Decimal(15000 if team == "east" else 9000)
        assert Decimal(f"{row['over']:.2f}") == paid - budget
        assert row["used"] == pytest.approx(float(paid / budget))
    assert sum(Decimal(f"{x:.2f}") for x in table["paid"]) == Decimal(
        f"{result.payouts['payout'].sum():.2f}")


def test_the_whole_pool_goes_into_the_groups_paid() -> None:
    """The pool of 10,000.00 a month is in the paid figures: the two teams' pools add up to it."""
    result = calib.run(BASE, FOLDER)
    table = envelopes(result, {"east": 40000, "west": 20000}, by="team")
    assert table["year"].tolist() == ["2025", "2025"]
    paid = {r.team: Decimal(f"{r.paid:.2f}") for r in table.itertuples()}
    pools = Decimal(f"{result.payouts['pool'].sum():.2f}")
    assert pools == Decimal("20000.00")
    assert paid["east"] + paid["west"] == Decimal(f"{result.payouts['payout'].sum():.2f}")


def test_groups_without_a_budget_and_budgets_without_people_are_listed() -> None:
    result = calib.run(BASE, FOLDER)
    table = envelopes(result, {"north": 5000, "east": 30000}, by="team")
    rows = table.set_index("team")
    assert table["team"].tolist() == ["north", "east", "west"]  # the budgets' order, then others
    assert rows.loc["north", "paid"] == 0.0 and rows.loc["north", "note"] == "nobody paid"
    assert rows.loc["north", "over"] == -5000.0
    assert np.isnan(rows.loc["west", "budget"]) and rows.loc["west", "note"] == "no budget"
    assert rows.loc["west", "paid"] > 0


def test_budgets_in_python_need_their_column() -> None:
    result = calib.run(BASE, FOLDER)
    with pytest.raises(CalibrationError, match="by=COLUMN"):
        envelopes(result, {"east": 1})
    with pytest.raises(CalibrationError, match="no budgets section"):
        envelopes(result)
    with pytest.raises(CalibrationError, match="'shop' is not a column"):
        envelopes(result, {"east": 1}, by="shop")


def test_the_policy_section_is_checked_at_its_path() -> None:
    with pytest.raises(PolicyError, match=r"budgets\.by"):
        with_budgets({"by": "branch", "amounts": {"east": 1}})
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        with_budgets({"by": "team", "amounts": {"east": -1}})
    with pytest.raises(ValueError, match="surrounding spaces"):
        with_budgets({"by": "team", "amounts": {"east ": 1}})
    assert with_budgets({"by": "team", "amounts": {"east": "1,200,000"}}).budgets.amounts == {
        "east": 1_200_000.0}


def test_a_policy_without_budgets_keeps_its_hash_and_amounts_are_not_tunable() -> None:
    assert "budgets" not in BASE.to_dict()
    policy = with_budgets({"by": "team", "amounts": {"east": 1000}})
    assert policy.to_dict()["budgets"]["amounts"] == {"east": 1000.0}
    assert policy_sha256(policy) != policy_sha256(BASE)
    assert not [p for p in policy.params() if p.path.startswith("budgets")]
    assert calib.Policy.model_validate(policy.to_dict()) == policy


def test_the_solver_meets_each_pool_envelope_within_a_cent_step() -> None:
    """Pool envelopes per team: each team's envelope is solved on its own so that the team's
    payout over 2025 meets its budget; one cent more of the envelope (paid in both months: two
    cents) would overspend it."""
    policy = with_budgets({"by": "team", "per": "year", "amounts": {"east": 40000, "west": 20000}},
                          pool={"by": "team", "amount": None,
                                "envelopes": {"east": 6000, "west": 2500}})
    scenario = calib.Scenario(policy, FOLDER)
    solved, table = solve_envelopes(scenario)
    assert table.attrs["mode"] == "envelopes"
    after = envelopes(calib.run(solved, FOLDER)).set_index("team")
    for row in table.itertuples():
        assert row.path == f"pay.pool.envelopes.{row.team}"
        assert solved.get(row.path) == row.value
        assert round(row.value, 2) == row.value  # whole cents
        assert after.loc[row.team, "paid"] == row.paid
        assert -row.step < row.gap <= 0
        assert row.step == pytest.approx(0.02)  # the envelope is paid in each of the two months


def test_the_solver_holds_the_most_overspent_group_with_one_shared_parameter() -> None:
    policy = with_budgets({"by": "team", "per": "year", "amounts": {"east": 40000, "west": 18000}})
    scenario = calib.Scenario(policy, FOLDER)
    path = "pay.components.bonus.base.amount"
    solved, table = solve_envelopes(scenario, path=path)
    rows = table.set_index("team")
    binding = table.attrs["binding"]
    assert table.attrs["mode"] == "shared" and (table["value"] == solved.get(path)).all()
    assert (rows["gap"] <= 0).all()
    assert -rows.loc[binding, "step"] < rows.loc[binding, "gap"] <= 0
    with pytest.raises(CalibrationError, match="give path="):
        solve_envelopes(scenario)


def test_gas_cs_budgets_table() -> None:
    policy = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")
    result = calib.run(policy, DATASETS / "gas_cs")
    table = envelopes(result)
    assert table.columns.tolist() == ["year", "branch", "budget", "paid", "over", "used", "note"]
    assert len(table) == 10 and (table["note"] == "").all()
    assert Decimal(f"{table['paid'].sum():.2f}") == Decimal(f"{result.payouts['payout'].sum():.2f}")
