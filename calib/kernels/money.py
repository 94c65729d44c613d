"""Exact money (SCHEMES.md R27–R34): amounts end as whole currency units, never binary floats.

The policy names the unit (0.01 for cents, 1 for whole yuan) and the rounding rule. A bonus pool is
shared by largest remainder on whole units, so the payouts add up to the pool exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np

from calib._util.tolerance import REL
from calib.bounds import MAX_TOTAL_UNITS, MAX_UNITS
from calib.errors import CalibError

ROUNDING = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}


class MoneyError(CalibError, ValueError):
    """An amount calib cannot pay exactly: beyond ``calib.bounds.MAX_UNITS``, infinite, or a
    total past 64-bit integers. ``rows`` are the positions (in the array given) of the amounts
    at fault, so that the caller can name the people and the rule.
    """

    def __init__(self, message: str, rows: np.ndarray | None = None, size: int | None = None):
        super().__init__(message)
        self.rows = np.zeros(0, dtype=np.int64) if rows is None else rows
        self.size = size  # the length of the array ``rows`` index, when known


def to_units(amounts: np.ndarray, unit: float, rounding: str = "half_up") -> np.ndarray:
    """Amounts (float, in currency) → whole units (int64), rounded by ``rounding``.

    A float that is a hair below a half (693.7449999999 for 693.745) is treated as the half: the
    amount is first rounded to 6 decimals of a unit (fewer above 10^9 units, keeping 15
    significant digits), which removes binary noise but never a real digit of money computed from
    typed numbers. A missing amount (NaN) gives 0 units: it is left to the caller, which pays
    only rows that have an amount. An amount beyond ``MAX_UNITS`` whole units, or infinite,
    raises ``MoneyError`` (with the rows at fault) instead of wrapping around int64.
    """
    with np.errstate(over="ignore"):  # an overflow to inf is refused just below
        x = np.asarray(amounts, dtype=np.float64) / unit  # a fresh array: rounded in place below
    # two passes tell everything on the usual path (finite amounts well inside the bound); NaN
    # or anything large takes the careful one
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    missing = lo != lo or hi != hi
    if missing or max(-lo, hi) >= 1e9:
        _check_bound(x, unit)
        if missing:
            lo = float(np.nanmin(x, initial=0.0))
        if not (np.abs(np.nan_to_num(x)) < 1e9).all():
            _round_noise_wide(x)
        else:
            np.round(x, 6, out=x)
    else:
        np.round(x, 6, out=x)
    if rounding == "half_up":
        if lo >= 0:  # amounts are mostly not negative: half up is x + ½ floored
            x += 0.5
            out = np.floor(x, out=x)
        else:
            out = np.sign(x) * np.floor(np.abs(x) + 0.5)
    elif rounding == "half_even":
        out = np.round(x)
    elif rounding == "down":
        out = np.trunc(x)
    else:
        raise ValueError(f"unknown rounding {rounding!r}; use one of {', '.join(ROUNDING)}")
    if missing:
        out = np.nan_to_num(out, nan=0.0)
    return out.astype(np.int64)


def _check_bound(x: np.ndarray, unit: float) -> None:
    """Refuse amounts (in units) beyond ``MAX_UNITS`` or infinite, naming the largest."""
    with np.errstate(invalid="ignore"):
        bad = np.abs(x) > MAX_UNITS  # NaN compares False; ±inf True
    if bad.any():
        rows = np.flatnonzero(bad)
        worst = float(np.max(np.abs(x[rows]))) * unit
        raise MoneyError(
            f"{len(rows)} amount(s) too large to pay exactly (the largest {worst:,.2f}; calib pays "
            f"at most {MAX_UNITS * unit:,.0f} per amount, calib.bounds.MAX_UNITS units of "
            f"{unit:g}): check the numbers that make it (a column or coefficient typed "
            "in the wrong unit, an ID number in a money column)", rows, len(x))


def _round_noise_wide(x: np.ndarray) -> None:
    """Round binary noise off amounts of up to ``MAX_UNITS`` units, in place, keeping 15
    significant digits (at least one decimal of a unit, so a half is still a half).
    """
    a = np.abs(np.nan_to_num(x))
    digits = np.floor(np.log10(np.maximum(a, 1.0))) + 1
    scale = 10.0 ** np.clip(15 - digits, 1, 6)
    np.multiply(x, scale, out=x)
    np.round(x, 0, out=x)
    np.divide(x, scale, out=x)


def total_units(units: np.ndarray) -> int:
    """The exact sum of whole units; refused (``MoneyError``) when it could pass 64-bit
    integers, instead of wrapping around to a wrong (even negative) total.
    """
    u = np.asarray(units, dtype=np.int64)
    if u.size and float(np.abs(u).sum(dtype=np.float64)) >= MAX_TOTAL_UNITS:
        raise MoneyError(f"the total of {u.size} amounts is too large to add exactly "
                         f"(over {MAX_TOTAL_UNITS:,} units): check for amounts typed in the "
                         "wrong unit")
    return int(u.sum())


@functools.lru_cache(maxsize=1024)
def amount_units(amount: float, unit: float, rounding: str = "half_up") -> int:
    """One amount (a pool, a payout bound) in whole units, as ``to_units`` rounds it;
    remembered, as a slider asks for the same few amounts on every move.
    """
    return int(to_units(np.array([amount]), unit, rounding)[0])


def from_units(units: np.ndarray, unit: float) -> list[Decimal]:
    """Whole units → exact Decimal amounts (for reports)."""
    step = Decimal(str(unit))
    return [Decimal(int(u)) * step for u in np.asarray(units, dtype=np.int64)]


def units_to_float(units: np.ndarray, unit: float) -> np.ndarray:
    """Whole units → the nearest float amount, for tables (exact to the cent when printed)."""
    exponent = Decimal(str(unit)).as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    return np.round(np.asarray(units, dtype=np.float64) * unit, decimals)


class PoolError(CalibError, ValueError):
    """A pool cannot be shared under its caps and floors."""


def _water_fill(pool: float, weights: np.ndarray, caps: np.ndarray, floors: np.ndarray
                ) -> np.ndarray:
    """Real shares in proportion to ``weights`` within [floor, cap], adding up to ``pool``."""
    n = len(weights)
    fixed = np.full(n, np.nan)
    for _ in range(2 * n + 2):
        free = np.isnan(fixed)
        rest = pool - np.nansum(fixed)
        wsum = weights[free].sum()
        if wsum > 0:
            share = np.where(free, rest * weights / wsum, fixed)
        else:  # what is left has nobody with weight: share it equally among the free
            share = np.where(free, rest / max(int(free.sum()), 1), fixed)
        over = free & (share > caps + REL)
        under = free & (share < floors - REL)
        if not over.any() and not under.any():
            return share
        # fix the worst side first: whichever moves more money
        if (share - caps)[over].sum() >= (floors - share)[under].sum():
            fixed[over] = caps[over]
        else:
            fixed[under] = floors[under]
        if not np.isnan(fixed).any():
            if abs(np.nansum(fixed) - pool) > 1e-6:
                raise PoolError("the caps and floors leave no room to pay the pool out exactly")
            return fixed
    raise PoolError("the caps and floors do not settle")  # pragma: no cover - bounded loop


def allocate_pool(pool_units: int, weights: np.ndarray, caps_units: np.ndarray | None = None,
                  floors_units: np.ndarray | None = None) -> np.ndarray:
    """Share ``pool_units`` whole units in proportion to ``weights``; the result sums to the pool.

    What a cap cuts off is shared among the others in proportion to their weights; floors are
    honoured the same way. Whole units left after flooring go to the largest remainders (ties to
    the earlier row, so sort the rows by id first for a stable result).
    """
    w = np.asarray(weights, dtype=np.float64)
    n = len(w)
    if n == 0:
        if pool_units != 0:
            raise PoolError("a pool with nobody to share it among")
        return np.zeros(0, dtype=np.int64)
    if (w < 0).any() or not np.isfinite(w).all():
        raise PoolError("pool weights must be finite and not negative")
    caps = np.full(n, np.inf) if caps_units is None else np.asarray(caps_units, dtype=np.float64)
    floors = np.zeros(n) if floors_units is None else np.asarray(floors_units, dtype=np.float64)
    if (floors > caps).any():
        i = int(np.flatnonzero(floors > caps)[0])
        raise PoolError(f"row {i} has a floor ({floors[i]:.0f} units) above its cap "
                        f"({caps[i]:.0f} units)")
    if floors.sum() > pool_units + REL:
        raise PoolError(f"the floors add up to {floors.sum():.0f} units, more than the pool "
                        f"({pool_units})")
    if caps.sum() < pool_units - REL:
        raise PoolError(f"the caps add up to {caps.sum():.0f} units, less than the pool "
                        f"({pool_units})")
    if w.sum() == 0 and floors.sum() < pool_units:
        w = np.where(caps > floors, 1.0, 0.0)  # nobody has weight: share equally among the open
    share = _water_fill(float(pool_units), w, caps, floors)
    units = np.floor(np.round(share, 6)).astype(np.int64)
    left = int(pool_units - units.sum())
    remainder = share - units
    room = units < caps
    order = np.argsort(-np.where(room, np.round(remainder, 9), -np.inf), kind="stable")
    units[order[:left]] += 1
    return units


SORT_ROWS, SORT_GROUPS = 2**21, 2**18
"""From this many rows or groups, ``_extra_units`` sorts (its bucket keys would not fit)."""


def _extra_units(groups: PoolGroups, key: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Whether each row gets one of its group's ``left`` extra units: the largest remainders,
    then the earlier rows. ``key`` is each remainder as ``_remainder_key`` gives it (largest
    first; remainders within 2⁻²⁴ of a unit count as equal and go by position, as exact ties do).

    The keys are counted in coarse buckets per group; the bucket where a group's count reaches
    ``left`` is the only one sorted (by key, then position), so the cost is a few passes over
    the rows, not a sort of them. Falls back to ``np.lexsort`` when the keys would not fit.
    """
    group = groups.group
    n = len(group)
    if n >= SORT_ROWS or groups.n_groups > SORT_GROUPS:
        order = np.lexsort((np.arange(n), key, group))
        g = group[order]
        extra = np.zeros(n, dtype=bool)
        extra[order[_places(g, groups.n_groups) < left[g]]] = True
        return extra
    if not (left > 0).any():
        return np.zeros(n, dtype=bool)
    # coarse buckets of the key per group: every row in a bucket before the one where the
    # group's count reaches ``left`` gets a unit, none after it; only that bucket is sorted
    n_groups, bits = len(left), groups.bits
    bucket = key >> (24 - bits)
    cell = groups.cell + bucket
    cells = np.bincount(cell, minlength=n_groups << bits)
    cum = np.cumsum(cells.reshape(n_groups, 1 << bits), axis=1)
    cut = (cum < left[:, None]).sum(axis=1)  # the bucket where the count reaches left
    before = np.where(cut > 0, cum[np.arange(n_groups), np.maximum(cut - 1, 0)], 0)
    cut = np.where(left > 0, cut, -1)
    row_cut = groups.spread(cut)
    extra = bucket < row_cut
    edge = np.flatnonzero(bucket == row_cut)
    if len(edge):
        g = group[edge]
        edge_key = (g << 45) | (key[edge] << 21) | edge
        order = np.argsort(edge_key, kind="stable")  # often long sorted runs (equal weights)
        edge, g = edge[order], g[order]
        extra[edge[_places(g, n_groups) < (left - before)[g]]] = True
    return extra


