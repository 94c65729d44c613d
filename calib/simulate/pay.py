"""Paying rows of Monte Carlo scenario-periods × slots (``calib.simulate.monte_carlo``): components from the
simulated score and grade, historical means for the rest, the bonus pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd

from calib._util.tolerance import tol
from calib.engine.grading import Population, column_codes
from calib.engine.payout import _Context, component_amount
from calib.engine.result import Result
from calib.kernels.conditions import holds
from calib.kernels.money import to_units
from calib.policy import pay as P
from calib.simulate.draw import _Workspace
from calib.simulate.model import _Model


@dataclass
class _PayPlan:
    """Pay per slot: constant units (fixed parts and historical means) and score/grade parts."""

    unit: float
    rounding: str
    const: np.ndarray
    parts: list[tuple]
    mean_units: dict[str, np.ndarray]
    lo: int | None
    hi: int | None
    pool_units: int | None
    pool_group: np.ndarray | None
    n_pool_groups: int
    folded: bool = False
    """Whether the first part's table includes ``const`` (then it sets the total, not adds)."""
    per_rated: np.ndarray | None = None
    """Without a clip: units per rated period of each slot whatever its grade (``const`` and the
    grade tables' not-graded column)."""
    per_grade: np.ndarray | None = None
    """Without a clip: (grades, slots) units per period at each grade over the not-graded column
    (the grade tables), or None."""
    by_element: list[tuple] = field(default_factory=list)
    """Without a clip: the parts computed element by element (those that read the score)."""
    step_table: np.ndarray | None = None
    """``per_grade`` as a lookup table per slot (not graded first, at 0), made when first used."""

    @property
    def clips(self) -> bool:
        """Whether each person-period's pay is clipped to [min, max] (then its parts are summed
        per element first; otherwise they add up per scenario in any order).
        """
        return self.lo is not None or self.hi is not None


def _slot_population(m: _Model, score: np.ndarray | None = None, rated: np.ndarray | None = None,
                     lowest: np.ndarray | None = None) -> Population:
    """The slots as an engine Population of one period (for amounts and the reference loop)."""
    N = m.n_slots
    return Population(
        person=np.arange(N, dtype=np.int64), period=np.zeros(N, dtype=np.int64),
        period_label=pd.Categorical.from_codes(np.zeros(N, dtype=np.int64), ["next"]),
        score=np.zeros(N) if score is None else score,
        rated=np.ones(N, dtype=bool) if rated is None else rated, card=m.card,
        lowest=np.zeros(N, dtype=bool) if lowest is None else lowest, ids=m.ids,
        column=m.column, row_numbers=np.arange(N))


def _people_column(frame, name: str) -> bool:
    """Whether ``name`` is a people column (constant per person), not a records column."""
    return name not in frame.records.frame.columns and frame.people is not None and (
        name in frame.people.frame.columns)


def _mean_units(m: _Model, result: Result, column: str, spec) -> np.ndarray:
    """Each slot's historical mean amount of a payouts column per paid period, in units."""
    payouts = result.payouts
    frame = result.frame
    person = (np.asarray(frame.person) if spec.on == "period"
              else result.rollup_rows[spec.on].person)
    ok = (payouts["status"] == "rated").to_numpy()
    values = payouts[column].to_numpy(dtype=np.float64)
    n_p = int(person.max(initial=0)) + 1
    s = np.bincount(person[ok], weights=values[ok], minlength=n_p)
    c = np.bincount(person[ok], minlength=n_p)
    everyone = float(values[ok].mean()) if ok.any() else 0.0
    slot_person = np.asarray(frame.person)[m.column.rows]
    mean = np.where(c[slot_person] > 0, s[slot_person] / np.maximum(c[slot_person], 1), everyone)
    return to_units(mean, spec.unit)


