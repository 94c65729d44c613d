"""Reading a policy workbook's cells as people see them, or refusing it with the place.

Like data workbooks (``calib.data.read``), a policy workbook is read only as far as people can
see it: a hidden or very hidden sheet, a hidden row or column holding something, a merged
range, a formula (the value a scheme pays by must be typed, not computed from cells that may
change or, in a file a program wrote, hold no stored value at all) and an Excel error value
(``#N/A``) are refused, each naming its sheet, row and column and the fix.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calib.errors import PolicyError, PolicyIssue

MAX_ROWS = 50_000
"""More rows than any scheme's table has: a larger sheet is data, not a policy."""


@dataclass
class Grid:
    """One sheet as read: its title, headers (row 1) and the rows below (Excel row, values)."""

    title: str
    headers: list[str | None]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)


def where(sheet: str, row: int | None = None, column: str | None = None) -> str:
    """``sheet KPIs, row 5, column 'weight'``: the place a message starts with."""
    text = f"sheet {sheet}"
    if row is not None:
        text += f", row {row}"
    if column:
        text += f", column '{column}'"
    return text


def _issue(sheet: str, row: int | None, column: str | None, message: str) -> PolicyIssue:
    return PolicyIssue("", f"{where(sheet, row, column)}: {message}")


def _header_name(headers: list[Any], col: int) -> str | None:
    value = headers[col - 1] if col - 1 < len(headers) else None
    return str(value).strip() if value is not None else None


def _sheet_problems(ws: Any) -> list[PolicyIssue]:
    title = ws.title
    if ws.sheet_state != "visible":
        how = "very hidden (only visible in the VBA editor)" if ws.sheet_state == "veryHidden" else "hidden"
        return [_issue(title, None, None, f"the sheet is {how}: calib does not read a policy people "
                       "cannot see; unhide it (right-click a sheet tab > Unhide) or delete it")]
    out = []
    for ref in list(ws.merged_cells.ranges)[:5]:
        out.append(_issue(title, ref.min_row, None, f"cells {ref.coord} are merged: only the first "
                          "holds the value; unmerge them and type the value into each cell"))
    if ws.max_row > MAX_ROWS:
        out.append(_issue(title, None, None, f"{ws.max_row:,} rows is more than a policy's table "
                          f"holds (at most {MAX_ROWS:,}): is this a data workbook?"))
    return out


def _cell_problems(ws: Any, headers: list[Any]) -> list[PolicyIssue]:
    out: list[PolicyIssue] = []
    hidden_rows = {r for r, dim in ws.row_dimensions.items() if dim.hidden}
    hidden_cols = {letter for letter, dim in ws.column_dimensions.items() if dim.hidden}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None:
                continue
            column = _header_name(headers, cell.column) if cell.row > 1 else None
            if cell.data_type == "f":
                out.append(_issue(ws.title, cell.row, column, f"a formula ({str(cell.value)[:40]}): a "
                                  "policy's values are typed, not computed; type the value instead "
                                  "(Excel: Copy, then Paste Special > Values)"))
            elif cell.data_type == "e":
                out.append(_issue(ws.title, cell.row, column, f"an Excel error value ({cell.value}); "
                                  "type the intended value"))
            elif cell.row in hidden_rows or cell.column_letter in hidden_cols:
                what = "row" if cell.row in hidden_rows else "column"
                out.append(_issue(ws.title, cell.row, column, f"the {what} is hidden but holds "
                                  f"{cell.value!r}: calib does not read what people cannot see; "
                                  f"unhide the {what} or delete what it holds"))
            if len(out) >= 20:
                return out
    return out


def _grid(ws: Any) -> Grid:
    rows = ws.iter_rows(values_only=True)
    first = next(rows, ())
    headers = [str(v).strip() if v is not None and str(v).strip() else None for v in first]
    grid = Grid(ws.title, headers)
    for number, values in enumerate(rows, start=2):
        if any(v is not None and not (isinstance(v, str) and not v.strip()) for v in values):
            grid.rows.append((number, list(values)))
    return grid


def read_grids(path: Path) -> list[Grid]:
    """Every sheet of the workbook at ``path``, refused whole (every problem at once) when any
    sheet holds something people cannot see or a formula.
    """
    from openpyxl import load_workbook

    source = str(path)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "not found"
        raise PolicyError([PolicyIssue("", f"{path} is {what}: name the policy workbook (.xlsx)")],
                          source)
    try:
        book = load_workbook(path, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise PolicyError([PolicyIssue("", f"not an Excel workbook that can be read ({exc}); save "
                                       "it from Excel as .xlsx")], source) from None
    problems: list[PolicyIssue] = []
    grids = []
    for ws in book.worksheets:
        found = _sheet_problems(ws)
        if not found:
            headers = [c.value for c in next(ws.iter_rows(max_row=1), ())]
            found = _cell_problems(ws, headers)
        problems += found
        if not found:
            grids.append(_grid(ws))
    if problems:
        raise PolicyError(problems, source)
    return grids
