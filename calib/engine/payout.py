"""Engine side of pay (SCHEMES.md R11, R22, R27–R36): each component per row in whole currency
units, the bonus pool shared to the unit, and the merit matrix.

A component is computed as a float amount, rounded to the policy's unit by its rule, and only
then added: the payout is a sum of integers, so totals are exact.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import pandas as pd

from calib._util.columns import coded
from calib._util.memo import array_key, json_key, remember, remember_for, replace
from calib._util.tolerance import REL, tol
from calib.engine import score
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


class _RowsOf(Mapping):
    """``values`` (arrays by name) on ``rows`` only, each taken when first read: a row-wise
    component reads few or none of them.
    """

    def __init__(self, values: Mapping[str, np.ndarray], rows: np.ndarray):
        self._values, self._rows, self._taken = values, rows, {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._taken:
            self._taken[name] = self._values[name][self._rows]
        return self._taken[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class _Context:
    """What a component reads: the population, grades, KPI/measure/section values, money unit."""

    def __init__(self, frame: Frame, pop: Population, last: np.ndarray | None,
                 grades: np.ndarray | None, values: dict[str, np.ndarray]):
        self.frame, self.pop, self.last, self._grades = frame, pop, last, grades
        self.values = values
        self.policy = frame.policy
        self.read_grades = False
        """Set when a component reads the grades (its result then depends on them)."""

    @classmethod
    def of_rows(cls, c: _Context, rows: np.ndarray) -> _Context:
        """``c`` on ``rows`` of its population only (a period population, no store): for
        row-wise components, whose amount on a row depends on that row alone.
        """
        pop = c.pop
        assert c.last is None

        def column(name: str):
            values = pop.column(name)
            if isinstance(values, pd.Series):
                return values.iloc[rows].reset_index(drop=True)
            return values[rows]  # an array or a Categorical, as the whole column is

        sub = Population(pop.person[rows], pop.period[rows], pop.period_label[rows],
                         pop.score[rows], pop.rated[rows], pop.card[rows], pop.lowest[rows],
                         pop.ids, column, pop.row_numbers[rows])
        return cls(c.frame, sub, None, None if c._grades is None else c._grades[rows],
                   _RowsOf(c.values, rows))

    @property
    def grades(self) -> np.ndarray | None:
        """Each row's grade index (None when pay does not follow grading)."""
        self.read_grades = True
        return self._grades

    def number(self, name: str) -> np.ndarray:
        """A KPI's points, a measure, a section, or a numeric column, per population row."""
        if name in self.values:
            v = self.values[name]
            return v if self.last is None else v[self.last]
        return np.asarray(self.pop.column(name), dtype=np.float64)

    def amount(self, amount: P.Amount, path: str) -> np.ndarray:
        """A money base per row."""
        if amount.amount is not None:
            return np.full(self.pop.n, amount.amount)
        if amount.column is not None:
            return np.nan_to_num(np.asarray(self.pop.column(amount.column), dtype=np.float64))
        mapped = _by_value(self.pop, amount.by, amount.amounts, None)
        bad = np.isnan(mapped) & self.pop.rated
        if bad.any():
            rows = np.flatnonzero(bad)
            values = pd.Series(np.asarray(self.pop.column(amount.by), dtype=object)).astype("string")
            raise DataError(pd.DataFrame({
                "table": "people", "row": self.pop.row_numbers[rows],
                "id": self.pop.ids[self.pop.person[rows]], "column": amount.by,
                "problem": f"no amount for this value in {path}", "value": values.iloc[rows],
                "fix": f"add it under {path}.amounts ({', '.join(amount.amounts)})"}))
        return np.nan_to_num(mapped)

    def grade_table(self, table: dict[str, float]) -> np.ndarray:
        """Per row, the table's value for the row's grade (0 where not graded); a fresh array."""
        names = self.policy.grading.scale.names() if self.policy.grading else []
        lookup = np.array([table.get(n, 0.0) for n in names] + [0.0])
        if self.grades is None:
            return np.zeros(self.pop.n)
        return lookup[self.grades]  # −1 (not graded) takes the last entry, 0