def _score_part(m: _Model, ctx: _Context, name: str, comp, sign: int, when: np.ndarray):
    """A component computed from the score or grade: a table per slot, or a formula."""
    spec = m.policy.pay
    N = m.n_slots

    def units(amount: np.ndarray) -> np.ndarray:
        return sign * np.where(when, to_units(amount, spec.unit, spec.rounding), 0)

    if isinstance(comp, P.ScoreBands):
        levels = [b.min for b in comp.bands] + [-np.inf]
        table = np.stack([units(component_amount(_Context(ctx.frame, _slot_population(
            m, np.full(N, level)), None, None, {}), name, comp, None)) for level in levels], axis=1)
        mins = np.array([b.min - tol(b.min) for b in comp.bands])
        return ("bands", table.ravel(), mins, np.arange(N, dtype=np.int64) * table.shape[1])
    if isinstance(comp, P.GradeCoefficient):
        K = len(m.policy.grading.scale.grades) if m.policy.grading else 0
        cols = []
        for g in [*range(K), -1]:
            at_grade = _Context(ctx.frame, ctx.pop, None, np.full(N, g), {})
            cols.append(units(component_amount(at_grade, name, comp, None)))
        table = np.stack([cols[-1], *cols[:-1]], axis=1)  # not graded (−1) first: grade + 1
        return ("grades", table.ravel(), None, np.arange(N, dtype=np.int64) * (K + 1) + 1)
    if isinstance(comp, P.ScorePercent):
        base = ctx.amount(comp.base, f"pay.components.{name}.base")
        return ("percent", base, comp.max_percent, sign, when)
    if isinstance(comp, P.PointsBelow):
        return ("below", comp.threshold, comp.rate, sign, when)
    amount = units(np.full(N, comp.amount))  # an award by score
    return ("above", comp.score_above + tol(comp.score_above), amount)


def _pay_plan(m: _Model, result: Result) -> _PayPlan:
    """Sort the pay components into constant, score/grade-driven and historical-mean parts."""
    spec = m.policy.pay
    frame = result.frame
    N = m.n_slots
    ctx = _Context(SimpleNamespace(policy=m.policy), _slot_population(m), None, None, {})
    const = np.zeros(N, dtype=np.int64)
    parts: list[tuple] = []
    means: dict[str, np.ndarray] = {}
    for name, comp in spec.components.items():
        sign = -1 if comp.deduct else 1
        when = np.ones(N, dtype=bool)
        by_score = isinstance(comp, P.Fixed | P.ScorePercent | P.ScoreBands | P.GradeCoefficient
                              | P.PointsBelow) or (isinstance(comp, P.Award) and comp.top is None)
        if comp.when is not None:
            if _people_column(frame, comp.when.column):
                when = holds(comp.when, m.column(comp.when.column))
            else:
                by_score = False
        if not by_score:
            means[name] = _mean_units(m, result, name, spec)
            const += means[name]
        elif isinstance(comp, P.Fixed):
            amount = ctx.amount(comp.base, f"pay.components.{name}.base")
            const += sign * np.where(when, to_units(amount, spec.unit, spec.rounding), 0)
        elif isinstance(comp, P.Award) and comp.score_above is None:
            const += sign * np.where(when, to_units(np.full(N, comp.amount), spec.unit), 0)
        else:
            parts.append(_score_part(m, ctx, name, comp, sign, when))
    if result.payouts is not None and "streaks" in result.payouts:
        means["streaks"] = _mean_units(m, result, "streaks", spec)
        const += means["streaks"]
    lo = None if spec.min is None else int(to_units(np.array([spec.min]), spec.unit)[0])
    hi = None if spec.max is None else int(to_units(np.array([spec.max]), spec.unit)[0])
    pool_units = pool_group = None
    n_pool = 0
    if spec.pool is not None:
        pool_units = int(to_units(np.array([spec.pool.amount]), spec.unit)[0])
        if spec.pool.by:
            codes, _ = column_codes(m.column(spec.pool.by))
            pool_group = pd.factorize(codes)[0].astype(np.int64)
        else:
            pool_group = np.zeros(N, dtype=np.int64)
        n_pool = int(pool_group.max(initial=-1)) + 1
    plan = _PayPlan(spec.unit, spec.rounding, const, parts, means, lo, hi, pool_units, pool_group,
                    n_pool)
    if plan.clips:
        _fold_const(plan)
    else:
        _split_by_grade(plan)
    return plan


