"""The calibration session's logic (校准会), as plain functions: no widgets, so each is tested alone.

A committee looks at a population (a branch, a level, a team), sees its grades against the
targets, places people on a 9-box, proposes overrides, and sees at once what they break (quotas)
and what they cost. Afterwards it reads its own diagnostics: who overrode how much, which way.
``calib.lab.session_panel`` puts these functions behind widgets; a notebook can call them directly.

- :func:`filter_columns`, :func:`choices`, :func:`pick`: the population, by any text column of the
  people or records table (and the period);
- :func:`grade_distribution`, :func:`leniency`: grades against the quota targets per group, and
  the groups whose share of the top grades exceeds its target by more than a threshold;
- :func:`axis_options`, :func:`axis_table`, :func:`nine_box`: a grid on any two axes;
- :func:`override_row`, :func:`rerun`, :func:`with_balance`, :func:`cost_change`: pending
  overrides, the run with them and what they cost;
- :func:`override_steps`, :func:`override_summary`, :func:`distribution_change`,
  :func:`pay_change`: a session's diagnostics;
- :func:`save_to_cycle`: the pending overrides into the cycle's ledger;
- :func:`money`, :func:`count`, :func:`score`: numbers as people read them.

Leniency is flagged by share, not by a chi-square test: a team is ten people or so, where the
test's expected counts (below 5 in most cells) make its p-value unreliable, and under a forced
distribution the computed grades meet the quota by construction, so what the committee needs to see
is how far its final grades drift from the target, in percentage points. The scheme-wide test of
distribution against target is ``calib.analysis.diagnostics.distribution_vs_target``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import calib
from calib._util.text import as_text
from calib.analysis.moves import grade_order
from calib.policy.model import Policy

COLUMNS = ("id", "period", "field", "value", "reason", "note", "by", "at")
"""The columns of an overrides table (``calib.run(..., overrides=table)``)."""

NO_QUOTA = "(no quota)"
"""The group of graded rows outside any quota group (graded by thresholds, or vetoed)."""

PERIOD = "period"
"""The name under which the period is offered as a filter and as an axis."""

SCORE, GRADE = "score", "grade"
"""The two axes every graded scheme has (besides its KPIs and text columns)."""


# --- numbers as people read them ---------------------------------------------------------------
def count(value: Any) -> str:
    """A count as an integer with thousands separators (``1,234``, never ``1234.0``); '' if missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return f"{round(float(value)):,}"


def money(value: Any, currency: str = "", signed: bool = False) -> str:
    """An amount to the cent with thousands separators and the currency: ``1,234.50 CNY``
    (``+1,234.50 CNY`` with ``signed``); '' if missing.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = f"{Decimal(str(value)).quantize(Decimal('0.01')):{'+' if signed else ''},.2f}"
    return f"{text} {currency}".strip()


def score(value: Any) -> str:
    """A score to two decimals (``87.50``); '' if missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return f"{float(value):.2f}"


def percent(value: Any) -> str:
    """A share as a percentage to one decimal (``12.5%``); '' if missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return f"{100 * float(value):.1f}%"


# --- the population ----------------------------------------------------------------------------
def _keys(table: pd.DataFrame) -> pd.DataFrame:
    """``id`` and ``period`` (when present) of ``table`` as plain text."""
    cols = [c for c in ("id", "period") if c in table.columns]
    return pd.DataFrame({c: as_text(table[c], "") for c in cols}, index=table.index)


_TEXT_CACHE: dict[tuple[str, int, int], tuple[Any, Any, pd.DataFrame]] = {}
"""The people's and records' text columns per policy and table (a panel picks on every redraw)."""


def _cached(kind: str, policy: Policy, data: Any, make: Any) -> pd.DataFrame:
    """``make(policy, data)``, remembered for this policy and this table (kept alive with it)."""
    table = data.tables.get(kind)
    key = (kind, id(policy), id(table))
    hit = _TEXT_CACHE.get(key)
    if hit is not None and hit[0] is policy and hit[1] is table:
        return hit[2]
    if len(_TEXT_CACHE) > 16:
        _TEXT_CACHE.clear()
    out = make(policy, data)
    _TEXT_CACHE[key] = (policy, table, out)
    return out


def _people(policy: Policy, data: Any) -> pd.DataFrame:
    """The people table's text and label columns as text, one row per id."""
    return _cached("people", policy, data, _people_text)


