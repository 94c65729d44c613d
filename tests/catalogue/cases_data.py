"""Catalogue: input files read as people see them, and numbers a person would not type.

Hidden or very hidden sheets, hidden and filtered-out rows, dates whose day/month order is
unknown, decimal commas, implausibly large numbers (an ID number in a number column, 1e17), ratios
whose numerator exceeds the denominator and table files outside the data folder: each is refused
with the place (file, sheet, row, column) and the fix, and no results are written. The same inputs
done right (a declared date format, thousands separators, ``above_one: allow``) run.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd

from catalogue import Case, Outcome, copy_example, replace_in

NO_RESULTS = ("out/results.csv",)


def _run(policy: Path, data: Path, work: Path) -> list[str]:
    return ["run", "--policy", str(policy), "--data", str(data), "--out", str(work / "out")]


def _validate(policy: Path, data: Path) -> list[str]:
    return ["validate", str(policy), "--data", str(data)]


def _csv_cell(path: Path, line: int, column: str, value: str) -> None:
    """Set one cell of a CSV file (line as the file counts it, the header is line 1)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = f'"{value}"' if "," in value else value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- workbooks


def _workbook(work: Path, edit: Callable[[openpyxl.Workbook], None] | None = None
              ) -> tuple[Path, Path]:
    """The mini example as one workbook (sheets people and records), changed by ``edit``."""
    policy, data = copy_example(work, "mini")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for table in ("people", "records"):
        ws = book.create_sheet(table)
        for line in (data / f"{table}.csv").read_text(encoding="utf-8").splitlines():
            ws.append([_cell(v) for v in line.split(",")])
    if edit is not None:
        edit(book)
    path = work / "input.xlsx"
    book.save(path)
    return policy, path


def _cell(text: str) -> object:
    try:
        return int(text)
    except ValueError:
        return text


def _wb_case(edit: Callable[[openpyxl.Workbook], None] | None, run: bool = True
             ) -> Callable[[Path], list[str]]:
    def setup(work: Path) -> list[str]:
        policy, path = _workbook(work, edit)
        return _run(policy, path, work) if run else _validate(policy, path)
    return setup


def _hide_sheet(name: str, state: str = "hidden") -> Callable[[openpyxl.Workbook], None]:
    def edit(book: openpyxl.Workbook) -> None:
        book[name].sheet_state = state
    return edit


def _hidden_people_beside_copy(book: openpyxl.Workbook) -> None:
    """A visible 'People (new)' sheet with the current figures, the old 'people' hidden."""
    new = book.copy_worksheet(book["people"])
    new.title = "People (new)"
    book["people"].sheet_state = "hidden"
    book.move_sheet(new, offset=-2)
    book.active = 0


def _hide_row(row: int, how: str = "hidden") -> Callable[[openpyxl.Workbook], None]:
    def edit(book: openpyxl.Workbook) -> None:
        ws = book["records"]
        if how == "filter":
            ws.auto_filter.ref = f"A1:H{ws.max_row}"
            ws.auto_filter.add_filter_column(0, ["E1", "E3"])
            ws.row_dimensions[row].hidden = True
        else:
            ws.row_dimensions[row].hidden = True
    return edit


def _zero_height(row: int) -> Callable[[Path], list[str]]:
    """A row given zero height, as Excel writes it (openpyxl leaves out a zero height)."""
    def setup(work: Path) -> list[str]:
        policy, path = _workbook(work)
        with zipfile.ZipFile(path) as archive:
            parts = {name: archive.read(name) for name in archive.namelist()}
        sheet = "xl/worksheets/sheet2.xml"
        parts[sheet] = parts[sheet].replace(f'<row r="{row}"'.encode(),
                                            f'<row r="{row}" ht="0" customHeight="1"'.encode())
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in parts.items():
                archive.writestr(name, data)
        return _run(policy, path, work)
    return setup


def _hidden_empty_row(book: openpyxl.Workbook) -> None:
    book["records"].row_dimensions[20].hidden = True


def _hidden_notes_sheet(book: openpyxl.Workbook) -> None:
    notes = book.create_sheet("notes")
    notes.append(["old figures, not used"])
    notes.sheet_state = "hidden"


