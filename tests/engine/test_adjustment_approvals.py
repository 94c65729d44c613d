"""R16 approvals of add/deduct events on one property_cs 专员: thresholds inclusive or exclusive
(in Chinese drafting "5分以上" includes 5) and approval authority by level (a 领班 may confirm
一级、二级奖励和一级至三级处罚 on site), with the numbers people type: exactly +5 and exactly −10.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

import calib
from calib.errors import DataError, PolicyError
from calib.policy.load import validate_policy
from calib.policy.scoring import Adjustments

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
PROPERTY = calib.load_policy(DATASETS / "property_cs" / "policy.yaml")
ADJ = "scorecards.staff.adjustments"


def variant(**adjustments: object) -> calib.Policy:
    """property_cs with the staff card's adjustments updated (a None value removes the key)."""
    data = copy.deepcopy(PROPERTY.to_dict())
    adj = data["scorecards"]["staff"]["adjustments"]
    for key, value in adjustments.items():
        if value is None:
            adj.pop(key, None)
        else:
            adj[key] = value
    return validate_policy(data)


def month(events: list[tuple[int, bool, str | None]]) -> dict[str, pd.DataFrame]:
    """One 专员 in March 2025 with the events given as (points, written approval, confirmed by)."""
    people = pd.DataFrame({"employee_id": ["P1"], "department": "管家组", "position": "专员",
                           "post_level": "初级", "gender": "女", "hired": "2020-01-01", "left": None,
                           "perf_pay_base": 300})
    records = pd.DataFrame({"employee_id": ["P1"], "period": "2025-03", "probation": False,
                            "absent": False, "days_present": 31, "failed_checks": 0,
                            "complaints": 0, "late_cases": 0, "late_minutes": 0,
                            "short_late_cases": 0, "short_late_minutes": 0,
                            "discipline_violations": 0, "inspection_deduction": 0})
    late = pd.DataFrame({"employee_id": pd.Series([], dtype=str),
                         "date": pd.Series([], dtype=str), "minutes": pd.Series([], dtype=int)})
    adjustments = pd.DataFrame({
        "employee_id": ["P1"] * len(events),
        "date": [f"2025-03-{d + 2:02d}" for d in range(len(events))],
        "points": [p for p, _, _ in events], "reason": "事由",
        "approved": [a for _, a, _ in events], "confirmed_by": [w for _, _, w in events]})
    return {"people": people, "records": records, "late_arrivals": late,
            "adjustments": adjustments}


def flags(policy: calib.Policy, events: list[tuple[int, bool, str | None]]
          ) -> tuple[float, list[tuple[int, bool, str]]]:
    """The month's score and (points, needs_approval, approval_note) per event, in date order."""
    result = calib.run(policy, month(events))
    adj = result.adjustments.sort_values("date")
    return float(result.scores["score"].iloc[0]), list(zip(
        adj["points"].astype(int), adj["needs_approval"].astype(bool), adj["approval_note"],
        strict=True))


EDGES = [(5, False, "主管"), (-10, False, "主管"), (3, False, "主管"), (-5, False, "主管"),
         (8, True, "主管"), (-20, True, "主管")]


def test_inclusive_thresholds_flag_exactly_5_and_exactly_minus_10() -> None:
    """以上 includes the number: +5 and −10 without written approval are flagged; +3 and −5 are
    not; +8 and −20 with written approval are not. The score counts every event."""
    score, got = flags(variant(approval_bounds="inclusive"), EDGES)
    assert score == 100 + 5 - 10 + 3 - 5 + 8 - 20
    assert got == [(5, True, "+5 is at or above +5: needs written approval"),
                   (-10, True, "-10 is at or below -10: needs written approval"),
                   (3, False, ""), (-5, False, ""), (8, False, ""), (-20, False, "")]


