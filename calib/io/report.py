"""The files a run writes for people: ``results.csv`` (the contract) and ``report.xlsx``.

``results.csv`` has one row per person and period (and per roll-up row that is graded or paid):
id, period, level, scorecard, status, reason, score, grade, payout, the policy's name and sha256.
``report.xlsx`` puts the results, KPI points, group summaries, the grade distribution, flags and
exceptions on sheets with frozen headers, numbers as numbers and money formatted as money.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from calib._util.excel_formats import MONEY, PERCENT, SCORE, SchemeFormats, for_policy
from calib._util.xlsx import Table, write_tables
from calib.engine.result import Result
from calib.policy.hashing import policy_sha256

__all__ = [
    "MONEY",
    "SCORE",
    "exceptions",
    "grade_distribution",
    "group_summary",
    "results_table",
    "write_report",
]


def _levels(result: Result) -> list[str]:
    policy = result.policy
    levels = []
    for section in (policy.grading, policy.pay):
        if section is not None and section.on != "period" and section.on not in levels:
            levels.append(section.on)
    return levels


def results_table(result: Result) -> pd.DataFrame:
    """The contract's results: period rows, then the roll-up rows that are graded or paid."""
    policy = result.policy
    base = ["id", "period", "status", "reason", "score"]
    parts = [result.scores[["id", "period", "scorecard", *base[2:]]].assign(level="period")]
    for level in _levels(result):
        parts.append(result.rollups[level][base].assign(level=level, scorecard=None))
    table = pd.concat([p.astype({"id": str, "period": str}) for p in parts], ignore_index=True)
    if result.grades is not None:
        on = policy.grading.on if policy.grading else "period"
        cols = ["id", "period", "grade", "grade_label"]
        if "note" in result.grades and result.grades["note"].notna().any():
            cols.append("note")
        g = result.grades[cols].astype({"id": str, "period": str}).assign(level=on).rename(
            columns={"note": "grade_note"})
        table = table.merge(g, on=["id", "period", "level"], how="left")
    if result.payouts is not None:
        on = policy.pay.on if policy.pay else "period"
        p = result.payouts[["id", "period", "payout"]].astype({"id": str, "period": str}).assign(
            level=on)
        table = table.merge(p, on=["id", "period", "level"], how="left")
    if result.overrides is not None:
        table = _with_overrides(result, table)
    table["policy"] = policy.name
    table["policy_sha256"] = policy_sha256(policy)
    order = ["id", "period", "level", "scorecard", "status", "reason", "computed_score", "score",
             "computed_grade", "grade", "grade_label", "grade_note", "computed_payout", "payout",
             "overridden", "override", "policy", "policy_sha256"]
    return table[[c for c in order if c in table.columns]]


def _with_overrides(result: Result, table: pd.DataFrame) -> pd.DataFrame:
    """The results with the computed values beside the final ones, ``overridden`` and, in
    words, what was overridden, why and by whom (a calibration session's overrides).
    """
    policy = result.policy
    key = ["id", "period", "level"]
    graded_on = policy.grading.on if policy.grading else "period"
    paid_on = policy.pay.on if policy.pay else "period"
    if result.grades is not None and "computed_grade" in result.grades:
        g = result.grades[["id", "period", "computed_grade", "score"]].astype(
            {"id": str, "period": str}).assign(level=graded_on).rename(
            columns={"score": "final_score"})
        table = table.merge(g, on=key, how="left")
    if result.payouts is not None and "computed_payout" in result.payouts:
        p = result.payouts[["id", "period", "computed_payout"]].astype(
            {"id": str, "period": str}).assign(level=paid_on)
        table = table.merge(p, on=key, how="left")
    o = result.overrides.assign(level=lambda t: np.where(t["field"].isin(["grade"]), graded_on,
                                                         paid_on))
    o.loc[o["field"].eq("score"), "level"] = _score_level(result, o[o["field"].eq("score")])
    o["text"] = (o["field"] + ": " + o["computed"].astype(str) + " → " + o["final"].astype(str)
                 + ", " + o["reason"] + " (" + o["reason_text"] + "), by " + o["by"]
                 + np.where(o["at"] != "", " at " + o["at"], "")
                 + np.where(o["note"] != "", "; " + o["note"], ""))
    text = o.astype({"id": str, "period": str}).groupby(key, sort=False)["text"].agg("; ".join)
    table = table.merge(text.rename("override").reset_index(), on=key, how="left")
    table["overridden"] = table["override"].notna()
    table["override"] = table["override"].fillna("")
    if "final_score" in table:  # a score override: the score column shows the final score
        table["computed_score"] = table["score"]
        table["score"] = table["final_score"].where(table["final_score"].notna(), table["score"])
        table = table.drop(columns="final_score")
    return table


