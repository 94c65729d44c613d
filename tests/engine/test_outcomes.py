"""Outcomes (issue 21, item 9): grades, flags, scores and a KPI's shortfall raise named
outcomes, judged on the run's final tables; a dismissal carries the Guiding Case No. 18 caution.

Figures from tests/fixtures/grade_pay (score = the typed points): A+ in 2025-01 are E1 (99, east
place 1), L1 (95, thresholds) and W1 (90, west place 1); E4 scores 30 then 34.5 (two months below
35: the exit_review flag in 2025-02); W3 scores exactly 80 in 2025-01.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import calib
from calib.policy.outcomes import DISMISSAL_CAUTION

DATA = Path(__file__).parents[1] / "fixtures"
BASE = calib.load_policy(DATA / "grade_pay.yaml").to_dict()
FOLDER = DATA / "grade_pay"
OUTCOMES = {
    "promotion": {"label": "晋升候选", "kind": "reward", "when": {"grade_in": ["A+"]}},
    "exit": {"label": "劝退评审", "kind": "dismissal", "when": {"flag": "exit_review"}},
    "plan": {"label": "改进计划", "kind": "warning", "on": "period", "when": {"score_below": 80}},
    "training": {"label": "培训: {kpi}", "on": "period", "when": {"kpi_below": {"points": 60}}},
}


def policy(outcomes: dict = OUTCOMES) -> calib.Policy:
    return calib.Policy.model_validate({**BASE, "outcomes": outcomes})


def raised(result: calib.Result, outcome: str) -> list[tuple[str, str]]:
    t = result.outcomes
    return sorted(zip(t.loc[t["outcome"] == outcome, "id"], t.loc[t["outcome"] == outcome, "period"],
                      strict=True))


def test_outcomes_raised_by_grade_flag_score_and_kpi() -> None:
    result = calib.run(policy(), FOLDER)
    assert raised(result, "promotion")[:3] == [("E1", "2025-01"), ("E1", "2025-02"), ("L1", "2025-01")]
    assert ("W1", "2025-01") in raised(result, "promotion")
    assert raised(result, "exit") == [("E4", "2025-02")]
    t = result.outcomes.set_index(["outcome", "id", "period"])
    assert t.loc[("exit", "E4", "2025-02"), "caution"] == DISMISSAL_CAUTION
    assert "指导案例18号" in DISMISSAL_CAUTION and "Guiding Case No. 18" in DISMISSAL_CAUTION
    assert t.loc[("exit", "E4", "2025-02"), "why"] == "flag 连续两月低于35分"
    assert t.loc[("promotion", "E1", "2025-01"), "caution"] == ""
    # exactly 80 is not below 80 (W3, 2025-01); E5 (70) and E4 (30, 34.5) are
    assert raised(result, "plan") == [("E4", "2025-01"), ("E4", "2025-02"), ("E5", "2025-01"),
                                      ("E5", "2025-02")]
    assert ("W3", "2025-01") not in raised(result, "plan")
    assert raised(result, "training") == [("E4", "2025-01"), ("E4", "2025-02")]
    assert set(t.loc["training", "label"]) == {"培训: points"}
    assert t.loc[("training", "E4", "2025-02"), "why"] == "points points below 60 (34.5)"


def test_a_not_rated_row_raises_nothing() -> None:
    result = calib.run(policy(), FOLDER)  # W4 is on probation in 2025-01 (points 60: not short)
    assert ("W4", "2025-01") not in {(i, p) for i, p in zip(result.outcomes["id"],
                                                            result.outcomes["period"], strict=True)}


def test_outcomes_follow_the_final_grades_after_overrides() -> None:
    row = {"id": "E2", "period": "2025-01", "field": "grade", "value": "A+", "reason": "evidence",
           "by": "HR"}
    result = calib.run(policy(), FOLDER, overrides=[row])
    assert ("E2", "2025-01") in raised(result, "promotion")


def test_outcomes_are_written_by_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(policy().model_dump_json(), encoding="utf-8")
    from calib.cli import main

    assert main(["run", "--policy", str(path), "--data", str(FOLDER), "--out", str(tmp_path / "o")]) == 0
    text = (tmp_path / "o" / "outcomes.csv").read_text(encoding="utf-8-sig")
    assert "劝退评审" in text and "Guiding Case No. 18" in text


@pytest.mark.parametrize(("outcome", "path"), [
    ({"label": "x", "when": {"grade_in": ["S"]}}, "outcomes.o.when.grade_in.S"),
    ({"label": "x", "when": {"flag": "nope"}}, "outcomes.o.when.flag"),
    ({"label": "x", "on": "period", "when": {"kpi_below": {"nope": 1}}}, "outcomes.o.when.kpi_below.nope"),
    ({"label": "x", "when": {"kpi_below": {"points": 1}}, "on": "nowhere"}, "outcomes.o.on"),
])
def test_bad_references_are_named_by_path(outcome: dict, path: str) -> None:
    with pytest.raises(calib.PolicyError) as err:
        policy({"o": outcome})
    assert path in [i.path for i in err.value.issues]


def test_an_outcome_needs_a_condition() -> None:
    with pytest.raises(ValueError, match="at least one of"):  # pydantic: a ValueError
        policy({"o": {"label": "x", "when": {}}})


def test_the_statement_lists_the_outcomes_with_the_caution() -> None:
    result = calib.run(policy(), FOLDER)
    text = result.explain("E4", "2025-02").to_text()
    assert "劝退评审 (dismissal): flag 连续两月低于35分" in text
    assert "caution: 排名末位" in text
    from calib.engine.statement_text import TEXT, language
    from calib.engine.statements import lines_of, statements

    t = TEXT[language(result.policy)]
    lines = [line for s in statements(result) if s.data["person"]["id"] == "E4"
             for line in lines_of(s, t)]
    assert any(line.item == "劝退评审" and "指导案例18号" in line.rule for line in lines)


def test_a_flag_of_a_single_period_is_raised_in_every_period_that_meets_it() -> None:
    doc = {**BASE, "grading": {**BASE["grading"], "streaks": {
        **BASE["grading"]["streaks"],
        "low_month": {"label": "单月低于80分", "when": {"score_below": 80}, "periods": 1}}}}
    result = calib.run(calib.Policy.model_validate(doc), FOLDER)
    flags = result.flags[result.flags["flag"] == "low_month"]
    # below 80 (exactly 80 is not): E4 30 and 34.5, E5 70 and 75 — each month, not once per run
    assert sorted(zip(flags["id"], flags["period"], strict=True)) == [
        ("E4", "2025-01"), ("E4", "2025-02"), ("E5", "2025-01"), ("E5", "2025-02")]
    assert set(flags["periods"]) == {"2025-01", "2025-02"}


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_a_ranking_on_a_value_other_than_the_score(order: str) -> None:
    """Ranks on a period's value (issue 21 item 3): days present, highest (or lowest) first,
    in each team and month; equal values keep the id order."""
    doc = {**BASE, "grading": {**BASE["grading"], "ranking": {
        "by": ["team"], "on": "days_present", "order": order}}}
    result = calib.run(calib.Policy.model_validate(doc), FOLDER)
    g = result.grades.astype({"id": str, "period": str})
    feb_west = g[(g["period"] == "2025-02") & g["id"].str.startswith("W")].set_index("id")["rank"]
    # 2025-02 west: W1 28, W2 14, W3 28, W4 28 days present (all rated)
    want = {"W1": 1, "W3": 2, "W4": 3, "W2": 4} if order == "desc" else \
        {"W2": 1, "W1": 2, "W3": 3, "W4": 4}
    assert feb_west.to_dict() == want


def test_a_ranking_on_a_value_needs_period_grades_and_a_known_value() -> None:
    doc = {**BASE, "grading": {**BASE["grading"], "ranking": {"on": "nowhere"}}}
    with pytest.raises(calib.PolicyError) as err:
        calib.Policy.model_validate(doc)
    assert "grading.ranking.on" in [i.path for i in err.value.issues]