def test_exclusive_thresholds_flag_only_beyond() -> None:
    """exclusive (the default when omitted): exactly +5 and −10 pass; +8 and −20 without written
    approval are flagged."""
    policy = variant(approval_bounds=None)
    assert policy.scorecards["staff"].adjustments.approval_bounds == "exclusive"
    _, got = flags(policy, [*EDGES[:4], (8, False, "主管"), (-20, False, "主管")])
    assert [(p, n) for p, n, _ in got] == [(5, False), (-10, False), (3, False), (-5, False),
                                           (8, True), (-20, True)]
    assert got[4][2] == "+8 is above +5: needs written approval"


def test_the_default_is_exclusive() -> None:
    """Policies written before the option keep today's flags."""
    assert Adjustments(table="adjustments").approval_bounds == "exclusive"


def test_authority_by_level() -> None:
    """A 领班 may confirm +1 +2 −1 −2 −3 (exactly −3 included); a −5 or a +3 confirmed by a 领班
    counts as not approved, with the reason; a 主管 may confirm any level."""
    score, got = flags(PROPERTY, [(2, True, "领班"), (-3, True, "领班"), (-5, True, "领班"),
                                  (3, True, "领班"), (3, True, " 主管 ")])
    assert score == 100 + 2 - 3 - 5 + 3 + 3
    allowed = "may confirm +1, +2, -1, -2, -3 only"
    assert got == [(2, False, ""), (-3, False, ""),
                   (-5, True, f"-5 confirmed by 领班, who {allowed}"),
                   (3, True, f"+3 confirmed by 领班, who {allowed}"), (3, False, "")]


def test_no_confirmer_is_not_approved_where_the_column_may_be_blank() -> None:
    """With ``confirmed_by`` declared ``required: false``, a blank confirmer counts as not
    approved (property_cs requires the column: a blank there is a data error)."""
    data = copy.deepcopy(PROPERTY.to_dict())
    data["inputs"]["events"]["adjustments"]["columns"]["confirmed_by"]["required"] = False
    _, got = flags(validate_policy(data), [(-1, True, None), (1, True, "领班")])
    assert got == [(-1, True, "no confirmer recorded (confirmed_by)"), (1, False, "")]
    with pytest.raises(DataError, match="empty cell"):
        calib.run(PROPERTY, month([(-1, True, None)]))


def test_both_reasons_are_given() -> None:
    """Exactly −10, no written approval, confirmed by a 领班: both reasons in the note."""
    _, [(_, needs, note)] = flags(PROPERTY, [(-10, False, "领班")])
    assert needs
    assert note == ("-10 is at or below -10: needs written approval; "
                    "-10 confirmed by 领班, who may confirm +1, +2, -1, -2, -3 only")


def test_a_role_not_in_the_list_is_a_located_data_error() -> None:
    """组长 is not a role of the authority list: the row, column and fix are named."""
    with pytest.raises(DataError) as exc:
        calib.run(PROPERTY, month([(1, True, "领班"), (2, True, "组长")]))
    [problem] = exc.value.problems.to_dict("records")
    assert (problem["table"], problem["column"], problem["value"]) == (
        "adjustments", "confirmed_by", "组长")
    assert problem["problem"] == "role not in the approval authority list"
    assert problem["fix"] == ("use one of: 领班, 主管, or add the role under "
                              f"{ADJ}.authority.roles")


def refused(**adjustments: object) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as exc:
        variant(**adjustments)
    return [(i.path, i.message) for i in exc.value.issues]


def test_bad_references_are_located() -> None:
    """An authority column the table does not declare, a level no event can have, an unknown
    bounds word: each refused at its path."""
    [(path, message)] = refused(authority={"column": "signed_by", "roles": {"主管": "all"}})
    assert path == f"{ADJ}.authority.column" and "signed_by" in message
    [(path, message)] = refused(authority={"column": "confirmed_by",
                                           "roles": {"领班": [1, 4], "主管": "all"}})
    assert path == f"{ADJ}.authority.roles.领班[1]"
    assert message.startswith("+4 is not one of the levels (+1, +2, +3, +5, +8, -1, ")
    [(path, _)] = refused(approval_bounds="以上")
    assert path == f"{ADJ}.approval_bounds"
    [(path, _)] = refused(authority={"column": "confirmed_by", "roles": {}})
    assert path == f"{ADJ}.authority.roles"
