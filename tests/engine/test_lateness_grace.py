"""R29 lateness grace read as the policy says (``grace.combine``), on one property_cs 专员.

The seed's "一个月累计迟到、早退不超过5分钟次数不超过三次, 或者三次累计时间不超过15分钟, 不计入迟到统计"
is read "and" or "or" by different HR departments; the policy must choose, and the boundaries are
the numbers people type: exactly 3 cases, exactly 15 minutes, a case of exactly 5 minutes (not
short: "超过5分钟(含5分钟)" counts).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

import calib
from calib.errors import PolicyError
from calib.policy.load import validate_policy

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
PROPERTY = calib.load_policy(DATASETS / "property_cs" / "policy.yaml")
GRACE = "pay.components.lateness.grace"


def with_grace(**grace: object) -> calib.Policy:
    """property_cs with the lateness grace replaced by ``grace`` (no discipline, no cap)."""
    data = copy.deepcopy(PROPERTY.to_dict())
    data["pay"]["components"]["lateness"]["grace"] = grace
    return validate_policy(data)


def one_month(minutes: list[int]) -> dict[str, pd.DataFrame]:
    """One 专员 (base 300, score 100) in March 2025 late on successive days by ``minutes``."""
    people = pd.DataFrame({"employee_id": ["P1"], "department": "管家组", "position": "专员",
                           "post_level": "初级", "gender": "女", "hired": "2020-01-01", "left": None,
                           "perf_pay_base": 300})
    records = pd.DataFrame({"employee_id": ["P1"], "period": "2025-03", "probation": False,
                            "absent": False, "days_present": 31, "failed_checks": 0,
                            "complaints": 0, "late_cases": len(minutes),
                            "late_minutes": sum(minutes), "short_late_cases": 0,
                            "short_late_minutes": 0, "discipline_violations": 0,
                            "inspection_deduction": 0})
    arrivals = pd.DataFrame({"employee_id": ["P1"] * len(minutes),
                             "date": [f"2025-03-{d + 3:02d}" for d in range(len(minutes))],
                             "minutes": minutes})
    columns = PROPERTY.inputs.events["adjustments"].columns
    adjustments = pd.DataFrame({"employee_id": pd.Series([], dtype=str),
                                **{c: pd.Series([], dtype=object) for c in columns}})
    return {"people": people, "records": records, "late_arrivals": arrivals,
            "adjustments": adjustments}


def deducted(policy: calib.Policy, minutes: list[int]) -> float:
    """The lateness deduction (元, positive) of the month."""
    payout = calib.run(policy, one_month(minutes)).payouts.iloc[0]
    assert payout["score"] == 100.0
    return -float(payout["lateness"])


AND = with_grace(under=5, max_cases=3, max_total=15, combine="and")
OR = with_grace(under=5, max_cases=3, max_total=15, combine="or")


@pytest.mark.parametrize(("minutes", "under_and", "under_or"), [
    ([4, 4, 4], 0, 0),           # exactly 3 cases, 12 min: both readings forgive
    ([4, 4, 4, 1], 13, 0),       # 4 cases, 13 min: only "or" forgives (13 ≤ 15)
    ([3, 3, 3, 3, 3], 15, 0),    # 5 cases, exactly 15 min: "or" forgives
    ([4, 4, 4, 4], 16, 16),      # 4 cases, 16 min: neither limit holds
    ([4, 4, 6], 6, 6),           # the short ones forgiven, the 6-minute case counted
    ([5], 5, 5),                 # exactly 5 minutes is not short (含5分钟): always counted
    ([4, 4, 4, 4, 5], 21, 21),   # 4 short cases (16 min) + a 5: nothing forgiven
])
def test_and_or_readings(minutes, under_and, under_or) -> None:
    """The two readings of the same grace, case by case, to the yuan."""
    assert (deducted(AND, minutes), deducted(OR, minutes)) == (under_and, under_or)


@pytest.mark.parametrize(("grace", "minutes", "amount"), [
    ({"max_cases": 3}, [1, 1, 1], 0),          # exactly 3 cases
    ({"max_cases": 3}, [1, 1, 1, 1], 4),
    ({"max_total": 15}, [3, 3, 3, 3, 3], 0),   # exactly 15 minutes
    ({"max_total": 15}, [4, 4, 4, 4], 16),
    ({"max_total": "15", "under": "5"}, [4, 4, 4, 3], 0),  # typed as text: the same numbers
])
def test_one_limit_needs_no_combine(grace, minutes, amount) -> None:
    """A grace with one limit applies it alone."""
    assert deducted(with_grace(**grace), minutes) == amount


def test_cap_still_applies_after_the_grace() -> None:
    """40 counted minutes under either reading → at most 30 元 (max)."""
    assert deducted(OR, [20, 20]) == 30


def refused(**grace: object) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as exc:
        with_grace(**grace)
    return [(i.path, i.message) for i in exc.value.issues]


def test_both_limits_without_combine_are_refused_naming_the_two_readings() -> None:
    """No default reading: the path, both limits and the two fixes are named."""
    [(path, message)] = refused(under=5, max_cases=3, max_total=15)
    assert path == GRACE
    assert "combine: and" in message and "combine: or" in message
    assert "at most 3 cases and at most 15 minutes" in message


def test_combine_with_one_limit_and_no_limit_are_refused() -> None:
    """combine joins two limits; a grace without any limit forgives nothing meaningful."""
    [(path, message)] = refused(max_cases=3, combine="or")
    assert path == GRACE and "only max_cases is given" in message
    [(path, message)] = refused(under=5)
    assert path == GRACE and "needs a limit" in message
    [(path, message)] = refused(max_cases=3, max_total=15, combine="either")
    assert path == f"{GRACE}.combine"


def test_the_example_reading_round_trips() -> None:
    """combine survives dump and load."""
    assert calib.parse_policy(calib.dump_policy(OR)) == OR
