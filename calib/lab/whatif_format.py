"""Numbers as people read them, for the what-if app (and any panel that shows results to managers).

A manager reads ``10``, not ``10.0``; ``1,234.50 CNY``, not ``1234.5``; ``88.4%``, not
``0.883721``; ``61.00`` (the policy's precision), not ``61.000000``; and ``—`` where there is
nothing, not ``<NA>`` or ``nan``. Each function takes one value (numpy, pandas or plain Python)
and returns text; a missing value is always :data:`MISSING`.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from calib.policy.model import Policy

MISSING = "—"
"""What a missing value reads as (never ``<NA>``, ``nan`` or ``None``)."""

SCORE_DECIMALS = 2
"""Decimals of a score when the policy declares no precision of its own."""

_NA_WORDS = re.compile(r"<NA>|<NaT>|\b(?:NaN|nan|None|NaT)\b")


def is_missing(value: Any) -> bool:
    """True for None, NaN, ``pd.NA`` and ``NaT`` (a scalar; never raises on text or lists)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array: not one missing value
        return False


def integer(value: Any) -> str:
    """A whole number with thousands separators: ``10`` (not ``10.0``), ``4,480``."""
    if is_missing(value):
        return MISSING
    return f"{round(float(value)):,}"


def number(value: Any, decimals: int = 2) -> str:
    """A number: whole numbers without decimals, others to ``decimals`` places (separators kept)."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    x = float(value)
    if math.isfinite(x) and x.is_integer():
        return integer(x)
    return f"{x:,.{decimals}f}"


def money(value: Any, currency: str = "", unit: float = 0.01) -> str:
    """An amount with thousands separators, to the pay unit (cents or whole units), and currency."""
    if is_missing(value):
        return MISSING
    places = 0 if unit >= 1 else 2
    text = f"{float(value):,.{places}f}"
    return f"{text} {currency}".strip()


def signed_money(value: Any, currency: str = "", unit: float = 0.01) -> str:
    """A change of an amount: ``+100.00 CNY``, ``−35.50 CNY``, ``0.00 CNY``."""
    if is_missing(value):
        return MISSING
    text = money(abs(float(value)), currency, unit)
    return ("+" if value > 0 else "−" if value < 0 else "") + text


def percent(value: Any, decimals: int = 1) -> str:
    """A share as a percentage: 0.883721 → ``88.4%`` (a whole percentage without decimals)."""
    if is_missing(value):
        return MISSING
    x = float(value) * 100
    if round(x, decimals).is_integer():
        return f"{round(x)}%"
    return f"{x:.{decimals}f}%"


def score(value: Any, decimals: int = SCORE_DECIMALS) -> str:
    """A score to the policy's precision: ``61.00``."""
    if is_missing(value):
        return MISSING
    return f"{float(value):.{decimals}f}"


def signed_score(value: Any, decimals: int = SCORE_DECIMALS) -> str:
    """A change of a score: ``+3.25``, ``−39.00``, ``0.00``."""
    if is_missing(value):
        return MISSING
    x = float(value)
    return ("+" if x > 0 else "−" if x < 0 else "") + f"{abs(x):.{decimals}f}"


def score_decimals(policy: Policy) -> int:
    """The decimals scores are shown with: the policy's declared precision, else 2.

    Today's policy format declares none (scores are kept exact and only rounded for display), so
    this is 2 unless a later format adds ``precision`` (or ``decimals``) to the policy or its
    grading.
    """
    for owner in (policy, policy.grading):
        for name in ("precision", "decimals"):
            declared = getattr(owner, name, None)
            if isinstance(declared, int) and not isinstance(declared, bool) and 0 <= declared <= 6:
                return declared
    return SCORE_DECIMALS


def value(value: Any, kind: str = "", decimals: int = 2) -> str:
    """One input value by its column type (``int``, ``float``, ``bool``, ``label``, ``text``)."""
    if is_missing(value):
        return MISSING
    if kind == "bool" or isinstance(value, bool):
        return "yes" if bool(value) else "no"
    if kind == "int":
        return integer(value)
    if kind == "float" or isinstance(value, int | float):
        return number(value, decimals)
    return str(value)


def no_na(text: str) -> str:
    """``text`` with pandas' and Python's words for nothing (``<NA>``, ``nan``, ``None``) as ``—``."""
    return _NA_WORDS.sub(MISSING, text)