def _split_by_grade(plan: _PayPlan) -> None:
    """Without a clip, split the pay into what a scenario's counts give (per rated period, per
    period at each grade: the constant units and the grade tables) and the parts read element by
    element (score percent, bands, points below, awards by score).
    """
    N = len(plan.const)
    plan.per_rated = plan.const.copy()
    for part in plan.parts:
        if part[0] != "grades":
            plan.by_element.append(part)
            continue
        table = part[1].reshape(N, -1)  # not graded, then each grade
        plan.per_rated += table[:, 0]
        steps = (table[:, 1:] - table[:, :1]).T
        plan.per_grade = steps if plan.per_grade is None else plan.per_grade + steps
    if plan.per_grade is not None:  # made here, before the threads share the plan: per slot,
        # 0 (not graded, and not rated), then each grade's step
        plan.step_table = np.c_[np.zeros(N, dtype=np.int64), plan.per_grade.T].ravel()


def _fold_const(plan: _PayPlan) -> None:
    """Put a table part (by grade or band) first, with the constant units added to each slot's
    row of it: one lookup then sets the total (whole units: the order of the sums is free).
    """
    tables = [i for i, part in enumerate(plan.parts) if part[0] in ("bands", "grades")]
    if not tables:
        return
    part = plan.parts.pop(tables[0])
    width = len(part[1]) // len(plan.const)
    plan.parts.insert(0, (part[0], part[1] + np.repeat(plan.const, width), *part[2:]))
    plan.folded = True


def _whole_units(f: np.ndarray, unit: float, rounding: str) -> bool:
    """``calib.kernels.money.to_units`` of the amounts in ``f``, in place (whole numbers, as floats): the
    same operations, no temporaries the size of a block. Returns whether every one is known to
    be ≥ 0 (then the float sum of any of them is exact while it stays below 2⁵³).
    """
    np.divide(f, unit, out=f)
    np.round(f, 6, out=f)
    if rounding == "half_up":
        if f.size and not float(f.min()) >= 0:  # negative amounts (or NaN): the general formula
            f[...] = np.sign(f) * np.floor(np.abs(f) + 0.5)
            return False
        f += 0.5  # sign(x)·⌊|x| + ½⌋ for x ≥ 0
        np.floor(f, out=f)
        return True
    if rounding == "half_even":
        np.rint(f, out=f)
    elif rounding == "down":
        np.trunc(f, out=f)
    else:
        to_units(np.zeros(1), unit, rounding)  # raises the money module's error
    return False


def _units_into(f: np.ndarray, unit: float, rounding: str, out: np.ndarray) -> np.ndarray:
    """``calib.kernels.money.to_units`` of the amounts in ``f`` (overwritten) into ``out`` (int64)."""
    _whole_units(f, unit, rounding)
    np.copyto(out, f, casting="unsafe")
    return out


def _table_index(part: tuple, score: np.ndarray, grades: np.ndarray | None, ws: _Workspace
                 ) -> np.ndarray:
    """Index into a table part (by band or grade) per (row, slot), in ``ws``."""
    R, N = score.shape
    idx = ws.get("idx", (R, N), np.int64)
    if part[0] == "bands":  # the band is the number of band minimums above the score
        band = np.zeros((R, N), dtype=np.int8)
        for lo in part[2]:
            band += score < lo
        np.add(band, part[3], out=idx)
    elif grades is None:
        np.copyto(idx, part[3] - 1)  # everyone in the "not graded" column
    else:
        np.add(grades, part[3], out=idx)
    return idx