def _places(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Each row's place (0, 1, …) within its group, for ``codes`` sorted (0 ≤ code <
    ``n_groups``): the row's position less where its group starts, found by a binary search.
    """
    first = np.searchsorted(codes, np.arange(n_groups))
    return np.arange(len(codes)) - first[codes]


def _remainder_key(share: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Each share's remainder over its whole units (rounded to 1e-9) as an integer, largest
    first: ``floor((1 − remainder) · 2²⁴)``, so remainders within 2⁻²⁴ of a unit are equal.
    Computed in one buffer (a slider re-shares 120k rows; fresh temporaries cost page faults).
    """
    rem = np.subtract(share, units)
    np.round(rem, 9, out=rem)
    np.subtract(1.0, rem, out=rem)
    rem *= 2**24
    np.floor(rem, out=rem)
    np.maximum(rem, 0, out=rem)  # two ufuncs: np.clip's checks cost more than the passes
    np.minimum(rem, 2**24 - 1, out=rem)
    return rem.astype(np.int64)


@dataclass
class PoolGroups:
    """Rows' pool groups (codes 0, 1, …), with what sharing reads of them made once: a slider
    re-shares the same rows' pools after every move, with new weights only.
    """

    group: np.ndarray
    n_groups: int
    count: np.ndarray
    bits: int
    """Bits of a bucket of remainders (about log₂ of the rows per group)."""
    cell: np.ndarray
    """``group << bits``: where a row's bucket of remainders is counted."""
    starts: np.ndarray | None
    """Where each group's rows start, when the rows come group by group (codes 0, 1, … in
    turn, none empty); None otherwise."""

    @classmethod
    def of(cls, group: np.ndarray) -> PoolGroups:
        """Prepare ``group`` (one code per row)."""
        group = np.asarray(group, dtype=np.int64)
        n_groups = int(group.max(initial=-1)) + 1
        count = np.bincount(group, minlength=n_groups)
        bits = int(np.clip(np.log2(max(1.0, len(group) / max(n_groups, 1))), 1, 16))
        ordered = bool((group[1:] >= group[:-1]).all()) and bool((count > 0).all())
        starts = np.cumsum(count) - count if ordered and len(group) else None
        return cls(group, n_groups, count, bits, group << bits, starts)

    def sums(self, values: np.ndarray) -> np.ndarray:
        """The sum of ``values`` in each group: one pass over contiguous groups when the rows
        come group by group (numpy's blocked summation, as ``values.sum()`` adds a group), else
        in row order. Whole numbers are exact either way.
        """
        if self.starts is not None:
            return np.add.reduceat(values, self.starts)
        return np.bincount(self.group, weights=values, minlength=self.n_groups)

    def spread(self, values: np.ndarray) -> np.ndarray:
        """Each group's value (one per group) on each of its rows."""
        if self.starts is not None:
            return np.repeat(values, self.count)
        return values[self.group]


