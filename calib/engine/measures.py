"""Engine side of the measures (SCHEMES.md R1–R4, R10, R18): one value per person-period row.

Event tables are reduced to their record row with ``np.bincount``, so a log of a million requests
costs a few array passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from calib._util.text import text_codes
from calib._util.tolerance import tol_array
from calib.data.calendar import to_rollup
from calib.engine.frame import Frame, RowBlock
from calib.engine.missing import apply_missing
from calib.kernels.conditions import holds
from calib.policy.measures import (
    AggregateMeasure,
    ChecklistMeasure,
    ColumnMeasure,
    CumulativeMeasure,
    RatingMeasure,
    RatioMeasure,
    SlaMeasure,
    TargetMeasure,
    WindowMeasure,
)

UNIT_SECONDS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}


def _num(frame: Frame | RowBlock, column: str) -> np.ndarray:
    return np.asarray(frame.column(column), dtype=np.float64)


def _sum(frame: Frame | RowBlock, columns: list[str]) -> np.ndarray:
    if len(columns) == 1:
        return _num(frame, columns[0])
    total = _num(frame, columns[0]) + _num(frame, columns[1])
    for col in columns[2:]:
        total += _num(frame, col)
    return total


def _whole(frame: Frame | RowBlock) -> Frame:
    """The whole frame: a measure that reads event tables or groups is never computed block by
    block (``row_local``), so it is always given the frame itself.
    """
    assert isinstance(frame, Frame), "a measure reading events or groups runs on the whole frame"
    return frame


def _divide(num: np.ndarray, den: np.ndarray,
            m: RatioMeasure | TargetMeasure | AggregateMeasure | SlaMeasure, name: str,
            frame: Frame | RowBlock) -> np.ndarray:
    zero = den == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / np.where(zero, 1.0, den)
    return apply_missing(out, zero & ~np.isnan(num), m.on_zero, m.neutral,
                         f"measure '{name}'", "zero denominator", frame, frame.active.get(name),
                         copy=False)


def _event_sum(frame: Frame, table: str, columns: list[str]) -> np.ndarray:
    ev = frame.events[table]
    values = np.zeros(len(ev.row))
    for col in columns:
        values = values + np.asarray(ev.column(col), dtype=np.float64)
    return _grouped(frame, table, values)


def _group_total(frame: Frame, by: str, values: np.ndarray) -> np.ndarray:
    """Σ values over each group and period, given back to every row of the group."""
    groups, _ = text_codes(frame.column(by))  # blank and missing cells: one group, −1
    key = pd.MultiIndex.from_arrays([groups, frame.period])
    codes, _ = pd.factorize(key)
    total = np.bincount(codes, weights=np.nan_to_num(values), minlength=codes.max() + 1)
    return total[codes]


def ratio(m: RatioMeasure, name: str, frame: Frame | RowBlock) -> np.ndarray:
    """R1/R2: Σ numerators / Σ denominators × scale (per row, per event table, or per group)."""
    if m.table is not None:
        num = _event_sum(_whole(frame), m.table, m.numerator)
        den = _event_sum(_whole(frame), m.table, m.denominator)
    else:
        num, den = _sum(frame, m.numerator), _sum(frame, m.denominator)
        if m.group_by is not None:
            whole = _whole(frame)
            num, den = _group_total(whole, m.group_by, num), _group_total(whole, m.group_by, den)
    out = _divide(num, den, m, name, frame)
    return out * m.scale if m.scale != 1.0 else out


def target(m: TargetMeasure, name: str, frame: Frame | RowBlock) -> np.ndarray:
    """R4: actual / target (or target / actual when lower is better)."""
    actual = _num(frame, m.actual)
    goal = _num(frame, m.target) if m.target else np.full(frame.n, m.target_value)
    num, den = (actual, goal) if m.direction == "higher" else (goal, actual)
    return _divide(num, den, m, name, frame)


def _grouped(frame: Frame, table: str, weights: np.ndarray | None) -> np.ndarray:
    ev = frame.events[table]
    ok = ev.row >= 0
    w = None if weights is None else weights[ok]
    return np.bincount(ev.row[ok], weights=w, minlength=frame.n).astype(np.float64)


def aggregate(m: AggregateMeasure, name: str, frame: Frame | RowBlock) -> np.ndarray:
    """R2: sum/mean/count/min/max, of an event table's rows or across records columns; with
    ``group_by``, a sum or count is the group's in the period.
    """
    values = _aggregate(m, name, frame)
    if m.group_by is None:
        return values
    return _group_total(_whole(frame), m.group_by, values)


def _aggregate(m: AggregateMeasure, name: str, frame: Frame | RowBlock) -> np.ndarray:
    if m.table is None:
        stack = np.column_stack([_num(frame, c) for c in m.columns_])
        reducers: dict[str, Callable[..., np.ndarray]] = {
            "sum": np.sum, "mean": np.mean, "min": np.min, "max": np.max}
        return reducers[m.how](stack, axis=1)
    frame = _whole(frame)
    ev = frame.events[m.table]
    keep = np.ones(len(ev.row), dtype=np.float64)
    if m.where is not None:
        keep = holds(m.where, ev.column(m.where.column)).astype(np.float64)
    count = _grouped(frame, m.table, keep)
    if m.how == "count":
        return count
    values = np.asarray(ev.column(m.columns_[0]), dtype=np.float64)
    for col in m.columns_[1:]:
        values = values + np.asarray(ev.column(col), dtype=np.float64)
    if m.how in ("sum", "mean"):
        total = _grouped(frame, m.table, values * keep)
        if m.how == "sum":
            return total
        return _divide(total, count, m, name, frame)
    ok = (ev.row >= 0) & (keep > 0)
    series = pd.Series(values[ok]).groupby(ev.row[ok])
    red = series.min() if m.how == "min" else series.max()
    out = np.full(frame.n, np.nan)
    out[red.index.to_numpy()] = red.to_numpy()
    return apply_missing(out, count == 0, m.on_zero, m.neutral, f"measure '{name}'",
                         "no events", frame, frame.active.get(name))


def sla(m: SlaMeasure, name: str, frame: Frame | RowBlock) -> np.ndarray:
    """R3: on-time requests / all requests; answered exactly at the limit is on time."""
    frame = _whole(frame)
    ev = frame.events[m.table]
    received = pd.to_datetime(pd.Series(ev.column(m.received)), errors="coerce")
    answered = pd.to_datetime(pd.Series(ev.column(m.answered)), errors="coerce")
    elapsed = ((answered - received).dt.total_seconds() / UNIT_SECONDS[m.unit]).to_numpy(
        dtype=np.float64, na_value=np.nan)
    codes, cats = text_codes(ev.typed.frame[m.category])  # looked up once per category
    limits = np.array([m.limits.get(c, np.nan) for c in cats] + [np.nan])[codes]
    if m.default_limit is not None:
        limits = np.where(np.isnan(limits), m.default_limit, limits)
    on_time = (elapsed <= limits + tol_array(limits)).astype(np.float64)
    return _divide(_grouped(frame, m.table, on_time), _grouped(frame, m.table, None), m, name,
                   frame)


def rating(m: RatingMeasure, name: str, frame: Frame | RowBlock) -> np.ndarray:
    """R18: mean score per rater role, then the roles' weighted mean over the roles present."""
    frame = _whole(frame)
    ev = frame.events[m.table]
    roles = list(m.weights)
    codes, names = text_codes(ev.typed.frame[m.rater])
    role = np.append(pd.Index(roles).get_indexer(pd.Index(names, dtype=object)), -1)[codes]
    score = np.asarray(ev.column(m.score), dtype=np.float64)
    ok = (ev.row >= 0) & (role >= 0) & ~np.isnan(score)
    cell = ev.row[ok].astype(np.int64) * len(roles) + role[ok]
    size = frame.n * len(roles)
    total = np.bincount(cell, weights=score[ok], minlength=size).reshape(frame.n, len(roles))
    count = np.bincount(cell, minlength=size).reshape(frame.n, len(roles))
    weights = np.array([m.weights[r] for r in roles])
    present = count > 0
    if m.missing == "error":
        some = np.asarray(present.any(axis=1) & ~present.all(axis=1))
        apply_missing(np.zeros(frame.n), some, "error", 0.0, f"measure '{name}'",
                      "a rater's score is missing", frame, frame.active.get(name))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(present, total / np.maximum(count, 1), 0.0)
        wsum = (present * weights).sum(axis=1)
        out = (mean * weights).sum(axis=1) / np.where(wsum == 0, 1.0, wsum)
    return apply_missing(np.round(out, 9), wsum == 0, m.on_zero, m.neutral,
                         f"measure '{name}'", "no ratings", frame, frame.active.get(name))


