"""Catalogue: a second audit, as an HR officer and a spreadsheet would feed calib.

Text files in other encodings or with stray bytes, files that are not what their names say, blank
rows left far below a sheet, ids a spreadsheet changed (1001.0, lost leading zeros, scientific
notation, case and full-width letters), text the policy compares spelt two ways (``East``/``east``,
``Lead`` against ``eq: lead``), period labels coarser than the calendar (``2025Q1`` in a monthly
scheme), an empty people table, look-alike YAML syntax, a symbolic-link loop. Each is refused
naming the place and the fix, with no results written; the same inputs done right run.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd

from catalogue import Case, Outcome, copy_example, replace_in

NO_RESULTS = ("out/results.csv",)
BASE_TOTAL = "50,250.90"   # the golden grade_pay payout


def _run(policy: Path, data: Path, work: Path) -> list[str]:
    return ["run", "--policy", str(policy), "--data", str(data), "--out", str(work / "out")]


def _edit(table: str, change: Callable[[str], str | bytes]) -> Callable[[Path], list[str]]:
    """A run of grade_pay with one table's text changed (``change`` may return bytes)."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work)
        path = data / f"{table}.csv"
        new = change(path.read_text(encoding="utf-8"))
        if isinstance(new, bytes):
            path.write_bytes(new)
        else:
            path.write_text(new, encoding="utf-8")
        return _run(policy, data, work)
    return setup


def _sub(table: str, old: str, new: str, count: int = 1) -> Callable[[Path], list[str]]:
    def change(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)
    return _edit(table, change)


