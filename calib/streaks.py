"""R26 ranks with demotion, and R21 consecutive-period flags (exit review, extra bonus, one-offs).

A streak flag is raised once per run of consecutive periods meeting its condition, in the
period that completes ``periods`` in a row; the flag lists those periods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.frame import Frame
from calib.grading import Population, _group_codes
from calib.kernels._tolerance import tol
from calib.kernels.ranking import demoted_order
from calib.policy.grading import Grading, StreakWhen


def ranks(pop: Population, grading: Grading, frame: Frame) -> np.ndarray:
    """R26: 1-based rank of each rated row in its group and period, after demotions."""
    ranking = grading.ranking
    assert ranking is not None
    rank = np.zeros(pop.n, dtype=np.int64)
    rows = np.flatnonzero(pop.rated)
    codes, _ = _group_codes(pop, rows, ranking.by)
    demote = np.zeros(len(rows))
    if ranking.demote is not None:
        demote = np.nan_to_num(np.asarray(pop.column(ranking.demote), dtype=np.float64)[rows])
        demote = demote * ranking.places
    ties = [np.asarray(pop.column(k.column), dtype=np.float64)[rows] for k in ranking.ties]
    rank[rows] = demoted_order(codes, pop.score[rows], pop.person[rows], demote, ties,
                               [k.order == "desc" for k in ranking.ties])
    return rank


def _group_sizes(pop: Population, grading: Grading) -> np.ndarray:
    rows = np.flatnonzero(pop.rated)
    codes, _ = _group_codes(pop, rows, grading.ranking.by if grading.ranking else [])
    sizes = np.zeros(pop.n, dtype=np.int64)
    sizes[rows] = np.bincount(codes)[codes]
    return sizes


def _meets(when: StreakWhen, pop: Population, grades: np.ndarray | None, rank: np.ndarray | None,
           sizes: np.ndarray, names: list[str]) -> np.ndarray:
    score = pop.score
    if when.score_below is not None:
        return pop.rated & (score < when.score_below - tol(when.score_below))
    if when.score_at_least is not None:
        return pop.rated & (score >= when.score_at_least - tol(when.score_at_least))
    if when.grade_in is not None:
        wanted = [names.index(g) for g in when.grade_in]
        return grades is not None and np.isin(grades, wanted) & (grades >= 0)
    assert rank is not None
    return pop.rated & ((rank == 1) if when.rank == "first" else (rank == sizes) & (rank > 0))


def streak_flags(pop: Population, grading: Grading, grades: np.ndarray | None,
                 rank: np.ndarray | None, frame: Frame) -> pd.DataFrame | None:
    """One row per flag raised: id, flag, label, period completing the streak, the periods, and
    the one-off amount it carries.
    """
    if not grading.streaks:
        return None
    labels = np.asarray(pop.period_label, dtype=object)
    order = np.lexsort((pop.period, pop.person))
    person, period = pop.person[order], pop.period[order]
    follows = np.zeros(pop.n, dtype=bool)
    follows[1:] = (person[1:] == person[:-1]) & (period[1:] == period[:-1] + 1)
    sizes = _group_sizes(pop, grading)
    names = grading.scale.names()
    found = []
    idx = np.arange(pop.n)
    for name, streak in grading.streaks.items():
        meets = np.asarray(_meets(streak.when, pop, grades, rank, sizes, names), dtype=bool)[order]
        prev = np.zeros(pop.n, dtype=bool)
        prev[1:] = meets[:-1]
        start = meets & ~(follows & prev)
        start_at = np.maximum.accumulate(np.where(start, idx, 0))
        length = np.where(meets, idx - start_at + 1, 0)
        for i in np.flatnonzero(length == streak.periods):
            span = order[i - streak.periods + 1:i + 1]
            found.append({"id": str(frame.ids[person[i]]), "flag": name,
                          "label": streak.label or name,
                          "period": labels[order[i]],
                          "periods": ", ".join(labels[span]),
                          "amount": streak.amount})
    if not found:
        return pd.DataFrame(columns=["id", "flag", "label", "period", "periods", "amount"])
    table = pd.DataFrame(found).sort_values(["id", "period", "flag"], kind="stable")
    return table.reset_index(drop=True)