def _folder_workbook(edit: Callable[[openpyxl.Worksheet, openpyxl.Workbook], None]
                     ) -> Callable[[Path], list[str]]:
    """mini with records.xlsx (instead of records.csv) in the data folder, changed by ``edit``."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "mini")
        book = openpyxl.Workbook()
        ws = book.active
        ws.title = "records"
        for line in (data / "records.csv").read_text(encoding="utf-8").splitlines():
            ws.append([_cell(v) for v in line.split(",")])
        edit(ws, book)
        (data / "records.csv").unlink()
        book.save(data / "records.xlsx")
        return _run(policy, data, work)
    return setup


def _first_sheet_hidden(ws: openpyxl.Worksheet, book: openpyxl.Workbook) -> None:
    book.create_sheet("visible copy")
    ws.sheet_state = "hidden"


def _folder_hidden_row(ws: openpyxl.Worksheet, book: openpyxl.Workbook) -> None:
    ws.row_dimensions[4].hidden = True


WORKBOOK_CASES = [
    Case("data-workbook-ok", _wb_case(None), exit=0),
    Case("data-workbook-hidden-people-sheet", _wb_case(_hide_sheet("people")),
         says=("sheet 'people'", "input.xlsx", "hidden", "unhide it or delete it"),
         absent=NO_RESULTS),
    Case("data-workbook-very-hidden-people-sheet", _wb_case(_hide_sheet("people", "veryHidden")),
         says=("sheet 'people'", "very hidden", "unhide it or delete it"), absent=NO_RESULTS),
    Case("data-workbook-hidden-records-sheet", _wb_case(_hide_sheet("records")),
         says=("sheet 'records'", "hidden", "unhide it or delete it"), absent=NO_RESULTS),
    Case("data-workbook-hidden-people-beside-visible-copy", _wb_case(_hidden_people_beside_copy),
         says=("sheet 'people'", "hidden", "unhide it or delete it"), absent=NO_RESULTS),
    Case("data-workbook-hidden-row", _wb_case(_hide_row(3)),
         says=("records row 3", "hidden", "sheet 'records'", "unhide the rows"), absent=NO_RESULTS),
    Case("data-workbook-filtered-row", _wb_case(_hide_row(4, "filter")),
         says=("records row 4", "filtered out", "clear the filter"), absent=NO_RESULTS),
    Case("data-workbook-zero-height-row", _zero_height(5),
         says=("records row 5", "hidden", "unhide the rows"), absent=NO_RESULTS),
    Case("data-workbook-hidden-empty-row-ok", _wb_case(_hidden_empty_row), exit=0),
    Case("data-workbook-hidden-notes-sheet-ok", _wb_case(_hidden_notes_sheet), exit=0),
    Case("data-workbook-validate-hidden-row", _wb_case(_hide_row(2), run=False),
         says=("records row 2", "hidden", "unhide the rows")),
    Case("data-folder-xlsx-first-sheet-hidden", _folder_workbook(_first_sheet_hidden),
         says=("sheet 'records'", "records.xlsx", "hidden", "unhide it or delete it"),
         absent=NO_RESULTS),
    Case("data-folder-xlsx-hidden-row", _folder_workbook(_folder_hidden_row),
         says=("records row 4", "records.xlsx", "unhide the rows"), absent=NO_RESULTS),
]


# ---------------------------------------------------------------- dates


def _hired(values: list[str], fmt: str | None = None, run: bool = True
           ) -> Callable[[Path], list[str]]:
    """mini with a people column 'hired' (type date, the format if given) holding ``values``."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "mini")
        spec = f"{{type: date, format: '{fmt}'}}" if fmt else "{type: date}"
        replace_in(policy, "      position: {type: text}\n",
                   f"      position: {{type: text}}\n      hired: {spec}\n")
        people = data / "people.csv"
        lines = people.read_text(encoding="utf-8").splitlines()
        lines[0] += ",hired"
        for i, value in enumerate(values, start=1):
            lines[i] += f",{value}"
        people.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return _run(policy, data, work) if run else _validate(policy, data)
    return setup