def _by_value(pop: Population, column: str, table: dict[str, float], missing: float | None
              ) -> np.ndarray:
    """Per row, ``table``'s number for the row's text in ``column`` (``missing`` where the table
    has none; None: NaN): amounts by level, floors by group. The data's and the policy's alone, so kept
    for re-runs on the same rows.
    """
    def lookup() -> np.ndarray:
        values = pd.Series(np.asarray(pop.column(column), dtype=object)).astype("string")
        return values.map(table).astype("Float64").to_numpy(
            dtype=np.float64, na_value=np.nan if missing is None else missing)

    return remember(pop.memo, ("by value", column, tuple(table.items()), missing, pop.rows_key),
                    lookup)


def _score_bands(c: _Context, comp: P.ScoreBands, path: str) -> np.ndarray:
    share = np.full(c.pop.n, comp.otherwise)
    for band in reversed(comp.bands):
        share = np.where(c.pop.score >= band.min - tol(band.min), band.share, share)
    if comp.floor_by is not None:
        share = np.maximum(share, _by_value(c.pop, comp.floor_by, comp.floors, 0.0))
    return c.amount(comp.base, f"{path}.base") * share


def _lateness(c: _Context, comp: P.Lateness) -> np.ndarray:
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
        forgiven = (cases <= comp.grace.max_cases) & (total <= comp.grace.max_total + REL)
        counted = np.where(small & forgiven[np.maximum(row, 0)], 0.0, minutes)
    late = np.bincount(row[ok], weights=counted[ok], minlength=n)
    amount = late * comp.rate
    return np.minimum(amount, comp.max) if comp.max is not None else amount


def _workload(c: _Context, comp: P.Workload, path: str) -> np.ndarray:
    bench = c.amount(comp.benchmark, f"{path}.benchmark")
    out = comp.benchmark_bonus - (bench - np.nan_to_num(c.number(comp.workload))) * comp.rate
    if comp.multiplier is not None:
        out = out * np.nan_to_num(c.number(comp.multiplier), nan=1.0)
    for col in comp.extra:
        out = out + np.nan_to_num(c.number(col))
    if comp.min is not None:
        out = np.maximum(out, comp.min)
    if comp.max is not None:
        out = np.minimum(out, comp.max)
    return out


def _piece_rate(c: _Context, comp: P.PieceRate) -> np.ndarray:
    out = np.zeros(c.pop.n)
    for col, rate in comp.rates.items():
        out += np.nan_to_num(c.number(col)) * rate
    if comp.max_mean is not None:
        pop = c.pop
        codes = remember(pop.memo, ("piece rate groups", comp.mean_by, pop.rows_key),
                         lambda: _period_groups(pop, comp.mean_by))
        paid = c.pop.rated
        total = np.bincount(codes, weights=np.where(paid, out, 0.0))
        count = np.bincount(codes, weights=paid.astype(float))
        mean = total / np.maximum(count, 1)
        scale = np.where(mean > comp.max_mean, comp.max_mean / np.maximum(mean, 1e-12), 1.0)
        out = out * scale[codes]
    return out


def _period_groups(pop: Population, by: str | None) -> np.ndarray:
    """A code per row for its period (and ``by`` column): the data's alone, kept for re-runs."""
    parts = [pop.period] + ([np.asarray(pop.column(by), dtype=object)] if by else [])
    key = pd.MultiIndex.from_arrays(parts) if len(parts) > 1 else pd.Index(parts[0])
    return pd.factorize(key)[0]


def _commission(c: _Context, comp: P.Commission, path: str) -> np.ndarray:
    output = np.nan_to_num(c.number(comp.output))
    rate = np.zeros(c.pop.n)
    for tier in reversed(comp.tiers):
        rate = np.where(output > tier.above + tol(tier.above), tier.rate, rate)
    return c.amount(comp.base, f"{path}.base") * rate


