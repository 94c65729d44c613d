"""The managers' what-if panel: change one person's inputs, see them and others move."""

from __future__ import annotations

from pathlib import Path

import pytest

import calib
from calib.lab.whatif import WhatIf

GAS = Path(__file__).resolve().parents[2] / "datasets" / "gas_cs"


def test_fields_are_the_scorecards_inputs() -> None:
    """A staff member's fields are the records columns their KPIs read, in the policy's words."""
    panel = WhatIf(calib.load_policy(GAS / "policy.yaml"), GAS)
    panel.person.value, panel.period.value = "GS0013", "2025-06"
    assert [b.column for b in panel.fields.children] == [
        "satisfied", "surveyed", "closed_on_time", "work_orders", "complaints", "errors", "conduct"]
    assert panel.changes() == {}


def test_recalculate_moves_the_person_and_others() -> None:
    """No satisfied customers and 3 complaints: GS0013 falls from A+ (100) to B (61) and, in the
    7-person team under an A supervisor (1 A+, 2 A, 4 B), GS0019 takes the A+ and GS0017 an A."""
    panel = WhatIf(calib.load_policy(GAS / "policy.yaml"), GAS)
    panel.person.value, panel.period.value = "GS0013", "2025-06"
    for box in panel.fields.children:
        if box.column == "satisfied":
            box.value = 0
        if box.column == "complaints":
            box.value = 3
    assert panel.changes() == {"satisfied": 0, "complaints": 3}
    after = panel.recalculate()
    g = after.grades
    row = g[(g["id"] == "GS0013") & (g["period"] == "2025-06")]
    assert (row["score"].item(), row["grade"].item()) == (61.0, "B")
    report = panel.result.value
    assert "Who else moved</b> (2)" in report and "GS0019" in report and "GS0017" in report
    assert "complaints: 3" in report  # the statement after the change
    assert "changed: satisfied → 0, complaints → 3" in panel.message.value


def test_the_same_in_code() -> None:
    """Notebook 05's code section: suggest a change, type it, recalculate, compare, who else moved."""
    folder = Path(__file__).resolve().parents[2] / "datasets" / "ecommerce_cs"
    what_if = WhatIf(calib.load_policy(folder / "policy.yaml"), folder)
    change = what_if.suggest()
    assert change and set(change) <= set(what_if.inputs().index)
    what_if.set_inputs(change)
    after = what_if.recalculate()
    assert after is not None and what_if.error is None
    table = what_if.compare()
    assert str(what_if.period.value) in table.index
    assert {"score before", "score after"} <= set(table.columns)
    assert list(what_if.others_moved().columns[:2]) == ["id", "period"]
    with pytest.raises(calib.CalibError, match="not an input of this person's scorecard"):
        what_if.set_inputs({"no_such_column": 1})
