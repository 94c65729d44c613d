"""Paying rows of Monte Carlo scenario-periods × slots (``calib.simulate.monte_carlo``): components from the
simulated score and grade, historical means for the rest, the bonus pool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
import pandas as pd

from calib.engine.components import ComponentKind, Form, PayContext, Steps, kind_of
from calib.engine.grading import Population, column_codes
from calib.engine.payout import component_units, merit_units, streak_units
from calib.engine.result import Result
from calib.engine.streaks import ranks, streak_flags
from calib.errors import SimulationError
from calib.kernels.conditions import holds
from calib.kernels.money import amount_units, to_units
from calib.policy.grading import Grading
from calib.policy.model import Policy
from calib.policy.pay import Pay
from calib.simulate.draw import _Workspace
from calib.simulate.model import _Model, _Slots

_StepsPart = tuple[Literal["steps"], np.ndarray, Steps, np.ndarray]
"""A component by step of the score: ("steps", table, its ``Steps``, base): a slot s at step i
has the units ``table[base[s] + i]``."""
_GradesPart = tuple[Literal["grades"], np.ndarray, None, np.ndarray]
"""A component by grade: ("grades", table, None, base): a slot s at grade g has the units
``table[base[s] + g]`` (not graded, g = −1, included)."""
_FormulaPart = tuple[Literal["formula"], Callable[[Any, np.ndarray, np.ndarray], None], Any, int,
                     np.ndarray]
"""A component continuous in the score: ("formula", its kind's ``into``, the per-slot
parameters ``into`` reads, the sign (−1: deducted), where its condition holds per slot)."""
_Part = _StepsPart | _GradesPart | _FormulaPart
"""A part of the pay plan, read through the score or the grade (tuples: read in the block loops)."""


@dataclass
class _PayPlan:
    """Pay per slot: constant units (fixed parts and historical means) and score/grade parts."""

    unit: float
    rounding: str
    const: np.ndarray
    parts: list[_Part]
    mean_units: dict[str, np.ndarray]
    """Each slot's historical mean units per paid period, of the components the simulation does
    not draw (and of the one-off streak amounts)."""
    lo: int | None
    hi: int | None
    pool_units: np.ndarray | None
    """Each pool group's amount in units (one group per period without ``by`` or with
    ``split: headcount``, whose amount is the period's whole)."""
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
    by_element: list[_StepsPart | _FormulaPart] = field(default_factory=list)
    """Without a clip: the parts computed element by element (those that read the score)."""
    step_table: np.ndarray | None = None
    """``per_grade`` as a lookup table per slot (not graded first, at 0), made when first used."""
    streaks: Grading | None = None
    """The grading whose streak amounts (R21) are simulated (``_streak_months``); None when
    there are none, or when a streak reads ranks (then they are a historical mean)."""
    ranked: list[tuple[str, Any]] = field(default_factory=list)
    """The components of the rank (R26: awards to the top of a group), computed on every
    element from the simulated ranks by ``_ranked_months``."""
    merit: np.ndarray | None = None
    """(grades, slots) merit raise units (R35) of a period graded at each grade, by the
    engine's ``merit_units``; None without a merit matrix or when pay and grading differ."""
    streak_layouts: dict[int, tuple] = field(default_factory=dict)
    """The simulated months laid out by person, per number of scenarios in a block (made once
    per block size, then shared by the threads: each entry is written whole)."""
    not_drawn: dict[str, str] = field(default_factory=dict)
    """Why each of ``mean_units`` is a historical mean, in words (for ``Simulation.notes``)."""
    prorated: list[tuple[str, Any]] = field(default_factory=list)
    """The components computed from the score, grade or person that are prorated (the plan's
    units are for whole months: a part month is corrected by ``_part_months``)."""

    @property
    def clips(self) -> bool:
        """Whether each person-period's pay is clipped to [min, max] (then its parts are summed
        per element first; otherwise they add up per scenario in any order).
        """
        return self.lo is not None or self.hi is not None


