"""Cascaded quotas (R25): the leader's grade in the same period picks the team's ratio row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calib._util.memo import json_key, remember, stored_key
from calib.engine.grading.core import Grades, Population, column_codes, group_codes, ratio_row
from calib.engine.grading.method import GradingMethod
from calib.engine.grading.quotas import assign, ranking
from calib.errors import DataError
from calib.policy.grading import Cascade, GradeScale, GradingRule


def _cascade(pop: Population, rows: np.ndarray, rule: GradingRule, name: str, scale: GradeScale,
             card_index: dict[str, int], out: Grades) -> None:
    """R25: the leader's grade in the same period picks the team's ratio row."""
    settings = rule.cascade
    assert settings is not None
    leaders = np.flatnonzero((pop.card == card_index[settings.leaders]) & (out.grade >= 0))
    # who leads whom, the teams and their ranking do not depend on the grades: kept for sliders
    key = ("cascade", name, json_key(settings, exclude={"ratios", "method", "ties"}),
           pop.rows_key, stored_key(pop.memo, leaders, rows, kept=False))
    teams = remember(pop.memo, key, lambda: _cascade_teams(pop, rows, leaders, settings))
    order = remember(pop.memo, (*key, json_key(settings.ties), pop.key), lambda: (
        ranking(pop, teams.rows, teams.codes, teams.names, settings)
        if len(teams.rows) else None))
    if len(teams.missing):
        out.later(lambda d: d.note.set_rows(
            teams.missing, "not graded: the leader has no grade in this period"))
    if len(teams.rows) == 0:
        return
    leader_row = np.zeros(len(teams.names), dtype=np.int64)
    leader_row[teams.codes] = leaders[teams.found]
    group_grade = out.grade[leader_row]
    grade_names = scale.names()
    table = np.array([ratio_row(settings.ratios[g], scale) for g in grade_names])
    assign(pop, teams.rows, teams.names, table[group_grade], settings, scale, name, out,
            order, extra={"leader_grade": np.array(grade_names, dtype=object)[group_grade]},
            leaders=(leader_row, table))


@dataclass
class _Teams:
    """A cascade's rows with a graded leader: each one's leader row (index into the leaders),
    team code and name; and the rows whose leader has no grade (the data decide them all).
    """

    rows: np.ndarray
    found: np.ndarray
    codes: np.ndarray
    names: list
    missing: np.ndarray


def _cascade_teams(pop: Population, rows: np.ndarray, leaders: np.ndarray,
                   settings: Cascade) -> _Teams:
    codes, leader_names = column_codes(pop.column(settings.leader))  # clean text already
    lead_ids = leader_names[codes[rows]]
    id_index = pd.Index(np.asarray(pop.ids, dtype=object).astype(str))
    lead_person = id_index.get_indexer(pd.Index(leader_names, dtype=object))[codes[rows]]
    periods = pd.factorize(pop.period)[0].astype(np.int64)
    n_periods = int(periods.max(initial=0)) + 1
    leader_key = pd.Index(pop.person[leaders].astype(np.int64) * n_periods + periods[leaders])
    found = leader_key.get_indexer(np.where(lead_person >= 0,
                                            lead_person.astype(np.int64) * n_periods
                                            + periods[rows], -1))
    missing = found < 0
    if missing.any() and settings.no_leader_grade == "error":
        bad = rows[missing]
        raise DataError(pd.DataFrame({
            "table": "records", "row": pop.row_numbers[bad], "id": pop.ids[pop.person[bad]],
            "column": settings.leader, "problem": "the leader has no grade in this period",
            "value": lead_ids[missing], "fix": f"grade the leader (scorecard "
            f"'{settings.leaders}') in that period, or set no_leader_grade: not_graded"}))
    missing_rows = rows[missing]
    rows, found, lead_ids = rows[~missing], found[~missing], lead_ids[~missing]
    if len(rows) == 0:
        return _Teams(rows, found, rows, [], missing_rows)
    codes, names = group_codes(pop, rows, [settings.team])
    team_key = pd.MultiIndex.from_arrays([codes, lead_ids.astype(str)])
    codes, uniques = pd.factorize(team_key)
    names = [f"{names[u[0]]} (leader {u[1]})" for u in uniques]
    codes = codes.astype(np.int64)
    return _Teams(rows, found, codes, names, missing_rows)




def _leaders(rule: GradingRule) -> str | None:
    return rule.cascade.leaders if rule.cascade is not None else None


METHOD = GradingMethod("cascade", _cascade, "cascade", after=_leaders)
