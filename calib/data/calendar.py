"""Periods (SCHEMES.md R20): parse period labels and place dates in periods, custom bounds included.

Only the distinct values of a column are parsed, so a 1.2M-row table with 24 months costs one
``factorize`` and 24 parses.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pandas._libs.tslibs.nattype import NaTType

from calib._util.text import text_codes
from calib.policy.inputs import Calendar

FREQ = {"week": "W-SUN", "month": "M", "quarter": "Q-DEC", "year": "Y-DEC"}


#: a date written with day and month as numbers before the year (03/04/2024, 3.4.24, 03-04-2024):
#: nothing in the value says which is the day
AMBIGUOUS_DATE = re.compile(r"^\s*\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2}(?:\d{2})?(?:\D|$)")
#: an ISO date (2024-03-04), also how Excel date cells are read (2024-03-04 00:00:00)
ISO_DATE = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}(?:[T ]|$)")


def _parse_label(text: str, freq: str) -> pd.Period:
    text = text.strip()
    if AMBIGUOUS_DATE.match(text):
        raise ValueError(f"{text!r}: day and month order unknown")
    if freq == "W-SUN" and "-W" in text.upper():
        year, week = text.upper().split("-W")
        monday = pd.Timestamp.fromisocalendar(int(year), int(week), 1)
        return pd.Period(monday, freq)
    if _span(text) > _SPAN[freq[0]]:
        raise ValueError(f"{text!r} spans more than one period of {freq}")
    period = pd.Period(text, freq)
    if period is pd.NaT:   # blank or 'NaT': pandas gives no period rather than an error
        raise ValueError(f"{text!r} is not a period")
    return period


#: the length order of period kinds, by the first letter of pandas' frequency (A: old annual)
_SPAN = {"D": 0, "W": 1, "M": 2, "Q": 3, "Y": 4, "A": 4}


def _span(text: str) -> int:
    """How long the period a label names is (``_SPAN``), or -1 when the label has no span of its own.

    A coarser label than the calendar's (``2025Q1`` or ``2025`` where the calendar counts months)
    would otherwise be read as its first month, silently; it is refused as not a period instead.
    """
    try:
        period = pd.Period(text)
    except (ValueError, TypeError, OverflowError):
        return -1
    return -1 if period is pd.NaT else _SPAN.get(period.freqstr[0], -1)


def parse_periods(values: pd.Series, calendar: Calendar,
                  factorized: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Period ordinals of a column of labels (``2025-03``, ``2025Q1``, ``2025-W07``) or dates.

    A date is placed by the calendar (so with ``start_day: 26`` the 27th of January is in 2025-02).
    Returns (ordinals, bad) where ``bad`` marks rows that are not a period of this frequency.
    """
    codes, uniques = factorized or pd.factorize(values, use_na_sentinel=True)
    ordinals = np.empty(len(uniques) + 1, dtype=np.int64)
    ok = np.ones(len(uniques) + 1, dtype=bool)
    ordinals[-1], ok[-1] = -1, False
    freq = FREQ[calendar.frequency]
    for i, value in enumerate(uniques):
        try:
            if isinstance(value, pd.Timestamp | np.datetime64) or _looks_like_date(value):
                ordinals[i] = date_period(pd.Timestamp(value), calendar).ordinal
            else:
                ordinals[i] = _parse_label(str(value), freq).ordinal
        except (ValueError, TypeError, OverflowError):
            ordinals[i], ok[i] = -1, False
    pick = np.where(codes < 0, len(uniques), codes)
    return ordinals[pick], ~ok[pick]


def _looks_like_date(value: object) -> bool:
    text = str(value).strip()
    return len(text) >= 8 and text[:4].isdigit() and text.count("-") == 2 and "W" not in text


def date_period(ts: pd.Timestamp, calendar: Calendar) -> pd.Period:
    """The period a date falls in; with ``start_day`` d > 1 the month runs d .. d−1 of the next."""
    period = pd.Period(ts, FREQ[calendar.frequency])
    if calendar.frequency == "month" and calendar.start_day > 1 and ts.day >= calendar.start_day:
        period = period + 1
    return period


