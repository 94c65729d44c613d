"""Workbook cells shown as a percentage, read as people typed them.

A person who types ``95%`` into a cell of Excel sees 95 %, and Excel stores 0.95 with a percent
format. In a column of points (0–100) that is 0.95 points: pay moves and nothing says so. The
same text in a CSV file (``95%``) is refused as not a number, so a workbook must not silently
read it as a share either. A percent-formatted number is accepted only in a column that holds
shares (its declared ``max`` is at most 1); elsewhere each such cell is refused with its Excel
row and what to type instead.

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
_VALUE = re.compile(rb"<(?:\w+:)?v\b")
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


def percent_cells(path: Path, member: str | None) -> dict[int, list[int]]:
    """Per 0-based column, the Excel rows of numbers shown as a percentage in one sheet."""
    if not member:
        return {}
    with zipfile.ZipFile(path) as archive:
        styles = _percent_styles(archive)
        if not styles:
            return {}
        try:
            xml = archive.read(member.lstrip("/"))
        except KeyError:
            return {}
    found: dict[int, list[int]] = {}
    for tag in _CELL.finditer(xml):
        attrs = dict(_ATTR.findall(tag.group(1)))
        if attrs.get(b"s") not in styles or attrs.get(b"t", b"n") != b"n" or tag.group(2):
            continue
        end = xml.find(b"</", tag.end())
        if not _VALUE.search(xml, tag.end(), end if end >= 0 else len(xml)) or b"r" not in attrs:
            continue
        col, row = _column_index(attrs[b"r"])
        if row > 1:
            found.setdefault(col, []).append(row)
    return found


def check_percent_cells(path: Path, member: str | None, header: list, policy: Policy,
                        table: str, sheet: str) -> None:
    """Refuse numbers shown as a percentage in a number column that does not hold shares."""
    cells = percent_cells(path, member)
    if not cells:
        return
    spec = policy.inputs.table(table)
    parts = []
    for col, rows in sorted(cells.items()):
        name = str(header[col]).strip() if col < len(header) and header[col] is not None else None
        column = spec.columns.get(name) if name else None
        if column is None or column.type not in ("int", "float"):
            continue
        if column.max is not None and column.max <= 1:
            continue  # a share: 95% is 0.95, as declared
        parts.append(pd.DataFrame({
            "table": table, "row": rows[:50], "id": None, "column": name,
            "problem": f"the cell shows a percentage (sheet '{sheet}' of {path.name}): Excel stores "
                       f"95% as 0.95, which '{name}' would read as 0.95, not 95",
            "value": None,
            "fix": f"type the number without % (95), or, if '{name}' holds shares, declare "
                   f"max: 1 for it in the policy"}, columns=list(DataError.COLUMNS)))
    if parts:
        raise DataError(pd.concat(parts, ignore_index=True))
