"""The appeals register: deadlines in working days on China's calendar (across the 2026 Spring
Festival and its make-up Saturdays), late filings refused unless a reason is recorded, decisions,
and what is open or overdue on a given day."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest
from cycle_helpers import RUN, new_ledger

from calib.cycle.appeals import appeals_table, decide_appeal, file_appeal
from calib.cycle.ledger import CycleError
from calib.cycle.settings import Settings
from calib.cycle.workdays import add_workdays, is_workday

RULES = Settings({"appeal": "an appeal upheld"}, appeal_days=5, decision_days=7, source="the test policy")


def test_the_2026_spring_festival_facts_as_chinese_calendar_has_them():
    """The facts the deadlines below rest on, checked against the package itself."""
    holiday = [date(2026, 2, d) for d in range(15, 24)]
    assert all(not chinese_calendar.is_workday(d) for d in holiday)  # 2026-02-15 .. 02-23 off
    assert date(2026, 2, 14).weekday() == 5 and chinese_calendar.is_workday(date(2026, 2, 14))  # 调休
    assert date(2026, 2, 28).weekday() == 5 and chinese_calendar.is_workday(date(2026, 2, 28))  # 调休
    assert not chinese_calendar.is_workday(date(2026, 3, 1))  # an ordinary Sunday


def test_a_decision_deadline_crosses_the_spring_festival_and_two_make_up_saturdays():
    # filed Thu 2026-02-12, 7 working days, counted from the next day:
    #   1 Fri 02-13, 2 Sat 02-14 (调休, a working day),
    #   Sun 02-15 .. Mon 02-23 Spring Festival (none counted),
    #   3 Tue 02-24, 4 Wed 02-25, 5 Thu 02-26, 6 Fri 02-27, 7 Sat 02-28 (调休)
    assert add_workdays(date(2026, 2, 12), 7) == date(2026, 2, 28)
    # a plain Monday-Friday count would say Mon 02-23, in the middle of the holiday
    assert add_workdays(date(2026, 2, 12), 0) == date(2026, 2, 12)
    assert add_workdays(date(2026, 2, 27), 1) == date(2026, 2, 28)  # Fri -> the make-up Saturday
    assert add_workdays(date(2026, 2, 28), 1) == date(2026, 3, 2)  # Sat -> Mon (Sunday 03-01 off)


def test_a_year_the_calendar_does_not_know_is_a_clear_error():
    with pytest.raises(CycleError, match=r"2031-01-02 .*Update chinese-calendar"):
        is_workday(date(2031, 1, 2))


def test_filing_records_both_deadlines(tmp_path):
    with new_ledger(tmp_path) as ledger:
        seq = file_appeal(ledger, RULES, "E001", "2025-12", date(2026, 2, 12), "my KPI was mis-counted",
                          given=date(2026, 2, 9), by="hr")
        row = ledger.get("appeals", seq)
    assert row is not None
    # results given Mon 02-09, 5 working days: Tue 10, Wed 11, Thu 12, Fri 13, Sat 14 (调休)
    assert row.row["filing_deadline"] == "2026-02-14"
    assert row.row["decision_deadline"] == "2026-02-28"
    assert row.row["late_reason"] is None


def test_a_filing_after_the_deadline_is_refused_with_the_date_and_the_deadline(tmp_path):
    with new_ledger(tmp_path) as ledger:
        # results Mon 02-09: the deadline is Sat 02-14 (调休); Tue 02-24 is the next working day after
        refused = r"filed on 2026-02-24, after the deadline 2026-02-14.*--late-reason"
        with pytest.raises(CycleError, match=refused):
            file_appeal(ledger, RULES, "E001", "2025-12", date(2026, 2, 24), "late", given=date(2026, 2, 9))
        assert ledger.rows("appeals") == []
        # filed on the deadline day itself is in time
        file_appeal(ledger, RULES, "E002", "2025-12", date(2026, 2, 14), "in time", given=date(2026, 2, 9))
        seq = file_appeal(ledger, RULES, "E001", "2025-12", date(2026, 2, 24), "late",
                          given=date(2026, 2, 9), late_reason="was in hospital (certificate on file)")
        assert ledger.get("appeals", seq).row["late_reason"] == "was in hospital (certificate on file)"


def test_the_results_date_defaults_to_the_first_approval_else_the_last_run(tmp_path):
    with new_ledger(tmp_path) as ledger:
        with pytest.raises(CycleError, match="--results-date"):
            file_appeal(ledger, RULES, "E001", "2025-12", date(2026, 2, 12), "x")
        ledger.append("runs", [RUN])  # at 2026-02-09
        seq = file_appeal(ledger, RULES, "E001", "2025-12", date(2026, 2, 12), "x")
        assert ledger.get("appeals", seq).row["results_date"] == "2026-02-09"


def test_decisions_and_the_list_as_of_a_day(tmp_path):
    with new_ledger(tmp_path) as ledger:
        run = ledger.append("runs", [RUN])[0]
        a = file_appeal(ledger, RULES, "E001", "2025-12", date(2026, 2, 12), "one", given=date(2026, 2, 9))
        b = file_appeal(ledger, RULES, "E002", "2025-12", date(2026, 2, 13), "two", given=date(2026, 2, 9))
        c = file_appeal(ledger, RULES, "E003", "2025-12", date(2026, 2, 13), "three", given=date(2026, 2, 9))
        changes = tmp_path / "changes.csv"
        changes.write_text("id,period,why\nE001,2025-12,input changed\n")
        decide_appeal(ledger, a, "upheld", "the KPI was re-counted", date(2026, 2, 25), run=run,
                      changes=str(changes), by="committee")
        decide_appeal(ledger, c, "rejected", "no new evidence", date(2026, 3, 5))
        with pytest.raises(CycleError, match="already decided"):
            decide_appeal(ledger, a, "rejected", "again", date(2026, 2, 26))
        with pytest.raises(CycleError, match="no appeal number 999"):
            decide_appeal(ledger, 999, "rejected", "x", date(2026, 2, 26))
        with pytest.raises(CycleError, match="no run number 999"):
            decide_appeal(ledger, b, "upheld", "x", date(2026, 2, 26), run=999)
        on_time = appeals_table(ledger, date(2026, 2, 28))
        due_day = appeals_table(ledger, date(2026, 3, 2))
        after = appeals_table(ledger, date(2026, 3, 3))
        decision = ledger.rows("appeal_decisions")[0]
    assert decision.row["changes_sha256"] is not None and decision.row["by"] == "committee"
    assert dict(zip(on_time["appeal"], on_time["status"], strict=True)) == {
        a: "decided", b: "open", c: "decided late"}  # c was due Mon 03-02 (13th + 7 working days)
    assert dict(zip(due_day["appeal"], due_day["status"], strict=True))[b] == "open"  # due 03-02 itself
    assert dict(zip(after["appeal"], after["status"], strict=True))[b] == "overdue"