def _records(policy: Policy, data: Any) -> pd.DataFrame:
    """The records' text and label columns as text, one row per id and period."""
    return _cached("records", policy, data, _records_text)


def _people_text(policy: Policy, data: Any) -> pd.DataFrame:
    people = data.tables.get("people")
    columns = [c for c, s in (policy.inputs.people.columns.items() if policy.inputs.people else [])
               if s.type in ("text", "label")]
    if people is None or not columns:
        return pd.DataFrame(columns=["id"])
    out = pd.DataFrame({c: as_text(people[c], "") for c in columns})
    out.insert(0, "id", as_text(people[policy.inputs.id], ""))
    return out.drop_duplicates("id")


def _records_text(policy: Policy, data: Any) -> pd.DataFrame:
    rec, spec = data.tables.get("records"), policy.inputs.records
    period = spec.period
    columns = [c for c, s in spec.columns.items() if s.type in ("text", "label") and c != period]
    if rec is None or period is None or period not in rec.columns or not columns:
        return pd.DataFrame(columns=["id", "period"])
    out = pd.DataFrame({c: as_text(rec[c], "") for c in columns})
    out.insert(0, "period", as_text(rec[period], ""))
    out.insert(0, "id", as_text(rec[policy.inputs.id], ""))
    return out.drop_duplicates(["id", "period"], keep="last")


def filter_columns(policy: Policy, data: Any) -> list[str]:
    """The columns a population can be picked by: the period, then the people table's text and
    label columns (branch, team, position, supervisor ...), then the records' (a level, a label).
    """
    people = [c for c in _people(policy, data).columns if c != "id"]
    records = [c for c in _records(policy, data).columns if c not in ("id", "period", *people)]
    return [PERIOD, *people, *records]


def attributes(table: pd.DataFrame, policy: Policy, data: Any) -> pd.DataFrame:
    """``table`` (rows with ``id`` and maybe ``period``) with every filter column beside it, as
    text: the people's columns by id, the records' by id and period (a row of a roll-up, whose
    period is no record's, takes the person's last record).
    """
    keys = _keys(table)
    out = table.copy()
    people = _people(policy, data).set_index("id")
    for c in people.columns:
        out[c] = keys["id"].map(people[c]).fillna("").to_numpy()
    rec = _records(policy, data)
    columns = [c for c in rec.columns if c not in ("id", "period") and c not in out.columns]
    if columns:
        last = rec.drop_duplicates("id", keep="last").set_index("id")
        both = rec.set_index(["id", "period"]) if "period" in keys else rec
        for c in columns:
            if "period" in keys:
                index = pd.MultiIndex.from_frame(keys[["id", "period"]])
                exact = pd.Series(both[c].reindex(index).to_numpy(), index=table.index)
            else:
                exact = pd.Series(np.nan, index=table.index, dtype=object)
            out[c] = exact.fillna(keys["id"].map(last[c])).fillna("").to_numpy()
    if "period" in keys:
        out[PERIOD] = keys["period"].to_numpy()
    return out


def choices(table: pd.DataFrame, column: str) -> list[str]:
    """The distinct non-empty values of ``column`` in an :func:`attributes` table, sorted."""
    if column not in table.columns:
        return []
    return sorted({v for v in as_text(table[column], "") if v})


def pick(table: pd.DataFrame, policy: Policy, data: Any,
         where: Mapping[str, str | Sequence[str]] | None = None) -> pd.DataFrame:
    """The rows of ``table`` (with ``id``, maybe ``period``) in the population ``where``
    ({column: value or values}, e.g. ``{"branch": "城东分公司", "period": "2025-12"}``); an empty
    value or an empty list means everyone. Rows keep their index and gain the filter columns.
    """
    out = attributes(table, policy, data)
    keep = np.ones(len(out), dtype=bool)
    for column, wanted in (where or {}).items():
        values = [wanted] if isinstance(wanted, str) else list(wanted)
        values = [str(v) for v in values if v not in (None, "")]
        if not values:
            continue
        if column not in out.columns:
            raise calib.CalibError(f"cannot pick a population by {column!r}: the columns are "
                                   f"{', '.join(filter_columns(policy, data))}")
        keep &= np.isin(as_text(out[column], ""), values)
    return out[keep]