def _slot_population(m: _Model, score: np.ndarray | None = None, rated: np.ndarray | None = None,
                     lowest: np.ndarray | None = None, slots: np.ndarray | None = None,
                     period: np.ndarray | None = None) -> Population:
    """The slots (every one, or ``slots``, a slot per row) as an engine Population of one
    period, or of ``period`` per row (for amounts, part months, ranks and the reference loop).
    """
    column: Callable[[str], np.ndarray] = m.column
    if slots is None:
        slots = np.arange(m.n_slots, dtype=np.int64)
    else:
        column = partial(_column_at, column, slots)
    N = len(slots)
    label: pd.Index = pd.Index(["next"])  # any labels: ``Population.period_label``'s type
    return Population(
        person=slots, period=np.zeros(N, dtype=np.int64) if period is None else period,
        period_label=pd.Categorical.from_codes(np.zeros(N, dtype=np.int64), label),
        score=np.zeros(N) if score is None else score,
        rated=np.ones(N, dtype=bool) if rated is None else rated, card=m.card[slots],
        lowest=np.zeros(N, dtype=bool) if lowest is None else lowest, ids=m.ids,
        column=column, row_numbers=np.arange(N))


def _context(m: _Model, pop: Population | None = None, grades: np.ndarray | None = None,
             rank: np.ndarray | None = None) -> PayContext:
    """What a pay kernel reads, on ``pop`` (default: every slot): the policy alone stands for
    the run's frame (the simulation's components read no events).
    """
    return PayContext(SimpleNamespace(policy=m.policy), _slot_population(m) if pop is None
                      else pop, None, grades, {}, rank)


def _column_at(column: Callable[[str], np.ndarray], slots: np.ndarray, name: str) -> np.ndarray:
    """A slot column's values at ``slots``."""
    return np.asarray(column(name))[slots]


def _streak_months(m: _Model, plan: _PayPlan, score: np.ndarray, rated: np.ndarray,
                   grades: np.ndarray | None, months: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The streak amounts (R21) of the simulated months: (flat element, units), by the engine's
    own ``streak_flags`` and ``streak_units`` on the block's elements, each (scenario, slot) a
    person of its own and each month a period (a streak begins within the simulated year).
    None when the plan simulates no streak amounts or none is raised.
    """
    if plan.streaks is None:
        return None
    R, N = score.shape
    c = R // months
    n = R * N
    layout = plan.streak_layouts.get(c)
    if layout is None:  # the same for every block of c scenarios: made once
        # by person (scenario, slot), then month: the engine's order of rows, known here
        slots = np.tile(np.repeat(np.arange(N, dtype=np.int64), months), c)
        month = np.tile(np.arange(months, dtype=np.int64), c * N)
        # each scenario-month a period of its own (ranks are within a period and group)
        period = np.arange(n, dtype=np.int64) // (N * months) * months + month
        layout = plan.streak_layouts[c] = (
            slots, period, np.repeat(np.arange(c * N, dtype=np.int64), months), m.card[slots],
            pd.Categorical.from_codes(month, pd.Index([f"month {k + 1}" for k in range(months)])),
            (np.arange(n, dtype=np.int64), month > 0))
    slots, period, person, card, label, in_turn = layout

    def by_person(values: np.ndarray) -> np.ndarray:
        return values.reshape(c, months, N).transpose(0, 2, 1).ravel()

    pop = Population(
        person=person, period=period, period_label=label, score=by_person(score),
        rated=by_person(rated), card=card, lowest=np.zeros(n, dtype=bool), ids=m.ids,
        column=partial(_column_at, m.column, slots), row_numbers=in_turn[0])
    flat = np.full(n, -1, dtype=np.int64) if grades is None else by_person(grades).astype(
        np.int64)
    rank = None
    if plan.streaks.streaks_read_ranks:
        rank = np.where(pop.rated, ranks(pop, plan.streaks), 0).astype(np.int64)
    flags = streak_flags(pop, plan.streaks, flat, rank, None, in_turn=in_turn)
    if flags is None or not len(flags.row):
        return None
    units = streak_units(pop, flags, plan.unit)
    at = np.flatnonzero(units)  # back to (scenario-month row, slot), flat
    row = (at // (N * months)) * months + at % months
    return row * N + (at // months) % N, units[at]


def _joined(*corrections: tuple[np.ndarray, np.ndarray] | None
            ) -> tuple[np.ndarray, np.ndarray] | None:
    """Element corrections (flat element, units) as one (None when there are none)."""
    given = [c for c in corrections if c is not None]
    if len(given) <= 1:
        return given[0] if given else None
    return np.concatenate([c[0] for c in given]), np.concatenate([c[1] for c in given])


def _part_months(m: _Model, plan: _PayPlan, score: np.ndarray, rated: np.ndarray,
                 grades: np.ndarray | None, share: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """The correction for part months: (flat element, units) to add on every rated element
    with a proration share below 1, for the prorated components the plan computed for whole
    months: the engine's ``component_units`` with the share less without it (the same kernel,
    condition, proration and rounding as a real run). None when there is nothing to correct.
    """
    if share is None or not plan.prorated:
        return None
    N = score.shape[1]
    idx = np.flatnonzero((rated & (share < 1.0)).ravel())
    if not len(idx):
        return None
    slots = idx % N
    g = None if grades is None else grades.ravel()[idx].astype(np.int64)
    ctx = _context(m, _slot_population(m, score.ravel()[idx], slots=slots), g)
    nobody = np.zeros(len(idx), dtype=bool)
    part = share.ravel()[idx]
    delta = np.zeros(len(idx), dtype=np.int64)
    for name, comp in plan.prorated:
        delta += component_units(ctx, name, comp, part, nobody)
        delta -= component_units(ctx, name, comp, None, nobody)
    return idx, delta


def _people_column(frame: Any, name: str) -> bool:
    """Whether ``name`` is a people column (constant per person), not a records column."""
    return name not in frame.records.frame.columns and frame.people is not None and (
        name in frame.people.frame.columns)


def _mean_units(m: _Model, result: Result, column: str, spec: Pay) -> np.ndarray:
    """Each slot's historical mean amount of a payouts column per paid period, in units."""
    slots = m.column
    assert isinstance(slots, _Slots), "planned from the fitted model (its columns from the frame)"
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
    slot_person = np.asarray(frame.person)[slots.rows]
    mean = np.where(c[slot_person] > 0, s[slot_person] / np.maximum(c[slot_person], 1), everyone)
    return to_units(mean, spec.unit)