def _dated_records(value: str, fmt: str | None) -> Callable[[Path], list[str]]:
    """mini whose records are placed in periods by a date column 'day' (format if given); the
    first record's day is ``value``, the others ISO dates of their month."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "mini")
        spec = f"{{type: date, format: '{fmt}'}}" if fmt else "{type: date}"
        replace_in(policy, "    period: period\n    columns:\n      period: {type: text}\n",
                   f"    date: day\n    columns:\n      day: {spec}\n")
        records = data / "records.csv"
        text = records.read_text(encoding="utf-8").replace("employee_id,period,", "employee_id,day,")
        text = text.replace("E1,2025-01,", f"E1,{value},", 1).replace("2025-01,", "2025-01-15,")
        records.write_text(text.replace("2025-02,", "2025-02-15,"), encoding="utf-8")
        return _run(policy, data, work)
    return setup


def _period_is(expected: str, not_expected: str) -> Callable[[Path, Outcome], None]:
    def check(work: Path, outcome: Outcome) -> None:
        text = (work / "out" / "results.csv").read_text(encoding="utf-8")
        assert expected in text and not_expected not in text, text[:400]
    return check


def _format_on_number(work: Path) -> list[str]:
    policy, data = copy_example(work, "mini")
    replace_in(policy, "late_arrivals: {type: int, min: 0}",
               "late_arrivals: {type: int, min: 0, format: '%d/%m/%Y'}")
    return _validate(policy, data)


def _ambiguous_period_label(work: Path) -> list[str]:
    policy, data = copy_example(work, "mini")
    _csv_cell(data / "records.csv", 2, "period", "03/01/2025")
    return _run(policy, data, work)


AMBIGUOUS = ("hired", "day and month order unknown", "format", "%d/%m/%Y")

DATE_CASES = [
    Case("data-date-ambiguous-slash", _hired(["03/04/2024", "2024-01-02", "2024-01-03"]),
         says=("people row 2", *AMBIGUOUS), absent=NO_RESULTS),
    Case("data-date-ambiguous-dash", _hired(["2024-01-02", "03-04-2024", "2024-01-03"]),
         says=("people row 3", *AMBIGUOUS), absent=NO_RESULTS),
    Case("data-date-ambiguous-dot", _hired(["2024-01-02", "2024-01-03", "03.04.2024"]),
         says=("people row 4", *AMBIGUOUS), absent=NO_RESULTS),
    Case("data-date-ambiguous-two-digit-year", _hired(["3/4/24", "2024-01-02", "2024-01-03"]),
         says=("people row 2", *AMBIGUOUS), absent=NO_RESULTS),
    Case("data-date-day-over-twelve-still-needs-format",
         _hired(["13/04/2024", "03/04/2024", "2024-01-03"]),
         says=("people row 2", "people row 3", *AMBIGUOUS), absent=NO_RESULTS),
    Case("data-date-ambiguous-validate", _hired(["03/04/2024", "2024-01-02", "2024-01-03"],
                                                run=False),
         says=("people row 2", *AMBIGUOUS)),
    Case("data-date-declared-format-ok",
         _hired(["03/04/2024", "13/04/2024", "2024-01-03"], fmt="%d/%m/%Y"), exit=0),
    Case("data-date-declared-format-month-first-ok",
         _hired(["04/03/2024", "12/31/2024", "2024-01-03"], fmt="%m/%d/%Y"), exit=0),
    Case("data-date-not-in-declared-format",
         _hired(["31/02/2024", "2024-01-02", "2024-01-03"], fmt="%d/%m/%Y"),
         says=("people row 2", "hired", "not a date", "%d/%m/%Y"), absent=NO_RESULTS),
    Case("data-date-iso-ok", _hired(["2024-04-03", "2024-01-02", "2024-01-03 08:30"]), exit=0),
    Case("data-date-period-source-ambiguous", _dated_records("03/02/2025", None),
         says=("records row 2", "day", "day and month order unknown", "%d/%m/%Y"),
         absent=NO_RESULTS),
    Case("data-date-period-source-declared-format", _dated_records("03/01/2025", "%d/%m/%Y"),
         exit=0, check=_period_is("2025-01", "2025-03")),
    Case("data-date-period-label-ambiguous", _ambiguous_period_label,
         says=("records row 2", "period", "not a period", "2025-03"), absent=NO_RESULTS),
    Case("data-date-format-on-number-column", _format_on_number,
         says=("late_arrivals", "format", "date")),
]


# ---------------------------------------------------------------- numbers


def _mini_cell(line: int, column: str, value: str, run: bool = True
               ) -> Callable[[Path], list[str]]:
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "mini")
        _csv_cell(data / "records.csv", line, column, value)
        return _run(policy, data, work) if run else _validate(policy, data)
    return setup


def _points(line: int, value: str, policy_edit: tuple[str, str] | None = None, run: bool = True
            ) -> Callable[[Path], list[str]]:
    """grade_pay with the points of one records line set to ``value``."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "grade_pay")
        if policy_edit:
            replace_in(policy, *policy_edit)
        _csv_cell(data / "records.csv", line, "points", value)
        return _run(policy, data, work) if run else _validate(policy, data)
    return setup


def _xlsx_text_number(value: str) -> Callable[[Path], list[str]]:
    """A number typed as text in a workbook cell ('7,5 in Excel)."""
    def edit(book: openpyxl.Workbook) -> None:
        book["records"]["E2"] = value
    return _wb_case(edit)


POINTS_MAX = ("points: {type: float, label: 得分}", "points: {type: float, max: 100, label: 得分}")
POINTS_BIG = ("points: {type: float, label: 得分}", "points: {type: float, max: 1e12, label: 得分}")

