"""Quotas after overrides: which forced-distribution and cascade groups the final grades break,
and the fewest compensating moves that would restore them (proposed, never applied).

A group breaks its quotas when its final grade counts differ from what grading gave it: the
computed counts (which may already differ from the quotas where the policy shares ties), or,
for a cascade whose leader's grade was overridden, the quotas of the leader's final grade.

Balancing works boundary by boundary, best grade first: when more people sit at or above a
grade than the target allows, the lowest-placed people of that grade who were not overridden
move down one grade; when fewer, the best-placed of the grade below move up. Each boundary
needs at least as many crossings as its surplus, so no proposal moves fewer people; people
are taken next in rank order, so the proposal is the one a committee would make by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calib.engine.grading import Population, QuotaGroups
from calib.kernels.apportion import apportion


@dataclass
class QuotaCheck:
    """The breaches (one row per group and grade whose count moved off its target) and, when
    the policy balances, the proposed moves (one row per person).
    """

    breaches: pd.DataFrame
    proposals: pd.DataFrame | None


BREACH_COLUMNS = ["rule", "period", "group", "grade", "target", "computed", "final", "off_by",
                  "note"]
PROPOSAL_COLUMNS = ["rule", "period", "group", "id", "place", "score", "from_grade", "to_grade",
                    "why"]


def check_quotas(groups: list[QuotaGroups], pop: Population, computed: np.ndarray,
                 final: np.ndarray, overridden: np.ndarray, grade_names: list[str],
                 balance: bool) -> QuotaCheck:
    """Re-check every quota group after overrides; propose moves when ``balance``."""
    breaches: list[dict] = []
    proposals: list[dict] = []
    n_grades = len(grade_names)
    for qg in groups:
        quotas = qg.quotas
        if qg.leaders is not None and qg.ratio_table is not None:
            leader_final = final[qg.leaders]
            if (leader_final != computed[qg.leaders]).any():
                quotas = apportion(qg.sizes, qg.ratio_table[leader_final], qg.method)
        before = _counts(qg.group, computed[qg.idx], len(qg.sizes), n_grades)
        after = _counts(qg.group, final[qg.idx], len(qg.sizes), n_grades)
        moved_quota = (quotas != qg.quotas).any(axis=1)
        target = np.where(moved_quota[:, None], quotas, before)
        off = np.flatnonzero((after != target).any(axis=1))
        for code in map(int, off):
            period = _period(pop, qg, code)
            note = ""
            if balance:
                moves, stuck = _balance(qg, code, pop, final, overridden, target[code],
                                        grade_names, period)
                proposals += moves
                if stuck:
                    note = ("cannot be balanced in full: no one who was not overridden is left in "
                            f"{', '.join(stuck)}; review the overrides of this group")
            for k in np.flatnonzero(after[code] != target[code]):
                breaches.append({"rule": qg.rule, "period": period, "group": qg.names[code],
                                 "grade": grade_names[k], "target": int(target[code, k]),
                                 "computed": int(before[code, k]), "final": int(after[code, k]),
                                 "off_by": int(after[code, k] - target[code, k]), "note": note})
    return QuotaCheck(pd.DataFrame(breaches, columns=BREACH_COLUMNS),
                      pd.DataFrame(proposals, columns=PROPOSAL_COLUMNS) if balance else None)


def _counts(group: np.ndarray, grade: np.ndarray, n_groups: int, n_grades: int) -> np.ndarray:
    counts = np.zeros((n_groups, n_grades), dtype=np.int64)
    ok = grade >= 0
    np.add.at(counts, (group[ok], grade[ok]), 1)
    return counts


def _period(pop: Population, qg: QuotaGroups, code: int) -> str:
    first = qg.idx[np.flatnonzero(qg.group == code)[0]]
    return str(np.asarray(pop.period_label, dtype=object)[first])


def _balance(qg: QuotaGroups, code: int, pop: Population, final: np.ndarray,
             overridden: np.ndarray, target: np.ndarray, grade_names: list[str],
             period: str) -> tuple[list[dict], list[str]]:
    """The fewest one-grade moves, next in rank order, that bring one group to ``target``, and
    the grades where no one movable was left (empty when the group can be balanced in full).
    """
    members = np.flatnonzero(qg.group == code)
    rows = qg.idx[members][np.argsort(qg.place[members], kind="stable")]  # best place first
    grade = final[rows].copy()
    free = ~overridden[rows]
    n_grades = len(target)
    start = grade.copy()
    why = np.full(len(rows), "", dtype=object)
    stuck = []
    for k in range(n_grades - 1):
        surplus = int((np.bincount(grade[grade >= 0], minlength=n_grades)[:k + 1]).sum()
                      - target[:k + 1].sum())
        while surplus > 0:  # too many at or above grade k: the lowest-placed of grade k go down
            at = np.flatnonzero((grade == k) & free)
            if not len(at):
                stuck.append(grade_names[k])
                break
            grade[at[-1]] = k + 1
            why[at[-1]] = (why[at[-1]] or f"{surplus} too many at {grade_names[k]} or better "
                           "after the overrides; the lowest placed not overridden moves down")
            surplus -= 1
        while surplus < 0:  # too few: the best-placed of the grade below go up
            below = np.flatnonzero((grade == k + 1) & free)
            if not len(below):
                stuck.append(grade_names[k + 1])
                break
            grade[below[0]] = k
            why[below[0]] = (why[below[0]] or f"{-surplus} too few at {grade_names[k]} or "
                             "better after the overrides; the best placed not overridden "
                             "moves up")
            surplus += 1
    out = []
    more = " (the group cannot be balanced in full: see the breaches' note)" if stuck else ""
    ids = np.asarray(pop.ids, dtype=object)
    place = {int(r): int(p) for r, p in zip(qg.idx[members], qg.place[members], strict=True)}
    for i in np.flatnonzero(grade != start):
        row = int(rows[i])
        out.append({"rule": qg.rule, "period": period, "group": qg.names[code],
                    "id": str(ids[pop.person[row]]), "place": place[row] + 1,
                    "score": float(pop.score[row]), "from_grade": grade_names[start[i]],
                    "to_grade": grade_names[grade[i]], "why": why[i] + more})
    return out, sorted(set(stuck), key=grade_names.index)