def _award(c: _Context, comp: P.Award, rank: np.ndarray | None) -> np.ndarray:
    hit = c.pop.rated.copy()
    if comp.top is not None:
        if rank is None:
            raise DataError(pd.DataFrame([{"table": "policy", "row": None, "id": None,
                                           "column": None, "problem": "an award by rank needs "
                                           "grading.ranking", "value": None,
                                           "fix": "add grading.ranking"}]))
        hit &= (rank >= 1) & (rank <= comp.top)
    if comp.score_above is not None:
        hit &= c.pop.score > comp.score_above + tol(comp.score_above)
    return np.where(hit, comp.amount, 0.0)


def _scores_or_zero(score: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(score)`` — a missing score pays as 0 — in a third of its time (a slider
    pays every row again on each move): one pass, and the full conversion only when some
    score is infinite.
    """
    out = np.where(score == score, score, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):  # inf − inf: some score is infinite
        finite = np.isfinite(out.sum())
    return out if finite else np.nan_to_num(score)


def component_amount(c: _Context, name: str, comp, rank: np.ndarray | None) -> np.ndarray:
    """The float amount of one component per row, before rounding, proration and sign."""
    path = f"pay.components.{name}"
    if isinstance(comp, P.Fixed):
        return c.amount(comp.base, f"{path}.base")
    score = _scores_or_zero(c.pop.score)
    if isinstance(comp, P.ScorePercent):
        pct = score if comp.max_percent is None else np.minimum(score, comp.max_percent)
        # a fixed base multiplies as a number: the same products as a column of it
        base = (comp.base.amount if comp.base.amount is not None
                else c.amount(comp.base, f"{path}.base"))
        return base * pct / 100.0
    if isinstance(comp, P.ScoreBands):
        return _score_bands(c, comp, path)
    if isinstance(comp, P.GradeCoefficient):
        return c.amount(comp.base, f"{path}.base") * c.grade_table(comp.coefficients)
    if isinstance(comp, P.PerUnit):
        out = np.nan_to_num(c.number(comp.column)) * comp.rate
        return np.minimum(out, comp.max) if comp.max is not None else out
    if isinstance(comp, P.PointsBelow):
        return np.maximum(comp.threshold - score, 0.0) * comp.rate
    if isinstance(comp, P.Lateness):
        return _lateness(c, comp)
    if isinstance(comp, P.Workload):
        return _workload(c, comp, path)
    if isinstance(comp, P.PieceRate):
        return _piece_rate(c, comp)
    if isinstance(comp, P.Commission):
        return _commission(c, comp, path)
    return _award(c, comp, rank)


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
        streaks: Streaks | None = None) -> None:
    """Fill ``result.payouts`` (and ``result.merit``) for the paid population; ``rank`` is each
    row's rank (R26) and ``streaks`` the R21 flags raised, when the same rows are graded (with a
    ranking); ``grades_key`` identifies
    the grades, so that a re-run keeps the components that did not change.
    """
    policy = frame.policy
    spec = policy.pay
    assert spec is not None
    c = _Context(frame, pop, last, grades, values)
    if rank is not None:
        rank = np.where(pop.rated, rank, 0).astype(np.int64)
    share = _pay_share(frame, pop, last)
    prorated = last is None and proration(frame) is not None
    fixed_only = _prorated_not_rated(frame, pop, last)
    paid = pop.rated | fixed_only
    total = np.zeros(pop.n, dtype=np.int64)
    columns: dict[str, np.ndarray] = {}
    for name, comp in spec.components.items():
        with _money_at(c, f"pay.components.{name}"):
            columns[name] = _component_units(c, name, comp, rank, share if prorated else None,
                                             fixed_only, grades_key)
        total += columns[name]
    if grades is not None and streaks is not None and (~np.isnan(streaks.amounts())).any():
        with _money_at(c, "grading.streaks"):
            columns["streaks"] = remember_for(pop.kept, streaks, ("streak units", spec.unit),
                                              lambda: _streak_units(pop, streaks, spec.unit))
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
    result.arrays.update(payout_units=payout, unit=spec.unit, paid_on=spec.on)

    def table() -> pd.DataFrame:
        out = {"id": coded(frame.id_categories, pop.person), "period": pop.period_label,
               "status": coded(["not_rated", "rated", "prorated"],
                               np.where(pop.rated, 1, np.where(fixed_only, 2, 0))),
               "score": pop.score}
        if grades is not None:
            out["grade"] = coded(policy.grading.scale.names(), grades)
        if last is None and proration(frame) is not None:
            out["proration"] = np.round(share, 9)
        for name, units in columns.items():
            out[name] = units_to_float(units, spec.unit)
        out["payout"] = units_to_float(payout, spec.unit)
        out["clipped"] = (clipped != total) & paid
        return pd.DataFrame(out)

    result.payouts = Lazy(table)
    if spec.merit is not None:
        result.merit = Lazy(lambda: _merit(c, spec.merit, grades, spec.unit))


@contextmanager
def _money_at(c: _Context, path: str) -> Iterator[None]:
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


def _component_units(c: _Context, name: str, comp, rank: np.ndarray | None,
                     share: np.ndarray | None, fixed_only: np.ndarray,
                     grades_key: object) -> np.ndarray:
    """One component's signed units per row: amount, condition, proration (``share``; None
    when nobody is prorated), rounding.
    """
    def units() -> np.ndarray:
        if (isinstance(comp, P.GradeCoefficient) and comp.base.amount is not None
                and comp.when is None and (share is None or not comp.prorate)):
            return _grade_units(c, comp)  # a lookup of the grade: nothing to gain below
        if (comp.row_wise and c.last is None and c.pop.memo is not None
                and c.pop.n >= score.DELTA_ROWS):
            return _units_where_moved(c, name, comp, share, fixed_only)
        return _units(c, name, comp, rank, share, fixed_only)

    if isinstance(comp, P.Award):  # reads the ranks
        return units()
    spec = c.policy.pay
    return _remembered(c, ("component", name, json_key(comp), spec.unit, spec.rounding),
                       units, grades_key, comp.reads_grades)


def _units(c: _Context, name: str, comp, rank: np.ndarray | None, share: np.ndarray | None,
           fixed_only: np.ndarray) -> np.ndarray:
    """One component's signed units on every row of ``c``'s population."""
    spec = c.policy.pay
    pop = c.pop
    amount = component_amount(c, name, comp, rank)
    if comp.when is not None:
        # a condition on the data's columns: the same rows whatever the scores, kept
        hit = remember(pop.memo, ("holds", json_key(comp.when), pop.rows_key),
                       lambda: holds(comp.when, pop.column(comp.when.column)))
        amount = np.where(hit, amount, 0.0)
    if comp.prorate and share is not None:
        amount = amount * share
    applies = pop.rated | (fixed_only & isinstance(comp, P.Fixed))
    out = np.where(applies, to_units(amount, spec.unit, spec.rounding), 0)
    return -out if comp.deduct else out


def _units_where_moved(c: _Context, name: str, comp, share: np.ndarray | None,
                       fixed_only: np.ndarray) -> np.ndarray:
    """A row-wise component's units (``comp.row_wise``), given the last run's on the same rows:
    only the rows whose score or grade moved are computed again (a KPI slider moves a few
    hundred scores of 120,000, and the grades of a few hundred more); every row when many moved.
    The last run's scores, grades and units are kept in one slot per component.
    """
    pop = c.pop
    spec = c.policy.pay
    grades = c._grades if comp.reads_grades else None
    slot = ("units before", name, json_key(comp), spec.unit, spec.rounding, pop.status_key,
            None if share is None else array_key(share), array_key(fixed_only))
    before = pop.memo.get(slot)
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
                out[rows] = _units(_Context.of_rows(c, rows), name, comp, None,
                                   None if share is None else share[rows], fixed_only[rows])
    if out is None:
        out = _units(c, name, comp, None, share, fixed_only)
    replace(pop.memo, slot, (pop.score, grades, out))
    return out


def _grade_units(c: _Context, comp: P.GradeCoefficient) -> np.ndarray:
    """A fixed amount × the grade's coefficient: rounded once per grade, then looked up (the
    same units as rounding row by row, in one pass).
    """
    spec = c.policy.pay
    names = c.policy.grading.scale.names() if c.policy.grading else []
    per_grade = to_units(comp.base.amount * np.array(
        [comp.coefficients.get(n, 0.0) for n in names] + [0.0]), spec.unit, spec.rounding)
    g = c.grades if c.grades is not None else np.full(c.pop.n, -1)
    out = per_grade[g]  # graded rows are rated; −1 (not graded) takes the last entry, 0
    return -out if comp.deduct else out


def _remembered(c: _Context, part: tuple, compute, grades_key: object, reads_grades: bool
                ) -> np.ndarray:
    """A component's (or the pool's) units, kept between re-runs under the policy part, the
    population and — when it reads them — the grades: a slider on one component, or on the
    grading of a scheme whose other components do not read grades, re-computes only what moved.
    """
    memo = c.pop.kept
    if memo is None or grades_key is None:
        return compute()
    return remember(memo, (part, grades_key if reads_grades else None), compute)


def _streak_units(pop: Population, streaks: Streaks, unit: float) -> np.ndarray:
    """R21 one-off amounts (two months first → 200), paid in the period (the row) that
    completes a streak.
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


