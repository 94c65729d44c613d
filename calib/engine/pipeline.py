"""Run a policy over a data set: validate, encode, measure, score, combine, roll up.

``run`` is the one entry point; each stage lives in its own module. Every records row comes out in
``Result.scores``: rated, or not rated with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calib._util.columns import LabelColumn, coded
from calib._util.memo import fingerprint, json_key, remember
from calib.data.read import Dataset, load_data
from calib.engine.cards import CardOutput, assign_cards, run_card, run_team_card
from calib.engine.eligibility import not_rated_reasons, proration
from calib.engine.frame import Frame, build_frame
from calib.engine.result import Lazy, Result
from calib.engine.rollup import RollupRows, roll_up
from calib.engine.score import score_rows
from calib.policy.model import Policy
from calib.policy.periods import Rollup

Columns = dict[str, np.ndarray]
RowStage = Callable[[Frame], tuple[Columns, Columns, Columns]]
"""The measures/KPI points/sections stage: a frame's measures, KPI points and sections by name
(``score_rows``, or a ``Scenario``'s, which reuses what a parameter change did not touch)."""


def _active(frame: Frame, card: np.ndarray, rated: np.ndarray) -> dict[str, np.ndarray]:
    """Per KPI and per measure: rows rated with a scorecard that uses it."""
    policy = frame.policy
    active = {k: np.zeros(frame.n, dtype=bool) for k in [*policy.kpis, *policy.measures]}
    for i, sc in enumerate(policy.scorecards.values()):
        if sc.root is None:
            continue
        rows = (card == i) & rated
        for k in policy.tree(sc.root)[0]:
            active[k] |= rows
            measure = policy.kpis[k].measure
            if measure is not None:
                active[measure] |= rows
    return active


def _eligibility(frame: Frame) -> tuple[LabelColumn, np.ndarray, np.ndarray,
                                        dict[str, np.ndarray]]:
    """Not-rated reasons so far, each row's scorecard, the eligible rows, and per KPI and
    measure the rows that use it.
    """
    reasons = not_rated_reasons(frame)
    card = assign_cards(frame)
    reasons.set(card < 0, "no scorecard applies", only_empty=True)
    eligible = reasons.empty()
    return reasons, card, eligible, _active(frame, card, eligible)


def _table(keys: Mapping[str, pd.Categorical],
           columns: Mapping[str, np.ndarray | pd.Categorical]) -> pd.DataFrame:
    data: dict[str, np.ndarray | pd.Categorical] = dict(keys)
    data.update(columns)
    return pd.DataFrame(data, copy=False)


def _keys(frame: Frame) -> dict[str, pd.Categorical]:
    """The id and period columns every per-row table starts with."""
    return {"id": coded(frame.id_categories, frame.person), "period": frame.period_labels}


def _score_parts(policy: Policy, out: CardOutput, rated: np.ndarray
                 ) -> dict[str, np.ndarray | pd.Categorical]:
    """The columns that explain a score, only for the steps the policy's scorecards have."""
    cards = list(policy.scorecards.values())
    adjusts = any(c.adjustments is not None for c in cards)
    bonus = any(c.bonus is not None for c in cards)
    caps = any(c.min is not None or c.max is not None or (c.team and c.team.max is not None)
               for c in cards) or adjusts
    vetoes = any(c.vetoes for c in cards)
    parts: dict[str, np.ndarray | pd.Categorical] = {}
    if adjusts or bonus or caps or vetoes or any(c.team for c in cards):
        parts["base"] = np.where(rated, out.base, np.nan)
    if adjusts:
        parts["added"] = np.where(rated, out.added, np.nan)
        parts["deducted"] = np.where(rated, out.deducted, np.nan)
    if bonus:
        parts["bonus"] = np.where(rated, out.bonus, np.nan)
    if caps:
        parts["capped"] = out.capped & rated
    if vetoes:
        parts["veto"] = out.vetoed.column()
        parts["lowest_grade"] = out.lowest_grade & rated
    return parts


@dataclass
class Scored:
    """What scoring produced, for the grading and pay stages (and for re-use by a ``Scenario``
    when only grading or pay changed): the result with its scoring tables, each row's scorecard,
    the scorecards' output, which rows are rated, and every measure, KPI and section column.
    """

    result: Result
    card: np.ndarray
    out: CardOutput
    rated: np.ndarray
    values: dict[str, np.ndarray]
    populations: dict[str, Any] = field(default_factory=dict)
    """The graded and paid populations, kept for re-runs (see ``stages.population``)."""


def score_frame(frame: Frame, rows: RowStage | None = None, overrides: Any = None) -> Result:
    """Every stage on an encoded frame (the engine's hot path): scoring, then grading and pay.

    ``rows`` replaces the measures/KPI points/sections stage (a ``Scenario`` passes one that
    reuses what a parameter change did not touch); ``overrides`` sets final values after
    grading (``calib.engine.overrides``).
    """
    return grade_and_pay_stage(score_stage(frame, rows), frame, overrides)


def score_stage(frame: Frame, rows: RowStage | None = None) -> Scored:
    """Eligibility, scorecards, measures, KPI points, sections, scores and roll-ups."""
    policy = frame.policy
    # who is eligible, on which scorecard, with which KPIs: the data and the policy's structure
    # decide it, not its numbers — a Scenario keeps it across sliders
    key = ("eligibility", json_key(policy.eligibility),
           tuple(json_key(s) for s in policy.scorecards.values()),
           tuple((k, kpi.measure) for k, kpi in policy.kpis.items()), tuple(policy.measures),
           tuple((k, tuple(s.children())) for k, s in policy.sections.items()))
    reasons, card, eligible, active = remember(frame.memo, key, lambda: _eligibility(frame))
    reasons = reasons.copy()  # more reasons are added below
    frame.active = active
    measures, points, sections = (rows or score_rows)(frame)
    out = CardOutput(frame.n)
    names = list(policy.scorecards)
    card_rows = remember(frame.memo, ("card rows", *key), lambda: [
        np.flatnonzero((card == i) & eligible) for i in range(len(names))])
    team_cards = []
    for i, name in enumerate(names):
        sc = policy.scorecards[name]
        if sc.team is not None:
            team_cards.append((i, name, sc, card_rows[i]))
            continue
        assert sc.root is not None, "a scorecard has a root or a team (Scorecard)"
        root = points[sc.root] if sc.root in points else sections[sc.root]
        run_card(frame, name, sc, card_rows[i], root, out)
    if team_cards:
        members = np.flatnonzero(eligible & ~np.isin(card, [t[0] for t in team_cards]))
        for _, _, sc, team_rows in team_cards:
            run_team_card(frame, sc, team_rows, members, out)
    no_data = eligible & np.isnan(out.score)
    reasons.set(no_data, "no data for any item")
    rated = reasons.empty()

    keys = Lazy(lambda: _keys(frame))  # built once for whichever tables are read

    def scores() -> pd.DataFrame:
        table = _table(keys(), {
            "scorecard": coded(names, card),
            "status": coded(["not_rated", "rated"], rated.astype(np.intp)),
            "reason": reasons.column(),
            "score": out.score,  # NaN wherever the row is not rated
            **_score_parts(policy, out, rated),
        })
        share = proration(frame)
        if share is not None:
            table["proration"] = np.round(share, 9)
        return table

    result = Result(
        policy=policy,
        scores=Lazy(scores),
        measures=Lazy(lambda: _table(keys(), measures)),
        kpi_points=Lazy(lambda: _table(keys(), points)),
        sections=Lazy(lambda: _table(keys(), sections)),
        adjustments=out.adjustment_flags,
        group_caps=pd.DataFrame(out.group_caps) if out.group_caps else None,
        frame=frame,
    )
    result.arrays.update(score=out.score, rated=rated)  # charts read these without the table
    for name, rollup in policy.rollups.items():
        result.rollups[name], result.rollup_rows[name] = _rollup(frame, name, rollup, out, rated)
    return Scored(result, card, out, rated, {**measures, **points, **sections})


def _rollup(frame: Frame, name: str, rollup: Rollup, out: CardOutput, rated: np.ndarray
            ) -> tuple[Lazy, Lazy]:
    """A roll-up's table and rows, rolled up when first read (a table, or grading or pay on the
    roll-up): a slider whose scheme grades and pays per period does not average every roll-up
    again.
    """
    def both() -> tuple[Lazy, RollupRows]:
        return remember(frame.memo, ("rollup", name, json_key(rollup),
                                     fingerprint(out.score, rated)),
                        lambda: roll_up(frame, name, rollup, out.score, rated))

    made = Lazy(both)
    return Lazy(lambda: made()[0]()), Lazy(lambda: made()[1])


def grade_and_pay_stage(scored: Scored, frame: Frame, overrides: Any = None) -> Result:
    """The result of ``scored`` under ``frame.policy``'s grading and pay (the scored result itself
    when the policy neither grades nor pays).
    """
    policy = frame.policy
    if policy.grading is None and policy.pay is None:
        return _with_outcomes(scored.result)
    from calib.engine.stages import grade_and_pay

    result = scored.result.with_scoring_of(policy)
    result.frame = frame
    grade_and_pay(frame, result, scored.card, scored.out, scored.rated, scored.values,
                  scored.populations, overrides)
    return _with_outcomes(result)


def _with_outcomes(result: Result) -> Result:
    """``result`` with its outcomes table, built when first read (from its final tables).

    The builder holds the result weakly: only this result holds it, and a strong reference
    would make a cycle that keeps a slider's replaced results alive until a full collection.
    """
    if result.policy.outcomes:
        import weakref

        from calib.engine.outcomes import outcomes_table

        ref = weakref.ref(result)
        result.outcomes = Lazy(lambda: outcomes_table(ref()))  # type: ignore[arg-type]
    return result


def run(policy: Policy, data: Dataset | pd.DataFrame | dict | str, overrides: Any = None
        ) -> Result:
    """Run ``policy`` over ``data`` (a Dataset, a folder or file path, a DataFrame of records, or a
    dict of DataFrames by table name). Raises ``DataError`` listing every input problem first.

    Nothing runs on data that does not fit the policy. The result's tables are built when first
    read, so a run that only needs counts and totals does not pay for DataFrames.

    Parameters
    ----------
    policy : Policy
        The scheme to apply.
    data : Dataset, DataFrame, dict or str
        The input tables, in any form ``load_data`` reads.
    overrides : str, Path, DataFrame or list of dicts, optional
        A calibration session's final values (``id, period, field, value, reason, note, by,
        at``; see ``calib.engine.overrides``): applied after grading, with pay, pools and flags
        computed from them; ``Result.overrides`` lists them with the computed values and
        ``Result.quota_check`` the quotas they break.

    Returns
    -------
    Result
        One table per stage: scores, measures, KPI points, sections, roll-ups, grades, quotas,
        flags, payouts and merit (those the policy has).

    Raises
    ------
    DataError
        If the data does not fit the policy (every problem at once, with its file and line).
    MoneyError
        If an amount cannot be paid exactly (beyond the largest amount calib pays, infinite, or
        a total past 64-bit integers); the message names the rule and the people.
    PoolError
        If a bonus pool cannot be shared under its caps and floors.

    Examples
    --------
    >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    >>> result = calib.run(policy, "datasets/ecommerce_cs")
    >>> result.scores[["id", "period"]].iloc[0].tolist()
    ['EC0001', '2024-01']
    """
    ds = load_data(data, policy)
    frame = build_frame(policy, ds)
    return score_frame(frame, overrides=overrides)
