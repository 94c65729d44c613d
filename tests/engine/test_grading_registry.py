"""The grading methods' registry (issue 19, item 2) and grades given by the data (issue 20,
item 3): every method of the policy model is registered once with a form the Monte Carlo knows,
and a scheme can be re-paid from given grades, checked against the scale.
"""

from __future__ import annotations

import typing
from pathlib import Path

import pandas as pd
import pytest

import calib
from calib.engine.grading import REGISTRY, method_of, rule_order
from calib.engine.grading.method import Form
from calib.errors import SimulationError
from calib.policy.grading import GradingRule
from calib.simulate.monte_carlo import simulate

DATA = Path(__file__).parents[1] / "fixtures"
BASE = calib.load_policy(DATA / "grade_pay.yaml").to_dict()


def test_every_method_of_the_policy_model_is_registered_once() -> None:
    methods = typing.get_args(GradingRule.model_fields["method"].annotation)
    assert sorted(REGISTRY) == sorted(methods)
    for name, method in REGISTRY.items():
        assert method.name == name
        assert method.form in typing.get_args(Form)
        assert callable(method.kernel)
    assert [m.name for m in REGISTRY.values() if not m.drawn] == ["given"]


def test_rule_order_follows_what_a_method_reads() -> None:
    policy = calib.load_policy("datasets/gas_cs/policy.yaml")
    order = rule_order(policy.grading)
    for name in order:
        after = method_of(policy.grading.rules[name]).after(policy.grading.rules[name])
        if after is not None:
            before = [n for n, r in policy.grading.rules.items() if after in r.scorecards]
            assert all(order.index(b) < order.index(name) for b in before)


def given_policy(missing: str = "error") -> calib.Policy:
    doc = {**BASE}
    doc["inputs"] = {**BASE["inputs"]}
    doc["inputs"]["records"] = {**BASE["inputs"]["records"]}
    doc["inputs"]["records"]["columns"] = {**BASE["inputs"]["records"]["columns"],
                                           "prior_grade": {"type": "text", "label": "外部等级",
                                                           "required": False}}
    doc["grading"] = {**BASE["grading"], "rules": {
        "leads": BASE["grading"]["rules"]["leads"],
        "staff": {"scorecards": ["staff"], "method": "given",
                  "given": {"column": "prior_grade", "missing": missing}}}}
    return calib.Policy.model_validate(doc)


def data(grades: dict[str, str]) -> dict[str, pd.DataFrame]:
    records = pd.read_csv(DATA / "grade_pay" / "records.csv", dtype={"period": str})
    records["prior_grade"] = [grades.get(f"{i}/{p}", "B") for i, p in
                              zip(records["employee_id"], records["period"], strict=True)]
    return {"people": pd.read_csv(DATA / "grade_pay" / "people.csv"), "records": records}


def grade_of(result: calib.Result, person: str, period: str = "2025-01") -> str:
    g = result.grades
    return g.loc[(g["id"] == person) & (g["period"] == period), "grade"].iloc[0]


def test_given_grades_are_paid_as_given_names_or_labels() -> None:
    result = calib.run(given_policy(), data({"E1/2025-01": "C", "E2/2025-01": "优秀"}))
    assert grade_of(result, "E1") == "C" and grade_of(result, "E2") == "A+"
    assert grade_of(result, "L1") == "A+"  # the lead's rule is still by thresholds (95)
    assert grade_of(result, "E5") == "C-"  # E5's leak: the veto caps a given grade too
    p = result.payouts
    bonus = p.loc[(p["id"] == "E1") & (p["period"] == "2025-01"), "bonus"].iloc[0]
    assert bonus == 800.00  # 1000 × C's coefficient 0.8
    rules = result.grades.set_index(["id", "period"])["rule"]
    assert rules[("E1", "2025-01")] == "staff" and rules[("E5", "2025-01")] == "veto"


def test_a_grade_not_in_the_scale_or_blank_is_named_with_its_row() -> None:
    with pytest.raises(calib.DataError) as err:
        calib.run(given_policy(), data({"E1/2025-01": "S", "E3/2025-02": ""}))
    problems = err.value.problems.sort_values("row")
    assert problems[["id", "column", "value"]].fillna("").values.tolist() == [
        ["E1", "prior_grade", "S"], ["E3", "prior_grade", ""]]
    assert "not in the scale" in problems["problem"].iloc[0]
    assert "missing: not_graded" in problems["fix"].iloc[1]


def test_blank_given_grade_may_leave_the_row_not_graded_with_a_note() -> None:
    result = calib.run(given_policy("not_graded"), data({"E3/2025-02": ""}))
    g = result.grades.set_index(["id", "period"])
    assert pd.isna(g.loc[("E3", "2025-02"), "grade"])
    assert "no grade given in column 'prior_grade'" in g.loc[("E3", "2025-02"), "note"]


def test_the_monte_carlo_refuses_given_grades_naming_the_rule() -> None:
    policy = given_policy()
    with pytest.raises(SimulationError, match="grading rule 'staff' takes its grades from the data"):
        simulate(policy, data({}), n=5, seed=1)


def test_a_given_column_must_be_declared() -> None:
    doc = given_policy().to_dict()
    doc["grading"]["rules"]["staff"]["given"]["column"] = "nowhere"
    with pytest.raises(calib.PolicyError, match=r"grading\.rules\.staff\.given\.column"):
        calib.Policy.model_validate(doc)