def _score_weight(pop: Population) -> np.ndarray:
    """The scores as pool weights: a missing or negative score weighs 0."""
    return np.fmax(pop.score, 0.0)  # fmax: NaN → 0


def _pool(c: _Context, pool: P.BonusPool, grades: np.ndarray | None) -> np.ndarray:
    """R33: the pool shared per period (and per ``by`` group) to the unit, exactly."""
    unit = c.policy.pay.unit
    pop = c.pop
    # the rated rows in pool order: the same for every score that rates the same rows
    rows, groups = remember(pop.memo, ("pool rows", pool.by, pop.status_key),
                            lambda: _pool_rows(pop, pool.by))
    if len(rows) == 0:
        return np.zeros(pop.n, dtype=np.int64)
    group = groups.group
    pool_units = amount_units(pool.amount, unit)
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
    for a, b in zip(starts, np.r_[starts[1:], len(rows)], strict=True):
        part = rows[a:b]
        cap_u = None if caps is None else to_units(caps[part], unit, "down")
        floor_u = None if floors is None else to_units(floors[part], unit, "half_up")
        try:
            out[part] = allocate_pool(pool_units, weight[a:b], cap_u, floor_u)
        except PoolError as exc:
            where = f"period {pop.period_label[part[0]]}" + (
                f", {pool.by} {pop.column(pool.by)[part[0]]}" if pool.by else "")
            raise PoolError(f"the bonus pool of {pool.amount:,.2f} cannot be shared in {where} "
                            f"({len(part)} people): {exc} (amounts in units of {unit:g}); "
                            "check pay.pool's cap and floor") from None
    return out


