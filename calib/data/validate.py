"""Check input data against the policy before anything runs, and convert columns to their types.

Every problem is collected, not just the first: missing tables and columns, wrong types, empty
required cells, values out of range, unknown labels, duplicate person-periods, people missing from
the people table, events with no matching record. They come back as one ``DataError`` whose
``problems`` table names the table, the row (file line), the person's id, the column and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calib._util.text import clean_codes, clean_text, text_codes
from calib._util.tolerance import tol_array
from calib._util.written_numbers import THOUSANDS
from calib.bounds import MAX_INPUT
from calib.data.calendar import parse_dates
from calib.data.lookalike import lookalike_rows
from calib.data.read import Dataset
from calib.errors import DataError
from calib.policy.inputs import ColumnSpec
from calib.policy.measures import RatioMeasure
from calib.policy.model import Policy
from calib.policy.references import read_columns
from calib.policy.rules import LabelPoints

TRUE = {"true", "1", "yes", "y", "t", "是", "1.0"}
FALSE = {"false", "0", "no", "n", "f", "否", "0.0"}


@dataclass
class Typed:
    """Columns of one table converted to their declared types (numbers as float64 arrays)."""

    frame: pd.DataFrame
    rows: pd.Index
    columns: dict[str, Any] = field(default_factory=dict)
    """Typed columns: float64 arrays, boolean arrays, datetime or text Series, label Categoricals."""
    _factorized: dict[str, tuple[np.ndarray, Any]] = field(default_factory=dict)

    def factorize(self, name: str) -> tuple[np.ndarray, Any]:
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
    text = clean_text(series).str.lower()
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
        codes, _ = clean_codes(*typed.factorize(name))
        return codes < 0  # missing, or only spaces
    return series.isna().to_numpy()


def _text_numbers(p: Problems, table: str, name: str, series: pd.Series,
                  empty: np.ndarray | None) -> np.ndarray:
    """Numbers typed as text. A comma is read only between thousands (1,234.5); any other comma
    (7,5 — a decimal comma, or 1,23) is refused, since 7,5 may mean 7.5 or 75. Only the distinct
    texts are looked at.
    """
    codes, names = text_codes(series)
    texts = pd.Series(names, dtype=object)
    comma = texts.str.contains(",", regex=False).to_numpy(dtype=bool)
    thousands = comma & texts.str.match(THOUSANDS).to_numpy(dtype=bool)
    cleaned = texts.where(~thousands, texts.str.replace(",", "", regex=False))
    parsed = pd.to_numeric(cleaned.where(~(comma & ~thousands)), errors="coerce")
    values = np.append(parsed.to_numpy(dtype=np.float64, na_value=np.nan), np.nan)
    pick = np.where(codes < 0, len(names), codes)
    num = values[pick]
    decimal = np.append(comma & ~thousands, False)
    for i in np.flatnonzero(decimal[:-1])[:20]:
        text = texts[i]
        p.rows(table, codes == i, name, "a comma inside a number (is it a decimal comma?)",
               f"write {text.replace(',', '.', 1) if text.count(',') == 1 else text} with a "
               "decimal point, e.g. 7.5 not 7,5 (a comma may only separate thousands: 1,234.5)",
               series)
    others = decimal[pick] & ~np.isin(codes, np.flatnonzero(decimal[:-1])[:20])
    p.rows(table, others, name, "a comma inside a number (is it a decimal comma?)",
           "write numbers with a decimal point, e.g. 7.5 not 7,5 (a comma may only separate "
           "thousands: 1,234.5)", series)
    bad = np.isnan(num) & ~decimal[pick]
    if empty is not None:
        bad &= ~empty
    p.rows(table, bad, name, "not a number", "type a plain number (no units or text)", series)
    return num


def _plausible(p: Problems, table: str, name: str, spec: ColumnSpec, num: np.ndarray,
               finite: np.ndarray) -> None:
    """Refuse a size no person's figure has: above ``MAX_INPUT`` (10^12) when the column declares
    no ``max`` (an ID number pasted into a money column, 1e17, a unit mistake); with a declared
    ``max`` and no ``min``, a negative value larger in size than ``max``.
    """
    with np.errstate(invalid="ignore"):
        size = np.abs(num)
    if spec.max is None:
        upper = MAX_INPUT
        huge = finite & (size > upper)
        if spec.min is not None:
            huge &= num > 0  # below the declared minimum is reported as such
        fix = (f"check the value (an ID number or a unit mistake?): without a declared 'max' a "
               f"column holds numbers up to {MAX_INPUT:,.0f} (10^12) in size; if it is right, "
               f"declare 'max' for column '{name}' in the policy")
    elif spec.min is None:
        upper = float(spec.max)
        huge = finite & (num < -abs(upper))
        fix = (f"check the value (a sign or unit mistake?): the column's declared max is "
               f"{spec.max:g}; declare 'min' for column '{name}' if large negative values are right")
    else:
        return
    if huge.any():
        p.rows(table, huge, name, f"implausibly large number (over {abs(upper):g} in size)", fix,
               num)


def _numbers(p: Problems, table: str, name: str, spec: ColumnSpec, series: pd.Series,
             empty: np.ndarray | None) -> np.ndarray:
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        num = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        num = _text_numbers(p, table, name, series, empty)
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
    _plausible(p, table, name, spec, num, finite)
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


def _dates(p: Problems, table: str, name: str, spec: ColumnSpec, series: pd.Series,
           empty: np.ndarray | None) -> pd.Series:
    """Dates read as people wrote them: 03/04/2024 (day and month order unknown) is refused
    unless the column declares its ``format``; ISO dates and Excel date cells are read as such.
    """
    ts, unclear = parse_dates(series, spec.format)
    p.rows(table, unclear, name, "date with day and month order unknown (3 April or March 4?)",
           f"declare the column's format in the policy (column '{name}': format: '%d/%m/%Y' for "
           "day/month/year, '%m/%d/%Y' for month/day/year), or write dates as 2024-04-03",
           series)
    bad = ts.isna().to_numpy() & ~unclear
    if empty is not None:
        bad &= ~empty
    how = (f"write dates as {spec.format} (the column's declared format) or as 2025-03-31"
           if spec.format else "write dates as 2025-03-31 (and times as 2025-03-31 14:05)")
    p.rows(table, bad, name, "not a date", how, series)
    return ts


def _labels(p: Problems, policy: Policy, table: str, name: str, typed: Typed) -> pd.Categorical:
    """Labels as a categorical of trimmed text; unknown ones reported (looked up once each)."""
    series = typed.frame[name]
    codes, names = clean_codes(*typed.factorize(name))
    allowed, strict = allowed_labels(policy, table, name)
    if allowed is not None and strict:
        unknown = np.array([t not in allowed for t in names] + [False])
        p.rows(table, unknown[codes], name, "unknown label",  # −1 (empty) takes the last entry
               f"use one of: {', '.join(sorted(allowed))}", series)
    return pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype=object))


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
        typed.columns[name] = _dates(p, table, name, spec, series, empty)
    elif spec.type == "label":
        typed.columns[name] = _labels(p, policy, table, name, typed)
    else:   # edges trimmed as for ids and labels: a space nobody sees must not make a new group
        typed.columns[name] = clean_text(series)


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
    read = read_columns(policy)
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
        for absent in dict.fromkeys(missing):
            p.table(table, f"column '{absent}' is missing", "add the column (check its spelling; "
                    f"columns found: {', '.join(map(str, frame.columns[:30]))}){hint}",
                    column=absent)
        if missing:
            continue
        if table in ("records", "people") and len(frame) == 0:
            _no_rows(p, ds, table)
            continue
        t = Typed(frame, ds.row_numbers(table))
        ids = frame[pid]
        p.rows(table, ids.isna().to_numpy(), pid, "empty id", "every row needs the person's id",
               ds.missing_text(table, pid))
        for name, col in spec.columns.items():
            _check_column(p, policy, table, name, col, t)
        _check_lookalikes(p, policy, table, t, read, people_ids=table == "people" or (
            table == "records" and "people" not in ds.tables))
        _dates_as_read(t, spec)
        typed[table] = t
    _check_ratios(policy, typed, p)
    return typed, p


def _check_lookalikes(p: Problems, policy: Policy, table: str, t: Typed,
                      read: dict[str, frozenset[str]], people_ids: bool) -> None:
    """Text the policy reads (and the people's ids) spelt two ways that differ only in case, width
    or spaces (``East``/``east``, ``Lead`` against the policy's ``eq: lead``): calib compares
    text exactly, so they would silently be two groups or miss a condition (``calib.data.lookalike``).
    """
    spec = policy.inputs.table(table)
    names = [n for n, c in spec.columns.items() if c.type in ("text", "label") and n in read]
    for name in ([policy.inputs.id] if people_ids else []) + names:
        literals = set(read.get(name, ()))
        if name in spec.columns and spec.columns[name].type == "label":
            literals |= allowed_labels(policy, table, name)[0] or set()
        rows, found = lookalike_rows(t.frame[name], literals)
        if not found:
            continue
        text = clean_text(t.frame[name])
        for spelling, keep in sorted(found.items()):
            where = "the policy" if keep in literals and keep not in set(text.dropna()) else "this column"
            p.rows(table, rows & (text == spelling).fillna(False).to_numpy(dtype=bool), name,
                   f"'{spelling}' differs from '{keep}' (in {where}) only in case, width or spaces",
                   f"write it as '{keep}' (calib compares text exactly; they would count as "
                   "different)", t.frame[name])


def _no_rows(p: Problems, ds: Dataset, table: str) -> None:
    """Records or people holding only a header: nobody could be graded or paid (an empty people
    table left every id unknown and broke the later checks).
    """
    where = f"{ds.sources[table]} holds only the header: " if table in ds.sources else ""
    what = "a row per person and period" if table == "records" else "a row per person"
    p.table(table, f"{table} has no rows", f"{where}add {what}")


def _dates_as_read(t: Typed, spec) -> None:
    """The table's ``date`` column, when it has a declared format, is placed in periods from the
    dates validation read: a copy of the frame holds them as ISO text (what messages then show);
    the data set is not changed.
    """
    col = spec.date
    if col is None or col not in spec.columns or spec.columns[col].format is None:
        return
    ts = t.columns[col]
    clock = bool((ts.notna() & ts.dt.normalize().ne(ts)).any())
    frame = t.frame.copy(deep=False)
    frame[col] = ts.dt.strftime("%Y-%m-%d %H:%M:%S" if clock else "%Y-%m-%d").astype("string")
    t.frame = frame
    t._factorized.pop(col, None)


def _check_ratios(policy: Policy, typed: dict[str, Typed], p: Problems) -> None:
    """A ratio is a share: a row whose numerator exceeds its denominator (answered > calls)
    would score above 100 % and is a data error, unless the measure says ``above_one: allow``.
    """
    for name, m in policy.measures.items():
        if not isinstance(m, RatioMeasure) or m.above_one == "allow":
            continue
        table = m.table or "records"
        t = typed.get(table)
        columns = [*m.numerator, *m.denominator]
        if t is None or not all(isinstance(t.columns.get(c), np.ndarray) for c in columns):
            continue  # a column missing or not a number is reported already
        num = np.sum([t.columns[c] for c in m.numerator], axis=0)
        den = np.sum([t.columns[c] for c in m.denominator], axis=0)
        with np.errstate(invalid="ignore"):
            over = np.isfinite(num) & np.isfinite(den) & (num > den + tol_array(den))
        if not over.any():
            continue
        top, bottom = " + ".join(m.numerator), " + ".join(m.denominator)
        shown = np.array([f"{a:g} > {b:g}" for a, b in zip(num, den, strict=True)], dtype=object)
        p.rows(table, over, top, f"{top} is more than {bottom} (measure '{name}' would be over "
               "100 %)", f"check both columns ({top} cannot exceed {bottom}); if measure '{name}' "
               f"may exceed 100 % by nature, set 'above_one: allow' on it in the policy", shown)
