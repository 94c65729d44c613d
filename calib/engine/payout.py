"""Engine side of pay (SCHEMES.md R11, R22, R27–R36): each component per row in whole currency
units, the bonus pool shared to the unit, and the merit matrix.

A component is computed as a float amount, rounded to the policy's unit by its rule, and only
then added: the payout is a sum of integers, so totals are exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from calib._util.columns import coded
from calib._util.memo import array_key, json_key, remember, remember_for, replace
from calib.engine import score
from calib.engine.components import PayContext, kind_of
from calib.engine.components.kind import Bounds
from calib.engine.eligibility import proration
from calib.engine.frame import Frame
from calib.engine.grading import Population, column_codes
from calib.engine.result import Lazy, Result
from calib.engine.streaks import Streaks
from calib.errors import DataError
from calib.kernels.conditions import holds
from calib.kernels.money import (
    MoneyError,
    PoolError,
    PoolGroups,
    allocate_pool,
    allocate_pools,
    amount_units,
    to_units,
    units_to_float,
)
from calib.policy import pay as P


def component_amount(c: PayContext, name: str, comp: Any) -> np.ndarray:
    """The float amount of one component per row, before the condition, rounding, proration
    and sign: its registered kind's kernel.
    """
    return kind_of(comp).amount(c, comp, f"pay.components.{name}")


def paying_order(components: dict[str, Any]) -> list[str]:
    """The components' names, each after those whose amounts it reads (a team mean of the
    piece rate after the piece rate), else in the policy's order (a JSON dump sorts them).
    The policy's checks refuse a circle.
    """
    out: list[str] = []

    def visit(name: str, seen: tuple[str, ...]) -> None:
        if name in out or name in seen:
            return
        for other in kind_of(components[name]).reads(components[name]).amounts:
            if other in components:
                visit(other, (*seen, name))
        out.append(name)

    for name in components:
        visit(name, ())
    return out


def _pay_share(frame: Frame, pop: Population, last: np.ndarray | None) -> np.ndarray:
    """Proration per row (1 where the policy sets none; a roll-up row is not prorated)."""
    share = proration(frame)
    if share is None or last is not None:
        return np.ones(pop.n)
    return share


def _prorated_not_rated(frame: Frame, pop: Population, last: np.ndarray | None) -> np.ndarray:
    """Rows not rated whose eligibility rule still pays them pro rata (force majeure)."""
    if last is not None:
        return np.zeros(pop.n, dtype=bool)
    rules = frame.policy.eligibility.not_rated
    if not rules:
        return np.zeros(pop.n, dtype=bool)
    # the data's columns and the eligibility rules only: kept for re-runs on the same rows
    key = ("prorated not rated", tuple(json_key(r) for r in rules), pop.rows_key)
    return remember(pop.memo, key, lambda: _match_not_rated(frame, pop))


def _match_not_rated(frame: Frame, pop: Population) -> np.ndarray:
    keep = np.zeros(pop.n, dtype=bool)
    taken = np.zeros(pop.n, dtype=bool)
    for rule in frame.policy.eligibility.not_rated:
        hit = holds(rule.when, frame.column(rule.when.column)) & ~taken
        if rule.pay == "prorate":
            keep |= hit
        taken |= hit
    return keep


def pay(frame: Frame, result: Result, pop: Population, last: np.ndarray | None,
        grades: np.ndarray | None, values: dict[str, np.ndarray],
        rank: np.ndarray | None = None, grades_key: object = None,
        streaks: Streaks | None = None, fixes: Any = None) -> None:
    """Fill ``result.payouts`` (and ``result.merit``) for the paid population; ``rank`` is each
    row's rank (R26) and ``streaks`` the R21 flags raised, when the same rows are graded (with a
    ranking); ``grades_key`` identifies
    the grades, so that a re-run keeps the components that did not change.
    """
    policy = frame.policy
    spec = policy.pay
    assert spec is not None
    if rank is not None:
        rank = np.where(pop.rated, rank, 0).astype(np.int64)
    c = PayContext(frame, pop, last, grades, values, rank)
    share = _pay_share(frame, pop, last)
    prorated = last is None and proration(frame) is not None
    fixed_only = _prorated_not_rated(frame, pop, last)
    paid = pop.rated | fixed_only
    total = np.zeros(pop.n, dtype=np.int64)
    columns: dict[str, np.ndarray] = {}
    for name in paying_order(spec.components):
        comp = spec.components[name]
        with _money_at(c, f"pay.components.{name}"):
            columns[name] = _component_units(c, name, comp, share if prorated else None,
                                             fixed_only, grades_key)
        if fixes is not None and name in fixes.components:
            columns[name] = fixes.components[name].apply(columns[name])  # overridden amounts
        c.paid[name] = columns[name]  # for a component averaging it (team_mean, R19)
        total += columns[name]
    columns = {name: columns[name] for name in spec.components}  # the policy's order
    if grades is not None and streaks is not None and (~np.isnan(streaks.amounts())).any():
        with _money_at(c, "grading.streaks"):
            columns["streaks"] = remember_for(pop.kept, streaks, ("streak units", spec.unit),
                                              lambda: streak_units(pop, streaks, spec.unit))
        total += columns["streaks"]
    if spec.pool is not None:
        with _money_at(c, "pay.pool"):
            pool_units = _remembered(c, ("pool", json_key(spec.pool), spec.unit),
                                     lambda: _pool(c, spec.pool, grades), grades_key,
                                     spec.pool.reads_grades)
        columns["pool"] = pool_units
        total += pool_units
    with _money_at(c, "pay.min / pay.max"):
        lo = None if spec.min is None else amount_units(spec.min, spec.unit)
        hi = None if spec.max is None else amount_units(spec.max, spec.unit)
    clipped = np.clip(total, lo, hi) if (lo is not None or hi is not None) else total
    payout = np.where(paid, clipped, 0)
    if fixes is not None and fixes.payout:
        payout = fixes.payout.apply(payout)  # overridden payouts, after the payout's min and max
    result.arrays.update(payout_units=payout, unit=spec.unit, paid_on=spec.on)
    result.arrays["bounds"] = Later(lambda: bounds_that_bit(c, fixed_only, columns))

    def table() -> pd.DataFrame:
        out = {"id": coded(frame.id_categories, pop.person), "period": pop.period_label,
               "status": coded(["not_rated", "rated", "prorated"],
                               np.where(pop.rated, 1, np.where(fixed_only, 2, 0))),
               "score": pop.score}
        if grades is not None:
            out["grade"] = coded(c.grade_names(), grades)
        if last is None and proration(frame) is not None:
            out["proration"] = np.round(share, 9)
        for name, units in columns.items():
            out[name] = units_to_float(units, spec.unit)
        out["payout"] = units_to_float(payout, spec.unit)
        out["clipped"] = (clipped != total) & paid
        return pd.DataFrame(out)

    result.payouts = Lazy(table)
    merit = spec.merit
    if merit is not None:
        result.merit = Lazy(lambda: _merit(c, merit, grades, spec.unit))


class Later:
    """A value computed on its first call and kept; pickled as its value (a result goes to
    another process whole), so it can sit in ``Result.arrays`` beside the arrays.
    """

    def __init__(self, build: Callable[[], Any]):
        self._lazy = Lazy(build)

    def __call__(self) -> Any:
        """The value, computed now if this is the first call."""
        return self._lazy()

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return _known, (self(),)


def _known(value: Any) -> Later:
    """A ``Later`` already holding ``value`` (unpickled)."""
    return Later(lambda: value)


def bounds_that_bit(c: PayContext, fixed_only: np.ndarray, columns: dict[str, np.ndarray]
                    ) -> dict[str, Bounds]:
    """Per component with its own cap or floor (and the pool's cap and floor), on the rows it
    was paid: the amount before the cap or floor and the policy path of the one that bit.

    For statements (R37); computed on request from the run's own context, it changes no
    amount. Each ``Bounds`` is aligned with ``result.payouts``' rows. The pool's ``before`` is
    NaN (a capped share is given to the others; there is no one amount before it).
    """
    pop = c.pop
    out: dict[str, Bounds] = {}
    for name, comp in c.policy.pay.components.items():
        kind = kind_of(comp)
        found = kind.bounds(c, comp, f"pay.components.{name}") if kind.bounds else None
        if found is None:
            continue
        applies = pop.rated | (fixed_only & kind.pays_not_rated)
        if comp.when is not None:
            applies &= holds(comp.when, pop.column(comp.when.column))
        which = found.which.copy()
        which[~applies] = None
        out[name] = Bounds(found.before, which)
    pool = c.policy.pay.pool
    if pool is not None and "pool" in columns and (pool.cap is not None or pool.floor is not None):
        unit = c.policy.pay.unit
        share = columns["pool"]
        bits = []
        if pool.floor is not None:
            floor = to_units(c.amount(pool.floor, "pay.pool.floor"), unit, "half_up")
            bits.append((pop.rated & (share == floor), "pay.pool.floor"))
        if pool.cap is not None:
            cap = to_units(c.amount(pool.cap, "pay.pool.cap"), unit, "down")
            bits.append((pop.rated & (share == cap), "pay.pool.cap"))
        out["pool"] = Bounds.of(np.full(pop.n, np.nan), *bits)
    return out


@contextmanager
def _money_at(c: PayContext, path: str) -> Iterator[None]:
    """Name the policy part (and, where known, the people) of an amount calib cannot pay
    exactly (``MoneyError`` from ``to_units``).
    """
    try:
        yield
    except MoneyError as exc:
        rows = exc.rows[exc.rows < c.pop.n] if len(exc.rows) else exc.rows
        who = ""
        if len(rows) and getattr(exc, "size", None) == c.pop.n:
            ids = coded(c.frame.id_categories, c.pop.person[rows[:3]])
            periods = np.asarray(c.pop.period_label)[rows[:3]]
            who = " for " + ", ".join(f"{i} in {p}" for i, p in zip(ids, periods, strict=True)) + (
                f" and {len(rows) - 3} more" if len(rows) > 3 else "")
        raise MoneyError(f"{path}{who}: {exc}", exc.rows) from None


def _component_units(c: PayContext, name: str, comp: Any, share: np.ndarray | None,
                     fixed_only: np.ndarray, grades_key: object) -> np.ndarray:
    """One component's signed units per row: amount, condition, proration (``share``; None
    when nobody is prorated), rounding.
    """
    kind = kind_of(comp)

    def units() -> np.ndarray:
        per_grade = (kind.grade_amounts(comp, c.grade_names())
                     if kind.grade_amounts is not None and comp.when is None
                     and (share is None or not comp.prorate) else None)
        if per_grade is not None:
            return _grade_units(c, comp, per_grade)  # a lookup of the grade: nothing to gain
        if (comp.row_wise and c.last is None and c.pop.memo is not None
                and c.pop.n >= score.DELTA_ROWS):
            return _units_where_moved(c, name, comp, share, fixed_only)
        return component_units(c, name, comp, share, fixed_only)

    reads = kind.reads(comp)
    if reads.rank:  # the ranks are not part of the keys below
        return units()
    spec = c.policy.pay
    # a component averaging others' amounts (team_mean) is kept under those amounts too
    others = tuple(array_key(c.paid[n]) for n in reads.amounts if n in c.paid)
    return _remembered(c, ("component", name, json_key(comp), spec.unit, spec.rounding, *others),
                       units, grades_key, comp.reads_grades)


def component_units(c: PayContext, name: str, comp: Any, share: np.ndarray | None,
                    fixed_only: np.ndarray) -> np.ndarray:
    """One component's signed units on every row of ``c``'s population: the kind's amount,
    the condition, proration, rounding and sign (the Monte Carlo's reference loop pays with it
    too).
    """
    spec = c.policy.pay
    pop = c.pop
    amount = component_amount(c, name, comp)
    if comp.when is not None:
        # a condition on the data's columns: the same rows whatever the scores, kept
        hit = remember(pop.memo, ("holds", json_key(comp.when), pop.rows_key),
                       lambda: holds(comp.when, pop.column(comp.when.column)))
        amount = np.where(hit, amount, 0.0)
    if comp.prorate and share is not None:
        amount = amount * share
    applies = pop.rated | (fixed_only & kind_of(comp).pays_not_rated)
    out = np.where(applies, to_units(amount, spec.unit, spec.rounding), 0)
    return -out if comp.deduct else out


def _units_where_moved(c: PayContext, name: str, comp, share: np.ndarray | None,
                       fixed_only: np.ndarray) -> np.ndarray:
    """A row-wise component's units (``comp.row_wise``), given the last run's on the same rows:
    only the rows whose score or grade moved are computed again (a KPI slider moves a few
    hundred scores of 120,000, and the grades of a few hundred more); every row when many moved.
    The last run's scores, grades and units are kept in one slot per component.
    """
    pop = c.pop
    memo = pop.memo
    assert memo is not None  # called for a live re-run only
    spec = c.policy.pay
    grades = c._grades if comp.reads_grades else None
    slot = ("units before", name, json_key(comp), spec.unit, spec.rounding, pop.status_key,
            None if share is None else array_key(share), array_key(fixed_only))
    before = memo.get(slot)
    out = None
    if before is not None:
        old_score, old_grades, old_units = before
        moved = score.differ(pop.score, old_score)
        if grades is not None:
            moved |= old_grades != grades
        rows = np.flatnonzero(moved)
        if len(rows) < score.DELTA_SHARE * pop.n:
            out = old_units.copy()
            if len(rows):
                out[rows] = component_units(PayContext.of_rows(c, rows), name, comp,
                                            None if share is None else share[rows],
                                            fixed_only[rows])
    if out is None:
        out = component_units(c, name, comp, share, fixed_only)
    replace(memo, slot, (pop.score, grades, out))
    return out


def _grade_units(c: PayContext, comp: Any, amounts: np.ndarray) -> np.ndarray:
    """The same ``amounts`` for everyone at a grade (then 0, not graded): rounded once per
    grade, then looked up (the same units as rounding row by row, in one pass).
    """
    spec = c.policy.pay
    per_grade = to_units(amounts, spec.unit, spec.rounding)
    g = c.grades if c.grades is not None else np.full(c.pop.n, -1)
    out = per_grade[g]  # graded rows are rated; −1 (not graded) takes the last entry, 0
    return -out if comp.deduct else out


def _remembered(c: PayContext, part: tuple, compute, grades_key: object, reads_grades: bool
                ) -> np.ndarray:
    """A component's (or the pool's) units, kept between re-runs under the policy part, the
    population and — when it reads them — the grades: a slider on one component, or on the
    grading of a scheme whose other components do not read grades, re-computes only what moved.
    """
    memo = c.pop.kept
    if memo is None or grades_key is None:
        return compute()
    return remember(memo, (part, grades_key if reads_grades else None), compute)


def streak_units(pop: Population, streaks: Streaks, unit: float) -> np.ndarray:
    """R21 one-off amounts (two months first → 200), paid in the period (the row) that
    completes a streak (the Monte Carlo pays its simulated streaks with it too).
    """
    amounts = streaks.amounts()
    paid = ~np.isnan(amounts)
    out = np.zeros(pop.n, dtype=np.int64)
    np.add.at(out, streaks.row[paid], to_units(amounts[paid], unit))
    return out


def _pool_rows(pop: Population, by: str | None) -> tuple[np.ndarray, PoolGroups]:
    """The rated rows in pool order (group, then person) and each one's pool group (0, 1, …).

    The order of every row depends on the data alone and is kept between re-runs; taking the
    rated rows out of it keeps the order without sorting again.
    """
    every, group = remember(pop.memo, ("pool order", by, pop.rows_key),
                            lambda: _pool_order(pop, by))
    keep = pop.rated[every]
    rows, group = every[keep], group[keep]
    if len(rows) == 0:
        return rows, PoolGroups.of(rows)
    present = np.bincount(group) > 0
    return rows, PoolGroups.of((np.cumsum(present) - 1)[group])


def _pool_order(pop: Population, by: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Every row by pool group (period × ``by``), then person; and each one's group."""
    key = pd.factorize(pop.period)[0].astype(np.int64)
    if by:
        codes, names = column_codes(pop.column(by))
        key = key * len(names) + codes
    group = pd.factorize(key)[0].astype(np.int64)
    n_person = int(pop.person.max(initial=0)) + 1
    order = np.argsort(group * n_person + pop.person, kind="stable")
    return order, group[order]