NUMBER_CASES = [
    Case("data-number-decimal-comma", _mini_cell(2, "response_seconds", "7,5"),
         says=("records row 2", "response_seconds", "7,5", "write 7.5", "decimal"),
         absent=NO_RESULTS),
    Case("data-number-decimal-comma-two-places", _mini_cell(3, "response_seconds", "1,23"),
         says=("records row 3", "response_seconds", "1,23", "write 1.23"), absent=NO_RESULTS),
    Case("data-number-decimal-comma-percent", _mini_cell(4, "response_seconds", "12,5%"),
         says=("records row 4", "response_seconds", "12,5%", "decimal point"), absent=NO_RESULTS),
    Case("data-number-bad-grouping", _mini_cell(2, "inquiries", "1,00,000"),
         says=("records row 2", "inquiries", "1,00,000", "thousands"), absent=NO_RESULTS),
    Case("data-number-comma-then-decimal", _mini_cell(2, "response_seconds", "7,5.0"),
         says=("records row 2", "response_seconds", "7,5.0", "thousands"), absent=NO_RESULTS),
    Case("data-number-decimal-comma-validate", _mini_cell(2, "response_seconds", "7,5", run=False),
         says=("records row 2", "response_seconds", "write 7.5")),
    Case("data-number-decimal-comma-in-workbook", _xlsx_text_number("7,5"),
         says=("records row 2", "response_seconds", "write 7.5"), absent=NO_RESULTS),
    Case("data-number-thousands-ok", _mini_cell(2, "inquiries", "1,000"), exit=0),
    Case("data-number-thousands-decimals-ok", _mini_cell(2, "response_seconds", "1,040.5"), exit=0),
    Case("data-number-id-in-points", _points(2, "110101199003071234"),
         says=("records row 2", "points", "implausibly large", "1,000,000,000,000", "max"),
         absent=NO_RESULTS),
    Case("data-number-exponent-1e17", _mini_cell(3, "response_seconds", "1e17"),
         says=("records row 3", "response_seconds", "implausibly large", "10^12"),
         absent=NO_RESULTS),
    Case("data-number-negative-huge", _points(4, "-1e17"),
         says=("records row 4", "points", "implausibly large", "10^12"), absent=NO_RESULTS),
    Case("data-number-over-declared-max", _points(2, "150", POINTS_MAX),
         says=("records row 2", "points", "above the maximum 100"), absent=NO_RESULTS),
    Case("data-number-negative-beyond-declared-max", _points(3, "-5000", POINTS_MAX),
         says=("records row 3", "points", "implausibly large", "declared max", "min"),
         absent=NO_RESULTS),
    Case("data-number-declared-max-at-bound-ok", _points(2, "999999999999", POINTS_BIG, run=False), exit=0),
    Case("data-number-id-in-workbook", _xlsx_text_number("110101199003071234"),
         says=("records row 2", "response_seconds", "implausibly large"), absent=NO_RESULTS),
    Case("data-number-at-bound-ok", _mini_cell(3, "response_seconds", "1000000000000",
                                               run=False), exit=0),
]


# ---------------------------------------------------------------- ratios


def _ratio(edits: list[tuple[int, str, str]], policy_edit: tuple[str, str] | None = None
           ) -> Callable[[Path], list[str]]:
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "mini")
        if policy_edit:
            replace_in(policy, *policy_edit)
        for line, column, value in edits:
            _csv_cell(data / "records.csv", line, column, value)
        return _run(policy, data, work)
    return setup


def _qc_over(work: Path) -> list[str]:
    policy, data = copy_example(work, "support_team")
    _csv_cell(data / "qc.csv", 3, "passed", "500")
    return _validate(policy, data)


