"""Grades, flags and pay after scoring: builds the population the policy grades and pays (the
period rows or a roll-up's rows) and fills ``Result.grades``, ``quotas``, ``flags``,
``payouts`` and ``merit``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calib._util.columns import coded
from calib._util.memo import Memo, remember_for
from calib.engine.cards import CardOutput
from calib.engine.frame import Frame
from calib.engine.grading import Grades, Population, grade, thresholds
from calib.engine.overrides import Plan, final_grades, overridden_rows, plan, record
from calib.engine.quota_check import check_quotas
from calib.engine.result import Lazy, Result
from calib.engine.streaks import ranks, streak_flags
from calib.kernels.money import units_to_float


def population(frame: Frame, result: Result, on: str, card: np.ndarray, out: CardOutput,
               rated: np.ndarray, cache: dict | None = None) -> tuple[Population, np.ndarray | None]:
    """The rows graded or paid ``on`` the period or a roll-up; for a roll-up also the latest
    records row of each roll-up row (which speaks for its group columns). ``cache`` keeps them
    for re-runs on the same scores (its population's ``key`` is then hashed once).
    """
    if cache is None:
        return _population(frame, result, on, card, out, rated)
    if on not in cache:
        pop, last = _population(frame, result, on, card, out, rated)
        pop.kept = Memo.for_rows(pop.n)  # kept with this population (as long as these scores)
        cache[on] = pop, last
    return cache[on]


def _population(frame: Frame, result: Result, on: str, card: np.ndarray, out: CardOutput,
                rated: np.ndarray) -> tuple[Population, np.ndarray | None]:
    if on == "period":
        labels = frame.period_labels  # a categorical: no text per row
        return Population(frame.person, frame.period, labels, out.score, rated, card,
                          out.lowest_grade, frame.ids, frame.column, frame.row_numbers(),
                          frame.memo), None
    policy = frame.policy
    rows = result.rollup_rows[on]
    last = rows.last_row(frame.period)

    def column(name: str) -> np.ndarray:
        """Records counts add up over the roll-up; attributes (people, text) take the last."""
        values = frame.column(name)
        spec = policy.inputs.records.columns.get(name)
        if spec is not None and spec.type in ("int", "float"):
            return np.bincount(rows.codes, weights=np.nan_to_num(np.asarray(values, dtype=float)),
                               minlength=len(rows.person))
        if isinstance(values, pd.Series):
            return values.iloc[last].to_numpy()
        return np.asarray(values)[last]

    lowest = rows.any(out.lowest_grade)
    if rows.vetoed is not None:  # the roll-up's own vetoes (issue 21, item 2)
        lowest = lowest | rows.vetoed
    pop = Population(rows.person, rows.period, rows.period_label, rows.score, rows.rated,
                     card[last], lowest, frame.ids, column, frame.row_numbers()[last], frame.memo)
    return pop, last


def _group_column(g: Grades) -> pd.Categorical:
    """Group names as a text column (the same name recurs across periods and rules)."""
    if not g.group_names:
        return coded([], g.group)
    inverse, names = pd.factorize(pd.Series(g.group_names, dtype=object).astype(str))
    codes = np.where(g.group >= 0, inverse[np.maximum(g.group, 0)], -1)
    return coded(names, codes)


def _grades_table(frame: Frame, pop: Population, g: Grades, scale_names: list[str],
                  labels: list[str], card_names: list[str]) -> pd.DataFrame:
    graded = g.grade >= 0
    return pd.DataFrame({
        "id": coded(frame.id_categories, pop.person),
        "period": pop.period_label,
        "scorecard": coded(card_names, pop.card),
        "score": pop.score,
        "grade": coded(scale_names, g.grade),
        "grade_label": coded(labels, g.grade),
        "rule": g.rule.column(),
        "group": _group_column(g),
        "place": np.where(g.rank > 0, g.rank, np.nan),
        "group_size": np.where(g.group_size > 0, g.group_size, np.nan),
        "on_boundary": g.boundary & graded,
        "vetoed": pop.lowest & pop.rated,
        "note": g.note.column() if g.note is not None else coded([], np.full(pop.n, -1)),
    })


def grade_and_pay(frame: Frame, result: Result, card: np.ndarray, out: CardOutput,
                  rated: np.ndarray, values: dict[str, np.ndarray], cache: dict | None = None,
                  overrides: Any = None) -> None:
    """Fill the grading and pay tables of ``result`` as the policy asks; ``cache`` keeps the
    populations between re-runs on the same scores. ``overrides`` (a table or file, see
    ``calib.engine.overrides``) sets final values after grading: the tables then show the
    final values beside the computed ones, and ``result.overrides`` and
    ``result.quota_check`` say what was overridden and which quotas that breaks.
    """
    computed = _grade_and_pay(frame, result, card, out, rated, values, cache)
    if overrides is None:
        return
    policy = frame.policy
    # the period rows: a period's score override rolls the roll-ups that grade or pay up again
    computed.periods, _ = population(frame, result, "period", card, out, rated, cache)
    fixes = plan(overrides, policy, computed.gpop, computed.ppop, computed.periods)
    if fixes is None:
        return
    _apply_overrides(frame, result, computed, fixes, values)


@dataclass
class _Stage:
    """What grading and pay worked on and produced (the computed values, before overrides)."""

    gpop: Population | None = None
    g: Grades | None = None
    rank: np.ndarray | None = None
    ppop: Population | None = None
    last: np.ndarray | None = None
    same: bool = False
    payouts: Any = None
    payout_units: np.ndarray | None = None
    periods: Population | None = None
    """The period rows (the overrides of a period's score are found there)."""


def _grade_and_pay(frame: Frame, result: Result, card: np.ndarray, out: CardOutput,
                   rated: np.ndarray, values: dict[str, np.ndarray], cache: dict | None
                   ) -> _Stage:
    policy = frame.policy
    card_names = list(policy.scorecards)
    stage = _Stage()
    flags = None
    if policy.grading is not None:
        grading = policy.grading
        gpop, _ = population(frame, result, grading.on, card, out, rated, cache)
        g = grade(gpop, grading, card_names)
        # g is remembered under its inputs (the population and the whole grading policy), which
        # also decide the ranks, the flags and the tables: they are kept with it
        rank = remember_for(frame.memo, g, ("ranks",), lambda: ranks(gpop, grading, frame, values)
                            ) if grading.ranking is not None else None
        stage.gpop, stage.g, stage.rank = gpop, g, rank
        result.grades = remember_for(frame.memo, g, ("grades table",),
                                     lambda: Lazy(_grades_lazy(frame, gpop, g, rank)))
        result.quotas = Lazy(lambda: pd.concat([q() for q in g.quotas], ignore_index=True)
                             ) if g.quotas else None
        flags = remember_for(frame.memo, g, ("flags",),
                             lambda: streak_flags(gpop, grading, g.grade, rank, frame))
        result.flags = None if flags is None else Lazy(flags.table)
        result.arrays.update(grade=g.grade, grade_names=grading.scale.names(),
                             graded_on=grading.on)
    if policy.pay is not None:
        from calib.engine.payout import pay

        ppop, last = population(frame, result, policy.pay.on, card, out, rated, cache)
        same = policy.grading is not None and policy.pay.on == policy.grading.on
        stage.ppop, stage.last, stage.same = ppop, last, same
        grades_key: int | str | None
        if ppop.kept is None:
            grades_key = None  # no store: nothing is remembered, so the grades are not hashed
        elif stage.gpop is None:
            grades_key = "no grading"
        else:
            assert stage.g is not None, "a graded population has its grades"
            grades_key = stage.g.key if same else "no grades"
        pay(frame, result, ppop, last, stage.g.grade if same and stage.g else None, values,
            stage.rank if same else None, grades_key, flags if same else None)
        stage.payouts = result.__dict__.get("_payouts")
        stage.payout_units = result.arrays["payout_units"]
    return stage


def _grades_lazy(frame: Frame, gpop: Population, g: Grades, rank: np.ndarray | None,
                 grade: np.ndarray | None = None) -> Any:
    """The builder of a grades table (``grade``: final grades in place of the computed)."""
    grading = frame.policy.grading
    assert grading is not None
    names = grading.scale.names()
    labels = [gr.label or gr.name for gr in grading.scale.grades]

    def table() -> pd.DataFrame:
        out = _grades_table(frame, gpop, g, names, labels, list(frame.policy.scorecards))
        if grade is not None:
            out.insert(list(out.columns).index("grade"), "computed_grade", out["grade"])
            out["grade"] = coded(names, grade)
            out["grade_label"] = coded(labels, grade)
        if rank is not None:
            out = out.assign(rank=np.where(gpop.rated, rank, np.nan))
        return out

    return table


def _apply_overrides(frame: Frame, result: Result, stage: _Stage, fixes: Plan,
                     values: dict[str, np.ndarray]) -> None:
    """Grade and pay again from the final values; list the overrides and check the quotas."""
    policy = frame.policy
    grading = policy.grading
    final_grade = None
    gpop = stage.gpop
    rank = stage.rank
    flags = None
    ppop_final = stage.ppop
    period_score = _final_period_scores(stage, fixes, policy)
    rolled = {} if period_score is None or stage.periods is None else {
        on: _rerolled(frame, on, period_score, stage.periods.rated)
        for on in {grading.on if grading else "period", policy.pay.on if policy.pay else "period"}
        if on != "period"}
    if grading is not None and gpop is not None and stage.g is not None:
        g = stage.g
        if grading.on in rolled:  # the year rolled up again from the final months: graded again
            gpop = dataclasses.replace(gpop, score=rolled[grading.on].score,
                                       rated=rolled[grading.on].rated, memo=None, kept=None)
            g = grade(gpop, grading, list(policy.scorecards))
            rank = ranks(gpop, grading, frame, values) if rank is not None else None
        if fixes.score_graded:
            gpop = dataclasses.replace(gpop, score=fixes.score_graded.apply(gpop.score),
                                       memo=None, kept=None)
            if rank is not None:
                rank = ranks(gpop, grading, frame, values)
        by_quota = np.zeros(gpop.n, dtype=bool)
        for qg in g.groups:
            by_quota[qg.idx] = True
        by_thresholds = (g.grade >= 0) & ~(gpop.rated & gpop.lowest) & ~by_quota
        final_grade = final_grades(fixes, g.grade, gpop, gpop.score, by_thresholds,
                                   lambda s: thresholds(s, grading.scale))
        changed = overridden_rows(fixes, gpop.n, "graded")
        result.grades = Lazy(_with_flag(_grades_lazy(frame, gpop, stage.g, rank, final_grade),
                                        changed))
        flags = streak_flags(gpop, grading, final_grade, rank, frame)
        result.flags = None if flags is None else Lazy(flags.table)
        result.arrays.update(grade=final_grade, computed_grade=stage.g.grade)
        check = check_quotas(g.groups, gpop, stage.g.grade, final_grade, changed,
                             grading.scale.names(), policy.cycle.quotas == "balance")
        result.quota_check = check
    if policy.pay is not None and stage.ppop is not None:
        from calib.engine.payout import pay

        ppop = gpop if stage.same and gpop is not None else stage.ppop
        if not stage.same and policy.pay.on in rolled:  # paid on a roll-up rolled up again
            ppop = dataclasses.replace(ppop, score=rolled[policy.pay.on].score,
                                       rated=rolled[policy.pay.on].rated, memo=None, kept=None)
        if fixes.score_paid:
            ppop = dataclasses.replace(ppop, score=fixes.score_paid.apply(ppop.score),
                                       memo=None, kept=None)
        ppop_final = ppop
        pay(frame, result, ppop, stage.last, final_grade if stage.same else None, values,
            rank if stage.same else None, None, flags if stage.same else None, fixes=fixes)
        final_payouts = result.__dict__["_payouts"]
        computed_units = stage.payout_units
        assert computed_units is not None, "the computed pay ran first"
        changed = overridden_rows(fixes, ppop.n, "paid")
        if stage.same:
            changed |= overridden_rows(fixes, ppop.n, "graded")
        unit = policy.pay.unit

        def payouts() -> pd.DataFrame:
            table = final_payouts() if isinstance(final_payouts, Lazy) else final_payouts
            table = table.copy()
            table.insert(list(table.columns).index("payout"), "computed_payout",
                         units_to_float(computed_units, unit))
            table["overridden"] = changed
            return table

        result.payouts = Lazy(payouts)
        result.arrays["computed_payout_units"] = computed_units
    periods_final = stage.periods if stage.periods is None or period_score is None else \
        dataclasses.replace(stage.periods, score=period_score, memo=None, kept=None)
    result.overrides = _record(result, stage, fixes, {"graded": gpop, "paid": ppop_final,
                                                      "period": periods_final}, final_grade)


def _final_period_scores(stage: _Stage, fixes: Plan, policy: Any) -> np.ndarray | None:
    """The period rows' scores with the overrides of a period's score, when some roll-up that
    grades or pays is to be rolled up again from them (None when nothing is).
    """
    if stage.periods is None:
        return None
    on = {policy.grading.on if policy.grading else "period",
          policy.pay.on if policy.pay else "period"}
    if on == {"period"}:
        return None
    period_fixes = [fixes.score_period]
    if policy.grading is not None and policy.grading.on == "period":
        period_fixes.append(fixes.score_graded)
    if policy.pay is not None and policy.pay.on == "period":
        period_fixes.append(fixes.score_paid)
    period_fixes = [f for f in period_fixes if f]
    if not period_fixes:
        return None
    score = np.array(stage.periods.score, copy=True)
    for f in period_fixes:
        score[f.rows] = f.values
    return score


def _rerolled(frame: Frame, on: str, period_score: np.ndarray, rated: np.ndarray) -> Any:
    """The roll-up ``on`` rolled up again from the final period scores (its rows, in the same
    order as before: which months make each year is the data's).
    """
    from calib.engine.rollup import roll_up

    return roll_up(frame, on, frame.policy.rollups[on], period_score, rated)[1]


def _with_flag(build: Any, changed: np.ndarray) -> Any:
    return lambda: build().assign(overridden=changed)


def _record(result: Result, stage: _Stage, fixes: Plan,
            final_pops: dict[str, Population | None], final_grade: np.ndarray | None
            ) -> pd.DataFrame:
    """The overrides as applied, each with its computed and final value."""
    policy = result.policy
    names = policy.grading.scale.names() if policy.grading is not None else []
    computed_pops = {"graded": stage.gpop, "paid": stage.ppop, "period": stage.periods}
    computed_pay = stage.payouts() if isinstance(stage.payouts, Lazy) else stage.payouts
    final_pay = result.payouts

    def grade_name(grades: np.ndarray | None, row: int) -> str:
        return "" if grades is None or grades[row] < 0 else names[grades[row]]

    def score_of(pops: dict[str, Population | None], row: int, target: str) -> float:
        pop = pops[target]
        return float("nan") if pop is None else float(pop.score[row])

    computed: dict[str, Any] = {
        "grade": lambda row, _: grade_name(stage.g.grade if stage.g else None, row),
        "score": lambda row, target: score_of(computed_pops, row, target),
    }
    final: dict[str, Any] = {
        "grade": lambda row, _: grade_name(final_grade, row),
        "score": lambda row, target: score_of(final_pops, row, target),
    }
    for name in ["payout", *(policy.pay.components if policy.pay is not None else [])]:
        computed[name] = (lambda row, _, n=name: float(computed_pay[n].iloc[row]))
        final[name] = (lambda row, _, n=name: float(final_pay[n].iloc[row]))
    return record(fixes, policy, computed, final)