# --- grades against the targets ----------------------------------------------------------------
def _grade_frame(result: calib.Result) -> pd.DataFrame:
    """The graded rows: id, period, rule, group, computed and final grade (as text)."""
    g = result.grades
    if g is None:
        raise calib.CalibError(f"the scheme {result.policy.name} gives no grades")
    g = g[g["grade"].notna()]
    computed = g["computed_grade"] if "computed_grade" in g.columns else g["grade"]
    return pd.DataFrame({"id": as_text(g["id"], ""), "period": as_text(g["period"], ""),
                         "rule": as_text(g["rule"], ""), "group": as_text(g["group"], NO_QUOTA),
                         "computed": as_text(computed, ""), "final": as_text(g["grade"], "")},
                        index=g.index)


def grade_distribution(result: calib.Result, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per rule, group and grade, summed over the periods: the quota ``target`` (NaN for a
    group graded without quotas, e.g. by thresholds), the ``computed`` and ``final`` counts.

    ``rows`` (a :func:`pick` of ``result.grades``) limits it to a population: its graded rows,
    and the targets of the groups and periods they are in. Rows outside any quota group are
    listed under their rule with group ``(no quota)``.
    """
    g = _grade_frame(result)
    if rows is not None:
        g = g.loc[g.index.intersection(rows.index)]
    order = result.policy.grading.scale.names()
    long = []
    for side in ("computed", "final"):
        c = g.groupby(["rule", "group", side]).size().rename(side)
        long.append(c.rename_axis(["rule", "group", "grade"]))
    counts = pd.concat(long, axis=1).fillna(0).astype(int)
    q = result.quotas
    if q is not None and len(q):
        q = pd.DataFrame({"rule": as_text(q["rule"], ""), "period": as_text(q["period"], ""),
                          "group": as_text(q["group"], ""), "grade": as_text(q["grade"], ""),
                          "target": q["quota"].to_numpy()})
        seen = g[["rule", "period", "group"]].drop_duplicates()
        q = q.merge(seen, on=["rule", "period", "group"])
        target = q.groupby(["rule", "group", "grade"])["target"].sum()
        counts = counts.join(target, how="outer")
    else:
        counts["target"] = np.nan
    counts[["computed", "final"]] = counts[["computed", "final"]].fillna(0).astype(int)
    out = counts.reset_index()
    rank = {n: i for i, n in enumerate(order)}
    out["_r"] = out["grade"].map(rank)
    out = out.sort_values(["rule", "group", "_r"]).drop(columns="_r").reset_index(drop=True)
    return out[["rule", "group", "grade", "target", "computed", "final"]]


def top_grades(policy: Policy, top: Sequence[str] | None = None) -> list[str]:
    """The grades counted as "top" for leniency: ``top`` as given, else the scale's best two
    (its best one when the scale has fewer than four grades).
    """
    names = policy.grading.scale.names() if policy.grading is not None else []
    if top is not None:
        unknown = [t for t in top if t not in names]
        if unknown:
            raise calib.CalibError(f"{', '.join(unknown)}: not grades of the scale ({', '.join(names)})")
        return list(top)
    return names[:2] if len(names) >= 4 else names[:1]


def leniency(distribution: pd.DataFrame, policy: Policy, threshold: float = 0.10,
             top: Sequence[str] | None = None) -> pd.DataFrame:
    """Per rule and group of a :func:`grade_distribution`: its size, the share of the top
    grades in the target and in the final grades, the excess (final − target, as a share), and
    ``lenient`` when the excess is more than ``threshold`` (0.10 = ten percentage points).
    Groups without a target get no flag (``lenient`` False, target NaN).
    """
    tops = top_grades(policy, top)
    d = distribution.assign(is_top=distribution["grade"].isin(tops))
    rows = []
    for (rule, group), part in d.groupby(["rule", "group"], sort=False):
        size = int(part["final"].sum())
        has_target = part["target"].notna().any()
        target_top = float(part.loc[part["is_top"], "target"].sum()) if has_target else np.nan
        target_size = float(part["target"].sum()) if has_target else np.nan
        final_top = int(part.loc[part["is_top"], "final"].sum())
        computed_top = int(part.loc[part["is_top"], "computed"].sum())
        target_share = target_top / target_size if has_target and target_size else np.nan
        final_share = final_top / size if size else np.nan
        excess = final_share - target_share
        rows.append({"rule": rule, "group": group, "size": size, "target_top": target_top,
                     "computed_top": computed_top, "final_top": final_top,
                     "target_share": target_share, "final_share": final_share, "excess": excess,
                     "lenient": bool(has_target and excess > threshold + 1e-12)})
    return pd.DataFrame(rows, columns=["rule", "group", "size", "target_top", "computed_top",
                                       "final_top", "target_share", "final_share", "excess",
                                       "lenient"])


# --- the 9-box -----------------------------------------------------------------------------------
def axis_options(result: calib.Result, policy: Policy, data: Any) -> list[str]:
    """What a 9-box axis can be: the score, the grade, each KPI's points (when scored on the
    graded periods), and every text or label column of the people and records (a potential
    rating, a conduct label, the position ...).
    """
    table = axis_table(result, policy, data)
    text = [c for c in filter_columns(policy, data) if c != PERIOD]
    return [c for c in table.columns if c not in ("id", PERIOD, *text)] + text


def _kpi_axis(kpi: str, text: Sequence[str]) -> str:
    """A KPI's axis name: its own, or ``NAME (points)`` when a text column has the same name
    (gas_cs's ``conduct`` is both the label typed and the KPI's points).
    """
    return f"{kpi} (points)" if kpi in text or kpi in (SCORE, GRADE) else kpi


def axis_table(result: calib.Result, policy: Policy, data: Any) -> pd.DataFrame:
    """One row per row the session calibrates: the graded rows (of the period or roll-up the
    scheme grades on) when it grades, else the rated rows. Columns: id, period, score, grade,
    each KPI's points (where the KPIs are scored on the same periods) and every filter column;
    what :func:`nine_box` and :func:`pick` read.
    """
    if result.grades is not None:
        g = result.grades
        g = g[g["grade"].notna()]
        out = pd.DataFrame({"id": as_text(g["id"], ""), "period": as_text(g["period"], ""),
                            SCORE: g["score"].to_numpy(dtype=float), GRADE: as_text(g["grade"], None)})
    else:
        sc = result.scores
        sc = sc[sc["status"] == "rated"]
        out = pd.DataFrame({"id": as_text(sc["id"], ""), "period": as_text(sc["period"], ""),
                            SCORE: sc["score"].to_numpy(dtype=float)})
    if result.kpi_points is not None:
        k = result.kpi_points
        text = filter_columns(policy, data)
        points = k.assign(id=as_text(k["id"], ""), period=as_text(k["period"], "")).rename(
            columns={c: _kpi_axis(c, text) for c in k.columns if c not in ("id", "period")})
        merged = out.merge(points, on=["id", "period"], how="left")
        kpis = [c for c in points.columns if c not in ("id", "period")]
        out = merged.drop(columns=[c for c in kpis if merged[c].isna().all()])
    return attributes(out, policy, data)


@dataclass
class Axis:
    """How one axis of the 9-box is cut: ``bins`` (low to high) and each row's bin."""

    column: str
    bins: list[str]
    of_row: pd.Series
    cuts: list[float] = field(default_factory=list)