def _ids(people: tuple[str, str], records: tuple[str, str]) -> Callable[[Path], list[str]]:
    """People and records with one id written differently in each."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work)
        replace_in(data / "people.csv", *people)
        path = data / "records.csv"
        path.write_text(path.read_text(encoding="utf-8").replace(*records), encoding="utf-8")
        return _run(policy, data, work)
    return setup


def _paid_as_golden(work: Path, outcome: Outcome) -> None:
    assert BASE_TOTAL in outcome.text, outcome.text
    assert (work / "out/results.csv").exists()


def _ok(case_id: str, setup: Callable[[Path], list[str]]) -> Case:
    """An input done differently but rightly: it runs and pays as the golden data."""
    return Case(case_id, setup, exit=0, check=_paid_as_golden)


# ------------------------------------------------------------------ text files

CSV_CASES = [
    # UTF-16 with its byte-order mark says exactly how to decode it: read, paid as the golden run
    _ok("audit-csv-utf16-read", _edit("records", lambda t: t.encode("utf-16"))),
    _ok("audit-csv-utf16-be-read", _edit("records", lambda t: b"\xfe\xff" + t.encode("utf-16-be"))),
    Case("audit-csv-utf16-tabs", _edit("records", lambda t: t.replace(",", "\t").encode("utf-16")),
         says=("records", "separated by tabs", "comma-separated"), absent=NO_RESULTS),
    Case("audit-csv-nul-byte", _sub("records", "E2,2025-01,92.5", "E2,2025-01,92\x00.5"),
         says=("records row 4", "points", "plain number"), absent=NO_RESULTS),
    Case("audit-csv-binary", _edit("records", lambda t: bytes(range(256)) * 8),
         says=("records.csv", "UTF-8"), absent=NO_RESULTS),
    _ok("audit-csv-crlf-ok", _edit("records", lambda t: t.replace("\n", "\r\n"))),
    _ok("audit-csv-trailing-comma-ok",
        _edit("records", lambda t: "".join(line + ",\n" for line in t.splitlines()))),
    _ok("audit-csv-bom-and-header-spaces-ok",
        _edit("records", lambda t: "\ufeff" + t.replace("points,", " points ,", 1))),
    _ok("audit-csv-blank-lines-ok", _edit("records", lambda t: t.replace("\n", "\n\n"))),
    Case("audit-csv-semicolons", _edit("records", lambda t: t.replace(",", ";")),
         says=("records", "separated by ';'", "comma-separated"), absent=NO_RESULTS),
    Case("audit-csv-unclosed-quote", _sub("records", "E3,2025-01", '"E3,2025-01'),
         says=("records.csv", "quote"), absent=NO_RESULTS),
    Case("audit-csv-extra-field", _sub("records", "E1,2025-01,99,31,false,false",
                                       "E1,2025-01,99,31,false,false,x"),
         says=("line 3", "records.csv", "stray comma"), absent=NO_RESULTS),
    Case("audit-csv-empty-file", _edit("records", lambda t: ""),
         says=("records.csv", "empty", "header row"), absent=NO_RESULTS),
    Case("audit-people-header-only", _edit("people", lambda t: t.splitlines()[0] + "\n"),
         says=("people has no rows", "people.csv", "add a row per person"), absent=NO_RESULTS),
]

# ------------------------------------------------------------------ numbers and flags

VALUE_CASES = [
    Case("audit-number-percent-sign", _sub("records", "E1,2025-01,99", "E1,2025-01,99%"),
         says=("row 3", "points", "plain number"), absent=NO_RESULTS),
    Case("audit-number-fullwidth-digits", _sub("records", "E1,2025-01,99", "E1,2025-01,９９"),
         says=("row 3", "points", "９９"), absent=NO_RESULTS),
    Case("audit-number-hex", _sub("records", ",99,", ",0x63,"),
         says=("row 3", "points", "0x63"), absent=NO_RESULTS),
    Case("audit-number-underscore", _sub("records", ",99,", ",9_9,"),
         says=("row 3", "points", "9_9"), absent=NO_RESULTS),
    Case("audit-number-lone-dash", _sub("records", ",99,", ",-,"),
         says=("row 3", "points", "plain number"), absent=NO_RESULTS),
    Case("audit-count-half", _sub("records", ",99,31", ",99,30.5"),
         says=("row 3", "days_present", "whole number"), absent=NO_RESULTS),
    Case("audit-count-negative", _sub("records", ",99,31", ",99,-3"),
         says=("row 3", "days_present", "minimum 0"), absent=NO_RESULTS),
    Case("audit-count-written-30.0-ok", _sub("records", ",99,31", ",99,30.0"), exit=0),
    _ok("audit-flag-chinese-ok",
        _edit("records", lambda t: t.replace("false", "否").replace("true", "是"))),
    _ok("audit-flag-yes-no-ok",
        _edit("records", lambda t: t.replace("false", "no").replace("true", "yes"))),
    _ok("audit-flag-one-zero-ok",
        _edit("records", lambda t: t.replace("false", "0").replace("true", "1"))),
    Case("audit-flag-maybe", _sub("records", "false", "maybe"),
         says=("row 2", "probation", "是/否"), absent=NO_RESULTS),
]

# ------------------------------------------------------------------ periods

PERIOD_CASES = [
    Case("audit-period-quarter-in-monthly", _sub("records", "E1,2025-01", "E1,2025Q1"),
         says=("row 3", "period", "2025Q1", "one month"), absent=NO_RESULTS),
    Case("audit-period-year-in-monthly", _sub("records", "E1,2025-01", "E1,2025"),
         says=("row 3", "period", "'2025'", "one month"), absent=NO_RESULTS),
    Case("audit-period-month-13", _sub("records", "E1,2025-01", "E1,2025-13"),
         says=("row 3", "period", "2025-13", "2025-03"), absent=NO_RESULTS),
    Case("audit-period-february-30", _sub("records", "E1,2025-01", "E1,2025-02-30"),
         says=("row 3", "period", "2025-02-30"), absent=NO_RESULTS),
    Case("audit-period-chinese", _sub("records", "E1,2025-01", "E1,2025年1月"),
         says=("row 3", "period", "2025-03"), absent=NO_RESULTS),
    _ok("audit-period-slash-ok", _sub("records", "E1,2025-01", "E1,2025/1")),
    _ok("audit-period-no-zero-ok", _sub("records", "E1,2025-01", "E1,2025-1")),
    _ok("audit-period-date-ok", _sub("records", "E1,2025-01", "E1,2025-01-15")),
    Case("audit-period-two-spellings-duplicate",
         _edit("records", lambda t: t + "E1,2025/1,50,31,false,false\n"),
         says=("row 22", "duplicate person-period", "one records row per person and period"),
         absent=NO_RESULTS),
]

# ------------------------------------------------------------------ ids and text people read alike

TEXT_CASES = [
    Case("audit-id-case-hint", _ids(("E3,", "e3,"), ("E3,", "E3,")),
         says=("records row 5", "people table has 'e3'", "write it as 'e3'"), absent=NO_RESULTS),
    Case("audit-id-dot-zero", _ids(("E1,", "1001,"), ("E1,", "1001.0,")),
         says=("records row 3", "write it as '1001'", "as text"), absent=NO_RESULTS),
    Case("audit-id-leading-zeros-lost", _ids(("E1,", "00123,"), ("E1,", "123,")),
         says=("records row 3", "write it as '00123'"), absent=NO_RESULTS),
    Case("audit-id-scientific", _ids(("E1,", "110101199001011234,"), ("E1,", "1.10101E+17,")),
         says=("records row 3", "scientific notation", "format the id column as text"),
         absent=NO_RESULTS),
    Case("audit-id-fullwidth", _sub("records", "E1,2025-01", "Ｅ1,2025-01"),
         says=("records row 3", "write it as 'E1'"), absent=NO_RESULTS),
    _ok("audit-id-spaces-ok", _sub("records", "E3,2025-01", " E3 ,2025-01")),
    Case("audit-people-ids-differ-by-case", _edit("people", lambda t: t + "e1,west,staff\n"),
         says=("people row 12", "'e1' differs from 'E1'", "write it as 'E1'"),
         absent=NO_RESULTS),
    _ok("audit-team-trailing-space-ok", _sub("people", "E3,east", "E3,east ")),
    Case("audit-team-case", _sub("people", "E3,east", "E3,East"),
         says=("people row 5", "team", "'East' differs from 'east'", "write it as 'east'"),
         absent=NO_RESULTS),
    Case("audit-team-fullwidth", _sub("people", "E3,east", "E3,ｅａｓｔ"),
         says=("people row 5", "team", "write it as 'east'"), absent=NO_RESULTS),
    Case("audit-condition-value-case", _sub("people", "L1,east,lead", "L1,east,Lead"),
         says=("people row 2", "position", "in the policy", "write it as 'lead'"),
         absent=NO_RESULTS),
]

# ------------------------------------------------------------------ files that are not what they say


def _records_file(make: Callable[[Path, Path], None]) -> Callable[[Path], list[str]]:
    """grade_pay with records.csv replaced by what ``make(data, csv_path)`` writes."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work)
        make(data, data / "records.csv")
        return _run(policy, data, work)
    return setup


