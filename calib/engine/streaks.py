"""R26 ranks with demotion, and R21 consecutive-period flags (exit review, extra bonus, one-offs).

A streak flag is raised once per run of consecutive periods meeting its condition, in the
period that completes ``periods`` in a row; the flag lists those periods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calib._util.memo import remember
from calib._util.tolerance import tol
from calib.engine.frame import Frame
from calib.engine.grading import Population, group_codes
from calib.kernels.ranking import demoted_order
from calib.policy.grading import Grading, Streak, StreakWhen


def ranks(pop: Population, grading: Grading, frame: Frame | None = None,
          values: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """R26: 1-based rank of each rated row in its group and period, after demotions; by the
    score, or by the value ``ranking.on`` (``values``: the run's measures, KPI points and
    sections by name; else a records column).
    """
    ranking = grading.ranking
    assert ranking is not None
    rank = np.zeros(pop.n, dtype=np.int64)
    rows = np.flatnonzero(pop.rated)
    codes, _ = group_codes(pop, rows, ranking.by)
    demote = np.zeros(len(rows))
    if ranking.demote is not None:
        demote = np.nan_to_num(np.asarray(pop.column(ranking.demote), dtype=np.float64)[rows])
        demote = demote * ranking.places
    ties = [np.asarray(pop.column(k.column), dtype=np.float64)[rows] for k in ranking.ties]
    key = pop.score if ranking.on is None else _rank_value(pop, ranking.on, values)
    if ranking.order == "asc":
        key = -key
    key = np.where(np.isnan(key), -np.inf, key)  # a row without the value ranks last
    rank[rows] = demoted_order(codes, key[rows], pop.person[rows], demote, ties,
                               [k.order == "desc" for k in ranking.ties])
    return rank


def _rank_value(pop: Population, name: str, values: dict[str, np.ndarray] | None
                ) -> np.ndarray:
    """The value a ranking is on: a measure, KPI's points or section of the run, else a records
    column (a row without it ranks last).
    """
    if values is not None and name in values:
        return np.asarray(values[name], dtype=np.float64)
    return np.asarray(pop.column(name), dtype=np.float64)


def _group_sizes(pop: Population, grading: Grading) -> np.ndarray:
    rows = np.flatnonzero(pop.rated)
    codes, _ = group_codes(pop, rows, grading.ranking.by if grading.ranking else [])
    sizes = np.zeros(pop.n, dtype=np.int64)
    sizes[rows] = np.bincount(codes)[codes]
    return sizes


def _meets(when: StreakWhen, pop: Population, grades: np.ndarray, rank: np.ndarray | None,
           sizes: np.ndarray, names: list[str]) -> np.ndarray:
    score = pop.score
    if when.score_below is not None:
        return pop.rated & (score < when.score_below - tol(when.score_below))
    if when.score_at_least is not None:
        return pop.rated & (score >= when.score_at_least - tol(when.score_at_least))
    if when.grade_in is not None:
        wanted = [names.index(g) for g in when.grade_in]
        return np.isin(grades, wanted) & (grades >= 0)
    assert rank is not None
    return pop.rated & ((rank == 1) if when.rank == "first" else (rank == sizes) & (rank > 0))


@dataclass
class Streaks:
    """R21 flags raised, as arrays (a slider re-grades often; the table is built when read):
    for each flag the population row completing the streak, the streak's index, and that row's
    position in the (person, period) order, from which the streak's periods follow.
    """

    pop: Population
    frame: Frame | None
    """The run's frame, for the ids of the table (None: the Monte Carlo's, which reads no table)."""
    streaks: dict[str, Streak]
    order: np.ndarray
    row: np.ndarray
    streak: np.ndarray
    end: np.ndarray

    def amounts(self) -> np.ndarray:
        """The one-off amount of each flag (NaN where its streak carries none)."""
        per_streak = np.array([np.nan if s.amount is None else s.amount
                               for s in self.streaks.values()], dtype=np.float64)
        return per_streak[self.streak] if len(self.streak) else np.zeros(0)

    def table(self) -> pd.DataFrame:
        """One row per flag: id, flag, label, period completing the streak, the periods, and the
        one-off amount it carries; by id, period and flag (built once).
        """
        if "_table" not in self.__dict__:
            self.__dict__["_table"] = self._build_table()
        return self.__dict__["_table"]

    def _build_table(self) -> pd.DataFrame:
        labels = np.asarray(self.pop.period_label, dtype=object)
        names = list(self.streaks)
        found = []
        for row, k, end in zip(self.row.tolist(), self.streak.tolist(), self.end.tolist(),
                               strict=True):
            streak = self.streaks[names[k]]
            span = self.order[end - streak.periods + 1:end + 1]
            assert self.frame is not None, "a table of flags is read from a run's streaks"
            found.append({"id": str(self.frame.ids[self.pop.person[row]]), "flag": names[k],
                          "label": streak.label or names[k], "period": labels[row],
                          "periods": ", ".join(labels[span]), "amount": streak.amount})
        if not found:
            return pd.DataFrame(columns=["id", "flag", "label", "period", "periods", "amount"])
        table = pd.DataFrame(found).sort_values(["id", "period", "flag"], kind="stable")
        return table.reset_index(drop=True)


def streak_flags(pop: Population, grading: Grading, grades: np.ndarray,
                 rank: np.ndarray | None, frame: Frame | None,
                 in_turn: tuple[np.ndarray, np.ndarray] | None = None) -> Streaks | None:
    """The flags raised by every streak of ``grading`` (None when it has none); ``frame``: the
    run's (None for the Monte Carlo's simulated months, whose flags make no table);
    ``in_turn``: the rows by person then period and whether each follows the one before
    (``_in_turn``), when the caller knows them (the Monte Carlo lays its months out so).
    """
    if not grading.streaks:
        return None
    # who follows whom, period after period: the data's alone, kept for re-runs
    order, follows = in_turn or remember(pop.memo, ("streak order", pop.rows_key),
                                         lambda: _in_turn(pop))
    sizes = (_group_sizes(pop, grading) if grading.streaks_read_ranks
             else np.zeros(0, dtype=np.int64))
    names = grading.scale.names()
    idx = np.arange(pop.n)
    rows, kinds, ends = [], [], []
    for k, streak in enumerate(grading.streaks.values()):
        meets = np.asarray(_meets(streak.when, pop, grades, rank, sizes, names), dtype=bool)[order]
        prev = np.zeros(pop.n, dtype=bool)
        prev[1:] = meets[:-1]
        start = meets & ~(follows & prev)
        start_at = np.maximum.accumulate(np.where(start, idx, 0))
        length = np.where(meets, idx - start_at + 1, 0)
        # a flag of a single period is raised in every period that meets it; a streak once per
        # run, in the period that completes it
        end = np.flatnonzero(meets) if streak.periods == 1 else np.flatnonzero(
            length == streak.periods)
        rows.append(order[end])
        kinds.append(np.full(len(end), k))
        ends.append(end)
    return Streaks(pop, frame, dict(grading.streaks), order, np.concatenate(rows),
                   np.concatenate(kinds), np.concatenate(ends))


def _in_turn(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Rows by person then period, and whether each (in that order) is the period right after
    the one before it, for the same person.
    """
    order = np.lexsort((pop.period, pop.person))
    person, period = pop.person[order], pop.period[order]
    follows = np.zeros(pop.n, dtype=bool)
    follows[1:] = (person[1:] == person[:-1]) & (period[1:] == period[:-1] + 1)
    return order, follows