def _ordered_values(column: str, values: pd.Series, policy: Policy) -> list[str]:
    """A text axis's values from low to high: a grade by the scale (worst first), a label column
    by its declared labels (the first declared is the best, so reversed), else sorted.
    """
    present = [v for v in dict.fromkeys(as_text(values, "")) if v]
    if column == GRADE and policy.grading is not None:
        order = list(reversed(policy.grading.scale.names()))
    else:
        spec = (policy.inputs.people.columns.get(column) if policy.inputs.people else None) \
            or policy.inputs.records.columns.get(column)
        order = list(reversed(spec.labels)) if spec is not None and spec.labels else sorted(present)
    return [v for v in order if v in present] + sorted(v for v in present if v not in order)


def cut_axis(table: pd.DataFrame, column: str, policy: Policy,
             cuts: Sequence[float] | None = None) -> Axis:
    """Bin ``column`` of ``table``: a numeric column into thirds at its tertiles (or at the given
    ``cuts``, low to high: below the first, between, from the last up); a text column by its
    values in order (see ``_ordered_values``). Bin names say their range: ``< 85.00``,
    ``85.00–90.00``, ``≥ 90.00``.
    """
    if column not in table.columns:
        raise calib.CalibError(f"{column!r} is not an axis; choose one of the score, the grade, a "
                               f"KPI or a text column")
    values = table[column]
    numeric = pd.api.types.is_numeric_dtype(values) and column != GRADE
    if not numeric:
        bins = _ordered_values(column, values, policy)
        text = pd.Series([v or None for v in as_text(values, "")], index=table.index, dtype=object)
        return Axis(column, bins, text)
    x = values.to_numpy(dtype=float)
    if cuts is None:
        finite = x[np.isfinite(x)]
        cuts = [] if not len(finite) else list(np.quantile(finite, [1 / 3, 2 / 3]))
    cuts = sorted(float(c) for c in cuts)
    cuts = list(dict.fromkeys(cuts))  # equal tertiles (many equal values) make one cut
    edges = [-np.inf, *cuts, np.inf]
    names = ([f"< {score(cuts[0])}"] + [f"{score(a)}–{score(b)}" for a, b in itertools.pairwise(cuts)]
             + [f"≥ {score(cuts[-1])}"]) if cuts else ["all"]
    at = np.searchsorted(np.asarray(edges[1:-1]), x, side="right")
    of_row = pd.Series(np.asarray(names, dtype=object)[at], index=table.index)
    of_row[~np.isfinite(x)] = None
    return Axis(column, names, of_row, cuts)