def _score_level(result: Result, score_rows: pd.DataFrame) -> list[str]:
    """The level of each score override: the graded population's when it has that row."""
    policy = result.policy

    def rows(table: pd.DataFrame | None) -> set[tuple[str, str]]:
        if table is None:
            return set()
        return set(zip(table["id"].astype(str), table["period"].astype(str), strict=True))

    graded, paid = rows(result.grades), rows(result.payouts)
    graded_on = policy.grading.on if policy.grading else "period"
    paid_on = policy.pay.on if policy.pay else "period"
    return [graded_on if (i, p) in graded else paid_on if (i, p) in paid else "period"
            for i, p in zip(score_rows["id"], score_rows["period"], strict=True)]


def group_summary(result: Result) -> pd.DataFrame | None:
    """Per quota group and period: size, mean score, grade counts against quotas, payout total."""
    if result.grades is None:
        return None
    g = result.grades[result.grades["grade"].notna()].astype({"period": str})
    group = g["group"].astype(object)
    group = group.where(group.notna(), np.where(g["vetoed"], "(vetoed)", "(thresholds)"))
    g = g.assign(group=group)
    out = g.groupby(["period", "group"], observed=True).agg(
        size=("id", "size"), mean_score=("score", "mean")).reset_index()
    counts = g.pivot_table(index=["period", "group"], columns="grade", values="id",
                           aggfunc="count", observed=False, fill_value=0)
    counts.columns = [f"count {c}" for c in counts.columns]
    out = out.merge(counts.reset_index(), on=["period", "group"], how="left")
    if result.quotas is not None:
        q = result.quotas.pivot_table(index=["period", "group"], columns="grade", values="quota",
                                      aggfunc="sum")
        q = q.reindex(columns=result.policy.grading.scale.names())
        q.columns = [f"quota {c}" for c in q.columns]
        out = out.merge(q.reset_index(), on=["period", "group"], how="left")
    if result.payouts is not None and result.policy.pay.on == result.policy.grading.on:
        pay = result.payouts.astype({"id": str, "period": str})[["id", "period", "payout"]]
        merged = g.astype({"id": str}).merge(pay, on=["id", "period"], how="left")
        totals = merged.groupby(["period", "group"], observed=True)["payout"].sum()
        out = out.merge(totals.rename("payout total").reset_index(), on=["period", "group"],
                        how="left")
    return out


def grade_distribution(result: Result) -> pd.DataFrame | None:
    """Per period: how many people got each grade, and the share."""
    if result.grades is None:
        return None
    g = result.grades[result.grades["grade"].notna()].astype({"period": str})
    counts = g.groupby(["period", "grade", "grade_label"], observed=True).size().rename("count")
    out = counts.reset_index()
    out["share"] = out["count"] / out.groupby("period")["count"].transform("sum")
    return out


