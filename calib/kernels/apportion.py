"""R24: apportion a group's size among grades by ratios, so the quotas add up to the group exactly.

Three methods, vectorised over many groups at once (one row per group, one column per grade):

- ``hamilton`` (largest remainder, the default): everyone gets the floor of their exact quota
  n × ratio; the seats left go to the largest remainders. Each quota is within one of its exact
  share. It can show the Alabama paradox: growing a group by one person can cost a grade a place
  (``alabama`` finds where it does; the quota tables flag it).
- ``webster`` (Sainte-Laguë): divisor method rounding at .5; free of the Alabama paradox.
- ``dhondt``: divisor method rounding down; favours the grades with larger ratios.

Ties (equal remainders, equal priorities) go to the grade listed first, that is the better grade.
"""

from __future__ import annotations

import numpy as np

from calib._util.tolerance import REL

EPS = REL  # a quota within it of a whole number is that number (calib._util.tolerance)


def exact_quotas(sizes: np.ndarray, ratios: np.ndarray) -> np.ndarray:
    """Exact quotas, n × ratio, for every group (rows) and grade (columns); ratios are shares summing to 1."""
    sizes = np.asarray(sizes, dtype=np.float64)
    ratios = np.atleast_2d(np.asarray(ratios, dtype=np.float64))
    return np.round(sizes[:, None] * ratios, 9)


def hamilton(sizes: np.ndarray, ratios: np.ndarray) -> np.ndarray:
    """Largest-remainder quotas (int array, groups × grades)."""
    exact = exact_quotas(sizes, ratios)
    seats = np.floor(exact + EPS).astype(np.int64)
    remainder = exact - seats
    left = np.asarray(sizes, dtype=np.int64) - seats.sum(axis=1)
    # order grades by remainder, largest first; a stable sort keeps the better grade first on ties
    order = np.argsort(-np.round(remainder, 9), axis=1, kind="stable")
    rank = np.empty_like(order)
    rows = np.arange(order.shape[0])[:, None]
    rank[rows, order] = np.arange(order.shape[1])[None, :]
    seats += rank < left[:, None]
    return seats


def _divisor(sizes: np.ndarray, ratios: np.ndarray, offset: float) -> np.ndarray:
    """Divisor method with divisors s + offset (Webster 0.5, D'Hondt 1), seat by seat.

    The result equals handing out seats one at a time to the grade with the highest
    ratio / (seats + offset), equal priorities going to the better grade, so a group one person
    larger never has fewer seats in any grade (house monotone). To avoid a loop per seat, every
    seat whose priority is clearly above the final threshold is given first (found by
    bisection); only the last few seats are handed out one by one.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    ratios = np.atleast_2d(np.asarray(ratios, dtype=np.float64))
    ratios = np.broadcast_to(ratios, (len(sizes), ratios.shape[1]))

    def seats_above(level: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = ratios / level[:, None] - offset
        return np.where(ratios > 0, np.maximum(np.ceil(raw - EPS), 0), 0).astype(np.int64)

    lo = np.full(len(sizes), 1e-12)
    hi = np.full(len(sizes), ratios.max(initial=0.0) / offset + 1.0)
    for _ in range(60):  # largest level at which at most n seats are clearly above it
        mid = (lo + hi) / 2
        fits = seats_above(mid).sum(axis=1) <= sizes
        hi = np.where(fits, mid, hi)
        lo = np.where(fits, lo, mid)
    seats = seats_above(hi * (1 + 1e-6))
    grades = ratios.shape[1]
    for _ in range(grades * 4 + int(sizes.max(initial=0))):
        need = sizes - seats.sum(axis=1) > 0
        if not need.any():
            break
        prio = np.where(ratios > 0, ratios / (seats + offset), -np.inf)
        prio = np.round(prio, 12)  # equal priorities computed two ways must compare equal
        pick = np.argmax(prio, axis=1)  # the first (better) grade among equals
        rows = np.flatnonzero(need)
        seats[rows, pick[rows]] += 1
    return seats


def webster(sizes: np.ndarray, ratios: np.ndarray) -> np.ndarray:
    """Sainte-Laguë / Webster quotas."""
    return _divisor(sizes, ratios, 0.5)


def dhondt(sizes: np.ndarray, ratios: np.ndarray) -> np.ndarray:
    """D'Hondt (Jefferson) quotas."""
    return _divisor(sizes, ratios, 1.0)


METHODS = {"hamilton": hamilton, "webster": webster, "dhondt": dhondt}


def apportion(sizes: np.ndarray, ratios: np.ndarray, method: str = "hamilton") -> np.ndarray:
    """Quotas per group and grade by ``method``; each row adds up to its group's size."""
    sizes = np.asarray(sizes, dtype=np.int64)
    ratios = np.atleast_2d(np.asarray(ratios, dtype=np.float64))
    if ratios.shape[0] == 1 and len(sizes) != 1:
        ratios = np.broadcast_to(ratios, (len(sizes), ratios.shape[1]))
    return METHODS[method](sizes, ratios)


def alabama(sizes: np.ndarray, ratios: np.ndarray, method: str = "hamilton",
            quotas: np.ndarray | None = None) -> np.ndarray:
    """Where the Alabama paradox shows (bool, groups × grades): the grade's quota for the group
    would be larger with one person fewer (same ratios), so the group's last person cost the
    grade a place.

    Only ``hamilton`` can show it: at 5/25/60/10 % (gas_cs, a team under a B supervisor, R25) a
    team of 10 gets 1/2/6/1 (exact 0.5/2.5/6/1: the tied remainder goes to the better grade), a
    team of 11 gets 0/3/7/1 (exact 0.55/2.75/6.6/1.1: the two seats left go to 0.75 and 0.6), so
    the top grade loses its place. The divisor methods are house monotone: false for them,
    computed all the same. ``quotas``: the quotas at the groups' sizes, when
    already known. A group of one is compared with the empty group (never flagged).
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    now = apportion(sizes, ratios, method) if quotas is None else np.asarray(quotas)
    fewer = apportion(np.maximum(sizes - 1, 0), ratios, method)
    return fewer > now