@dataclass
class NineBox:
    """A grid of people on two axes: ``counts`` (rows: y bins from high to low; columns: x bins
    from low to high, as a 9-box is drawn) and ``members`` per (y bin, x bin).
    """

    x: Axis
    y: Axis
    counts: pd.DataFrame
    members: dict[tuple[str, str], pd.DataFrame]

    def people(self, y_bin: str, x_bin: str) -> pd.DataFrame:
        """The rows in one box (id, period, both axes' values), empty when none."""
        return self.members.get((y_bin, x_bin), pd.DataFrame(columns=["id", "period"]))


def nine_box(table: pd.DataFrame, x: str, y: str, policy: Policy,
             x_cuts: Sequence[float] | None = None, y_cuts: Sequence[float] | None = None) -> NineBox:
    """Place the rows of ``table`` (an :func:`axis_table`, maybe :func:`pick`-ed) on ``x`` × ``y``.

    Rows missing either axis are left out. Numeric axes are cut into thirds (tertiles of the rows
    given, or ``x_cuts`` / ``y_cuts``), text axes by their values, so a grade axis has one column
    per grade present.
    """
    ax, ay = cut_axis(table, x, policy, x_cuts), cut_axis(table, y, policy, y_cuts)
    placed = table.assign(_x=ax.of_row, _y=ay.of_row).dropna(subset=["_x", "_y"])
    rows_order = list(reversed(ay.bins))
    counts = pd.DataFrame(0, index=pd.Index(rows_order, name=y), columns=pd.Index(ax.bins, name=x))
    members: dict[tuple[str, str], pd.DataFrame] = {}
    shown = list(dict.fromkeys(["id", "period", x, y]))
    for (by, bx), part in placed.groupby(["_y", "_x"], sort=False):
        counts.loc[by, bx] = len(part)
        members[(str(by), str(bx))] = part[shown].sort_values(
            [y, x, "id"], ascending=[False, False, True]).reset_index(drop=True)
    return NineBox(ax, ay, counts, members)


# --- pending overrides, the run and its cost -----------------------------------------------------
def override_row(id: str, period: str, field: str, value: Any, reason: str, note: str = "",
                 by: str = "", at: str | None = None) -> dict[str, str]:
    """One override as the run reads it (every cell text; ``at`` now when not given)."""
    return {"id": str(id), "period": str(period), "field": str(field), "value": str(value),
            "reason": str(reason), "note": str(note or ""), "by": str(by or ""),
            "at": at or datetime.now().strftime("%Y-%m-%dT%H:%M")}


