"""The managers' what-if panel: change one person's inputs, see them and others move."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as w
import pytest

import calib
from calib.lab.whatif import IntField, WhatIf

GAS = Path(__file__).resolve().parents[2] / "datasets" / "gas_cs"


def test_fields_are_the_scorecards_inputs() -> None:
    """A staff member's fields are the records columns eligibility reads (probation, absence,
    days present), then those their KPIs read, typed: counts as whole-number boxes, flags as
    checkboxes, the conduct rating as a drop-down of its labels; each in the policy's words."""
    panel = WhatIf(calib.load_policy(GAS / "policy.yaml"), GAS)
    panel.person.value, panel.period.value = "GS0013", "2025-06"
    boxes = panel.fields.children
    assert [b.column for b in boxes] == [
        "probation", "absent", "days_present",
        "satisfied", "surveyed", "closed_on_time", "work_orders", "complaints", "errors", "conduct"]
    kinds = {b.column: type(b) for b in boxes}
    assert kinds["satisfied"] is IntField and kinds["days_present"] is IntField
    assert kinds["probation"] is w.Checkbox and kinds["conduct"] is w.Dropdown
    conduct = next(b for b in boxes if b.column == "conduct")
    assert list(conduct.options) == ["优秀", "良好", "一般", "较差"]
    assert boxes[3].description == "满意人数" and boxes[2].description == "出勤天数 (天)"
    assert isinstance(boxes[3].value, int)
    assert panel.changes() == {}
    assert panel.period.description == "Month" and "城东营业厅二组" in panel.who.value


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
    # before and after, as people read them
    table = panel.before_after().set_index("item")
    assert table.loc["score", ["before", "after", "change"]].tolist() == ["100.00", "61.00", "−39.00"]
    assert table.loc["grade", ["before", "after"]].tolist() == ["A+ 优秀", "B 合格"]
    assert table.loc["place in group", "after"] == "7 of 7 in 城东营业厅二组 (leader GS0012)"
    assert table.loc["月度绩效工资", ["before", "after"]].tolist() == ["300.00 CNY", "225.00 CNY"]
    assert table.loc["等级奖金", "change"] == "−100.00 CNY"
    assert table.loc["payout", ["before", "after", "change"]].tolist() == [
        "900.00 CNY", "725.00 CNY", "−175.00 CNY"]
    assert not table.loc["status", "changed"] and table.loc["payout", "changed"]
    assert "<b>payout after</b> 725.00 CNY (was 900.00 CNY, −175.00 CNY)" in report
    lines = panel.statement_changes()
    assert ("complaints: 0", "complaints: 3") in lines and ("score: 100", "score: 61") in lines
    assert all("[kpis." not in a + b for a, b in lines)  # policy paths are for HR, not here
    assert "<NA>" not in report and "nan" not in report


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


def test_a_refused_value_shows_the_problem_and_the_fix_under_its_label() -> None:
    """A negative count is the engine's DataError: in a red box, under the field's label, with
    what was typed and the fix; no traceback, no old result."""
    panel = WhatIf(calib.load_policy(GAS / "policy.yaml"), GAS)
    panel.person.value, panel.period.value = "GS0013", "2025-06"
    panel.set_inputs({"complaints": -2})
    assert panel.recalculate() is None
    shown = panel.result.value
    assert "calib-whatif-error" in shown and "有效投诉数 (complaints): below the minimum 0" in shown
    assert "you typed -2" in shown and "Fix: check the value" in shown
    assert "Traceback" not in shown and "This person" not in shown


def test_an_emptied_field_and_a_huge_number_are_refused_in_place() -> None:
    """An emptied box (None) is a missing value, refused with its fix; a number beyond what a
    records column can hold is refused before the run, in the same words."""
    panel = WhatIf(calib.load_policy(GAS / "policy.yaml"), GAS)
    panel.person.value, panel.period.value = "GS0013", "2025-06"
    field = next(b for b in panel.fields.children if b.column == "errors")
    field.value = None
    assert field.value is None and panel.changes() == {"errors": None}
    assert panel.recalculate() is None and "empty cell" in panel.result.value
    field.value = 10**30
    assert panel.recalculate() is None and "far too large" in panel.result.value
    field.value = 1
    assert panel.recalculate() is not None


def test_a_label_and_a_flag_change() -> None:
    """A rating picked from its drop-down and the probation box ticked: the person is no longer
    rated, so no grade (a dash, not <NA>) and nothing paid after."""
    panel = WhatIf(calib.load_policy(GAS / "policy.yaml"), GAS)
    panel.person.value, panel.period.value = "GS0013", "2025-06"
    panel.set_inputs({"conduct": "较差", "probation": True})
    assert panel.changes() == {"conduct": "较差", "probation": True}
    assert panel.recalculate() is not None
    table = panel.before_after().set_index("item")
    assert table.loc["status", "after"] == "not rated (probation)"
    assert table.loc["grade", "after"] == "—" and table.loc["place in group", "after"] == "—"
    assert table.loc["payout", ["after", "change"]].tolist() == ["0.00 CNY", "−900.00 CNY"]
    assert "changed: probation → yes, conduct → 较差" in panel.message.value