def _score_part(m: _Model, spec: Pay, kind: ComponentKind, form: str, name: str, comp: Any,
                sign: int, when: np.ndarray) -> _Part:
    """A component of ``spec`` read through the score or the grade, in its kind's batched form:
    a table per slot (by step of the score, or by grade) from the kind's kernel, or its formula.
    """
    N = m.n_slots
    path = f"pay.components.{name}"

    def units(amount: np.ndarray) -> np.ndarray:
        return sign * np.where(when, to_units(amount, spec.unit, spec.rounding), 0)

    def at(score: np.ndarray | None = None, grades: np.ndarray | None = None) -> np.ndarray:
        return units(kind.amount(_context(m, _slot_population(m, score), grades), comp, path))

    if form == "steps":
        assert kind.steps is not None
        steps = kind.steps(comp)
        table = np.stack([at(np.full(N, level)) for level in steps.levels], axis=1)
        return ("steps", table.ravel(), steps, np.arange(N, dtype=np.int64) * table.shape[1])
    if form == "grade":
        K = len(m.policy.grading.scale.grades) if m.policy.grading else 0
        cols = [at(grades=np.full(N, g)) for g in [*range(K), -1]]
        table = np.stack([cols[-1], *cols[:-1]], axis=1)  # not graded (−1) first: grade + 1
        return ("grades", table.ravel(), None, np.arange(N, dtype=np.int64) * (K + 1) + 1)
    assert form == "formula" and kind.prepare is not None and kind.into is not None
    return ("formula", kind.into, kind.prepare(_context(m), comp, path), sign, when)


def _component_plan(m: _Model, name: str, comp: Any, attribute: Callable[[str], bool],
                    ranks: bool = False) -> tuple[Form, Any]:
    """One component's batched form (its kind's, or ``history`` when its condition reads a
    period's column; ``attribute(column)``: whether a column is a person's, constant over the
    year) and what the plan holds for it: its units per slot (``constant``), a part
    (``steps``, ``grade``, ``formula``) or None (``history``: the historical mean).
    """
    spec = m.policy.pay
    assert spec is not None, "a component of the policy's pay section"
    kind = kind_of(comp)
    form = kind.form(comp, attribute, ranks)
    N = m.n_slots
    when = np.ones(N, dtype=bool)
    if comp.when is not None:
        if not attribute(comp.when.column):
            return "history", None
        when = holds(comp.when, m.column(comp.when.column))
    if form in ("history", "rank"):  # a rank's: each element by the kernel (``_ranked_months``)
        return form, None
    sign = -1 if comp.deduct else 1
    if form == "constant":
        amount = kind.amount(_context(m), comp, f"pay.components.{name}")
        return form, sign * np.where(when, to_units(amount, spec.unit, spec.rounding), 0)
    return form, _score_part(m, spec, kind, form, name, comp, sign, when)


