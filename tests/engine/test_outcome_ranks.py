"""Outcomes raised by a place in the ranking (``when.rank``) and by records columns in the same
groups (``when.rank_by``): seed 004's 当月绩效考核和实际销售额都排名最后的,自动请辞.

Figures from tests/fixtures/grade_pay with ``grading.ranking: {by: [team]}`` (score = the typed
points): east in 2025-01 ranks E1 99, L1 95, E2 92.5, E3 88, E5 70, E4 30, all present 31 days;
in 2025-02 E4 is last again (34.5), all present 28 days. West in 2025-01: W1 90 (31 days), W2 85
(20 days), W3 80 (31 days), W4 on probation (not rated); in 2025-02 W1 90, W2 90 (14 days), W4
84, W3 82 (28 days each but W2).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import calib
from calib.errors import PolicyError

DATA = Path(__file__).parents[1] / "fixtures"
BASE = calib.load_policy(DATA / "grade_pay.yaml").to_dict()
FOLDER = DATA / "grade_pay"


def policy(when: dict, ranking: bool = True) -> calib.Policy:
    d = {**BASE, "outcomes": {"x": {"label": "自动请辞", "kind": "dismissal", "when": when}}}
    if ranking:
        d["grading"] = {**BASE["grading"], "ranking": {"by": ["team"]}}
    return calib.Policy.model_validate(d)


def raised(when: dict) -> list[tuple[str, str]]:
    t = calib.run(policy(when), FOLDER).outcomes
    return sorted(zip(t["id"], t["period"], strict=True))


def test_last_by_score_and_by_a_column_both_must_hold() -> None:
    # east: E4 last by score, and everyone ties on days (all share the last place) → E4;
    # west: W3 last by score but W2 has the fewest days → nobody
    assert raised({"rank": "last", "rank_by": {"days_present": "last"}}) == [
        ("E4", "2025-01"), ("E4", "2025-02")]
    t = calib.run(policy({"rank": "last", "rank_by": {"days_present": "last"}}), FOLDER).outcomes
    assert set(t["why"]) == {"ranked last by score; ranked last by days_present"}


def test_first_by_score_and_ties_sharing_a_column_place() -> None:
    # W1 and W2 tie on 90 in 2025-02: the ranking breaks it by id, so W1 alone is first
    assert raised({"rank": "first"}) == [("E1", "2025-01"), ("E1", "2025-02"),
                                          ("W1", "2025-01"), ("W1", "2025-02")]
    # by days, everyone with the most days shares the first place; W4 (probation) is not rated
    # in 2025-01 and so is in no place
    firsts = raised({"rank_by": {"days_present": "first"}})
    assert [r for r in firsts if r[0].startswith("W")] == [
        ("W1", "2025-01"), ("W1", "2025-02"), ("W3", "2025-01"), ("W3", "2025-02"),
        ("W4", "2025-02")]


@pytest.mark.parametrize(("when", "ranking", "path", "words"), [
    ({"rank": "last"}, False, "outcomes.x.when.rank", "needs grading.ranking"),
    ({"rank_by": {"team": "last"}}, True, "outcomes.x.when.rank_by.team",  # a people column
     "not declared in inputs.records.columns"),
    ({"rank_by": {"sales": "last"}}, True, "outcomes.x.when.rank_by.sales", "not declared"),
])
def test_bad_places_are_named_by_path(when: dict, ranking: bool, path: str, words: str) -> None:
    with pytest.raises(PolicyError) as err:
        calib.parse_policy(calib.dump_policy(policy(when, ranking)))
    assert path in str(err.value) and words in str(err.value)


def test_rank_by_needs_a_column() -> None:
    with pytest.raises(ValueError, match="rank_by names no column"):
        policy({"rank_by": {}})
