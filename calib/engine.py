"""Run a policy over a data set: validate, encode, measure, score, combine, roll up.

``run`` is the one entry point; each stage lives in its own module. Every records row comes out in
``Result.scores``: rated, or not rated with a reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.calendar import period_label
from calib.cards import CardOutput, assign_cards, run_card, run_team_card
from calib.data import Dataset, load_data
from calib.eligibility import not_rated_reasons, proration
from calib.frame import Frame, build_frame
from calib.measures import compute_measures
from calib.policy.model import Policy
from calib.result import Result
from calib.rollup import roll_up
from calib.score import kpi_points, section_scores


def _kpis_under(policy: Policy, root: str) -> set[str]:
    if root in policy.kpis:
        return {root}
    out: set[str] = set()
    for child in policy.sections[root].children():
        out |= _kpis_under(policy, child)
    return out


def _active(frame: Frame, card: np.ndarray, rated: np.ndarray) -> dict[str, np.ndarray]:
    """Per KPI and per measure: rows rated with a scorecard that uses it."""
    policy = frame.policy
    active = {k: np.zeros(frame.n, dtype=bool) for k in [*policy.kpis, *policy.measures]}
    for i, sc in enumerate(policy.scorecards.values()):
        if sc.root is None:
            continue
        rows = (card == i) & rated
        for k in _kpis_under(policy, sc.root):
            active[k] |= rows
            measure = policy.kpis[k].measure
            if measure is not None:
                active[measure] |= rows
    return active


def _table(frame: Frame, labels: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    data = {"id": frame.record_ids(), "period": labels}
    data.update(columns)
    return pd.DataFrame(data)


def _period_labels(frame: Frame) -> np.ndarray:
    uniq, inv = np.unique(frame.period, return_inverse=True)
    names = np.array([period_label(o, frame.policy.calendar.frequency) for o in uniq],
                     dtype=object)
    return names[inv]


def score_frame(frame: Frame) -> Result:
    """Every stage of scoring on an encoded frame (the engine's hot path)."""
    policy = frame.policy
    reasons = not_rated_reasons(frame)
    card = assign_cards(frame)
    reasons[(card < 0) & (reasons == None)] = "no scorecard applies"  # noqa: E711
    eligible = reasons == None  # noqa: E711
    frame.active = _active(frame, card, eligible)
    measures = compute_measures(frame)
    points = kpi_points(frame, measures, frame.active)
    sections = section_scores(frame, points)
    out = CardOutput(frame.n)
    names = list(policy.scorecards)
    team_cards = []
    for i, name in enumerate(names):
        sc = policy.scorecards[name]
        rows = np.flatnonzero((card == i) & eligible)
        if sc.team is not None:
            team_cards.append((i, name, sc, rows))
            continue
        root = points[sc.root] if sc.root in points else sections.values[sc.root]
        run_card(frame, name, sc, rows, root, out)
    members = np.flatnonzero(eligible & ~np.isin(card, [t[0] for t in team_cards]))
    for _, _, sc, rows in team_cards:
        run_team_card(frame, sc, rows, members, out)
    no_data = eligible & np.isnan(out.score)
    reasons[no_data] = "no data for any item"
    rated = reasons == None  # noqa: E711
    labels = _period_labels(frame)
    scores = _table(frame, labels, {
        "scorecard": np.where(card >= 0, np.array([*names, ""], dtype=object)[card], None),
        "status": np.where(rated, "rated", "not_rated"),
        "reason": reasons,
        "score": np.where(rated, out.score, np.nan),
        "base": np.where(rated, out.base, np.nan),
        "added": np.where(rated, out.added, np.nan),
        "deducted": np.where(rated, out.deducted, np.nan),
        "bonus": np.where(rated, out.bonus, np.nan),
        "capped": out.capped & rated,
        "veto": out.vetoed,
        "lowest_grade": out.lowest_grade,
    })
    share = proration(frame)
    if share is not None:
        scores["proration"] = np.round(share, 9)
    result = Result(
        policy=policy,
        scores=scores,
        measures=_table(frame, labels, measures),
        kpi_points=_table(frame, labels, points),
        sections=_table(frame, labels, sections.values),
        adjustments=out.adjustment_flags,
        group_caps=pd.DataFrame(out.group_caps) if out.group_caps else None,
    )
    for name, rollup in policy.rollups.items():
        result.rollups[name] = roll_up(frame, name, rollup, out.score, rated)
    return result


def run(policy: Policy, data: Dataset | pd.DataFrame | dict | str) -> Result:
    """Run ``policy`` over ``data`` (a Dataset, a folder or file path, a DataFrame of records, or a
    dict of DataFrames by table name). Raises ``DataError`` listing every input problem first.
    """
    ds = load_data(data, policy)
    frame = build_frame(policy, ds)
    return score_frame(frame)