def _pay_plan(m: _Model, result: Result, spec: Pay) -> _PayPlan:
    """Sort the pay components of ``spec`` (the policy's pay) by their kind's batched form:
    constant, by score or grade, and historical means (what the simulation does not draw).
    """
    frame = result.frame
    N = m.n_slots
    const = np.zeros(N, dtype=np.int64)
    parts: list[_Part] = []
    means: dict[str, np.ndarray] = {}
    prorated: list[tuple[str, Any]] = []
    not_drawn: dict[str, str] = {}
    ranked: list[tuple[str, Any]] = []
    attribute = partial(_people_column, frame)
    ranks = _ranks_drawn(m.policy, spec, attribute)
    for name, comp in spec.components.items():
        form, planned = _component_plan(m, name, comp, attribute, ranks)
        if form == "rank":
            ranked.append((name, comp))
            continue
        if form != "history" and comp.prorate:
            prorated.append((name, comp))
        if form == "history":
            means[name] = _mean_units(m, result, name, spec)
            const += means[name]
            why = kind_of(comp).not_drawn(comp, attribute, ranks)
            if why is None:  # history because of the condition alone
                assert comp.when is not None, "_component_plan: a kind drawn, a condition not"
                why = f"its condition reads {comp.when.column} of each period"
            not_drawn[name] = why
        elif form == "constant":
            const += planned
        else:
            parts.append(planned)
    grading = m.policy.grading
    streaks = None
    if result.payouts is not None and "streaks" in result.payouts:
        assert grading is not None, "streak amounts are paid on the graded population"
        if not ranks and grading.streaks_read_ranks:
            means["streaks"] = _mean_units(m, result, "streaks", spec)
            const += means["streaks"]
            not_drawn["streaks"] = ("one-off amounts of streaks (R21) on ranks, which are not "
                                    "simulated for this policy")
        else:
            streaks = grading
    lo = None if spec.min is None else amount_units(spec.min, spec.unit)
    hi = None if spec.max is None else amount_units(spec.max, spec.unit)
    pool_units = pool_group = None
    n_pool = 0
    if spec.pool is not None:
        pool_units, pool_group = _pool_groups(m, spec, N)
        n_pool = len(pool_units)
    plan = _PayPlan(spec.unit, spec.rounding, const, parts, means, lo, hi, pool_units, pool_group,
                    n_pool, streaks=streaks, not_drawn=not_drawn, prorated=prorated, ranked=ranked,
                    merit=_merit_table(m, spec))
    if plan.clips:
        _fold_const(plan)
    else:
        _split_by_grade(plan)
    return plan


def _ranks_drawn(policy: Policy, spec: Pay, attribute: Callable[[str], bool]) -> bool:
    """Whether the simulation ranks its people as the engine does (R26): a ranking on the paid
    periods whose demotions and tie columns are the person's (a period's demotion count, such as
    complaints, is not drawn).
    """
    grading = policy.grading
    if grading is None or grading.ranking is None or grading.on != spec.on:
        return False
    ranking = grading.ranking
    if ranking.on is not None:  # a rank on a period's value (sales): not drawn
        return False
    return (ranking.demote is None or attribute(ranking.demote)) and all(
        attribute(key.column) for key in ranking.ties)