def _sheet(source: Path, pad_top: int = 0) -> tuple[openpyxl.Workbook, object]:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = source.stem
    ws.append([])
    for _ in range(pad_top):
        ws.append([])
    ws.delete_rows(1)
    for row in csv.reader(source.open(encoding="utf-8")):
        ws.append([float(v) if v.replace(".", "", 1).isdigit() else v for v in row])
    return book, ws


def _as_workbook(edit: Callable[[object], None] | None = None, table: str = "records",
                 pad_top: int = 0) -> Callable[[Path, Path], None]:
    def make(data: Path, _csv: Path) -> None:
        source = data / f"{table}.csv"
        book, ws = _sheet(source, pad_top)
        if edit is not None:
            edit(ws)
        book.save(data / f"{table}.xlsx")
        source.unlink()
    return make


def _truncated(data: Path, csv_path: Path) -> None:
    _as_workbook()(data, csv_path)
    path = data / "records.xlsx"
    path.write_bytes(path.read_bytes()[:600])


def _blank_rows_below(ws) -> None:
    for row in range(40, 5040):
        ws.cell(row=row, column=3).number_format = "0.00"
    ws.cell(row=5040, column=2).value = " "


def _blank_row_inside(ws) -> None:
    ws.insert_rows(7)
    ws.cell(row=7, column=2).value = "  "
    ws.cell(row=12, column=3).value = "abc"


def _title_rows(ws) -> None:
    ws.insert_rows(1, 2)
    ws["A1"] = "2025 绩效记录"


def _parquet_text(data: Path, csv_path: Path) -> None:
    frame = pd.read_csv(csv_path)
    frame["days_present"] = frame["days_present"].astype(float) + 0.5
    frame.to_parquet(data / "records.parquet")
    csv_path.unlink()


