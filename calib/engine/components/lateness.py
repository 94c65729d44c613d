"""R29: ``rate`` per late minute, at most ``max``, from an event table of late arrivals (one row
per case, with its minutes), with the grace rule read as the policy says (``combine``).
"""

from __future__ import annotations

import numpy as np

from calib._util.tolerance import REL
from calib.engine.components.context import PayContext
from calib.engine.components.kind import Bounds, ComponentKind, Reads
from calib.policy import pay as P


def before_cap(c: PayContext, comp: P.Lateness, path: str) -> np.ndarray:
    """The late minutes of the row's events (less those the grace forgives) × the rate."""
    ev = c.frame.events[comp.table]
    minutes = np.nan_to_num(np.asarray(ev.column(comp.minutes), dtype=np.float64))
    row = ev.row
    if c.last is not None:  # a roll-up: events go to the roll-up row of their records row
        codes = np.full(c.frame.n, -1)
        codes[c.last] = np.arange(len(c.last))
        row = np.where(row >= 0, codes[np.maximum(row, 0)], -1)
    ok = row >= 0
    n = c.pop.n
    counted = minutes.copy()
    if comp.grace is not None:
        small = minutes < comp.grace.under
        cases = np.bincount(row[ok], weights=small[ok].astype(float), minlength=n)
        total = np.bincount(row[ok], weights=np.where(small, minutes, 0.0)[ok], minlength=n)
        forgiven = _forgiven(comp.grace, cases, total)
        counted = np.where(small & forgiven[np.maximum(row, 0)], 0.0, minutes)
    late = np.bincount(row[ok], weights=counted[ok], minlength=n)
    return late * comp.rate


def _forgiven(grace: P.Grace, cases: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Whether each row's short cases are forgiven: few enough (``max_cases``), short enough in
    all (``max_total``, exactly 15 minutes included), or both as ``combine`` reads the rule.
    """
    few = None if grace.max_cases is None else cases <= grace.max_cases
    short = None if grace.max_total is None else total <= grace.max_total + REL
    if few is None or short is None:
        only = few if few is not None else short
        assert only is not None, "a grace has a limit (policy.pay.Grace)"
        return only
    return (few | short) if grace.combine == "or" else (few & short)


def amount(c: PayContext, comp: P.Lateness, path: str) -> np.ndarray:
    """The counted late minutes × the rate, at most ``max``."""
    out = before_cap(c, comp, path)
    return np.minimum(out, comp.max) if comp.max is not None else out


def bounds(c: PayContext, comp: P.Lateness, path: str) -> Bounds | None:
    """Where ``max`` bit, and the amount before it."""
    if comp.max is None:
        return None
    before = before_cap(c, comp, path)
    return Bounds.of(before, (before > comp.max, f"{path}.max"))


KIND = ComponentKind(P.Lateness, amount, reads=lambda comp: Reads(other_rows=True),
                     bounds=bounds)
