"""What a workbook's cells show, where pandas would read something else: percentages and
formulas without a computed value.

**Percentages.**
A person who types ``95%`` into a cell of Excel sees 95 %, and Excel stores 0.95 with a percent
format. In a column of points (0–100) that is 0.95 points: pay moves and nothing says so. The
same text in a CSV file (``95%``) is refused as not a number, so a workbook must not silently
read it as a share either. A percent-formatted number is accepted only in a column that holds
shares (its declared ``max`` is at most 1); elsewhere each such cell is refused with its Excel
row and what to type instead.

**Formulas without a value.** A workbook written by a program (not saved by Excel) may hold
formulas with no computed value stored; pandas reads such a cell as empty, so a figure people see
in Excel would be missing (or, in an optional column, silently left out). Such cells are refused
with the fix: open the workbook in Excel and save it.

The formats are read from the workbook's XML (styles and the sheet's cells), since neither pandas
nor openpyxl's read-only mode report a cell's format cheaply; a text scan keeps it fast on large
sheets.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd

from calib.errors import DataError
from calib.policy.model import Policy

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
#: Excel's built-in percent formats: 0% and 0.00%
_BUILTIN_PERCENT = {9, 10}
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(/?)>")
_ATTR = re.compile(rb'\b(r|s|t)="([^"]*)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]|<(?:\w+:)?is\b")  # a value, not an empty <v/>
_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_MERGED = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+\d+):([A-Z]+\d+)"')
_QUOTED = re.compile(r'"[^"]*"|\\.')


def _percent_styles(archive: zipfile.ZipFile) -> set[bytes]:
    """The cell style indexes (``s`` attributes) whose number format shows a percentage."""
    try:
        root = ElementTree.fromstring(archive.read("xl/styles.xml"))
    except (KeyError, ElementTree.ParseError):
        return set()
    percent = set(_BUILTIN_PERCENT)
    for fmt in root.iter(f"{_NS}numFmt"):
        code = _QUOTED.sub("", fmt.get("formatCode", ""))
        if "%" in code:
            percent.add(int(fmt.get("numFmtId", "-1")))
    xfs = root.find(f"{_NS}cellXfs")
    if xfs is None:
        return set()
    return {str(i).encode() for i, xf in enumerate(xfs.findall(f"{_NS}xf"))
            if int(xf.get("numFmtId", "0")) in percent}


def _column_index(ref: bytes) -> tuple[int, int]:
    """(0-based column, Excel row) of a cell reference such as ``B12``."""
    letters = re.match(rb"[A-Z]+", ref)
    col = 0
    for ch in letters.group() if letters else b"":
        col = col * 26 + ch - 64
    return col - 1, int(ref[len(letters.group()) if letters else 0:] or 0)


def sheet_xml(path: Path, member: str | None) -> tuple[bytes, set[bytes]]:
    """(the sheet's XML, its percent style indexes), read once for every check of the sheet
    (hidden rows, percentages, formulas, merged cells); empty when the sheet is not found.
    """
    if not member:
        return b"", set()
    with zipfile.ZipFile(path) as archive:
        try:
            return archive.read(member.lstrip("/")), _percent_styles(archive)
        except KeyError:
            return b"", set()


def scan(xml: bytes, styles: set[bytes]) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Per 0-based column, the Excel rows of (numbers shown as a percentage, formulas with no
    computed value) in one sheet, from one pass over its XML.
    """
    percent: dict[int, list[int]] = {}
    formulas: dict[int, list[int]] = {}
    if not styles and b"<f" not in xml:
        return percent, formulas
    for tag in _CELL.finditer(xml):
        attrs = dict(_ATTR.findall(tag.group(1)))
        if tag.group(2) or b"r" not in attrs:
            continue
        end = xml.find(b"</c>", tag.end())
        body = xml[tag.end():end if end >= 0 else len(xml)]
        col, row = _column_index(attrs[b"r"])
        if row <= 1:
            continue
        has_value = _VALUE.search(body) is not None
        if _FORMULA.search(body) and not has_value:
            formulas.setdefault(col, []).append(row)
        elif has_value and attrs.get(b"s") in styles and attrs.get(b"t", b"n") == b"n":
            percent.setdefault(col, []).append(row)
    return percent, formulas


def merged_ranges(xml: bytes) -> list[tuple[str, int, int, int, int]]:
    """The merged ranges of a sheet below its header: (ref, first col, last col, first row,
    last row), columns 0-based.
    """
    out = []
    for m in _MERGED.finditer(xml):
        (c0, r0), (c1, r1) = _column_index(m.group(1)), _column_index(m.group(2))
        if r1 > 1:
            out.append((f"{m.group(1).decode()}:{m.group(2).decode()}", c0, c1, r0, r1))
    return out


def check_sheet_cells(path: Path, xml: bytes, styles: set[bytes], header: list, policy: Policy,
                      table: str, sheet: str) -> None:
    """Refuse formulas with no computed value and merged cells in a column the policy reads,
    and numbers shown as a percentage in a number column that does not hold shares (``xml`` and
    ``styles`` from ``sheet_xml``).
    """
    percent, formulas = scan(xml, styles)
    merged = merged_ranges(xml)
    if not percent and not formulas and not merged:
        return
    spec = policy.inputs.table(table)
    wanted = {policy.inputs.id, spec.period, spec.date, *spec.columns} - {None}
    parts = []
    for ref, c0, c1, r0, r1 in merged:
        names = [n for n in (_name(header, c) for c in range(c0, c1 + 1)) if n in wanted]
        if names:
            parts.append(_rows(table, list(range(max(r0, 2), r1 + 1)), names[0],
                               f"cells {ref} are merged (sheet '{sheet}' of {path.name}): only the "
                               "first row holds the value, the others would be read as empty",
                               "unmerge the cells and fill the value into each row (Excel: Merge & "
                               "Center > Unmerge Cells, then fill down)"))
    for col, rows in sorted(formulas.items()):
        name = _name(header, col)
        if name in wanted:
            parts.append(_rows(table, rows, name, f"a formula with no computed value (sheet "
                               f"'{sheet}' of {path.name}): it would be read as an empty cell",
                               "open the workbook in Excel (or LibreOffice) and save it, so that "
                               "the formulas' values are stored; or paste the values"))
    for col, rows in sorted(percent.items()):
        name = _name(header, col)
        column = spec.columns.get(name) if name else None
        if column is None or column.type not in ("int", "float"):
            continue
        if column.max is not None and column.max <= 1:
            continue  # a share: 95% is 0.95, as declared
        parts.append(_rows(table, rows, name, f"the cell shows a percentage (sheet '{sheet}' of "
                           f"{path.name}): Excel stores 95% as 0.95, which '{name}' would read as "
                           "0.95, not 95", f"type the number without % (95), or, if '{name}' holds "
                           "shares, declare max: 1 for it in the policy"))
    if parts:
        raise DataError(pd.concat(parts, ignore_index=True))


def _name(header: list, col: int) -> str | None:
    """The header of a 0-based column, or None."""
    return str(header[col]).strip() if col < len(header) and header[col] is not None else None


def _rows(table: str, rows: list[int], column: str | None, problem: str, fix: str) -> pd.DataFrame:
    """One problem per row (the first 50)."""
    return pd.DataFrame({"table": table, "row": rows[:50], "id": None, "column": column,
                         "problem": problem, "value": None, "fix": fix},
                        columns=list(DataError.COLUMNS))