def _group_amounts(c: PayContext, pool: P.BonusPool, rows: np.ndarray, groups: PoolGroups
                   ) -> np.ndarray:
    """Each pool group's amount in units (``rows`` in pool order, groups 0, 1, … in turn): the
    whole amount (no ``by``, or ``split: each``), the amount shared across a period's groups by
    rated headcount (``split: headcount``), or each group's envelope.
    """
    unit = c.policy.pay.unit
    pop = c.pop
    first = rows[np.flatnonzero(np.r_[True, groups.group[1:] != groups.group[:-1]])]
    if pool.envelopes is None:
        units = amount_units(float(pool.amount or 0), unit)
        if pool.split != "headcount":
            return np.full(groups.n_groups, units, dtype=np.int64)
        period = pd.factorize(pop.period[first])[0]
        return allocate_pools(PoolGroups.of(period), units, groups.count.astype(np.float64))
    codes, names = column_codes(pop.column(str(pool.by)))
    group_names = [str(x) for x in names[codes[first]]]
    missing = sorted(set(group_names) - set(pool.envelopes))
    if missing:
        raise DataError(pd.DataFrame([{
            "table": "records", "row": None, "id": None, "column": pool.by,
            "problem": f"the group {name!r} has rated people but no envelope in pay.pool.envelopes",
            "value": name, "fix": f"add {name}: <amount> under pay.pool.envelopes (or correct "
            f"the {pool.by} column)"} for name in missing], columns=list(DataError.COLUMNS)))
    return np.array([amount_units(float(pool.envelopes[n]), unit) for n in group_names],
                    dtype=np.int64)


