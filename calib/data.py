"""Input data: a table or a folder of tables, from CSV, Excel or Parquet, as the policy declares.

A ``Dataset`` keeps each table with the row numbers a person sees (the file's line numbers, so that
"records row 57" is line 57 of records.csv) and where it came from, for error messages.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from calib.errors import DataError
from calib.policy.model import Policy

SUFFIXES = (".csv", ".xlsx", ".parquet")


@dataclass
class Dataset:
    """Named input tables (people, records, event tables) with their row numbers and sources."""

    tables: dict[str, pd.DataFrame]
    rows: dict[str, pd.Index] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def row_numbers(self, table: str) -> pd.Index:
        """The row numbers shown to people (file line numbers, or the DataFrame's index)."""
        if table in self.rows:
            return self.rows[table]
        return self.tables[table].index

    def fingerprint(self) -> str:
        """sha256 of the tables' contents, for provenance (same data → same hash)."""
        h = hashlib.sha256()
        for name in sorted(self.tables):
            h.update(name.encode())
            h.update(pd.util.hash_pandas_object(self.tables[name], index=False).to_numpy()
                     .tobytes())
        return h.hexdigest()


def _text_columns(policy: Policy, table: str) -> dict[str, str]:
    spec = policy.inputs.table(table)
    out = {policy.inputs.id: "string"}
    for name, col in spec.columns.items():
        if col.type in ("text", "label", "date", "datetime"):
            out[name] = "string"
    for key in (spec.period, spec.date):
        if key is not None:
            out[key] = "string"
    return out


def read_table(path: Path, policy: Policy, table: str, sheet: str | None = None) -> pd.DataFrame:
    """Read one table file; text, label and date columns (and the id) are kept as text.

    In a workbook, a row 2 whose first cell starts with ``#`` describes the columns (the input
    template's note row, see ``calib.workbooks``) and is skipped; the frame's
    ``attrs["first_row"]`` then says that the data start at Excel row 3, so errors name the row
    people see.
    """
    dtypes = _text_columns(policy, table)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = pd.read_csv(path, dtype=dtypes, encoding="utf-8-sig", skipinitialspace=True)
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            ws = book[sheet] if sheet is not None else book.worksheets[0]
            second = next(ws.iter_rows(min_row=2, max_row=2, max_col=1, values_only=True), (None,))
        finally:
            book.close()
        first = second[0] if second else None
        note = isinstance(first, str) and first.lstrip().startswith("#")
        frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=dtypes,
                              skiprows=[1] if note else None)
        frame.attrs["first_row"] = 3 if note else 2
    elif suffix == ".parquet":
        frame = pd.read_parquet(path)
        if policy.inputs.id in frame.columns:
            frame[policy.inputs.id] = frame[policy.inputs.id].astype("string")
    else:
        raise DataError(_problem(table, f"cannot read '{path.name}'",
                                 "use a .csv, .xlsx or .parquet file"))
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _problem(table: str, problem: str, fix: str, column: str | None = None) -> pd.DataFrame:
    return pd.DataFrame([{"table": table, "row": None, "id": None, "column": column,
                          "problem": problem, "value": None, "fix": fix}],
                        columns=list(DataError.COLUMNS))


def _find_file(folder: Path, policy: Policy, table: str) -> Path | None:
    spec = policy.inputs.table(table)
    if spec.file:
        candidate = folder / spec.file
        return candidate if candidate.exists() else None
    for suffix in SUFFIXES:
        candidate = folder / f"{table}{suffix}"
        if candidate.exists():
            return candidate
    return None


def load_data(source: str | Path | pd.DataFrame | dict | Dataset, policy: Policy) -> Dataset:
    """Read the tables ``policy`` needs from a folder, one Excel workbook, one file or DataFrames.

    - a folder: ``<table>.csv`` (or .xlsx/.parquet, or the file named in the policy) per table;
    - an ``.xlsx`` workbook: one sheet per table, named as the table;
    - a single CSV/Parquet file or a DataFrame: the records table, people derived from it;
    - a dict of DataFrames keyed by table name.
    A people table that is not given is made from the records' people columns.
    """
    if isinstance(source, Dataset):
        return source
    if isinstance(source, pd.DataFrame):
        return _complete(Dataset({"records": source}), policy)
    if isinstance(source, dict):
        return _complete(Dataset(dict(source)), policy)
    path = Path(source)
    if path.is_dir():
        return _load_folder(path, policy)
    if not path.exists():
        raise DataError(_problem("(input)", f"'{path}' does not exist",
                                 "give a folder of tables or a .csv/.xlsx/.parquet file"))
    if path.suffix.lower() == ".xlsx":
        return _load_workbook(path, policy)
    frame = read_table(path, policy, "records")
    return _complete(Dataset({"records": frame}, {"records": frame.index + frame.attrs.get("first_row", 2)},
                             {"records": str(path)}), policy)


def _load_folder(folder: Path, policy: Policy) -> Dataset:
    ds = Dataset({})
    missing = []
    for table in policy.inputs.table_names():
        found = _find_file(folder, policy, table)
        if found is None:
            if table != "people":
                spec = policy.inputs.table(table)
                expected = spec.file or f"{table}.csv"
                missing.append(_problem(table, f"no file for table '{table}' in {folder}",
                                        f"add {expected} (or .xlsx/.parquet)"))
            continue
        frame = read_table(found, policy, table)
        ds.tables[table] = frame
        ds.rows[table] = frame.index + frame.attrs.get("first_row", 2)
        ds.sources[table] = str(found)
    if missing:
        raise DataError(pd.concat(missing, ignore_index=True))
    return _complete(ds, policy)


def _load_workbook(path: Path, policy: Policy) -> Dataset:
    sheets = pd.ExcelFile(path).sheet_names
    ds = Dataset({})
    for table in policy.inputs.table_names():
        if table in sheets:
            frame = read_table(path, policy, table, sheet=table)
            ds.tables[table] = frame
            ds.rows[table] = frame.index + frame.attrs.get("first_row", 2)
            ds.sources[table] = f"{path}[{table}]"
    if "records" not in ds.tables:
        raise DataError(_problem("records", f"workbook {path.name} has no sheet 'records'",
                                 f"name the sheets after the tables: {sheets}"))
    return _complete(ds, policy)


def _complete(ds: Dataset, policy: Policy) -> Dataset:
    """Derive the people table from records when it was not given."""
    if "people" in ds.tables or "records" not in ds.tables:
        return ds
    records = ds.tables["records"]
    pid = policy.inputs.id
    cols = [pid] + [c for c in policy.inputs.people.columns if c in records.columns and c != pid]
    if pid not in records.columns:
        return ds  # reported by validation
    people = records[cols].drop_duplicates(subset=[pid], keep="last").reset_index(drop=True)
    ds.tables["people"] = people
    ds.sources["people"] = "(derived from records)"
    return ds
