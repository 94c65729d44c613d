"""Grading by quotas within groups (R24, R25): small groups, ranking in groups, apportioned
quotas, grades by place and the quota tables. The forced distribution and the cascade share it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calib._util.columns import coded
from calib._util.memo import json_key, remember, stored_key
from calib.engine.grading.core import GradeDetails, Grades, Population, QuotaGroups
from calib.engine.result import Lazy
from calib.kernels.apportion import alabama, apportion, exact_quotas
from calib.kernels.ranking import (
    Ranked,
    boundary_ties,
    group_layout,
    quota_grades,
    rank_in_groups,
    shared_ties,
)
from calib.policy.grading import Cascade, ForcedDistribution, GradeScale


def small_groups(pop: Population, rows: np.ndarray, codes: np.ndarray, names: list,
                  settings: ForcedDistribution | Cascade) -> tuple[np.ndarray, list, np.ndarray]:
    """Apply the small-group rule; returns codes, names and a mask of rows to grade by threshold."""
    small = settings.small_groups
    sizes = np.bincount(codes)
    is_small = sizes[codes] <= small.max_size
    by_threshold = np.zeros(len(rows), dtype=bool)
    if not is_small.any() or small.rule == "round":
        return codes, names, by_threshold
    if small.rule == "thresholds":
        return codes, names, is_small
    period = pop.period[rows]
    pooled = pd.Index(period[is_small]).unique()
    new_codes = codes.copy()
    for i, p in enumerate(pooled):
        new_codes[is_small & (period == p)] = len(names) + i
    names = names + [small.pool_name] * len(pooled)
    codes, uniques = pd.factorize(new_codes)
    return codes.astype(np.int64), [names[u] for u in uniques], by_threshold


@dataclass
class Ranking:
    """Rows ranked in their groups, with what grading them by quotas needs: each sorted row's
    index in the population, and each group's size. Kept between re-runs on the same scores
    (a ratio slider only re-counts quotas).
    """

    ranked: Ranked
    idx: np.ndarray
    sizes: np.ndarray


def ranking(pop: Population, rows: np.ndarray, codes: np.ndarray, names: list,
            settings: ForcedDistribution | Cascade) -> Ranking:
    """``rows`` ranked in their groups (``codes``) by score and the settings' tie columns."""
    ties = [np.asarray(pop.column(k.column), dtype=np.float64)[rows] for k in settings.ties.by]
    desc = [k.order == "desc" for k in settings.ties.by]
    # groups, tie columns, people and group sizes do not move with the scores: laid out once
    # for re-runs (the rows and codes are kept arrays, so their keys are hashed once)
    rows_key = (json_key(settings.ties), pop.rows_key, stored_key(pop.memo, rows, codes))
    layout = None if pop.memo is None else remember(
        pop.memo, ("layout", *rows_key), lambda: group_layout(codes, ties, desc, pop.person[rows]))
    sizes = remember(pop.memo, ("group sizes", len(names), *rows_key),
                     lambda: np.bincount(codes, minlength=len(names)))
    # with a layout the people's order is in it: no need to gather them again
    person = pop.person[rows] if layout is None else layout.person
    ranked = rank_in_groups(codes, pop.score[rows], ties, desc, person, layout)
    return Ranking(ranked, rows[ranked.order], sizes)


def assign(pop: Population, rows: np.ndarray, names: list, ratio_rows: np.ndarray,
           settings: ForcedDistribution | Cascade, scale: GradeScale, rule_name: str,
           out: Grades, order: Ranking, extra: dict | None = None,
           leaders: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Give ``rows`` (ranked in their groups: ``order``) grades by the groups' quotas;
    ``leaders`` (a cascade's): each group's leader row and the ratio table by leader grade.
    """
    ranked, idx, sizes = order.ranked, order.idx, order.sizes
    # the quotas and the grades by place follow from the groups' sizes and the ratios alone
    # (rows sorted group by group, in code order): kept while a KPI slider moves the scores
    quotas, plain = remember(
        pop.memo, ("quotas", settings.method, stored_key(pop.memo, sizes),
                   stored_key(pop.memo, ratio_rows, kept=False)),
        lambda: _quotas_and_places(ranked, sizes, ratio_rows, settings.method))
    grade = shared_ties(ranked, plain) if settings.ties.rule == "share_better" else plain
    out.grade[idx] = grade

    def details(d: GradeDetails) -> None:
        d.rank[idx] = ranked.place + 1
        d.group_size[idx] = sizes[ranked.group]
        d.group[idx] = ranked.group + len(d.group_names)  # codes into d.group_names
        d.group_names.extend(names)
        d.boundary[idx] = boundary_ties(ranked, plain)
        d.rule.set_rows(idx, rule_name)

    out.later(details)
    out.groups.append(QuotaGroups(rule_name, settings.method, idx, ranked.group, ranked.place,
                                  sizes, quotas, names, *(leaders or (None, None))))
    out.quotas.append(Lazy(lambda: _quota_table(pop, idx, ranked.group, grade, sizes, quotas,
                                                ratio_rows, names, scale, rule_name, extra,
                                                settings.method)))


def _quotas_and_places(ranked: Ranked, sizes: np.ndarray, ratio_rows: np.ndarray, method: str
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Each group's quota per grade, and the grade of each place in rank order (ties not
    shared).
    """
    quotas = apportion(sizes, ratio_rows, method)
    return quotas, quota_grades(ranked, quotas)


def _quota_table(pop: Population, idx: np.ndarray, group: np.ndarray, grade: np.ndarray,
                 sizes: np.ndarray, quotas: np.ndarray, ratio_rows: np.ndarray, names: list,
                 scale: GradeScale, rule_name: str, extra: dict | None,
                 method: str = "hamilton") -> pd.DataFrame:
    """One row per group and grade: ratio, exact share, quota, count, flex, and ``alabama``:
    whether the quota would be larger with one person fewer in the group (the Alabama paradox
    of ``hamilton``, ``calib.kernels.apportion.alabama``), so HR sees a place lost to growth.
    """
    counts = np.zeros_like(quotas)
    np.add.at(counts, (group, grade), 1)
    exact = exact_quotas(sizes, ratio_rows)
    n_groups, n_grades = quotas.shape
    first = np.zeros(n_groups, dtype=np.int64)
    first[group[::-1]] = idx[::-1]  # a row of each group, for its period
    name_codes, distinct = pd.factorize(pd.Series(names, dtype=object).astype(str))
    table = {
        "rule": coded([rule_name], np.zeros(n_groups * n_grades, dtype=np.int64)),
        "period": pd.Categorical(pop.period_label.take(np.repeat(first, n_grades))),
        "group": coded(distinct, np.repeat(name_codes, n_grades)),
        "size": np.repeat(sizes, n_grades),
    }
    for key, values in (extra or {}).items():
        table[key] = np.repeat(values, n_grades)
    table.update({
        "grade": coded(scale.names(), np.tile(np.arange(n_grades), n_groups)),
        "ratio": np.broadcast_to(ratio_rows, quotas.shape).ravel(),
        "exact": exact.ravel(), "quota": quotas.ravel(), "count": counts.ravel(),
        "flex": (counts - quotas).ravel(),
        "alabama": alabama(sizes, ratio_rows, method, quotas).ravel(),
    })
    return pd.DataFrame(table)


