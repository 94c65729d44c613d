"""Reading a calibration session's overrides: a table of ``id, period, field, value, reason,
note, by, at`` from a CSV file, a workbook sheet, a DataFrame or a list of dicts.

This module checks the table's shape only (columns present, required cells filled, no column it
does not know, text kept as typed); whether a person, a period, a grade or a reason code exists
is checked by the engine's overrides stage against the policy and the data
(``calib.engine.overrides``), which names the same rows.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from calib.errors import DataError

COLUMNS = ("id", "period", "field", "value", "reason", "note", "by", "at")
"""The overrides table's columns, in order."""
REQUIRED = ("id", "period", "field", "value", "reason", "by")
"""Columns whose cells must be filled on every row (``note`` and ``at`` may be blank)."""
TABLE = "overrides"
"""The name errors give the table (and the workbook sheet read when a workbook has several)."""


def problem(row: int | None, column: str | None, what: str, fix: str, value: Any = None,
            person: Any = None) -> dict[str, Any]:
    """One row of a ``DataError`` problems table about the overrides table."""
    return {"table": TABLE, "row": row, "id": person, "column": column, "problem": what,
            "value": value, "fix": fix}


def read_overrides(source: str | Path | pd.DataFrame | Iterable[Mapping[str, Any]]
                   ) -> pd.DataFrame:
    """The overrides table of ``source``, every cell as text, with ``row``: the line of the
    file (the header is line 1) or the position in a list, for the errors that name it.

    Parameters
    ----------
    source : str, Path, DataFrame or iterable of dicts
        A CSV file (UTF-8, with or without a byte-order mark), a workbook (its ``overrides``
        sheet, or its only sheet), a DataFrame or rows as dicts.

    Returns
    -------
    DataFrame
        Columns ``id, period, field, value, reason, note, by, at, row``; blank optional cells
        are empty text.

    Raises
    ------
    DataError
        If a column is missing or unknown, or a required cell is blank (every problem at once).
    """
    if isinstance(source, pd.DataFrame):
        table, first = source.copy(), 1
    elif isinstance(source, str | Path):
        table, first = _read_file(Path(source))
    else:
        table, first = pd.DataFrame(list(source)), 1
    table.columns = [str(c).strip() for c in table.columns]
    problems = _column_problems(list(table.columns))
    if problems:
        raise DataError(pd.DataFrame(problems, columns=list(DataError.COLUMNS)))
    for optional in ("note", "at"):
        if optional not in table:
            table[optional] = ""
    table = table[list(COLUMNS)].astype(object)
    table = table.where(table.notna(), "").map(lambda v: str(v).strip())
    table["row"] = range(first, first + len(table))
    blank = [problem(int(r["row"]), c, f"the {c!r} cell is blank", _FIX_BLANK[c],
                     person=r["id"] or None)
             for _, r in table.iterrows() for c in REQUIRED if not r[c]]
    if blank:
        raise DataError(pd.DataFrame(blank, columns=list(DataError.COLUMNS)))
    return table.reset_index(drop=True)


_FIX_BLANK = {
    "id": "give the person's id as in the records",
    "period": "give the period as the results show it (e.g. 2024-03, or the roll-up's label)",
    "field": "give what is overridden: grade, score, payout or a pay component's name",
    "value": "give the final value (a grade name, or a number)",
    "reason": "give one of the policy's reason codes (calibration.reasons)",
    "by": "give who decided the override (a name)",
}


def _read_file(path: Path) -> tuple[pd.DataFrame, int]:
    """The table of a file and the file line of its first row, read as the data's tables are
    (``calib.data.read``): a workbook's ``overrides`` sheet or only sheet, refusing hidden
    sheets and rows; a CSV as UTF-8 (or UTF-16 with its mark), else GB18030, else refused by
    byte and line.
    """
    from calib.data.read import _other_encoding, _read_xlsx, _utf16_as_utf8

    if not path.is_file():
        raise DataError(pd.DataFrame([problem(None, None, f"no file at {path}",
                                              "give the path of the overrides CSV or workbook")],
                                     columns=list(DataError.COLUMNS)))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame, _ = _read_xlsx(path, TABLE, None, dict.fromkeys(COLUMNS, "str"))
        return frame, int(frame.attrs.get("first_row", 2))
    raw = _utf16_as_utf8(path.read_bytes())
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode(_other_encoding(raw, path, TABLE))
    if not text.strip():  # an empty file: no columns, named below as missing
        return pd.DataFrame(), 2
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise DataError(pd.DataFrame([problem(None, None, f"{path} is not a readable CSV table: "
                                              f"{exc}", "save it as CSV with one header row")],
                                     columns=list(DataError.COLUMNS))) from None
    return frame, 2


def _column_problems(columns: list[str]) -> list[dict[str, Any]]:
    out = []
    for c in REQUIRED:
        if c not in columns:
            out.append(problem(1, c, f"the column {c!r} is missing",
                               f"the overrides table has the columns {', '.join(COLUMNS)}"))
    for c in columns:
        if c not in COLUMNS:
            out.append(problem(1, c, f"unknown column {c!r}",
                               f"remove it or rename it to one of {', '.join(COLUMNS)}"))
    twice = sorted({c for c in columns if columns.count(c) > 1})
    for c in twice:
        out.append(problem(1, c, f"the column {c!r} appears twice", "keep one"))
    return out
