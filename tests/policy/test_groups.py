"""The columns a policy groups people by (``calib.policy.groups``): one answer for every view."""

from __future__ import annotations

from pathlib import Path

import pytest

import calib
from calib.analysis.budget import payout_by_group
from calib.io.workbooks import group_column
from calib.lab import charts
from calib.policy.groups import default_group, group_columns, grouping_columns, people_text_columns
from calib.policy.load import validate_policy

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def example(name: str) -> calib.Policy:
    return calib.load_policy(DATASETS / name / "policy.yaml")


def gas_with_forced_supervisors() -> calib.Policy:
    """The gas scheme with its supervisors forced-distributed by branch, in a rule listed after
    the staff's cascade by team."""
    data = example("gas_cs").to_dict()
    rules = data["grading"]["rules"]
    supervisors = rules.pop("supervisors")
    supervisors.update(method="forced", forced={"by": ["branch"],
                                                "ratios": {"A+": 0.2, "A": 0.3, "B": 0.5}})
    rules["supervisors"] = supervisors
    return validate_policy(data)


class TestGroupColumns:
    """What the grading groups people within."""

    @pytest.mark.parametrize(("name", "columns"), [
        ("ecommerce_cs", ["shop"]),  # forced distribution by shop
        ("gas_cs", ["team"]),  # cascade: the team follows its leader's grade
        ("call_centre", []),  # thresholds; ranking by team does not make quota groups
        ("safety", []),
    ])
    def test_the_examples(self, name: str, columns: list[str]) -> None:
        """A forced distribution's ``by``, else a cascade's team, else nothing."""
        assert group_columns(example(name)) == columns

    def test_a_forced_distribution_comes_before_a_cascade_listed_first(self) -> None:
        """A forced rule by branch after a cascade by team: branch (the workbook's total used to
        take the first rule's column, team, while the simulation took branch)."""
        policy = gas_with_forced_supervisors()
        assert group_columns(policy) == ["branch"]
        assert grouping_columns(policy)[:2] == ["branch", "team"]
        people = calib.load_data(DATASETS / "gas_cs", policy).tables["people"]
        assert group_column(policy, people, None) == "branch"


class TestDefaultGroup:
    """The column to group by when nobody names one."""

    @pytest.mark.parametrize(("name", "grouping", "column"), [
        ("call_centre", ["team", "role"], "team"),  # the ranking's by
        ("property_cs", ["department"], "department"),  # a group-average cap by department
        ("ecommerce_cs", ["shop"], "shop"),
        ("safety", [], "unit"),  # the first text column of people
    ])
    def test_the_examples(self, name: str, grouping: list[str], column: str) -> None:
        """The policy's own groups first, else the people table's first text column; the
        workbook's and the budget's totals and notebook 01 use it."""
        policy = example(name)
        people = calib.load_data(DATASETS / name, policy).tables["people"]
        assert grouping_columns(policy) == grouping
        assert default_group(policy, people.columns) == column
        assert group_column(policy, people, None) == column
        if policy.pay is not None:
            result = calib.run(policy, DATASETS / name)
            assert payout_by_group(result, people)[0] == column

    def test_none_at_hand(self) -> None:
        """No column of the policy's among those given: None."""
        assert default_group(example("safety"), ["id", "hired"]) is None
        assert "unit" in people_text_columns(example("safety"))

    def test_the_chart_groups_by_quota_group_else_the_default_group(self) -> None:
        """The group heatmap: quota groups when the grading has them, else the default group."""
        for name, by in (("ecommerce_cs", "group"), ("call_centre", "team"), ("safety", "unit")):
            result = calib.run(example(name), DATASETS / name)
            assert charts._default_group(result, result.grades) == by, name
