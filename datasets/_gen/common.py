"""Shared population model for the example data sets.

Every scheme draws its people the same way: a fixed seed, groups with their own effect on
performance, staff already employed before the history starts, joiners and leavers during it,
probation months after hiring, long absences, and seasonality by calendar month. Only the
numbers the scheme's policy reads are written out; the hidden effects stay here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

FIRST = dt.date(2024, 1, 1)
LAST = dt.date(2025, 12, 31)
PERIODS = [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]
GENDERS = ["女", "男"]
LABELS_4 = ["优秀", "良好", "一般", "较差"]


def day(value: dt.date | str) -> dt.date:
    """A date from ``2024-03-15`` or a date."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def random_dates(rng: np.random.Generator, start: dt.date, end: dt.date, n: int) -> list[dt.date]:
    """``n`` dates drawn uniformly from [start, end]."""
    offsets = rng.integers(0, (end - start).days + 1, size=n)
    return [start + dt.timedelta(days=int(o)) for o in offsets]


def window(period: str, start_day: int = 1) -> tuple[dt.date, dt.date]:
    """First and last day of ``period``; with ``start_day`` 26, 2024-02 is 26 Jan – 25 Feb."""
    year, month = int(period[:4]), int(period[5:])
    if start_day == 1:
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        return dt.date(year, month, 1), nxt - dt.timedelta(days=1)
    prev = dt.date(year - (month == 1), (month - 2) % 12 + 1, start_day)
    return prev, dt.date(year, month, start_day - 1)


def assign_groups(rng: np.random.Generator, n: int, sizes: dict[str, float]) -> np.ndarray:
    """Group of each of ``n`` people, in proportion to ``sizes`` (shuffled, every group used)."""
    names = list(sizes)
    share = np.array([sizes[g] for g in names], dtype=float)
    counts = np.floor(share / share.sum() * n).astype(int)
    counts[: n - counts.sum()] += 1
    out = np.repeat(np.array(names, dtype=object), counts)
    rng.shuffle(out)
    return out


def staff(rng: np.random.Generator, n: int, prefix: str, join_share: float = 0.25,
          leave_share: float = 0.18) -> pd.DataFrame:
    """``n`` people: id, gender, hire and leave dates, and a hidden ``ability`` (standard normal).

    About ``join_share`` join during the history (2024-01 .. 2025-11), the rest were hired between
    2015 and 2023; about ``leave_share`` leave during it, at least two months after joining.
    """
    ids = [f"{prefix}{i:04d}" for i in range(1, n + 1)]
    joins = rng.random(n) < join_share
    early = random_dates(rng, dt.date(2015, 1, 1), dt.date(2023, 12, 31), n)
    late = random_dates(rng, dt.date(2024, 1, 2), dt.date(2025, 11, 30), n)
    hired = [b if j else a for a, b, j in zip(early, late, joins, strict=True)]
    leaves = rng.random(n) < leave_share
    left: list[dt.date | None] = []
    for h, lv, u in zip(hired, leaves, rng.random(n), strict=True):
        start = max(h + dt.timedelta(days=60), dt.date(2024, 1, 15))
        if not lv or start >= dt.date(2025, 12, 20):
            left.append(None)
        else:
            left.append(start + dt.timedelta(days=int(u * (dt.date(2025, 12, 20) - start).days)))
    return pd.DataFrame({
        "employee_id": ids,
        "gender": rng.choice(GENDERS, size=n, p=[0.6, 0.4]),
        "hired": hired,
        "left": left,
        "ability": rng.normal(0.0, 1.0, size=n),
    })


def person_periods(people: pd.DataFrame, rng: np.random.Generator, start_day: int = 1,
                   probation_months: int = 3, absence_rate: float = 0.012) -> pd.DataFrame:
    """One row per person and period employed: calendar days employed, probation, absence.

    Probation covers the period of hiring and the next ``probation_months - 1``. A long absence
    (sick or family leave) starts in a period with probability ``absence_rate`` and lasts 1–4
    periods; ``absent`` marks such periods and ``leave_days`` holds short leave in the others.
    """
    rows = []
    for person in people.itertuples(index=False):
        absent_left = 0
        for k, period in enumerate(PERIODS):
            first, last = window(period, start_day)
            end = person.left or LAST
            if person.hired > last or end < first:
                continue
            lo, hi = max(first, person.hired), min(last, end)
            hired_k = _period_index(person.hired, start_day)
            if absent_left == 0 and rng.random() < absence_rate:
                absent_left = int(rng.integers(1, 5))
            absent = absent_left > 0
            absent_left = max(0, absent_left - 1)
            rows.append({
                "employee_id": person.employee_id,
                "period": period,
                "k": k,
                "days_employed": (hi - lo).days + 1,
                "period_days": (last - first).days + 1,
                "probation": 0 <= k - hired_k < probation_months,
                "absent": absent,
            })
    out = pd.DataFrame(rows)
    short = rng.poisson(0.4, size=len(out))
    out["leave_days"] = np.where(out["absent"], 0, np.minimum(short, out["days_employed"] // 3))
    return out


def _period_index(date: dt.date, start_day: int) -> int:
    """Index in PERIODS of the period holding ``date`` (negative before the history)."""
    year, month = date.year, date.month
    if start_day != 1 and date.day >= start_day:
        year, month = year + month // 12, month % 12 + 1
    return (year - 2024) * 12 + month - 1


def effects(rng: np.random.Generator, names, sd: float) -> dict[str, float]:
    """A random effect per group, rater or team (normal with ``sd``), rounded for the data card."""
    return {name: round(float(rng.normal(0.0, sd)), 3) for name in names}


def season(periods: pd.Series, by_month: dict[int, float]) -> np.ndarray:
    """Seasonal factor of each period (``2024-11`` → ``by_month[11]``, 1.0 when not listed)."""
    months = periods.str.slice(5, 7).astype(int)
    return months.map(lambda m: by_month.get(m, 1.0)).to_numpy(dtype=float)


def binom(rng: np.random.Generator, n, p) -> np.ndarray:
    """Binomial counts with ``p`` clipped to [0, 1]."""
    return rng.binomial(np.asarray(n, dtype=np.int64), np.clip(np.asarray(p, dtype=float), 0, 1))


def label_from(score: np.ndarray, labels=LABELS_4, cuts=(1.0, -0.2, -1.3)) -> np.ndarray:
    """Ordinal label of a latent score: above cuts[0] the best label, ..., below the last the worst."""
    idx = np.select([score > cuts[0], score > cuts[1], score > cuts[2]], [0, 1, 2], default=3)
    return np.array(labels, dtype=object)[idx]


def stamp(date: dt.date, minutes: float) -> str:
    """``2024-03-15 09:12:00``: ``minutes`` after midnight of ``date``."""
    t = dt.datetime.combine(date, dt.time()) + dt.timedelta(minutes=float(minutes))
    return t.strftime("%Y-%m-%d %H:%M:%S")


def public_people(people: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The people table as written: chosen columns, dates as ISO text, hidden effects dropped."""
    out = people[columns].copy()
    for col in ("hired", "left"):
        if col in out:
            out[col] = [d.isoformat() if d is not None and not pd.isna(d) else "" for d in out[col]]
    return out


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """Write each table as ``<name>.csv`` (UTF-8, ``\\n`` line ends, no index)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