def overrides_table(pending: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The pending overrides as an overrides table (the columns of ``COLUMNS``, all text)."""
    return pd.DataFrame([{c: str(r.get(c, "") or "") for c in COLUMNS} for r in pending],
                        columns=list(COLUMNS))


def with_balance(policy: Policy, on: bool) -> Policy:
    """The policy with ``calibration.quotas`` set to ``balance`` (on: the fewest compensating
    moves are proposed for a broken quota) or ``report`` (off: breaches are only listed).
    """
    body = policy.to_dict()
    calibration = dict(body.get("calibration") or {})
    calibration["quotas"] = "balance" if on else "report"
    return Policy.model_validate({**body, "calibration": calibration})


def rerun(policy: Policy, data: Any, pending: Sequence[Mapping[str, Any]]) -> calib.Result:
    """The run with the pending overrides (the plain run when there are none). A bad override
    raises ``calib.DataError`` naming every bad row, with the fix.
    """
    if not pending:
        return calib.run(policy, data)
    return calib.run(policy, data, overrides=overrides_table(pending))


@dataclass(frozen=True)
class Cost:
    """The payout total before and after the pending overrides, exact to the cent."""

    before: Decimal
    after: Decimal

    @property
    def change(self) -> Decimal:
        """After minus before: what the overrides add to the payout (negative: save)."""
        return self.after - self.before


def cost_change(before: calib.Result, after: calib.Result) -> Cost:
    """What the overrides cost: ``payout_total()`` of the run without and with them."""
    return Cost(before.payout_total(), after.payout_total())


# --- a session's diagnostics ---------------------------------------------------------------------
def override_steps(result: calib.Result, policy: Policy) -> pd.DataFrame:
    """Every applied override with the grade step it made on its row: ``steps`` > 0 up (a better
    grade), < 0 down, 0 same (a score or pay override that kept the grade, or a grade set to
    what it was); ``direction`` says up, down or same. Columns: id, period, field, computed,
    final, reason, by, group, computed_grade, final_grade, steps, direction.
    """
    columns = ["id", "period", "field", "computed", "final", "reason", "by", "group",
               "computed_grade", "final_grade", "steps", "direction"]
    o = result.overrides
    if o is None or not len(o):
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame({c: as_text(o[c], "") for c in ("id", "period", "field", "computed", "final",
                                                          "reason", "by")})
    if result.grades is not None:
        g = _grade_frame(result)
        g = g.drop_duplicates(["id", "period"]).set_index(["id", "period"])
        index = pd.MultiIndex.from_frame(out[["id", "period"]])
        out["group"] = g["group"].reindex(index).fillna("").to_numpy()
        out["computed_grade"] = g["computed"].reindex(index).fillna("").to_numpy()
        out["final_grade"] = g["final"].reindex(index).fillna("").to_numpy()
    else:
        out["group"] = out["computed_grade"] = out["final_grade"] = ""
    rank = grade_order(policy)
    before = out["computed_grade"].map(rank)
    after = out["final_grade"].map(rank)
    out["steps"] = (before - after).fillna(0).astype(int)  # rank 0 is the best grade: up is +
    out["direction"] = np.select([out["steps"] > 0, out["steps"] < 0], ["up", "down"], "same")
    return out[columns]


def override_summary(result: calib.Result, policy: Policy, data: Any, by: str = "by",
                     rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Override rate and direction per ``by``: ``"by"`` (who overrode), ``"group"`` (the quota
    group) or any filter column (branch, team ...). Columns: overrides, up, down, same,
    net_steps (the grade steps summed: + more lenient), rows (graded rows of that group; none
    for ``"by"``, who is no group of people) and rate (overrides / rows).

    ``rows`` (a :func:`pick` of ``result.grades``) limits the overrides and the rows to a
    population.
    """
    steps = override_steps(result, policy)
    graded = _grade_frame(result) if result.grades is not None else pd.DataFrame(
        columns=["id", "period", "group"])
    if rows is not None:
        graded = graded.loc[graded.index.intersection(rows.index)]
        inside = set(zip(graded["id"], graded["period"], strict=True))
        steps = steps[[(i, p) in inside for i, p in zip(steps["id"], steps["period"], strict=True)]]
    if by not in ("by", "group"):
        steps = attributes(steps, policy, data)
        graded = attributes(graded, policy, data)
    if by not in steps.columns:
        raise calib.CalibError(f"cannot summarise overrides by {by!r}")
    grouped = steps.groupby(by)
    out = pd.DataFrame({"overrides": grouped.size(),
                        "up": grouped["direction"].apply(lambda d: int((d == "up").sum())),
                        "down": grouped["direction"].apply(lambda d: int((d == "down").sum())),
                        "same": grouped["direction"].apply(lambda d: int((d == "same").sum())),
                        "net_steps": grouped["steps"].sum()})
    if by != "by":
        sizes = graded.groupby(by).size()
        out = out.reindex(out.index.union(sizes.index)).fillna(0).astype(int)
        out["rows"] = sizes.reindex(out.index).fillna(0).astype(int)
        out["rate"] = out["overrides"] / out["rows"].where(out["rows"] > 0)
    else:
        out["rows"], out["rate"] = np.nan, np.nan
    out.index.name = by
    return out.reset_index()


def distribution_change(result: calib.Result, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """The grade counts of the population before (computed) and after (final) the overrides,
    per grade of the scale, with the change.
    """
    d = grade_distribution(result, rows).groupby("grade", sort=False)[["computed", "final"]].sum()
    names = result.policy.grading.scale.names()
    d = d.reindex(names).fillna(0).astype(int)
    d["change"] = d["final"] - d["computed"]
    return d.rename(columns={"computed": "before", "final": "after"}).reset_index()


def pay_change(result: calib.Result, policy: Policy, data: Any, by: str,
               rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """The payout per ``by`` (a filter column, or ``"group"`` for the quota group of the paid
    row's grade) before (computed) and after (final) the overrides, and the change, exact to the
    cent. ``rows`` (a :func:`pick` of ``result.payouts``) limits it to a population.
    """
    p = result.payouts
    if p is None:
        raise calib.CalibError(f"the scheme {policy.name} pays nothing")
    if rows is not None:
        p = p.loc[p.index.intersection(rows.index)]
    before = p["computed_payout"] if "computed_payout" in p.columns else p["payout"]
    table = pd.DataFrame({"id": as_text(p["id"], ""), "period": as_text(p["period"], ""),
                          "before": before.to_numpy(dtype=float),
                          "after": p["payout"].to_numpy(dtype=float)}, index=p.index)
    if by == "group":
        g = _grade_frame(result).drop_duplicates(["id", "period"]).set_index(["id", "period"])
        index = pd.MultiIndex.from_frame(table[["id", "period"]])
        table["group"] = g["group"].reindex(index).fillna("").to_numpy()
    else:
        table = attributes(table, policy, data)
    if by not in table.columns:
        raise calib.CalibError(f"cannot sum pay by {by!r}")
    cents = table.assign(before=np.round(table["before"] * 100).astype(np.int64),
                         after=np.round(table["after"] * 100).astype(np.int64))
    out = cents.groupby(by)[["before", "after"]].sum()
    out["change"] = out["after"] - out["before"]
    out = out.astype(object).map(lambda c: Decimal(int(c)) / 100)
    return out.reset_index()


# --- saving ------------------------------------------------------------------------------------
def save_to_cycle(path: str | Path, pending: Sequence[Mapping[str, Any]], policy: Policy,
                  by: str | None = None, create: bool = False, name: str | None = None) -> list[int]:
    """Append the pending overrides to the cycle's ledger at ``path`` (all or none, each checked
    against the policy's reason codes; a later one of the same person, period and field
    supersedes the earlier, which stays in the record). ``create`` starts the cycle (named
    ``name``, else the file's stem) when the file does not exist yet; otherwise a missing file is
    refused with how to start one. Returns the ledger rows written.
    """
    from calib.cycle.ledger import Ledger
    from calib.cycle.overrides import record_overrides
    from calib.cycle.settings import policy_meta, settings

    path = Path(path)
    if not pending:
        raise calib.CalibError("there are no pending overrides to save")
    if create and not path.exists():
        ledger = Ledger.init(path, name or path.stem, policy_meta(policy, policy.name), by=by)
    else:
        ledger = Ledger.open(path)
    with ledger:
        return record_overrides(ledger, [dict(r) for r in pending], settings(ledger, policy, policy.name),
                                by=by)
