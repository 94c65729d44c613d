"""The outcomes a run leads to (``calib.policy.outcomes``): one row per person, period and
outcome raised, with what raised it.

Outcomes read the run's own tables (the final grades after any overrides, the flags, the
scores, the KPI points), so what HR acts on is what was paid. A score or points bound is met as
a person computing by hand would meet it: ``score_below: 60`` does not hold at exactly 60.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib._util.tolerance import tol
from calib.engine.result import Result
from calib.policy.outcomes import DISMISSAL_CAUTION, Outcome

COLUMNS = ["id", "period", "outcome", "label", "kind", "why", "caution"]


def outcomes_table(result: Result) -> pd.DataFrame | None:
    """Every outcome raised on a rated row, in the order of the policy's outcomes, then id and
    period (None when the policy names no outcome).
    """
    policy = result.policy
    if not policy.outcomes:
        return None
    parts = [_raised(result, name, outcome) for name, outcome in policy.outcomes.items()]
    table = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else pd.DataFrame(columns=COLUMNS)
    return table[COLUMNS].reset_index(drop=True)


def _rows(result: Result, on: str) -> pd.DataFrame:
    """The rated rows an outcome is judged on: id, period, score (and grade where graded)."""
    policy = result.policy
    if policy.grading is not None and on == policy.grading.on and result.grades is not None:
        g = result.grades
        return g.loc[g["grade"].notna(), ["id", "period", "score", "grade"]].astype(
            {"id": str, "period": str, "grade": object}).reset_index(drop=True)
    table = result.scores if on == "period" else result.rollups[on]
    rated = table["status"].astype(str) == "rated"
    return table.loc[rated, ["id", "period", "score"]].astype(
        {"id": str, "period": str}).reset_index(drop=True)


def _raised(result: Result, name: str, outcome: Outcome) -> pd.DataFrame:
    policy = result.policy
    on = outcome.on or (policy.grading.on if policy.grading is not None else "period")
    rows = _rows(result, on)
    when = outcome.when
    hit = np.ones(len(rows), dtype=bool)
    why: list[str] = []
    labels = policy.grading.scale if policy.grading is not None else None
    if when.grade_in is not None:
        hit &= rows["grade"].isin(when.grade_in).to_numpy()
        named = [next((g.label or g.name for g in labels.grades if g.name == n), n)
                 for n in when.grade_in] if labels else when.grade_in
        why.append("grade " + " / ".join(f"{n} {lab}" if lab != n else n
                                          for n, lab in zip(when.grade_in, named, strict=True)))
    score = rows["score"].to_numpy(dtype=float)
    if when.score_below is not None:
        hit &= score < when.score_below - tol(when.score_below)
        why.append(f"score below {when.score_below:g}")
    if when.score_at_least is not None:
        hit &= score >= when.score_at_least - tol(when.score_at_least)
        why.append(f"score at least {when.score_at_least:g}")
    if when.flag is not None:
        flags = result.flags
        raised = set() if flags is None else set(zip(
            flags.loc[flags["flag"] == when.flag, "id"].astype(str),
            flags.loc[flags["flag"] == when.flag, "period"].astype(str), strict=True))
        hit &= np.array([(i, p) in raised for i, p in zip(rows["id"], rows["period"], strict=True)],
                        dtype=bool)
        streak = policy.grading.streaks[when.flag] if policy.grading is not None else None
        why.append(f"flag {(streak.label if streak and streak.label else None) or when.flag}")
    if when.rank is not None or when.rank_by is not None:
        places, said = _places(result, rows, outcome)
        hit &= places
        why.extend(said)
    base = rows.loc[hit, ["id", "period"]].reset_index(drop=True)
    if when.kpi_below is None:
        return _lines(base, name, outcome, outcome.label, "; ".join(why))
    return _per_kpi(result, base, name, outcome, why)


def _places(result: Result, rows: pd.DataFrame, outcome: Outcome) -> tuple[np.ndarray, list[str]]:
    """Which ``rows`` hold the places ``outcome`` names — ``rank`` in the grading's ranking,
    ``rank_by`` by records columns in the same groups and period, higher first, rows with an
    equal value sharing the place — and the words saying so.
    """
    grading, when = result.policy.grading, outcome.when
    assert grading is not None and grading.ranking is not None, "checked with the policy"
    frame = result.frame
    keys = pd.DataFrame({"id": np.asarray(frame.id_categories)[frame.person].astype(str),
                         "period": np.asarray(frame.period_labels).astype(str)})
    group = ["period"]
    for i, col in enumerate(grading.ranking.by):
        keys[f"_group{i}"] = np.asarray(frame.column(col)).astype(str)
        group.append(f"_group{i}")
    for col in when.rank_by or {}:
        keys[f"_by_{col}"] = np.asarray(frame.column(col), dtype=float)
    table = rows[["id", "period"]].merge(keys, on=["id", "period"], how="left")
    hit = np.ones(len(rows), dtype=bool)
    why: list[str] = []
    if when.rank is not None:
        ranks = result.grades[["id", "period", "rank"]].astype({"id": str, "period": str})
        rank = table.merge(ranks, on=["id", "period"], how="left")["rank"].fillna(0)
        ranked = table.assign(rank=rank.to_numpy()).loc[rank.to_numpy() > 0]
        size = ranked.groupby(group)["rank"].transform("max").reindex(table.index)
        place = 1 if when.rank == "first" else size.to_numpy()
        hit &= (rank.to_numpy() > 0) & (rank.to_numpy() == place)
        why.append(f"ranked {when.rank} by score")
    for col, end in (when.rank_by or {}).items():
        value = table[f"_by_{col}"]
        bound = value.groupby([table[g] for g in group]).transform(
            "max" if end == "first" else "min")
        hit &= (value == bound).to_numpy() & value.notna().to_numpy()
        why.append(f"ranked {end} by {col}")
    return hit, why


def _per_kpi(result: Result, base: pd.DataFrame, name: str, outcome: Outcome,
             why: list[str]) -> pd.DataFrame:
    """One line per KPI that falls short on each row (``{kpi}`` in the label names it)."""
    assert outcome.when.kpi_below is not None
    points = result.kpi_points.astype({"id": str, "period": str})
    joined = base.merge(points, on=["id", "period"], how="left")
    labels = result.policy.labels()
    out = []
    for kpi, bound in outcome.when.kpi_below.items():
        value = joined[kpi].to_numpy(dtype=float)
        short = value < bound - tol(bound)  # NaN (the KPI not on this row) is never short
        if not short.any():
            continue
        text = "; ".join([*why, f"{labels.get(kpi, kpi)} points below {bound:g}"])
        label = outcome.label.replace("{kpi}", labels.get(kpi, kpi))
        lines = _lines(joined.loc[short, ["id", "period"]].reset_index(drop=True), name, outcome,
                       label, text)
        lines["why"] = [f"{text} ({v:g})" for v in value[short]]
        out.append(lines)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=COLUMNS)


def _lines(rows: pd.DataFrame, name: str, outcome: Outcome, label: str, why: str
           ) -> pd.DataFrame:
    return rows.assign(outcome=name, label=label, kind=outcome.kind, why=why,
                       caution=DISMISSAL_CAUTION if outcome.kind == "dismissal" else "")
