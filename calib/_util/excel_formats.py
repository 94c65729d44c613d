"""Number formats of the workbooks calib writes: one home, named from the domain.

- **money**: thousands separated, with the pay unit's decimals (``#,##0.00`` for cents,
  ``#,##0`` for whole currency units: a figure shows what is paid, to the unit);
- **score**: two decimals, more when a grade's minimum has more (a bound of 89.125 shows scores
  as 89.124 and 89.125, never both as 89.12);
- **percent** for ratios, shares and grade ratios; **count** for whole numbers (people, rows,
  days); **decimal** for a number a person types into a template; **date**, **date-time**;
  **text** for template columns that hold ids, periods and labels.

Writers take their formats here (``for_policy`` for a scheme's money and score); ``FORMATS``
lists every format this module gives, and a test holds every workbook calib writes to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the policy is read, never imported at run time (``_util`` is the bottom layer)
    from calib.policy.model import Policy

PERCENT = "0.0%"
COUNT = "0"
DECIMAL = "0.00##"
TEXT = "@"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"

PAY_UNITS = (0.01, 1.0)
"""The pay units a policy may declare (``pay.unit``)."""
SCORE_DECIMALS = 2
"""Decimals of a score when no grade bound needs more."""
MAX_SCORE_DECIMALS = 6


def money(unit: float = 0.01) -> str:
    """Money with thousands separators and the decimals of ``unit`` (0.01 → ``#,##0.00``,
    1 → ``#,##0``).
    """
    decimals = _decimals(unit)
    return "#,##0." + "0" * decimals if decimals else "#,##0"


def _decimals(value: float) -> int:
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def score(bounds: Iterable[float | None] = ()) -> str:
    """Scores with ``SCORE_DECIMALS`` decimals, or as many as the finest of ``bounds`` (a
    scale's grade minimums) needs, at most ``MAX_SCORE_DECIMALS``.
    """
    finest = max((_decimals(b) for b in bounds if b is not None), default=0)
    return "0." + "0" * min(max(SCORE_DECIMALS, finest), MAX_SCORE_DECIMALS)


MONEY = money()
SCORE = score()

FORMATS: frozenset[str] = frozenset({
    PERCENT, COUNT, DECIMAL, TEXT, DATE, DATETIME, *(money(u) for u in PAY_UNITS),
    *("0." + "0" * d for d in range(SCORE_DECIMALS, MAX_SCORE_DECIMALS + 1)),
})
"""Every number format a calib workbook may hold (besides Excel's ``General``)."""


@dataclass(frozen=True)
class SchemeFormats:
    """A scheme's money and score formats."""

    money: str = MONEY
    score: str = SCORE


def for_policy(*policies: Policy | None) -> SchemeFormats:
    """The money format of the policies' pay unit (the finer one when two differ) and the score
    format their grade bounds need; the defaults without pay or grading.
    """
    units = [p.pay.unit for p in policies if p is not None and p.pay is not None]
    bounds = [g.min for p in policies if p is not None and p.grading is not None
              for g in p.grading.scale.grades]
    return SchemeFormats(money(min(units, default=0.01)), score(bounds))
