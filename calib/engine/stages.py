"""Grades, flags and pay after scoring: builds the population the policy grades and pays (the
period rows or a roll-up's rows) and fills ``Result.grades``, ``quotas``, ``flags``,
``payouts`` and ``merit``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib._util.columns import coded
from calib._util.memo import Memo, remember_for
from calib.engine.cards import CardOutput
from calib.engine.frame import Frame
from calib.engine.grading import Grades, Population, grade
from calib.engine.result import Lazy, Result
from calib.engine.streaks import ranks, streak_flags


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

    pop = Population(rows.person, rows.period, rows.period_label, rows.score, rows.rated,
                     card[last], rows.any(out.lowest_grade), frame.ids, column,
                     frame.row_numbers()[last], frame.memo)
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
                  rated: np.ndarray, values: dict[str, np.ndarray], cache: dict | None = None) -> None:
    """Fill the grading and pay tables of ``result`` as the policy asks; ``cache`` keeps the
    populations between re-runs on the same scores.
    """
    policy = frame.policy
    card_names = list(policy.scorecards)
    grades_idx = None
    gpop = None
    rank = None
    flags = None
    if policy.grading is not None:
        grading = policy.grading
        gpop, _ = population(frame, result, grading.on, card, out, rated, cache)
        g = grade(gpop, grading, card_names)
        grades_idx = g.grade
        scale = grading.scale
        # g is remembered under its inputs (the population and the whole grading policy), which
        # also decide the ranks, the flags and the tables: they are kept with it
        rank = remember_for(frame.memo, g, ("ranks",), lambda: ranks(gpop, grading, frame)
                            ) if grading.ranking is not None else None
        names = scale.names()
        labels = [gr.label or gr.name for gr in scale.grades]

        def table(g: Grades = g, rank: np.ndarray | None = rank) -> pd.DataFrame:
            out = _grades_table(frame, gpop, g, names, labels, card_names)
            if rank is not None:
                out = out.assign(rank=np.where(gpop.rated, rank, np.nan))
            return out

        result.grades = remember_for(frame.memo, g, ("grades table",), lambda: Lazy(table))
        result.quotas = Lazy(lambda: pd.concat([q() for q in g.quotas], ignore_index=True)
                             ) if g.quotas else None
        flags = remember_for(frame.memo, g, ("flags",),
                             lambda: streak_flags(gpop, grading, g.grade, rank, frame))
        result.flags = None if flags is None else Lazy(flags.table)
        result.arrays.update(grade=grades_idx, grade_names=names, graded_on=grading.on)
    if policy.pay is not None:
        from calib.engine.payout import pay

        ppop, last = population(frame, result, policy.pay.on, card, out, rated, cache)
        same = policy.grading is not None and policy.pay.on == policy.grading.on
        grades_key: int | str | None
        if ppop.kept is None:
            grades_key = None  # no store: nothing is remembered, so the grades are not hashed
        elif gpop is None:
            grades_key = "no grading"
        else:
            grades_key = g.key if same else "no grades"
        pay(frame, result, ppop, last, grades_idx if same else None, values,
            rank if same else None, grades_key, flags if same else None)