def _formula_amounts(part: tuple, score: np.ndarray, f: np.ndarray) -> tuple[int, np.ndarray]:
    """Amounts of a score percent or points-below part into ``f``; returns its sign and when."""
    if part[0] == "percent":
        base, cap, sign, when = part[1:]
        if cap is None:
            np.copyto(f, score)
        else:
            np.minimum(score, cap, out=f)
        np.multiply(base, f, out=f)
        f /= 100.0
    else:  # "below": points below the threshold × rate
        threshold, rate, sign, when = part[1:]
        np.subtract(threshold, score, out=f)
        np.maximum(f, 0.0, out=f)
        f *= rate
    return sign, when


def _add_part(plan: _PayPlan, part: tuple, score: np.ndarray, grades: np.ndarray | None,
              total: np.ndarray, ws: _Workspace, first: bool = False) -> None:
    """Add the units of one score/grade part on (rows, slots) to ``total`` (``first``: set
    ``total`` instead).
    """
    R, N = score.shape
    kind = part[0]
    units = ws.get("pay.units", (R, N), np.int64)
    into = total if first else units
    if kind in ("bands", "grades"):
        part[1].take(_table_index(part, score, grades, ws), out=into, mode="clip")
    elif kind == "above":
        np.copyto(into, np.where(score > part[1], part[2], 0))
    else:
        sign, when = _formula_amounts(part, score, ws.get("tmp", (R, N), np.float64))
        _units_into(ws.get("tmp", (R, N), np.float64), plan.unit, plan.rounding, into)
        if not when.all():
            into *= when
        if sign < 0:
            np.negative(into, out=into)
    if not first:
        total += units


def _pay_rows(plan: _PayPlan, score: np.ndarray, rated: np.ndarray,
              grades: np.ndarray | None, ws: _Workspace | None = None) -> np.ndarray:
    """Payout units per (scenario-period, slot) before the pool; 0 where not rated.

    The result lives in ``ws`` (valid until its next use): exactly the units of the engine's
    rounding per component, summed, clipped to [min, max].
    """
    ws = ws or _Workspace()
    total = ws.get("pay.total", score.shape, np.int64)
    if not plan.folded:
        np.copyto(total, plan.const)
    for i, part in enumerate(plan.parts):
        _add_part(plan, part, score, grades, total, ws, first=plan.folded and i == 0)
    if plan.lo is not None or plan.hi is not None:
        np.clip(total, plan.lo, plan.hi, out=total)
    total *= rated
    return total