def _score_weight(pop: Population) -> np.ndarray:
    """The scores as pool weights: a missing or negative score weighs 0."""
    return np.fmax(pop.score, 0.0)  # fmax: NaN → 0


def _pool(c: PayContext, pool: P.BonusPool, grades: np.ndarray | None) -> np.ndarray:
    """R33: the pool shared per period (and per ``by`` group) to the unit, exactly."""
    unit = c.policy.pay.unit
    pop = c.pop
    # the rated rows in pool order: the same for every score that rates the same rows
    rows, groups = remember(pop.memo, ("pool rows", pool.by, pop.status_key),
                            lambda: _pool_rows(pop, pool.by))
    if len(rows) == 0:
        return np.zeros(pop.n, dtype=np.int64)
    group = groups.group
    pool_units = remember(pop.memo, ("pool amounts", json_key(pool), unit, pop.status_key),
                          lambda: _group_amounts(c, pool, rows, groups))
    out = np.zeros(pop.n, dtype=np.int64)
    # each row's weight (base × coefficient × score), in the data's order — passes over the
    # rows as they lie, then one gather into the order of ``rows``
    if pool.base.amount is not None and pool.coefficients:
        weight = c.grade_table(pool.coefficients)
        weight *= float(pool.base.amount)
    elif pool.base.amount is not None:
        weight = np.full(pop.n, float(pool.base.amount))
    elif pool.coefficients:
        weight = c.amount(pool.base, "pay.pool.base") * c.grade_table(pool.coefficients)
    else:
        weight = np.array(c.amount(pool.base, "pay.pool.base"), dtype=np.float64)
    if pool.use_score:  # ``weight`` is a fresh array: scaled in place
        weight *= remember(pop.kept, ("score weight",), lambda: _score_weight(pop))
    weight = weight[rows]
    if pool.cap is None and pool.floor is None:
        out[rows] = allocate_pools(groups, pool_units, weight)
        return out
    caps = c.amount(pool.cap, "pay.pool.cap") if pool.cap is not None else None
    floors = c.amount(pool.floor, "pay.pool.floor") if pool.floor is not None else None
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    for g, (a, b) in enumerate(zip(starts, np.r_[starts[1:], len(rows)], strict=True)):
        part = rows[a:b]
        cap_u = None if caps is None else to_units(caps[part], unit, "down")
        floor_u = None if floors is None else to_units(floors[part], unit, "half_up")
        try:
            out[part] = allocate_pool(int(pool_units[g]), weight[a:b], cap_u, floor_u)
        except PoolError as exc:
            where = f"period {pop.period_label[part[0]]}" + (
                f", {pool.by} {pop.column(pool.by)[part[0]]}" if pool.by else "")
            amount = float(units_to_float(pool_units[g:g + 1], unit)[0])
            raise PoolError(f"the bonus pool of {amount:,.2f} cannot be shared in {where} "
                            f"({len(part)} people): {exc} (amounts in units of {unit:g}); "
                            "check pay.pool's cap and floor") from None
    return out


