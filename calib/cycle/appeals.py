"""The appeals register (申诉, 复议): filing with its deadlines, decisions, and what is open or overdue.

Why: an employee has ``appeal_days`` working days after the results are given to appeal, and the
committee ``decision_days`` working days to decide (SCHEMES.md R37, China's calendar with its
make-up working days). The register says, for any day, which appeals are open and which are late.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from calib.cycle.ledger import CycleError, Ledger, Value, now, user
from calib.cycle.settings import Settings
from calib.cycle.workdays import add_workdays

OUTCOMES = ("upheld", "rejected", "partly")


def results_date(ledger: Ledger) -> tuple[date, str]:
    """The day the results were given, as the cycle knows it, and how it knows.

    The first approval's day (results are given once approved), else the last run's day.
    """
    approvals = ledger.rows("approvals")
    if approvals:
        return _day(approvals[0].row["at"]), f"the day of the first approval (row {approvals[0].seq})"
    runs = ledger.rows("runs")
    if runs:
        return _day(runs[-1].row["at"]), f"the day of the last run (row {runs[-1].seq})"
    raise CycleError("the cycle has no run and no approval yet, so the day the results were given is "
                     "not known: give it with --results-date YYYY-MM-DD")


def _day(stamp: object) -> date:
    return datetime.fromisoformat(str(stamp)).date()


def file_appeal(ledger: Ledger, rules: Settings, person: str, period: str, filed: date, grounds: str,
                given: date | None = None, late_reason: str | None = None, by: str | None = None) -> int:
    """Record an appeal; returns its number (its row in the record).

    Its decision deadline is ``filed`` + ``decision_days`` working days. One filed after the filing
    deadline (``given`` + ``appeal_days`` working days; ``given`` defaults to ``results_date``) is
    refused unless ``late_reason`` says why it is accepted (kept with it).
    """
    if not person.strip() or not period.strip() or not grounds.strip():
        raise CycleError("an appeal needs the person's --id, the --period and the --grounds (what the "
                         "employee disputes)")
    how = "as given (--results-date)"
    if given is None:
        given, how = results_date(ledger)
    if filed < given:
        raise CycleError(f"the appeal is dated {filed} but the results were given on {given} ({how}): "
                         f"check --filed, or give the right --results-date")
    deadline = add_workdays(given, rules.appeal_days)
    late = (late_reason or "").strip() or None
    if filed > deadline and late is None:
        raise CycleError(
            f"the appeal of {person} for {period} was filed on {filed}, after the deadline {deadline} "
            f"({rules.appeal_days} working days after the results of {given}, {how}; rules from "
            f"{rules.source}). It is refused. If it is accepted anyway, say why with --late-reason")
    row: dict[str, Value] = {
        "id": person.strip(), "period": period.strip(), "filed": filed.isoformat(),
        "grounds": grounds.strip(), "results_date": given.isoformat(),
        "filing_deadline": deadline.isoformat(),
        "decision_deadline": add_workdays(filed, rules.decision_days).isoformat(),
        "late_reason": late, "by": user(by), "at": now()}
    return ledger.append("appeals", [row])[0]


def decide_appeal(ledger: Ledger, appeal: int, outcome: str, reason: str, decided: date,
                  run: int | None = None, changes: str | None = None, by: str | None = None) -> int:
    """Record the committee's decision on appeal number ``appeal``; returns the decision's row.

    ``run`` is the re-run made for it (a row of the cycle's runs) and ``changes`` the changes.csv
    it gave (its sha256 is kept, so a later edit of the file shows).
    """
    if outcome not in OUTCOMES:
        raise CycleError(f"the outcome must be one of {', '.join(OUTCOMES)}, got '{outcome}'")
    if not reason.strip():
        raise CycleError("give the committee's --reason for the decision")
    digest = None
    if changes is not None:
        path = Path(changes)
        if not path.is_file():
            raise CycleError(f"--changes {changes} is not a file: give the changes.csv of the re-run")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with ledger.writing():
        filed = ledger.get("appeals", appeal)
        if filed is None:
            raise CycleError(f"there is no appeal number {appeal} in {ledger.path}: see calib cycle appeal "
                             f"list --cycle {ledger.path}")
        done = [d for d in ledger.rows("appeal_decisions") if d.row["appeal"] == appeal]
        if done:
            raise CycleError(f"appeal {appeal} was already decided ({done[0].row['outcome']} on "
                             f"{done[0].row['decided']}, row {done[0].seq}): a decision is final; a "
                             f"new appeal (复议) is filed as a new appeal")
        if decided < date.fromisoformat(str(filed.row["filed"])):
            raise CycleError(f"the decision date {decided} is before the appeal was filed "
                             f"({filed.row['filed']})")
        if run is not None and ledger.get("runs", run) is None:
            raise CycleError(f"there is no run number {run} in the cycle: see calib cycle log")
        row: dict[str, Value] = {"appeal": appeal, "outcome": outcome, "reason": reason.strip(),
                                 "decided": decided.isoformat(), "run": run, "changes": changes,
                                 "changes_sha256": digest, "by": user(by), "at": now()}
        return ledger.append_in("appeal_decisions", [row])[0]


def appeals_table(ledger: Ledger, today: date) -> pd.DataFrame:
    """Every appeal with its deadlines and status as of ``today``: open, overdue or decided (and
    whether the decision was late).
    """
    decisions = {d.row["appeal"]: d for d in ledger.rows("appeal_decisions")}
    rows = []
    for a in ledger.rows("appeals"):
        d = decisions.get(a.seq)
        deadline = date.fromisoformat(str(a.row["decision_deadline"]))
        if d is None:
            status = "overdue" if today > deadline else "open"
        else:
            status = "decided late" if date.fromisoformat(str(d.row["decided"])) > deadline else "decided"
        rows.append({"appeal": a.seq, "id": a.row["id"], "period": a.row["period"],
                     "filed": a.row["filed"], "decision_deadline": a.row["decision_deadline"],
                     "status": status, "outcome": None if d is None else d.row["outcome"],
                     "decided": None if d is None else d.row["decided"],
                     "run": None if d is None else d.row["run"], "grounds": a.row["grounds"],
                     "late_reason": a.row["late_reason"]})
    columns = ["appeal", "id", "period", "filed", "decision_deadline", "status", "outcome", "decided",
               "run", "grounds", "late_reason"]
    return pd.DataFrame(rows, columns=columns)
