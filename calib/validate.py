"""Check input data against the policy before anything runs, and convert columns to their types.

Every problem is collected, not just the first: missing tables and columns, wrong types, empty
required cells, values out of range, unknown labels, duplicate person-periods, people missing from
the people table, events with no matching record. They come back as one ``DataError`` whose
``problems`` table names the table, the row (file line), the person's id, the column and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calib.data import Dataset
from calib.errors import DataError
from calib.policy.inputs import ColumnSpec
from calib.policy.model import Policy
from calib.policy.rules import LabelPoints

TRUE = {"true", "1", "yes", "y", "t", "是", "1.0"}
FALSE = {"false", "0", "no", "n", "f", "否", "0.0"}


@dataclass
class Typed:
    """Columns of one table converted to their declared types (numbers as float64 arrays)."""

    frame: pd.DataFrame
    rows: pd.Index
    columns: dict[str, np.ndarray | pd.Series] = field(default_factory=dict)
    _factorized: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def factorize(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(code per row, distinct values) of a raw column; −1 for empty. Computed once."""
        if name not in self._factorized:
            self._factorized[name] = pd.factorize(self.frame[name], use_na_sentinel=True)
        return self._factorized[name]


class Problems:
    """Collects problems as small DataFrames and joins them once."""

    def __init__(self, ds: Dataset, id_column: str):
        self.ds = ds
        self.id_column = id_column
        self.parts: list[pd.DataFrame] = []

    def table(self, table: str, problem: str, fix: str, column: str | None = None) -> None:
        """A problem with a whole table or column."""
        self.parts.append(pd.DataFrame([{"table": table, "row": None, "id": None,
                                         "column": column, "problem": problem, "value": None,
                                         "fix": fix}]))

    def rows(self, table: str, mask: np.ndarray, column: str | None, problem: str, fix: str,
             values: pd.Series | np.ndarray | None = None) -> None:
        """A problem on the rows of ``table`` where ``mask`` is true."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        frame = self.ds.tables[table]
        ids = (frame[self.id_column].to_numpy()[mask] if self.id_column in frame.columns
               else None)
        vals = None
        if values is not None:
            vals = np.asarray(values, dtype=object)[mask]
        self.parts.append(pd.DataFrame({
            "table": table, "row": np.asarray(self.ds.row_numbers(table))[mask], "id": ids,
            "column": column, "problem": problem, "value": vals, "fix": fix,
        }))

    def raise_if_any(self) -> None:
        """Raise one DataError with every problem found."""
        if self.parts:
            problems = pd.concat(self.parts, ignore_index=True)[list(DataError.COLUMNS)]
            problems = problems.astype(object).where(problems.notna(), None)
            raise DataError(problems)


def allowed_labels(policy: Policy, table: str, column: str) -> tuple[set[str] | None, bool]:
    """The labels a column may hold, and whether an unknown one is an error."""
    spec = policy.inputs.table(table).columns[column]
    rules = [k.rule for k in policy.kpis.values()
             if table == "records" and k.column == column and isinstance(k.rule, LabelPoints)]
    labels = set(spec.labels) if spec.labels else set()
    for rule in rules:
        labels |= set(rule.points)
    strict = not rules or any(r.on_unknown == "error" for r in rules)
    return (labels or None), strict


def _as_bool(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if pd.api.types.is_bool_dtype(series.dtype):
        values = series.fillna(False).to_numpy(dtype=bool)
        return values, series.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(series.dtype):
        num = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isnan(num) & (num != 0) & (num != 1)
        return num == 1, bad
    text = series.astype("string").str.strip().str.lower()
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    truth = np.array([u in TRUE for u in uniques] + [False])
    known = np.array([u in TRUE or u in FALSE for u in uniques] + [True])
    pick = np.where(codes < 0, len(uniques), codes)
    return truth[pick], ~known[pick]


def _empty(typed: Typed, name: str) -> np.ndarray | None:
    """Rows with an empty cell (missing, or only spaces); None when the type cannot be empty."""
    series = typed.frame[name]
    dtype = series.dtype
    if pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return None
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return None
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        codes, uniques = typed.factorize(name)
        blank = np.array([str(u).strip() == "" for u in uniques] + [True])
        return blank[np.where(codes < 0, len(uniques), codes)]
    return series.isna().to_numpy()


def _numbers(p: Problems, table: str, name: str, spec: ColumnSpec, series: pd.Series,
             empty: np.ndarray | None) -> np.ndarray:
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        num = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        num = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(num) if empty is None else np.isnan(num) & ~empty
        p.rows(table, bad, name, "not a number", "type a plain number (no units or text)", series)
    whole = pd.api.types.is_integer_dtype(dtype)
    infinite = None if whole else np.isinf(num)
    if infinite is not None and infinite.any():
        typed = (series if not pd.api.types.is_numeric_dtype(dtype)
                 else np.where(num > 0, "inf", "-inf"))
        p.rows(table, infinite, name, "not a finite number",
               "type a plain number (inf and Infinity cannot be scored)", typed)
        finite = ~infinite
    else:
        finite = np.ones(len(num), dtype=bool)
    if spec.type == "int" and not whole:
        p.rows(table, ~np.isnan(num) & finite & (num != np.round(num)), name,
               "not a whole number", "counts must be whole numbers", num)
    if len(num) and spec.min is not None and np.nanmin(num, initial=np.inf) < spec.min:
        p.rows(table, (num < spec.min) & finite, name, f"below the minimum {spec.min:g}",
               "check the value (a count cannot be negative)", num)
    if len(num) and spec.max is not None and np.nanmax(num, initial=-np.inf) > spec.max:
        p.rows(table, (num > spec.max) & finite, name, f"above the maximum {spec.max:g}",
               "check the value", num)
    return num


def _labels(p: Problems, policy: Policy, table: str, name: str, typed: Typed) -> pd.Categorical:
    """Labels as a categorical of trimmed text; unknown ones reported (looked up once each)."""
    series = typed.frame[name]
    codes, uniques = typed.factorize(name)
    trimmed = [str(u).strip() for u in uniques]
    allowed, strict = allowed_labels(policy, table, name)
    if allowed is not None and strict:
        unknown = np.array([t not in allowed and t != "" for t in trimmed] + [False])
        p.rows(table, unknown[np.where(codes < 0, len(uniques), codes)], name, "unknown label",
               f"use one of: {', '.join(sorted(allowed))}", series)
    distinct = list(dict.fromkeys(t for t in trimmed if t != ""))
    position = {t: i for i, t in enumerate(distinct)}
    remap = np.array([position.get(t, -1) for t in trimmed] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(remap[np.where(codes < 0, len(uniques), codes)],
                                     categories=pd.Index(distinct, dtype=object))


def _check_column(p: Problems, policy: Policy, table: str, name: str, spec: ColumnSpec,
                  typed: Typed) -> None:
    series = typed.frame[name]
    empty = _empty(typed, name)
    if spec.required and empty is not None:
        p.rows(table, empty, name, "empty cell",
               "fill it in, or declare the column 'required: false' in the policy",
               p.ds.missing_text(table, name))  # what was typed: 'N/A', 'NULL', ...
    if spec.type in ("int", "float"):
        typed.columns[name] = _numbers(p, table, name, spec, series, empty)
    elif spec.type == "bool":
        values, bad = _as_bool(series)
        p.rows(table, bad if empty is None else bad & ~empty, name, "not yes/no",
               "use true/false, 1/0, yes/no or 是/否", series)
        typed.columns[name] = values
    elif spec.type in ("date", "datetime"):
        ts = pd.to_datetime(series, errors="coerce", format="mixed")
        bad = ts.isna().to_numpy()
        p.rows(table, bad if empty is None else bad & ~empty, name, "not a date",
               "write dates as 2025-03-31 (and times as 2025-03-31 14:05)", series)
        typed.columns[name] = ts
    elif spec.type == "label":
        typed.columns[name] = _labels(p, policy, table, name, typed)
    else:
        typed.columns[name] = series.astype("string")


def _separator_hint(frame: pd.DataFrame) -> str:
    """A hint when the one column found holds ';' or tabs: the file is not comma-separated."""
    if len(frame.columns) != 1:
        return ""
    name = str(frame.columns[0])
    for sep, said in ((";", "';'"), ("\t", "tabs")):
        if sep in name:
            return f"; the file seems to be separated by {said} — save it as comma-separated CSV"
    return ""


def check_tables(policy: Policy, ds: Dataset) -> tuple[dict[str, Typed], Problems]:
    """Type-check every declared table and column; returns typed tables and the problems so far."""
    p = Problems(ds, policy.inputs.id)
    typed: dict[str, Typed] = {}
    pid = policy.inputs.id
    for table in policy.inputs.table_names():
        spec = policy.inputs.table(table)
        if table not in ds.tables:
            if table != "people":
                p.table(table, f"table '{table}' is missing", f"provide {table}.csv")
            continue
        frame = ds.tables[table]
        missing = [c for c in [pid, *spec.columns, spec.period, spec.date]
                   if c is not None and c not in frame.columns]
        hint = _separator_hint(frame)
        for col in dict.fromkeys(missing):
            p.table(table, f"column '{col}' is missing", "add the column (check its spelling; "
                    f"columns found: {', '.join(map(str, frame.columns[:30]))}){hint}", column=col)
        if missing:
            continue
        if table == "records" and len(frame) == 0:
            where = f"{ds.sources[table]} holds only the header: " if table in ds.sources else ""
            p.table(table, "records has no rows", f"{where}add a row per person and period")
            continue
        t = Typed(frame, ds.row_numbers(table))
        ids = frame[pid]
        p.rows(table, ids.isna().to_numpy(), pid, "empty id", "every row needs the person's id",
               ds.missing_text(table, pid))
        for name, col in spec.columns.items():
            _check_column(p, policy, table, name, col, t)
        typed[table] = t
    return typed, p