def checklist(m: ChecklistMeasure, name: str, frame: Frame | RowBlock) -> np.ndarray:
    """R10: Σ points of the items that are met."""
    out = np.zeros(frame.n)
    for col, points in m.items.items():
        out += np.asarray(frame.column(col), dtype=np.float64) * points
    return out


def column(m: ColumnMeasure, name: str, frame: Frame | RowBlock) -> np.ndarray:
    """The records column as it is."""
    return _num(frame, m.column)


def _person_periods(frame: Frame, within: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The rows in (person, period) order, and each sorted row's run: the person, and within
    a person the quarter or year (``within``) its period falls in.
    """
    order = np.lexsort((frame.period, frame.person))
    key = frame.person[order].astype(np.int64)
    if within is not None:
        block = to_rollup(frame.period[order], frame.policy.calendar.frequency, within)
        key = pd.factorize(pd.MultiIndex.from_arrays([key, block]))[0].astype(np.int64)
    return order, key


def _running(values: np.ndarray, key: np.ndarray, how: str) -> np.ndarray:
    """The running sum, mean or maximum of ``values`` (in run order) within each run of ``key``."""
    grouped = pd.Series(values).groupby(key, sort=False)
    if how == "max":
        return grouped.cummax().to_numpy(dtype=np.float64)
    total = pd.Series(np.nan_to_num(values)).groupby(key, sort=False).cumsum().to_numpy()
    if how == "sum":
        return np.round(total, 9)
    seen = pd.Series(~np.isnan(values)).groupby(key, sort=False).cumsum().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.round(np.where(seen > 0, total / np.maximum(seen, 1), np.nan), 9)


def cumulative(m: CumulativeMeasure, name: str, frame: Frame | RowBlock) -> np.ndarray:
    """The running total of a column over each person's periods (restarting each quarter or
    year when the measure says so).
    """
    frame = _whole(frame)
    order, key = _person_periods(frame, None if m.reset == "never" else m.reset)
    out = np.empty(frame.n)
    out[order] = _running(_num(frame, m.column)[order], key, "sum")
    return out


def window(m: WindowMeasure, name: str, frame: Frame | RowBlock) -> np.ndarray:
    """The sum, mean or maximum of a column over the last ``periods`` periods of the person, or
    over the quarter or year to date.
    """
    frame = _whole(frame)
    values = _num(frame, m.column)
    order, key = _person_periods(frame, m.within)
    out = np.empty(frame.n)
    if m.within is not None:
        out[order] = _running(values[order], key, m.how)
        return out
    assert m.periods is not None, "a window is periods or within (WindowMeasure)"
    v, period, person = values[order], frame.period[order], key
    # one key per (person, period) in sorted order: a window is a range of the sorted rows
    span = int(period.max(initial=0) - period.min(initial=0)) + m.periods + 1
    pos = person * span + (period - period.min(initial=0))
    start = np.searchsorted(pos, pos - (m.periods - 1), side="left")
    if m.how == "max":
        best = v.copy()
        for k in range(1, m.periods):  # the rows k places back, when still in the window
            back = np.arange(len(v)) - k
            ok = back >= start
            best[ok] = np.fmax(best[ok], v[back[ok]])
        out[order] = best
        return out
    filled = np.nan_to_num(v)
    total = np.concatenate([[0.0], np.cumsum(filled)])
    sums = total[np.arange(1, len(v) + 1)] - total[start]
    if m.how == "sum":
        out[order] = np.round(sums, 9)
        return out
    present = np.concatenate([[0], np.cumsum(~np.isnan(v))])
    seen = present[np.arange(1, len(v) + 1)] - present[start]
    with np.errstate(divide="ignore", invalid="ignore"):
        out[order] = np.round(np.where(seen > 0, sums / np.maximum(seen, 1), np.nan), 9)
    return out


Kernel = Callable[[Any, str, Frame | RowBlock], np.ndarray]
"""A measure's kernel: (the measure, its name, the frame or a block of it) → one value per row.
Only a ``row_local`` measure is given a block; the others are given the whole frame."""

KERNELS: dict[type, Kernel] = {RatioMeasure: ratio, TargetMeasure: target, AggregateMeasure: aggregate,
           SlaMeasure: sla, RatingMeasure: rating, ChecklistMeasure: checklist,
           ColumnMeasure: column, CumulativeMeasure: cumulative, WindowMeasure: window}


def row_local(m: object) -> bool:
    """Whether a measure reads only its own row (so it can be computed block by block)."""
    if isinstance(m, RatioMeasure):
        return m.table is None and m.group_by is None
    if isinstance(m, AggregateMeasure):
        return m.table is None and m.group_by is None
    return isinstance(m, ColumnMeasure | TargetMeasure | ChecklistMeasure)