def _satisfaction_over(work: Path) -> list[str]:
    policy, data = copy_example(work, "logistics_cs")
    lines = (data / "records.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    surveyed = lines[1].split(",")[header.index("surveyed")]
    _csv_cell(data / "records.csv", 2, "very_satisfied", str(int(float(surveyed)) + 1))
    return _validate(policy, data)


ALLOW = ("on_zero: exclude}", "on_zero: exclude, above_one: allow}")

RATIO_CASES = [
    Case("data-ratio-numerator-above-denominator", _ratio([(2, "orders", "500")]),
         says=("records row 2", "orders", "inquiries", "conversion", "500 > 100", "above_one"),
         absent=NO_RESULTS),
    Case("data-ratio-two-rows", _ratio([(2, "orders", "101"), (4, "orders", "200")]),
         says=("records row 2", "records row 4", "id E2", "orders is more than inquiries")),
    Case("data-ratio-allowed", _ratio([(2, "orders", "500")], ALLOW), exit=0),
    Case("data-ratio-equal-ok", _ratio([(2, "orders", "100")]), exit=0),
    Case("data-ratio-zero-over-zero-ok", _ratio([(2, "orders", "0"), (2, "inquiries", "0")]),
         exit=0),
    Case("data-ratio-event-table", _qc_over,
         says=("qc row 3", "passed", "sampled", "qc_rate", "above_one")),
    Case("data-ratio-summed-numerator", _satisfaction_over,
         says=("records row 2", "very_satisfied + satisfied", "surveyed", "satisfaction")),
]


# ---------------------------------------------------------------- files outside the data folder


def _records_file(where: str) -> Callable[[Path], list[str]]:
    """mini whose records table names a file: 'absolute', 'dotdot', 'symlink' (records.csv links
    out of the folder), 'inside' (a subfolder) or 'inner-link' (a link inside the folder)."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "mini")
        outside = work / "elsewhere.csv"
        records = data / "records.csv"
        if where in ("absolute", "dotdot"):
            records.rename(outside)
            named = str(outside) if where == "absolute" else "../elsewhere.csv"
            replace_in(policy, "    period: period\n", f"    period: period\n    file: '{named}'\n")
        elif where == "symlink":
            records.rename(outside)
            os.symlink(outside, records)
        elif where == "inside":
            (data / "sub").mkdir()
            records.rename(data / "sub" / "records.csv")
            replace_in(policy, "    period: period\n", "    period: period\n    file: sub/records.csv\n")
        elif where == "inner-link":
            records.rename(data / "march.csv")
            os.symlink(data / "march.csv", records)
        return _run(policy, data, work)
    return setup


OUTSIDE = ("records", "outside the data folder", "elsewhere.csv", "copy the file into")

FILE_CASES = [
    Case("data-file-absolute-path", _records_file("absolute"), says=OUTSIDE, absent=NO_RESULTS),
    Case("data-file-dotdot", _records_file("dotdot"), says=(*OUTSIDE, "../elsewhere.csv"),
         absent=NO_RESULTS),
    Case("data-file-symlink-out", _records_file("symlink"), says=OUTSIDE, absent=NO_RESULTS),
    Case("data-file-subfolder-ok", _records_file("inside"), exit=0),
    Case("data-file-link-inside-ok", _records_file("inner-link"), exit=0),
]

CASES: list[Case] = [*WORKBOOK_CASES, *DATE_CASES, *NUMBER_CASES, *RATIO_CASES, *FILE_CASES]


def _two_files(second: str):
    """records.csv and another export of records beside it (an old .xlsx, a .parquet)."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "grade_pay")
        frame = pd.read_csv(data / "records.csv", dtype=str)
        if second == ".parquet":
            frame.to_parquet(data / "records.parquet")
        else:
            frame.to_excel(data / "records.xlsx", index=False)
        return ["run", "--policy", str(policy), "--data", str(data), "--out", str(work / "out")]
    return setup


CASES += [
    Case("data-two-files-csv-and-parquet", _two_files(".parquet"),
         says=("records.csv, records.parquet", "more than one file", "inputs.records.file"),
         absent=("out/results.csv",)),
    Case("data-two-files-csv-and-xlsx", _two_files(".xlsx"),
         says=("records.csv, records.xlsx", "does not guess"), absent=("out/results.csv",)),
]


def _records_book(sheets: list[str], full: int = 0):
    """records as its own workbook in the folder, with the given sheets (the whole table in sheet
    ``full``, two rows of it in the others)."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "grade_pay")
        frame = pd.read_csv(data / "records.csv", dtype=str)
        (data / "records.csv").unlink()
        with pd.ExcelWriter(data / "records.xlsx") as writer:
            for i, name in enumerate(sheets):
                (frame if i == full else frame.head(2)).to_excel(writer, sheet_name=name, index=False)
        return ["run", "--policy", str(policy), "--data", str(data), "--out", str(work / "out")]
    return setup


CASES += [
    Case("data-workbook-two-sheets-none-named", _records_book(["Sheet1", "old"]),
         says=("records.xlsx has several sheets", "'Sheet1', 'old'", "name the sheet"),
         absent=("out/results.csv",)),
    Case("data-workbook-sheet-named-after-table", _records_book(["old", "records"], full=1),
         exit=0, says=("payout total: 50,250.90",)),
    Case("data-workbook-one-sheet", _records_book(["Sheet1"]), exit=0, says=("written to",)),
]
