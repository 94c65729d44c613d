"""The encoded person-period frame the kernels run on: ids and periods as integer codes, made once.

Records are the rows of the run: one per person and period. People's columns are reached through
the person code; event tables carry, for each event, the index of its record row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calib._util.text import clean_text
from calib.data.calendar import dates_to_periods, parse_periods
from calib.data.lookalike import id_fixes
from calib.data.read import Dataset
from calib.data.validate import Problems, Typed, check_tables
from calib.policy.model import Policy


@dataclass
class Events:
    """One event table: each event's record row (index into the records) and typed columns."""

    row: np.ndarray
    typed: Typed
    period: np.ndarray

    def column(self, name: str) -> np.ndarray | pd.Series:
        """A typed column of the events."""
        return self.typed.columns.get(name, self.typed.frame[name])


@dataclass
class Frame:
    """Records encoded for the engine (person codes, period ordinals) with typed columns."""

    policy: Policy
    ids: np.ndarray
    person: np.ndarray
    period: np.ndarray
    records: Typed
    people: Typed | None
    people_row: np.ndarray
    events: dict[str, Events]
    active: dict[str, np.ndarray] = field(default_factory=dict)
    """Per measure, the rows that are rated with a scorecard using it (set by the engine)."""
    memo: dict[Any, Any] | None = None
    """Stage results kept between a ``Scenario``'s re-runs (None in a plain run)."""
    dataset: Dataset | None = None
    """The data set the frame was built from, kept by a ``Scenario`` only (to check it against
    a changed policy); None in a plain run, which does not hold the raw tables after encoding."""

    @property
    def id_categories(self) -> pd.Index:
        """The distinct ids as text, for result columns (computed once)."""
        if "_ids" not in self.__dict__:
            from calib._util.columns import categories

            self.__dict__["_ids"] = categories(self.ids)
        return self.__dict__["_ids"]

    @property
    def period_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """(code per row, distinct period ordinals), computed once."""
        if "_pc" not in self.__dict__:
            self.__dict__["_pc"] = pd.factorize(self.period, sort=True)
        return self.__dict__["_pc"]

    @property
    def period_labels(self) -> pd.Categorical:
        """Each row's period as text (``2025-03``), computed once per calendar frequency."""
        from calib._util.columns import coded
        from calib.data.calendar import period_label

        freq = self.policy.calendar.frequency
        cached = self.__dict__.get("_pl")
        if cached is None or cached[0] != freq:
            inv, uniq = self.period_codes
            cached = (freq, coded([period_label(o, freq) for o in uniq], inv))
            self.__dict__["_pl"] = cached
        return cached[1]

    def under(self, policy: Policy) -> Frame:
        """The same encoded data for another policy with the same inputs (caches kept)."""
        out = Frame(policy, self.ids, self.person, self.period, self.records, self.people,
                    self.people_row, self.events, dict(self.active), self.memo, self.dataset)
        for key in ("_ids", "_pc", "_pl", "_proration"):
            if key in self.__dict__:
                out.__dict__[key] = self.__dict__[key]
        return out

    @property
    def n(self) -> int:
        """Number of person-period rows."""
        return len(self.person)

    def has_column(self, name: str) -> bool:
        """Whether ``name`` is a records column or a people column."""
        return name in self.records.frame.columns or (
            self.people is not None and name in self.people.frame.columns)

    def column(self, name: str) -> np.ndarray | pd.Series:
        """A column aligned to the records' rows: from records, else from people via the id."""
        if name in self.records.frame.columns:
            return self.records.columns.get(name, self.records.frame[name])
        if self.people is None:
            raise KeyError(name)
        cache = self.__dict__.setdefault("_people_columns", {})
        if name not in cache:
            col = self.people.columns.get(name, self.people.frame[name])
            if isinstance(col, pd.Series):
                cache[name] = col.iloc[self.people_row].reset_index(drop=True)
            elif isinstance(col, pd.Categorical):
                cache[name] = col.take(self.people_row)
            else:
                cache[name] = col[self.people_row]
        return cache[name]

    def record_ids(self) -> np.ndarray:
        """The person id of each record row."""
        return self.ids[self.person]

    def row_numbers(self) -> np.ndarray:
        """The records' row numbers as people see them (file lines), for messages."""
        return np.asarray(self.records.rows)

    def blocks(self, size: int = 65_536) -> list[RowBlock]:
        """The rows cut into blocks small enough for their temporaries to stay in cache."""
        return [RowBlock(self, start, min(start + size, self.n))
                for start in range(0, max(self.n, 1), size)]