FILE_CASES = [
    Case("audit-xlsx-really-csv", _records_file(lambda d, c: c.rename(d / "records.xlsx")),
         says=("records.xlsx", "cannot be read as an Excel workbook", "name it .csv"),
         absent=NO_RESULTS),
    Case("audit-xlsx-truncated", _records_file(_truncated),
         says=("records.xlsx", "cannot be read", "copy the file again"), absent=NO_RESULTS),
    Case("audit-parquet-corrupt",
         _records_file(lambda d, c: ((d / "records.parquet").write_bytes(b"PAR1 junk"),
                                     c.unlink())),
         says=("records.parquet", "cannot be read as a Parquet file"), absent=NO_RESULTS),
    Case("audit-parquet-wrong-types", _records_file(_parquet_text),
         says=("days_present", "whole number"), absent=NO_RESULTS),
    _ok("audit-xlsx-5000-blank-rows-below-ok", _records_file(_as_workbook(_blank_rows_below))),
    Case("audit-xlsx-blank-row-keeps-excel-row-numbers",
         _records_file(_as_workbook(_blank_row_inside)),
         says=("records row 12", "points", "abc"), absent=NO_RESULTS),
    Case("audit-xlsx-formula-without-value",
         _records_file(_as_workbook(lambda ws: ws.__setitem__("C2", "=90+5"))),
         says=("records row 2", "points", "formula with no computed value", "open the workbook in "
               "excel"), absent=NO_RESULTS),
    Case("audit-xlsx-formula-in-optional-column",
         _records_file(_as_workbook(lambda ws: ws.__setitem__("F3", "=FALSE()"))),
         says=("records row 3", "leak", "formula with no computed value"), absent=NO_RESULTS),
    Case("audit-xlsx-merged-team-cells",
         _records_file(_as_workbook(lambda ws: ws.merge_cells("B2:B4"), table="people")),
         says=("people row 3", "team", "cells B2:B4 are merged", "unmerge"), absent=NO_RESULTS),
    Case("audit-xlsx-title-rows-above-header", _records_file(_as_workbook(_title_rows)),
         says=("column 'points' is missing", "2025 绩效记录"), absent=NO_RESULTS),
    Case("audit-xlsx-empty-workbook",
         _records_file(lambda d, c: (openpyxl.Workbook().save(d / "records.xlsx"), c.unlink())),
         says=("records", "column 'points' is missing"), absent=NO_RESULTS),
]


def _workbook_arg_really_csv(work: Path) -> list[str]:
    policy, data = copy_example(work)
    book = work / "book.xlsx"
    book.write_bytes((data / "records.csv").read_bytes())
    return _run(policy, book, work)


def _symlink_loop(work: Path) -> list[str]:
    policy, _ = copy_example(work)
    os.symlink(work / "loop2", work / "loop1")
    os.symlink(work / "loop1", work / "loop2")
    return _run(policy, work / "loop1", work)


CLI_CASES = [
    Case("audit-data-workbook-really-csv", _workbook_arg_really_csv,
         says=("book.xlsx", "name it .csv"), absent=NO_RESULTS),
    Case("audit-data-symlink-loop", _symlink_loop,
         says=("loop1", "symbolic link", "give the real file or folder"), absent=NO_RESULTS),
]

# ------------------------------------------------------------------ policy text


def _policy(old: str, new: str, command: str = "validate") -> Callable[[Path], list[str]]:
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work)
        replace_in(policy, old, new)
        if command == "run":
            return _run(policy, data, work)
        return ["validate", str(policy)]
    return setup


POLICY_CASES = [
    Case("audit-policy-fullwidth-colon", _policy("name: grade_pay", "name：grade_pay"),
         says=("line 7", "'：'", "write ':' and a space")),
    Case("audit-policy-tab-indent", _policy("  id: employee_id", "\tid: employee_id"),
         says=("line 11", "tab", "spaces")),
    Case("audit-policy-grade-twice",
         _policy("- {name: A, label: 良好, min: 90}",
                 "- {name: A, label: 良好, min: 90}\n      - {name: A, label: 再次, min: 88}"),
         says=("grading.scale", "unique", "repeated: A")),
    Case("audit-policy-unknown-kind", _policy("kind: score_percent", "kind: score_pct"),
         says=("pay.components.performance", "unknown kind 'score_pct'", "score_percent")),
    Case("audit-policy-name-dotdot", _policy("name: grade_pay", "name: ../x"),
         says=("name (line 7)", "pattern")),
    Case("audit-policy-threshold-as-text", _policy("min: 95}", "min: 'ninety'}"),
         says=("grading.scale.grades[0].min", "valid number")),
    Case("audit-policy-ratios-100.01", _policy("C: 10%}", "C: 10.01%}"),
         says=("grading.rules.staff.forced", "100.01%")),
    Case("audit-policy-small-group-0",
         _policy("small_groups: {max_size: 1", "small_groups: {max_size: 0"),
         says=("small_groups.max_size", "greater than or equal to 1")),
    Case("audit-policy-yearly-calendar", _policy("frequency: month", "frequency: year"),
         says=("calendar.frequency", "'month'")),
    _ok("audit-policy-ratio-quoted-with-space-ok", _policy("A+: 20%", "A+: '20 %'", "run")),
]

CASES: list[Case] = [*CSV_CASES, *VALUE_CASES, *PERIOD_CASES, *TEXT_CASES, *FILE_CASES,
                     *CLI_CASES, *POLICY_CASES]
