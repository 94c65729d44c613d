"""R20: roll period scores up to quarters and years, with weighted parts (the 20/30/50 rule).

A person is rolled up for every quarter or year in which they have a records row. Each part is the
mean of its values within the roll-up period; a part with no value is left out and the others are
re-weighted. More than ``max_not_rated`` periods not rated → the roll-up is not rated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.calendar import period_label, to_rollup
from calib.frame import Frame
from calib.policy.periods import Rollup

_M = 1_000_003  # person code × _M + period ordinal: one int64 key per person and period


def _mean_by(keys: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    ok = ~np.isnan(values) & (keys >= 0)
    total = np.bincount(keys[ok], weights=values[ok], minlength=n)
    count = np.bincount(keys[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def roll_up(frame: Frame, name: str, rollup: Rollup, score: np.ndarray,
            rated: np.ndarray) -> pd.DataFrame:
    """One roll-up table: id, period, status, reason, score, each part, periods and rated periods."""
    freq = frame.policy.calendar.frequency
    target = to_rollup(frame.period, freq, rollup.to)
    key = frame.person.astype(np.int64) * _M + target
    codes, uniques = pd.factorize(key, sort=True)
    n = len(uniques)
    person, tperiod = uniques // _M, uniques % _M
    periods = np.bincount(codes, minlength=n)
    n_rated = np.bincount(codes, weights=rated.astype(float), minlength=n).astype(int)
    parts = []
    for part in rollup.parts:
        if part.source == "score":
            parts.append(_mean_by(codes, np.where(rated, score, np.nan), n))
            continue
        ev = frame.events[part.source]
        eperson = frame_person_of(frame, ev)
        ekey = np.where(eperson >= 0, eperson.astype(np.int64) * _M
                        + to_rollup(ev.period, freq, rollup.to), -1)
        ecodes = pd.Index(uniques).get_indexer(ekey)
        parts.append(_mean_by(ecodes, np.asarray(ev.column(part.column), dtype=float), n))
    stack = np.column_stack(parts)
    weights = np.array([p.weight for p in rollup.parts])
    present = ~np.isnan(stack)
    wsum = present @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(wsum > 0, (np.where(present, stack, 0.0) @ weights) / wsum, np.nan)
    reason = np.full(n, None, dtype=object)
    not_rated = periods - n_rated
    if rollup.max_not_rated is not None:
        too_many = not_rated > rollup.max_not_rated
        reason[too_many] = f"not rated in more than {rollup.max_not_rated} periods"
    reason[(reason == None) & np.isnan(value)] = "no rated period"  # noqa: E711
    value = np.where(reason == None, np.round(value, 9), np.nan)  # noqa: E711
    out = pd.DataFrame({
        "id": frame.ids[person],
        "period": [period_label(t, rollup.to) for t in tperiod],
        "status": np.where(reason == None, "rated", "not_rated"),  # noqa: E711
        "reason": reason,
        "score": value,
    })
    for part, values in zip(rollup.parts, parts, strict=True):
        label = part.source if part.source == "score" else f"{part.source}.{part.column}"
        out[f"part:{label}"] = np.round(values, 9)
    out["periods"] = periods
    out["periods_rated"] = n_rated
    out.attrs["rollup"] = name
    return out


def frame_person_of(frame: Frame, ev) -> np.ndarray:
    """Person code of each event (through its record row, or its id when it has none)."""
    pid = frame.policy.inputs.id
    index = pd.Index(frame.ids)
    return index.get_indexer(ev.typed.frame[pid].astype("string").str.strip())