def _merit(c: _Context, merit: P.MeritMatrix, grades: np.ndarray | None,
           unit: float) -> pd.DataFrame:
    """R35: raise % from grade × compa-ratio band, applied to base pay; one row per graded row."""
    pop = c.pop
    base = np.nan_to_num(np.asarray(pop.column(merit.pay), dtype=np.float64))
    mid = c.amount(merit.midpoint, "pay.merit.midpoint")
    compa = np.divide(base, mid, out=np.full(pop.n, np.nan), where=mid > 0)
    band = np.searchsorted(np.array(merit.bands), compa, side="right")
    names = c.policy.grading.scale.names() if c.policy.grading else []
    table = np.zeros((len(names) + 1, len(merit.bands) + 1))
    for row in merit.rows:
        table[names.index(row.grade)] = row.raises
    g = grades if grades is not None else np.full(pop.n, -1)
    pct = table[np.where(g >= 0, g, len(names)), band]
    units = np.where(g >= 0, to_units(base * pct, unit), 0)
    return pd.DataFrame({"id": coded(c.frame.id_categories, pop.person),
                         "period": pop.period_label, "grade": coded(names, g), "pay": base,
                         "compa_ratio": np.round(compa, 6), "raise_pct": pct,
                         "raise": units_to_float(units, unit)})