def _rated_counts(rated: np.ndarray, c: int) -> np.ndarray:
    """Rated periods per (scenario, slot) of rows (scenario-periods) × slots: (c, slots)."""
    R, N = rated.shape
    small = np.uint8 if R // c < 256 else np.int64
    return np.add.reduce(rated.reshape(c, R // c, N).view(np.uint8), axis=1, dtype=small)


def _unrated_sums(f: np.ndarray, rated: np.ndarray, c: int,
                  partial: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Σ of ``f`` (rows: ``c`` scenarios × periods; slots) over each scenario's elements not
    rated, which are all in the ``partial`` (scenario, slot) pairs (few: joiners and leavers):
    their periods only are read.
    """
    pair_scenario, pair_slot = partial
    if not len(pair_scenario):
        return np.zeros(c)
    P, N = f.shape[0] // c, f.shape[1]
    first = pair_scenario * (P * N) + pair_slot  # each pair's first period in ``f``, flat
    at = np.add.outer(np.arange(0, P * N, N), first)  # (periods, pairs): long inner loops
    values = np.where(rated.take(at), 0.0, f.take(at))
    return np.bincount(pair_scenario, weights=values.sum(axis=0), minlength=c)


def _float_sums(plan: _PayPlan, part: tuple, score: np.ndarray, rated: np.ndarray, c: int,
                partial: tuple[np.ndarray, np.ndarray], ws: _Workspace) -> np.ndarray | None:
    """Units per scenario of a score percent or points-below part over the rated person-periods,
    summed as floats (no conversion to integers, no mask over every element): the sum of all,
    less those not rated (``_unrated_sums``). Exact: rounded
    half up with every amount ≥ 0, the units are whole numbers ≥ 0, so every partial sum is at
    most the scenario's total, checked below 2⁵³. None when that does not hold (then the part
    is computed in integers).
    """
    if part[0] not in ("percent", "below") or plan.rounding != "half_up" or not part[4].all():
        return None
    f = ws.get("tmp", score.shape, np.float64)
    sign, _ = _formula_amounts(part, score, f)
    if not _whole_units(f, plan.unit, plan.rounding):
        return None
    sums = f.reshape(c, -1).sum(axis=1)
    if not sums.max(initial=0.0) < 2.0 ** 53:  # pragma: no cover - some 10¹³ units per scenario
        return None
    sums -= _unrated_sums(f, rated, c, partial)
    return sign * sums.astype(np.int64)


def _grade_steps(plan: _PayPlan, grades: np.ndarray, c: int, ws: _Workspace) -> np.ndarray:
    """Σ per scenario of each graded element's units over the not-graded column, looked up one
    by one (cheaper than from the counts when a scenario has fewer periods than grades).
    """
    K, N = plan.per_grade.shape  # ``plan.step_table`` was made with ``per_grade``
    idx = np.add(grades, np.arange(N, dtype=np.int64) * (K + 1) + 1,
                 out=ws.get("idx", grades.shape, np.int64))
    units = plan.step_table.take(idx, out=ws.get("pay.units", grades.shape, np.int64),
                                 mode="clip")
    return units.reshape(c, -1).sum(axis=1)


def _pay_totals(plan: _PayPlan, score: np.ndarray, rated: np.ndarray, grades: np.ndarray | None,
                per_grade: np.ndarray | None, c: int, ws: _Workspace | None = None,
                partial: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Payout units per scenario before the pool, for rows (scenario-periods) × slots, ``c``
    scenarios; ``per_grade``: each slot's periods at each grade per scenario, (grades, c, slots),
    from ``grades`` (None without grades); ``partial``: the (scenario, slot) pairs holding every
    element not rated (None: found from ``rated``).

    With a clip every person-period is summed and clipped (``_pay_rows``). Without one, what
    depends only on the slot and the grade comes from the counts (rated periods × units per
    rated period, periods at each grade × the grade's extra units), and only the parts that read
    the score are computed per person-period: the same units (whole numbers, summed in any
    order).
    """
    if plan.clips:
        return _pay_rows(plan, score, rated, grades, ws).reshape(c, -1).sum(axis=1)
    ws = ws or _Workspace()
    if partial is None:
        partial = np.nonzero(~rated.reshape(c, len(rated) // c, -1).all(axis=1))
    totals = _rated_counts(rated, c) @ plan.per_rated
    if plan.per_grade is not None and grades is not None and len(grades) <= c * len(plan.per_grade):
        totals += _grade_steps(plan, grades, c, ws)  # few periods: each looked up
    elif plan.per_grade is not None and per_grade is not None:
        totals += np.einsum("kcs,ks->c", per_grade, plan.per_grade)
    total = None  # units per element of the parts not summed as floats
    for part in plan.by_element:
        sums = _float_sums(plan, part, score, rated, c, partial, ws)
        if sums is not None:
            totals += sums
            continue
        first = total is None
        total = ws.get("pay.total", score.shape, np.int64)
        _add_part(plan, part, score, grades, total, ws, first=first)
    if total is not None:
        total *= rated
        totals += total.reshape(c, -1).sum(axis=1)
    return totals


def _pool_cells(plan: _PayPlan, rated: np.ndarray) -> np.ndarray:
    """Per row (scenario-period): the number of pool groups with someone rated."""
    R = rated.shape[0]
    if plan.n_pool_groups == 1:
        return rated.any(axis=1).astype(np.int64)
    flat = np.arange(R, dtype=np.int64)[:, None] * plan.n_pool_groups + plan.pool_group
    has = np.bincount(flat[rated], minlength=R * plan.n_pool_groups) > 0
    return has.reshape(R, plan.n_pool_groups).sum(axis=1)