@dataclass
class RowSubset:
    """Some of a frame's rows (an index array or a slice) with the reading interface row-wise
    stages need (the policy, the number of rows, columns): a re-run re-combines only the rows
    whose inputs moved.
    """

    frame: Frame
    rows: np.ndarray | slice

    @property
    def n(self) -> int:
        """Rows in the subset."""
        if isinstance(self.rows, slice):
            return len(range(*self.rows.indices(self.frame.n)))
        return len(self.rows)

    @property
    def policy(self) -> Policy:
        """The frame's policy."""
        return self.frame.policy

    def column(self, name: str) -> np.ndarray | pd.Series:
        """The subset's part of a frame column."""
        col = self.frame.column(name)
        if isinstance(col, pd.Series):
            return col.iloc[self.rows]
        return col[self.rows]


class RowBlock(RowSubset):
    """A slice of a frame's rows with the same reading interface (column, ids, row numbers).

    Row-wise stages (KPI points, sections) run block by block: on 1.2M rows this keeps each
    kernel's temporaries in the CPU cache and more than halves their cost.
    """

    def __init__(self, frame: Frame, start: int, stop: int):
        super().__init__(frame, slice(start, stop))
        self.start, self.stop = start, stop

    @property
    def n(self) -> int:
        """Rows in the block."""
        return self.stop - self.start

    @property
    def active(self) -> dict[str, np.ndarray]:
        """The frame's active-row masks, cut to the block."""
        return {k: v[self.rows] for k, v in self.frame.active.items()}

    def record_ids(self) -> np.ndarray:
        """The person id of each row of the block."""
        return self.frame.ids[self.frame.person[self.rows]]

    def row_numbers(self) -> np.ndarray:
        """The block's row numbers as people see them."""
        return self.frame.row_numbers()[self.rows]


def _people_codes(policy: Policy, typed: dict[str, Typed], p: Problems
                  ) -> tuple[np.ndarray, pd.Index]:
    """The index of distinct person ids, and each id's row in the people table."""
    pid = policy.inputs.id
    people = typed.get("people")
    if people is None:
        ids = pd.Index(pd.unique(clean_text(typed["records"].frame[pid]).dropna()))
        return np.arange(len(ids)), ids
    col = clean_text(people.frame[pid])
    dup = col.duplicated(keep="first").to_numpy() & col.notna().to_numpy()
    p.rows("people", dup, pid, "duplicate person", "keep one row per person in the people table",
           col)
    valid = ~dup & col.notna().to_numpy()
    return np.flatnonzero(valid), pd.Index(col[valid])


def _unknown_people(p: Problems, table: str, column: str, ids: pd.Series, person: np.ndarray,
                    people_index: pd.Index, most: int = 1000) -> None:
    """Rows whose id is not in the people table; when a spreadsheet changed the id (1001.0, 123
    for 00123, e3 for E3, 1.1E+17) the fix names the id to write (``calib.data.lookalike``).
    """
    unknown = (person < 0) & ids.notna().to_numpy()
    if not unknown.any():
        return
    text = clean_text(ids)
    distinct = pd.unique(text[unknown].dropna())
    fixes = id_fixes([str(v) for v in distinct[:most]], people_index)
    for value, fix in fixes.items():
        rows = unknown & (text == value).fillna(False).to_numpy(dtype=bool)
        p.rows(table, rows, column, "person not in the people table", fix, ids)
        unknown &= ~rows
    p.rows(table, unknown, column, "person not in the people table",
           "add the person to people.csv or fix the id", ids)