def _ranked_months(m: _Model, plan: _PayPlan, score: np.ndarray, rated: np.ndarray,
                   grades: np.ndarray | None, share: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """The components of the rank on every element of a block: (flat element, units), by the
    engine's ``ranks`` (each scenario-month a period of its own) and each component's
    ``component_units`` with those ranks. None when the plan has none.
    """
    if not plan.ranked:
        return None
    grading = m.policy.grading
    assert grading is not None, "``_ranks_drawn``: ranks need the policy's grading"
    R, N = score.shape
    n = R * N
    pop = _slot_population(m, score.ravel(), rated.ravel(),
                           slots=np.tile(np.arange(N, dtype=np.int64), R),
                           period=np.repeat(np.arange(R, dtype=np.int64), N))
    rank = np.where(pop.rated, ranks(pop, grading), 0).astype(np.int64)
    flat = None if grades is None else grades.ravel().astype(np.int64)
    ctx = _context(m, pop, flat, rank)
    nobody = np.zeros(n, dtype=bool)
    part = None if share is None else share.ravel()
    units = np.zeros(n, dtype=np.int64)
    for name, comp in plan.ranked:
        units += component_units(ctx, name, comp, part, nobody)
    at = np.flatnonzero(units)
    return at, units[at]


def _merit_table(m: _Model, spec: Pay) -> np.ndarray | None:
    """Each slot's merit raise units (R35) at each grade, (grades, slots), by the engine's
    ``merit_units`` (None without a merit matrix, or when the pay is not on the graded periods:
    then the engine raises nobody either).
    """
    grading = m.policy.grading
    if spec.merit is None or grading is None or grading.on != spec.on:
        return None
    ctx = _context(m)
    return np.stack([merit_units(ctx, spec.merit, np.full(m.n_slots, g), spec.unit)[3]
                     for g in range(len(grading.scale.grades))])


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
    for i, part in enumerate(plan.parts):
        if part[0] == "formula":
            continue
        table = part[1] + np.repeat(plan.const, len(part[1]) // len(plan.const))
        folded: _Part = (("steps", table, part[2], part[3]) if part[0] == "steps"
                         else ("grades", table, None, part[3]))
        del plan.parts[i]
        plan.parts.insert(0, folded)
        plan.folded = True
        return


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


def _table_index(part: _StepsPart | _GradesPart, score: np.ndarray, grades: np.ndarray | None,
                 ws: _Workspace) -> np.ndarray:
    """Index into a table part (by band or grade) per (row, slot), in ``ws``."""
    R, N = score.shape
    idx = ws.get("idx", (R, N), np.int64)
    if part[0] == "steps":  # the step is the number of edges above the score
        np.add(part[2].index(score, np.zeros((R, N), dtype=np.int8)), part[3], out=idx)
    elif grades is None:
        np.copyto(idx, part[3] - 1)  # everyone in the "not graded" column
    else:
        np.add(grades, part[3], out=idx)
    return idx


def _formula_amounts(part: _FormulaPart, score: np.ndarray, f: np.ndarray
                     ) -> tuple[int, np.ndarray]:
    """Amounts of a formula part (its kind's ``into``) into ``f``; returns its sign and when."""
    _, into, params, sign, when = part
    into(params, score, f)
    return sign, when


def _add_part(plan: _PayPlan, part: _Part, score: np.ndarray, grades: np.ndarray | None,
              total: np.ndarray, ws: _Workspace, first: bool = False) -> None:
    """Add the units of one score/grade part on (rows, slots) to ``total`` (``first``: set
    ``total`` instead).
    """
    R, N = score.shape
    units = ws.get("pay.units", (R, N), np.int64)
    into = total if first else units
    if part[0] != "formula":  # a table: by step or by grade
        part[1].take(_table_index(part, score, grades, ws), out=into, mode="clip")
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
              grades: np.ndarray | None, ws: _Workspace | None = None,
              parts: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Payout units per (scenario-period, slot) before the pool; 0 where not rated; ``parts``:
    the part-month correction (``_part_months``), added before the clip.

    The result lives in ``ws`` (valid until its next use): exactly the units of the engine's
    rounding per component, summed, clipped to [min, max].
    """
    ws = ws or _Workspace()
    total = ws.get("pay.total", score.shape, np.int64)
    if not plan.folded:
        np.copyto(total, plan.const)
    for i, part in enumerate(plan.parts):
        _add_part(plan, part, score, grades, total, ws, first=plan.folded and i == 0)
    if parts is not None:
        np.add.at(total.reshape(-1), parts[0], parts[1])
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


def _float_sums(plan: _PayPlan, part: _Part, score: np.ndarray, rated: np.ndarray, c: int,
                partial: tuple[np.ndarray, np.ndarray], ws: _Workspace) -> np.ndarray | None:
    """Units per scenario of a formula part (score percent, points below) over the rated person-periods,
    summed as floats (no conversion to integers, no mask over every element): the sum of all,
    less those not rated (``_unrated_sums``). Exact: rounded
    half up with every amount ≥ 0, the units are whole numbers ≥ 0, so every partial sum is at
    most the scenario's total, checked below 2⁵³. None when that does not hold (then the part
    is computed in integers).
    """
    if part[0] != "formula" or plan.rounding != "half_up" or not part[4].all():
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
    assert plan.per_grade is not None and plan.step_table is not None, (
        "only with grade tables: ``_split_by_grade`` made both")
    K, N = plan.per_grade.shape  # ``plan.step_table`` was made with ``per_grade``
    idx = np.add(grades, np.arange(N, dtype=np.int64) * (K + 1) + 1,
                 out=ws.get("idx", grades.shape, np.int64))
    units = plan.step_table.take(idx, out=ws.get("pay.units", grades.shape, np.int64),
                                 mode="clip")
    return units.reshape(c, -1).sum(axis=1)


def _pay_totals(plan: _PayPlan, score: np.ndarray, rated: np.ndarray, grades: np.ndarray | None,
                per_grade: np.ndarray | None, c: int, ws: _Workspace | None = None,
                partial: tuple[np.ndarray, np.ndarray] | None = None,
                parts: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Payout units per scenario before the pool, for rows (scenario-periods) × slots, ``c``
    scenarios; ``per_grade``: each slot's periods at each grade per scenario, (grades, c, slots),
    from ``grades`` (None without grades); ``partial``: the (scenario, slot) pairs holding every
    element not rated (None: found from ``rated``); ``parts``: the part-month correction
    (``_part_months``).

    With a clip every person-period is summed and clipped (``_pay_rows``). Without one, what
    depends only on the slot and the grade comes from the counts (rated periods × units per
    rated period, periods at each grade × the grade's extra units), and only the parts that read
    the score are computed per person-period: the same units (whole numbers, summed in any
    order).
    """
    if plan.clips:
        return _pay_rows(plan, score, rated, grades, ws, parts).reshape(c, -1).sum(axis=1)
    ws = ws or _Workspace()
    if partial is None:
        scenario, slot = np.nonzero(~rated.reshape(c, len(rated) // c, -1).all(axis=1))
        partial = (scenario, slot)
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
    if parts is not None:  # each element's scenario: its row // periods per scenario
        np.add.at(totals, parts[0] // (score.size // c), parts[1])
    return totals


def _pool_groups(m: _Model, spec: Any, n_slots: int) -> tuple[np.ndarray, np.ndarray]:
    """Each pool group's amount in units and each slot's pool group: the groups of ``by``
    (each with the whole amount, or its envelope), or one group (no ``by``, or an amount split
    across the groups by headcount: the period's total is the amount whenever anyone is rated).
    """
    pool = spec.pool
    if not pool.by or pool.split == "headcount":
        return (np.array([amount_units(float(pool.amount), spec.unit)], dtype=np.int64),
                np.zeros(n_slots, dtype=np.int64))
    codes, names = column_codes(m.column(pool.by))
    group = np.unique(codes)
    group_of_slot = np.searchsorted(group, codes).astype(np.int64)
    group_names = [str(names[c]) for c in group]
    if pool.envelopes is None:
        return (np.full(len(group), amount_units(float(pool.amount), spec.unit), dtype=np.int64),
                group_of_slot)
    missing = [n for n in group_names if n not in pool.envelopes]
    if missing:
        raise SimulationError(f"pay.pool.envelopes has no amount for {', '.join(missing)} (column "
                              f"{pool.by}); add one for each group")
    return (np.array([amount_units(float(pool.envelopes[n]), spec.unit) for n in group_names],
                     dtype=np.int64), group_of_slot)


def _pool_paid(plan: _PayPlan, rated: np.ndarray) -> np.ndarray:
    """Per row (scenario-period): the pool units paid, the amounts of the pool groups with
    someone rated (a pool pays out exactly its amount wherever someone shares it).
    """
    assert plan.pool_units is not None and plan.pool_group is not None, "only with a pool"
    R = rated.shape[0]
    if plan.n_pool_groups == 1:
        return np.any(rated, axis=1).astype(np.int64) * plan.pool_units[0]
    flat = np.arange(R, dtype=np.int64)[:, None] * plan.n_pool_groups + plan.pool_group
    has = np.bincount(flat[rated], minlength=R * plan.n_pool_groups) > 0
    return has.reshape(R, plan.n_pool_groups) @ plan.pool_units
