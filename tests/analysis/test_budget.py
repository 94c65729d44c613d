"""calib.analysis.budget: the finance view's figures, computed in calib (not in notebook 04)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import DATA

import calib
from calib.analysis import budget


@pytest.fixture(scope="module")
def paid() -> calib.Result:
    """The golden grade_pay scheme: 750 × score% + 1000 × coefficient and a 10,000.00 pool."""
    return calib.run(calib.load_policy(DATA / "grade_pay.yaml"), DATA / "grade_pay")


def test_components_add_up_to_the_total(paid: calib.Result) -> None:
    """Per component (labelled as the policy labels them), to the cent, equal to the total."""
    parts = budget.payout_by_component(paid)
    assert list(parts.index) == ["绩效工资", "等级奖金", "奖金池"]
    assert Decimal(str(round(parts.sum(), 2))) == paid.payout_total()


def test_groups_add_up_to_the_total(paid: calib.Result) -> None:
    """Per team, largest first, shares of the total."""
    people = calib.load_data(DATA / "grade_pay", paid.policy).tables["people"]
    column, table = budget.payout_by_group(paid, people)
    assert column == "team"
    assert round(table["total"].sum(), 2) == float(paid.payout_total())
    assert table["total"].is_monotonic_decreasing


def test_default_budget_is_the_single_pool(paid: calib.Result) -> None:
    """One pool per period: the budget to start from is the pool (10,000.00)."""
    assert budget.default_budget(paid) == 10_000.0
    assert budget.periods_per_year(paid) == 12.0
    assert budget.payout_per_period(paid).index.tolist() == ["2025-01", "2025-02"]


def test_budget_parameter_is_a_pay_number(paid: calib.Result) -> None:
    """The numbers the budget solver may move are pay amounts or coefficients."""
    table = budget.budget_parameter(paid.policy)
    assert not table.empty and table["path"].str.startswith("pay.").all()
    assert set(table["role"]) <= {"money", "factor"}


def test_a_scheme_without_pay_has_none() -> None:
    """No pay section: nothing to total, no budget."""
    result = calib.run(calib.load_policy(DATA / "mini.yaml"), DATA / "mini")
    assert budget.payout_by_component(result) is None
    assert budget.default_budget(result) is None
    assert budget.periods_per_year(result) == 0.0