def parse_dates(values: pd.Series, fmt: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """Timestamps of a column of dates; returns (timestamps, ambiguous).

    Without ``fmt`` a value written day and month before the year (03/04/2024) is not guessed:
    it is left missing and marked ``ambiguous``. With ``fmt`` (``"%d/%m/%Y"``) such values are
    read by it; ISO dates and Excel date cells are read as ISO either way. Only the distinct
    texts are parsed.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values, np.zeros(len(values), dtype=bool)
    codes, names = text_codes(values)  # blank cells are missing
    texts = pd.Series(names, dtype=object)
    iso = texts.str.match(ISO_DATE).to_numpy(dtype=bool)
    unclear = texts.str.match(AMBIGUOUS_DATE).to_numpy(dtype=bool) & ~iso
    parsed = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[us]")
    if iso.any():
        parsed[iso] = _naive(texts[iso], "ISO8601")
    if fmt is not None:
        rest = ~iso
        parsed[rest] = _naive(texts[rest], fmt)
        unclear[:] = False
    else:
        rest = ~iso & ~unclear
        if rest.any():
            parsed[rest] = _naive(texts[rest], "mixed")
    pick = np.where(codes < 0, len(names), codes)
    out = pd.Series(np.append(parsed.to_numpy(dtype="datetime64[us]"), np.datetime64("NaT"))[pick],
                    index=values.index)
    return out, np.append(unclear, False)[pick]


def _naive(texts: pd.Series, fmt: str) -> np.ndarray:
    """Texts parsed by ``fmt`` as datetime64[us]; a time zone written in a value is dropped (the
    clock time written is kept), an unreadable value is NaT.
    """
    try:
        ts = pd.to_datetime(texts, errors="coerce", format=fmt)
    except (ValueError, TypeError, OverflowError):  # mixed time zones, a bad format string
        ts = pd.Series([_one(t, fmt) for t in texts], index=texts.index)
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_localize(None)
    return ts.astype("datetime64[us]").to_numpy()


def _one(text: str, fmt: str) -> pd.Timestamp | NaTType:
    try:
        ts = pd.Timestamp(pd.to_datetime(text, format=fmt))
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def dates_to_periods(values: pd.Series, calendar: Calendar, fmt: str | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Period ordinals of a date/timestamp column, vectorised; returns (ordinals, bad).
    Dates are read as ``parse_dates`` reads them (an ambiguous 03/04/2024 is bad without ``fmt``).
    """
    ts, _ = parse_dates(values, fmt)
    bad = ts.isna().to_numpy()
    freq = FREQ[calendar.frequency]
    filled = ts.fillna(pd.Timestamp("2000-01-01"))
    ordinals = filled.dt.to_period(freq).array.asi8.astype(np.int64)
    if calendar.frequency == "month" and calendar.start_day > 1:
        ordinals = ordinals + (filled.dt.day.to_numpy() >= calendar.start_day)
    return np.where(bad, -1, ordinals), bad


def period_label(ordinal: int, frequency: str) -> str:
    """Readable label of a period ordinal: ``2025-03``, ``2025Q1``, ``2025-W07``, ``2025``."""
    period = pd.Period(ordinal=int(ordinal), freq=FREQ[frequency])
    if frequency == "week":
        iso = period.start_time.isocalendar()
        return f"{iso[0]}-W{iso[1]:02d}"
    if frequency == "month":
        return period.strftime("%Y-%m")
    return str(period)


def period_days(ordinals: np.ndarray, calendar: Calendar) -> np.ndarray:
    """Calendar days in each period (for proration)."""
    uniq, inv = np.unique(ordinals, return_inverse=True)
    days = np.array([_days(o, calendar) for o in uniq], dtype=np.float64)
    return days[inv]


def period_bounds(ordinal: int, calendar: Calendar) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a period, honouring ``start_day``."""
    period = pd.Period(ordinal=int(ordinal), freq=FREQ[calendar.frequency])
    start, end = period.start_time.normalize(), period.end_time.normalize()
    if calendar.frequency == "month" and calendar.start_day > 1:
        prev = period - 1
        start = pd.Timestamp(prev.year, prev.month, calendar.start_day)
        end = pd.Timestamp(period.year, period.month, calendar.start_day - 1)
    return start, end


def _days(ordinal: int, calendar: Calendar) -> int:
    start, end = period_bounds(ordinal, calendar)
    return int((end - start).days) + 1


def to_rollup(ordinals: np.ndarray, frequency: str, target: str) -> np.ndarray:
    """Map period ordinals to quarter or year ordinals (a week goes where its Thursday is)."""
    uniq, inv = np.unique(ordinals, return_inverse=True)
    out = np.empty(len(uniq), dtype=np.int64)
    for i, o in enumerate(uniq):
        period = pd.Period(ordinal=int(o), freq=FREQ[frequency])
        if frequency == "week":
            period = pd.Period(period.start_time + pd.Timedelta(days=3), "D")
        out[i] = period.asfreq(FREQ[target], how="end").ordinal
    return out[inv]