def allocate_pools(group: np.ndarray | PoolGroups, pool_units: int | np.ndarray,
                   weights: np.ndarray) -> np.ndarray:
    """A pool shared within every group at once (no caps or floors), vectorised:
    ``pool_units`` is the same for every group, or one amount per group (envelopes).

    Rows must be in a stable order (sort them by id first): within a group, equal remainders go
    to the earlier row. Each group's shares add up to its pool exactly. ``group`` is one code
    per row, or the same prepared by ``PoolGroups.of`` when the rows are shared again.
    """
    groups = group if isinstance(group, PoolGroups) else PoolGroups.of(group)
    group = groups.group
    w = np.asarray(weights, dtype=np.float64)
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    total = groups.sums(w)
    if not (w >= 0).all() or not np.isfinite(total).all():
        raise PoolError("pool weights must be finite and not negative")
    per_row: int | np.ndarray = pool_units
    if isinstance(pool_units, np.ndarray):
        pool_units = pool_units.astype(np.int64)
        per_row = groups.spread(pool_units)
    if (total > 0).all():
        share = per_row * w
        share /= groups.spread(total)
    else:
        equal = total[group] == 0  # nobody in the group has weight: equal shares
        share = np.where(equal, per_row / np.maximum(groups.count[group], 1),
                         per_row * w / np.where(equal, 1.0, total[group]))
    whole = np.round(share, 6)
    np.floor(whole, out=whole)
    units = whole.astype(np.int64)
    left = pool_units - groups.sums(whole).astype(np.int64)
    units += _extra_units(groups, _remainder_key(share, whole), left)
    return units