def exceptions(result: Result) -> pd.DataFrame:
    """Rows HR must look at: not rated, vetoed, capped, adjustments needing approval."""
    s = result.scores.astype({"id": str, "period": str})
    parts = [s.loc[s["status"] != "rated", ["id", "period"]].assign(
        exception="not rated", detail=s.loc[s["status"] != "rated", "reason"].astype(str))]
    if "veto" in s:
        vetoed = s["veto"].notna()
        parts.append(s.loc[vetoed, ["id", "period"]].assign(
            exception="vetoed", detail=s.loc[vetoed, "veto"].astype(str)))
    if "capped" in s:
        parts.append(s.loc[s["capped"], ["id", "period"]].assign(exception="capped",
                                                                 detail="score capped"))
    adj = result.adjustments
    if adj is not None and "needs_approval" in adj:
        pid = result.policy.inputs.id
        need = adj[adj["needs_approval"]]
        points = result.policy.scorecards
        col = next((c.adjustments.points for c in points.values() if c.adjustments), "points")
        table = next((c.adjustments.table for c in points.values() if c.adjustments), None)
        spec = result.policy.inputs.events.get(table) if table else None
        period = None if spec is None else (spec.period or spec.date)
        period = period if period in need else None
        # no file line here: outputs do not depend on the order of the input's rows
        parts.append(pd.DataFrame({"id": need[pid].astype(str),
                                   "period": None if period is None else need[period].astype(str),
                                   "exception": "approval needed",
                                   "detail": [f"{p:+g} points" for p in need[col]]}))
    if result.payouts is not None and "clipped" in result.payouts:
        p = result.payouts[result.payouts["clipped"]].astype({"id": str, "period": str})
        parts.append(p[["id", "period"]].assign(exception="payout clipped", detail=""))
    return pd.concat(parts, ignore_index=True)


def _sheet(frame: pd.DataFrame, money: set[str], scheme: SchemeFormats) -> Table:
    """A report table as a sheet: yes/blank for flags; the scheme's money and score formats and
    percent for a share, by column name.
    """
    flags = {c: pd.Categorical.from_codes(np.where(frame[c], 0, -1), ["yes"])  # blank when false
             for c in frame.columns if frame[c].dtype == bool}
    out = frame.assign(**flags) if flags else frame
    formats = {str(c): scheme.money for c in out.columns if c in money}
    formats |= {c: scheme.score for c in ("score", "mean_score") if c in out.columns}
    formats |= {c: PERCENT for c in ("share",) if c in out.columns and c not in money}
    return Table(out, formats)


def _calib_version() -> str:
    from calib._util.version import __version__

    return __version__


def _data_hash(result: Result) -> str:
    frame = result.frame
    if frame is None:
        return ""
    from calib.data.read import Dataset

    tables = {"records": frame.records.frame}
    if frame.people is not None:
        tables["people"] = frame.people.frame
    for name, ev in frame.events.items():
        tables[name] = ev.typed.frame
    return Dataset(tables).fingerprint()


def write_report(result: Result, path: str | Path, results: pd.DataFrame | None = None,
                 data_sha256: str | None = None) -> list[str]:
    """Write ``report.xlsx``: one sheet per table, headers frozen, money as money; returns the sheets.

    Streamed (``calib._util.xlsx.write_tables``), so a million person-months take seconds; text is
    always text (never a formula); a table longer than a worksheet holds is split into
    ``results``, ``results (2)``, ... ``results`` is the results table when the caller already
    has it (``calib run`` wrote it to results.csv), else it is built here. ``data_sha256`` is
    the data set's fingerprint (``Dataset.fingerprint``, as in manifest.json and a frozen file's
    provenance); without it the typed tables the run kept are hashed.
    """
    policy = result.policy
    money = set(policy.pay.components) | {"pool", "payout", "payout total", "raise"} \
        if policy.pay else set()
    about = pd.DataFrame({"item": ["policy", "title", "version", "policy sha256", "calib",
                                   "data sha256"],
                          "value": [policy.name, policy.title or "", policy.version or "",
                                    policy_sha256(policy), _calib_version(),
                                    data_sha256 or _data_hash(result)]})
    sheets: dict[str, pd.DataFrame | None] = {
        "about": about,
        "results": results_table(result) if results is None else results,
        "KPI points": result.kpi_points.rename(columns=policy.labels()),
        "group summaries": group_summary(result),
        "grade distribution": grade_distribution(result),
        "flags": result.flags,
        "payouts": result.payouts,
        "merit": result.merit,
        "outcomes": result.outcomes,
        "exceptions": exceptions(result),
    }
    scheme = for_policy(policy)
    tables = {name: _sheet(frame, money, scheme) for name, frame in sheets.items()
              if frame is not None}
    return write_tables(path, tables)
