"""Working days on China's calendar: public holidays off, make-up working days (调休) on.

Why: an employee's time to appeal and the committee's time to decide are counted in working days
(SCHEMES.md R37). A plain Monday–Friday count is wrong around the Spring Festival and National Day,
when Saturdays or Sundays become working days and weekdays become holidays.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from calib.cycle.ledger import CycleError


def is_workday(day: date) -> bool:
    """Whether ``day`` is a working day in China (a make-up Saturday is; a holiday Monday is not).

    Raises
    ------
    CycleError
        When the installed chinese-calendar does not know ``day``'s year yet.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise CycleError(
            f"the working days of {day.isoformat()} are not known to the installed chinese-calendar "
            f"package (it covers the years the State Council has published; {exc}). Update chinese-calendar "
            f"(pip install -U chinese-calendar) once the holidays of {day.year} are published") from exc


def add_workdays(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself is not counted).

    Filed on Thursday 2026-02-12, 7 working days: Fri 13, Sat 14 (调休), [15–23 Spring Festival],
    Tue 24, Wed 25, Thu 26, Fri 27, Sat 28 (调休) → 2026-02-28.
    """
    if days < 0:
        raise ValueError("days must be 0 or more")
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


def parse_date(text: str, what: str) -> date:
    """A date typed as ``YYYY-MM-DD``; anything else is refused naming ``what`` it was for."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise CycleError(f"{what} must be a date written as YYYY-MM-DD (e.g. 2026-02-12), got "
                         f"'{text}'") from None