def _lookup(ids: pd.Series, index: pd.Index) -> np.ndarray:
    codes, uniques = pd.factorize(ids, use_na_sentinel=True)
    found = index.get_indexer(pd.Index(clean_text(uniques)))  # the distinct ids only
    return np.append(found, -1)[codes]


def build_frame(policy: Policy, ds: Dataset) -> Frame:
    """Validate ``ds`` against ``policy`` and encode it; raises DataError listing every problem."""
    typed, p = check_tables(policy, ds)
    if "records" not in typed or any(t in ds.tables and t not in typed
                                     for t in policy.inputs.table_names()):
        p.raise_if_any()   # a table refused whole (no rows, a missing column): nothing to encode
    pid = policy.inputs.id
    people_pos, people_index = _people_codes(policy, typed, p)
    rec = typed["records"]
    person = _lookup(rec.frame[pid], people_index)
    _unknown_people(p, "records", pid, rec.frame[pid], person, people_index)
    spec = policy.inputs.records
    period, bad = _periods(rec, spec.period, spec.date, policy)
    source = spec.period or spec.date
    p.rows("records", bad, source, "not a period",
           _period_fix(policy), rec.frame[source])
    key = person.astype(np.int64) * 1_000_003 + period
    dup = pd.Index(key).duplicated(keep="first") & (person >= 0) & ~bad
    p.rows("records", dup, source, "duplicate person-period",
           "keep one records row per person and period (or add them up first)",
           rec.frame[source])
    key_index = pd.Index(np.where(dup | bad | (person < 0), -1 - np.arange(len(key)), key))
    events = {}
    for name in policy.inputs.events:
        if name not in typed:
            continue
        events[name] = _events(name, typed[name], policy, people_index, key_index, p)
    from calib.engine.checks import check_rules

    people = typed.get("people")
    code = np.maximum(person, 0)
    frame = Frame(policy, people_index.to_numpy(dtype=object), code, period, rec, people,
                  people_pos[code] if len(people_pos) else code, events)
    check_rules(frame, p)
    p.raise_if_any()
    return frame


def _period_fix(policy: Policy) -> str:
    examples = {"week": "2025-W07", "month": "2025-03", "quarter": "2025Q1", "year": "2025"}
    freq = policy.calendar.frequency
    return f"write the period as {examples[freq]} (one {freq}, as the calendar counts) or as a date"


def _periods(t: Typed, period_col: str | None, date_col: str | None, policy: Policy
             ) -> tuple[np.ndarray, np.ndarray]:
    if period_col is not None:
        return parse_periods(t.frame[period_col], policy.calendar, t.factorize(period_col))
    assert date_col is not None
    return dates_to_periods(t.frame[date_col], policy.calendar)


def _events(name: str, t: Typed, policy: Policy, people_index: pd.Index, key_index: pd.Index,
            p: Problems) -> Events:
    pid = policy.inputs.id
    spec = policy.inputs.events[name]
    person = _lookup(t.frame[pid], people_index)
    _unknown_people(p, name, pid, t.frame[pid], person, people_index)
    period, bad = _periods(t, spec.period, spec.date, policy)
    source = spec.period or spec.date
    p.rows(name, bad, source, "not a period or date", _period_fix(policy), t.frame[source])
    key = person.astype(np.int64) * 1_000_003 + period
    row = key_index.get_indexer(key)
    orphan = (row < 0) & (person >= 0) & ~bad
    if name not in _period_only_tables(policy):
        p.rows(name, orphan, source, "no records row for this person and period",
               "add the person's records row for that period, or remove the event", t.frame[source])
    return Events(row, t, period)


def _period_only_tables(policy: Policy) -> set[str]:
    """Event tables read only by roll-ups (year-end evaluations): they need no monthly record."""
    used_by_rows = set()
    for m in policy.measures.values():
        table = getattr(m, "table", None)
        if table:
            used_by_rows.add(table)
    for card in policy.scorecards.values():
        if card.adjustments is not None:
            used_by_rows.add(card.adjustments.table)
    return set(policy.inputs.events) - used_by_rows