def merit_units(c: PayContext, merit: P.MeritMatrix, grades: np.ndarray | None, unit: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """R35: each row's base pay, compa-ratio, raise % (grade × compa-ratio band) and raise in
    units (0 where not graded); the Monte Carlo prices its simulated grades with it too.
    """
    pop = c.pop
    base = np.nan_to_num(np.asarray(pop.column(merit.pay), dtype=np.float64))
    mid = c.amount(merit.midpoint, "pay.merit.midpoint")
    compa = np.divide(base, mid, out=np.full(pop.n, np.nan), where=mid > 0)
    band = np.searchsorted(np.array(merit.bands), compa, side="right")
    names = c.grade_names()
    table = np.zeros((len(names) + 1, len(merit.bands) + 1))
    for row in merit.rows:
        table[names.index(row.grade)] = row.raises
    g = grades if grades is not None else np.full(pop.n, -1)
    pct = table[np.where(g >= 0, g, len(names)), band]
    return base, compa, pct, np.where(g >= 0, to_units(base * pct, unit), 0)


def _merit(c: PayContext, merit: P.MeritMatrix, grades: np.ndarray | None,
           unit: float) -> pd.DataFrame:
    """R35: raise % from grade × compa-ratio band, applied to base pay; one row per graded row."""
    pop = c.pop
    base, compa, pct, units = merit_units(c, merit, grades, unit)
    g = grades if grades is not None else np.full(pop.n, -1)
    return pd.DataFrame({"id": coded(c.frame.id_categories, pop.person),
                         "period": pop.period_label, "grade": coded(c.grade_names(), g),
                         "pay": base, "compa_ratio": np.round(compa, 6), "raise_pct": pct,
                         "raise": units_to_float(units, unit)})
