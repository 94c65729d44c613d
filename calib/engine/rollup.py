"""R20: roll period scores up to quarters and years, with weighted parts (the 20/30/50 rule).

A person is rolled up for every quarter or year in which they have a records row. Each part is the
mean of its values within the roll-up period; a part with no value is left out and the others are
re-weighted. More than ``max_not_rated`` periods not rated → the roll-up is not rated.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calib._util.columns import LabelColumn, coded
from calib._util.memo import remember
from calib._util.text import clean_text
from calib.data.calendar import period_label, to_rollup
from calib.engine.frame import Events, Frame
from calib.engine.result import Lazy
from calib.kernels.conditions import holds
from calib.policy.periods import Rollup

_M = 1_000_003  # person code × _M + period ordinal: one int64 key per person and period


def _mean_by(keys: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Mean of the non-missing values per key (keys −1 are left out); NaN where there is none."""
    ok = ~np.isnan(values) & (keys >= 0)
    bucket = np.where(ok, keys, n)  # one spare bucket for what is left out
    total = np.bincount(bucket, weights=np.where(ok, values, 0.0), minlength=n + 1)[:n]
    count = np.bincount(bucket, minlength=n + 1)[:n]
    return _divide(total, count)


def _divide(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


@dataclass
class RollupRows:
    """Which records rows make each roll-up row: ``codes`` (roll-up row of each records row),
    and each roll-up row's person code and target period ordinal.
    """

    codes: np.ndarray
    person: np.ndarray
    period: np.ndarray
    score: np.ndarray | None = None
    """Each roll-up row's score (NaN where not rated), as in the table."""
    rated: np.ndarray | None = None
    """Whether each roll-up row is rated."""
    period_label: pd.Categorical | None = None
    """Each roll-up row's period as text (``2025-Q1``)."""
    vetoed: np.ndarray | None = None
    """Whether a roll-up veto gives each roll-up row the lowest grade (None: the roll-up has none)."""

    def last_row(self, frame_period: np.ndarray) -> np.ndarray:
        """The latest records row of each roll-up row (its group columns speak for the row)."""
        order = np.lexsort((frame_period, self.codes))
        ends = np.flatnonzero(np.diff(self.codes[order], append=-1) != 0)
        return order[ends]

    def any(self, flags: np.ndarray) -> np.ndarray:
        """Whether any records row of each roll-up row has the flag."""
        return np.bincount(self.codes, weights=flags.astype(float),
                           minlength=len(self.person)) > 0


@dataclass
class _Cells:
    """The roll-up rows of a frame for one target period (data alone decide them)."""

    codes: np.ndarray
    person: np.ndarray
    period: np.ndarray
    labels: pd.Categorical
    periods: np.ndarray


def _cells(frame: Frame, to: str) -> _Cells:
    freq = frame.policy.calendar.frequency
    pcodes, puniq = frame.period_codes
    tcode_u, tuniq = pd.factorize(to_rollup(puniq, freq, to), sort=True)
    n_t = len(tuniq)
    key = frame.person.astype(np.int64) * n_t + tcode_u[pcodes]
    used = np.bincount(key, minlength=(int(frame.person.max()) + 1) * n_t)
    occupied = np.flatnonzero(used)
    cell = np.full(len(used), -1, dtype=np.intp)
    cell[occupied] = np.arange(len(occupied))
    codes = cell[key]
    person, tperiod = occupied // n_t, tuniq[occupied % n_t]
    return _Cells(codes, person, tperiod, _labels(tperiod, to),
                  np.bincount(codes, minlength=len(occupied)))


def _event_rows(frame: Frame, cells: _Cells, to: str, source: str) -> np.ndarray:
    """Each event's roll-up row (−1: a person or period with no roll-up row)."""
    freq = frame.policy.calendar.frequency
    ev = frame.events[source]
    eperson = frame_person_of(frame, ev)
    ekey = np.where(eperson >= 0, eperson.astype(np.int64) * _M + to_rollup(ev.period, freq, to),
                    -1)
    return pd.Index(cells.person.astype(np.int64) * _M + cells.period).get_indexer(ekey)


def _event_part(frame: Frame, cells: _Cells, to: str, source: str, column: str) -> np.ndarray:
    """The mean of an event column per roll-up row (NaN where the row has no event)."""
    values = np.asarray(frame.events[source].column(column), dtype=float)
    return _mean_by(_event_rows(frame, cells, to, source), values, len(cells.person))


def roll_up(frame: Frame, name: str, rollup: Rollup, score: np.ndarray,
            rated: np.ndarray) -> tuple[Lazy, RollupRows]:
    """One roll-up table (built when first read): id, period, status, reason, score, each part,
    periods and rated periods; and the rows with their scores, tied to the records rows.

    Which records rows make each roll-up row, and the event parts, depend on the data alone:
    a ``Scenario`` keeps them (in ``frame.memo``), so a re-run only averages the new scores.
    """
    cells = remember(frame.memo, ("rollup cells", rollup.to, frame.policy.calendar.frequency),
                     lambda: _cells(frame, rollup.to))
    codes, person, tperiod, periods = cells.codes, cells.person, cells.period, cells.periods
    n = len(person)
    n_rated = np.bincount(codes, weights=rated.astype(float), minlength=n).astype(int)
    parts = []
    for part in rollup.parts:
        if part.source == "score":
            total = np.bincount(codes, weights=np.where(rated, score, 0.0), minlength=n)
            parts.append(_divide(total, n_rated))
            continue
        parts.append(remember(frame.memo, ("rollup part", rollup.to, part.source, part.column),
                              functools.partial(_event_part, frame, cells, rollup.to, part.source,
                                                part.column or "")))
    stack = np.column_stack(parts)
    weights = np.array([p.weight for p in rollup.parts])
    present = ~np.isnan(stack)
    wsum = present @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(wsum > 0, (np.where(present, stack, 0.0) @ weights) / wsum, np.nan)
    after = _after_weighting(frame, cells, rollup, value) if rollup.adjusts else None
    if after is not None:
        value = after.score
    reason = LabelColumn(n)
    if rollup.max_not_rated is not None:
        reason.set(periods - n_rated > rollup.max_not_rated,
                   f"not rated in more than {rollup.max_not_rated} periods")
    reason.set(np.isnan(value), "no rated period", only_empty=True)
    rated_here = reason.empty()
    rows = RollupRows(codes, person, tperiod, np.where(rated_here, np.round(value, 9), np.nan),
                      rated_here, period_label=cells.labels,
                      vetoed=None if after is None or not rollup.vetoes else after.vetoed)

    def table() -> pd.DataFrame:
        out = pd.DataFrame({
            "id": coded(frame.id_categories, person),
            "period": rows.period_label,
            "status": coded(["not_rated", "rated"], rated_here.astype(np.intp)),
            "reason": reason.column(),
            "score": rows.score,
        })
        for part, values in zip(rollup.parts, parts, strict=True):
            label = part.source if part.source == "score" else f"{part.source}.{part.column}"
            out[f"part:{label}"] = np.round(values, 9)
        out["periods"] = periods
        out["periods_rated"] = n_rated
        if after is not None:
            out["added"] = np.where(rated_here, np.round(after.added, 9), np.nan)
            out["capped"] = after.capped & rated_here
            if rollup.vetoes:
                out["veto"] = after.veto.column()
        return out

    return Lazy(table), rows


@dataclass
class _After:
    """What the roll-up applies after the weighting: the score, the points added, whether a bound
    held it, and the vetoes raised (their labels, and as flags).
    """

    score: np.ndarray
    added: np.ndarray
    capped: np.ndarray
    veto: LabelColumn
    vetoed: np.ndarray


def _after_weighting(frame: Frame, cells: _Cells, rollup: Rollup, value: np.ndarray) -> _After:
    """Points added over the roll-up period, the bounds, and the vetoes (issue 21, item 2)."""
    n = len(cells.person)
    added = np.zeros(n)
    for add in rollup.add:
        if add.source == "records":
            column = np.nan_to_num(np.asarray(frame.column(add.column), dtype=float))
            part = np.bincount(cells.codes, weights=column, minlength=n)
        else:
            part = _event_total(frame, cells, rollup.to, add.source, add.column)
        added += part * add.factor
    score = value + added
    low = -np.inf if rollup.min is None else rollup.min
    high = np.inf if rollup.max is None else rollup.max
    bounded = np.clip(score, low, high)
    capped = ~np.isnan(score) & (bounded != score)
    veto = LabelColumn(n)
    for v in rollup.vetoes:
        hit = holds(v.when, frame.column(v.when.column))
        veto.set(np.bincount(cells.codes, weights=hit.astype(float), minlength=n) > 0,
                 v.label or f"{v.when.column}", only_empty=True)
    return _After(np.round(bounded, 9), added, capped, veto, ~veto.empty())


def _event_total(frame: Frame, cells: _Cells, to: str, source: str, column: str) -> np.ndarray:
    """The sum of an event column per roll-up row (0 where the row has no event)."""
    ecodes = _event_rows(frame, cells, to, source)
    ok = ecodes >= 0
    values = np.nan_to_num(np.asarray(frame.events[source].column(column), dtype=float))
    return np.bincount(ecodes[ok], weights=values[ok], minlength=len(cells.person))


def _labels(ordinals: np.ndarray, freq: str) -> pd.Categorical:
    uniq, inv = np.unique(ordinals, return_inverse=True)
    return coded([period_label(o, freq) for o in uniq], inv)


def frame_person_of(frame: Frame, ev: Events) -> np.ndarray:
    """Person code of each event (through its record row, or its id when it has none)."""
    pid = frame.policy.inputs.id
    index = pd.Index(frame.ids)
    return index.get_indexer(clean_text(ev.typed.frame[pid]))
