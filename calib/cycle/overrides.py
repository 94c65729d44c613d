"""The committee's overrides kept in the cycle: recorded with their reason, superseded, never edited.

Why: an override changes someone's grade or pay; who decided it, why, and what it replaced must be
in the record. A later override of the same person, period and field supersedes the earlier one
(the earlier row stays, with the later pointing at it); a run applies the latest of each.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from calib.cycle.ledger import CycleError, Ledger, now, user
from calib.cycle.settings import Settings
from calib.engine.overrides import ALIASES

COLUMNS = ("id", "period", "field", "value", "reason", "note", "by", "at")
KEY = ("id", "period", "field")


def read_override_file(path: str | Path) -> pd.DataFrame:
    """An overrides CSV or workbook as text (its structure checked; ``calib.data.overrides``)."""
    from calib.data.overrides import read_overrides

    return read_overrides(Path(path))


def _checked(rows: Iterable[Mapping[str, Any]], rules: Settings | None) -> list[dict[str, Any]]:
    """The rows to record, each checked: filled cells, a known reason code, a number where one is due.

    Every problem is listed at once, by the row's line (or position), so a file is fixed in one go.
    """
    out, problems = [], []
    for i, given in enumerate(rows, start=1):
        line = given.get("row", i)
        row = {c: ("" if given.get(c) is None else str(given.get(c)).strip()) for c in COLUMNS}
        where = (f"row {line} ({row['id'] or 'no id'}, {row['period'] or 'no period'}, "
                 f"{row['field'] or 'no field'})")
        blank = [c for c in ("id", "period", "field", "value", "reason") if not row[c]]
        if blank:
            problems.append(f"{where}: {', '.join(blank)} blank; give each")
        if rules is not None and row["reason"] and row["reason"] not in rules.reasons:
            problems.append(f"{where}: the reason code '{row['reason']}' is not one of the codes of "
                            f"{rules.source} ({', '.join(rules.reasons)}); use one of them, with the "
                            f"detail in the note")
        is_grade = row["field"].lower() == "grade" or ALIASES.get(row["field"]) == "grade"
        if row["field"] and not is_grade and row["value"] and not _is_number(row["value"]):
            problems.append(f"{where}: the value '{row['value']}' is not a number (only a grade is "
                            f"given as text); write e.g. 1200 or 85.5")
        out.append(row)
    if problems:
        raise CycleError(f"{len(problems)} override problem{'s' if len(problems) > 1 else ''}, nothing "
                         f"was recorded:\n" + "\n".join(f"  - {p}" for p in problems))
    return out


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text.replace(",", "")))
    except ValueError:
        return False


def record_overrides(ledger: Ledger, rows: Iterable[Mapping[str, Any]], rules: Settings | None,
                     by: str | None = None) -> list[int]:
    """Record overrides (all or none); returns their rows. ``rules`` checks the reason codes
    (None: the cycle knows no policy, any code is kept). An override of a person, period and field
    already overridden supersedes the earlier one, whose row it names.
    """
    checked = _checked(rows, rules)
    if not checked:
        raise CycleError("there are no overrides to record (the file has no rows)")
    with ledger.writing():
        latest = {tuple(r.row[k] for k in KEY): r.seq for r in ledger.rows("overrides")}
        seqs = []
        for row in checked:
            key = tuple(row[k] for k in KEY)
            record = {**row, "note": row["note"] or None, "by": row["by"] or user(by),
                      "at": row["at"] or now(), "supersedes": latest.get(key)}
            seq = ledger.append_in("overrides", [record])[0]
            latest[key] = seq
            seqs.append(seq)
        return seqs


def current_overrides(ledger: Ledger) -> pd.DataFrame:
    """The overrides a run applies: the latest of each person, period and field, as text."""
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in ledger.rows("overrides"):
        latest[tuple(r.row[k] for k in KEY)] = {c: "" if r.row[c] is None else str(r.row[c]) for c in COLUMNS}
    return pd.DataFrame(list(latest.values()), columns=list(COLUMNS))
