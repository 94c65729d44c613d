"""The merit matrix's declared floor (R35, ``pay.merit.min_raise``): a pay cut for a failing grade
(seed 000: 绩效不达标的员工可能面临薪酬下调或维持不变) is paid only when the policy declares how far
raises may go below zero; a raise below the floor, or any cut without one, is refused by path.

Figures from datasets/logistics_cs (C- 不合格 raises 0 % / −2 % / −3 % by compa-ratio band,
``min_raise: -5%``): LG0001, 2024, annual 78.0833 → C-, base 9680 / midpoint 9000 = 1.0756 (the
0.9–1.1 band) → −2 % of 9680 = −193.60.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from pydantic import ValidationError

import calib

LOGISTICS = Path(__file__).parents[2] / "datasets" / "logistics_cs"
BASE = calib.load_policy(LOGISTICS / "policy.yaml").to_dict()


def merit_with(min_raise: float | None, failing: list[float]) -> calib.Policy:
    """logistics_cs with the C- row's raises and the floor replaced (None: no floor declared)."""
    d = copy.deepcopy(BASE)
    merit = d["pay"]["merit"]
    merit.pop("min_raise", None)
    if min_raise is not None:
        merit["min_raise"] = min_raise
    merit["rows"] = [r if r["grade"] != "C-" else {"grade": "C-", "raises": failing}
                     for r in merit["rows"]]
    return calib.Policy.model_validate(d)


def test_the_example_declares_its_floor_and_cuts_the_failing_grade() -> None:
    merit = calib.load_policy(LOGISTICS / "policy.yaml").pay.merit
    assert merit.min_raise == -0.05
    assert [r.raises for r in merit.rows if r.grade == "C-"] == [[0.0, -0.02, -0.03]]


def test_a_cut_without_a_declared_floor_is_refused_by_path() -> None:
    with pytest.raises(ValidationError) as err:
        merit_with(None, [0.0, -0.02, -0.03])
    text = str(err.value)
    assert "pay.merit" in text and "rows[4].raises[1]" in text and "grade 'C-'" in text
    assert "min_raise 0 (the default: no pay cuts)" in text and "min_raise: -2.00%" in text


def test_a_raise_below_the_floor_is_refused_and_one_on_it_accepted() -> None:
    with pytest.raises(ValidationError, match=r"rows\[4\]\.raises\[2\].*below min_raise -0.05"):
        merit_with(-0.05, [0.0, -0.02, -0.06])  # −6 % for −5 % is the typo the floor catches
    assert merit_with(-0.05, [-0.05, -0.05, -0.05]).pay.merit.min_raise == -0.05
    with pytest.raises(ValidationError):  # the floor itself is a cut, never a raise
        merit_with(0.01, [0.0, 0.0, 0.0])


def test_the_cut_is_paid_to_the_cent() -> None:
    """LG0001 2024: C-, compa 9680 / 9000 = 1.0756 → −2 % → −193.60; LG0009 2024: C-, compa
    4340 / 5000 = 0.868 (below 0.9) → 0 % (维持不变) → 0.00."""
    policy = calib.load_policy(LOGISTICS / "policy.yaml")
    merit = calib.run(policy, LOGISTICS).merit.set_index(["id", "period"])
    cut = merit.loc[("LG0001", "2024")]
    assert (cut["grade"], cut["raise_pct"], cut["raise"]) == ("C-", -0.02, -193.60)
    kept = merit.loc[("LG0009", "2024")]
    assert (kept["grade"], kept["raise_pct"], kept["raise"]) == ("C-", 0.0, 0.0)
