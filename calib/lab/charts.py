"""Charts of a run, a simulation and a sensitivity analysis (Altair), offline and policy-labelled.

Every function returns an Altair chart built from small, pre-aggregated tables (histogram bins,
group × period means), so a spec holds at most a few thousand rows whatever the data set. Grade
names and labels (A+ 优秀), group and column labels come from the policy, so a Chinese scheme
shows Chinese labels. The functions take plain tables where they can, so the outputs of a Monte
Carlo run or a sensitivity sweep chart the same way as a ``Result``.

Charts render without a network: in a notebook or app display ``charts.widget(chart)``, or call
:func:`enable_offline` first (the ``jupyter`` renderer with ``offline=True``, and
``alt.JupyterChart`` with the Vega libraries bundled by vl-convert; a plain ``alt.JupyterChart``
loads them from a CDN and stays blank offline). :func:`save` writes PNG, SVG, PDF or
self-contained HTML with vl-convert. Chinese text in a PNG/SVG needs a CJK font that
vl-convert can see: pass its folder as ``save(..., font_dir=...)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from calib._util.text import as_text
from calib._util.tolerance import REL
from calib.analysis.moves import SAME, moves
from calib.engine.result import Result
from calib.errors import CalibError
from calib.policy.groups import default_group, grouping_columns, people_text_columns
from calib.policy.model import Policy

MAX_ROWS = 5000
"""Altair's row limit; every chart's data is aggregated well below it."""

WIDTH = 560
HEIGHT = 300
MOVE_COLOURS = {"up": "#2ca02c", "down": "#d62728", "new": "#9467bd", "gone": "#8c564b",
                SAME: "#b0b0b0"}
"""The colour of each move of ``calib.analysis.moves`` in the ``moved`` chart."""

__all__ = [
    "enable_offline", "fan", "grade_distribution", "group_heatmap", "monte_carlo", "moved",
    "not_rated_reasons", "payout_distribution", "save", "score_distribution", "scores_per_period",
    "tornado", "widget",
]


# --- helpers ----------------------------------------------------------------------------------
def _title(text: str, policy: Policy | None = None, note: str | None = None) -> alt.TitleParams:
    sub = [s for s in ((policy.title or policy.name) if policy is not None else None, note) if s]
    return alt.TitleParams(text=text, subtitle=sub or alt.Undefined, anchor="start")


def _grades(policy: Policy) -> pd.DataFrame:
    """The grade scale best first: name, label, display text (``A+ 优秀``), order and minimum."""
    if policy.grading is None:
        raise CalibError(f"policy '{policy.name}' has no grading")
    rows = []
    for i, g in enumerate(policy.grading.scale.grades):
        display = g.name if not g.label or g.label == g.name else f"{g.name} {g.label}"
        rows.append({"grade": g.name, "label": g.label or g.name, "display": display, "order": i,
                     "min": g.min})
    return pd.DataFrame(rows)


def _grade_scale(displays: list[str]) -> alt.Scale:
    """Colours from green (best grade) to red (worst), in the scale's order."""
    return alt.Scale(domain=displays, scheme="redyellowgreen", reverse=True)


def _nice_step(span: float, bins: int) -> float:
    """A bin width of 1, 2.5 or 5 × 10^k near ``span / bins`` (so thresholds such as 85 fall on
    bin edges).
    """
    raw = span / max(bins, 1) if span > 0 else 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.5, 5.0, 10.0):
        if m * power >= raw:
            return m * power
    return 10.0 * power  # pragma: no cover


def _histogram(values: Iterable[float], bins: int = 40) -> pd.DataFrame:
    """Counts in bins of a nice width: start, end, count (empty bins kept, so bars line up)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        v = values
    else:
        v = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise CalibError("nothing to chart: no finite values")
    lo, hi = float(v.min()), float(v.max())
    step = _nice_step(hi - lo, bins)
    start = math.floor(lo / step) * step
    n = max(1, math.floor((hi - start) / step) + 1)
    edges = start + step * np.arange(n + 1)
    # each value's bin: edges[i] <= v < edges[i + 1] (np.histogram's rule; its last bin is
    # closed, but the top edge lies above the highest value, so nobody lands on it)
    counts, _ = np.histogram(v, bins=edges)
    return pd.DataFrame({"start": edges[:-1], "end": edges[1:], "count": counts.astype(int)})


def _small(data: pd.DataFrame, what: str) -> pd.DataFrame:
    if len(data) > MAX_ROWS:
        raise CalibError(f"{what}: {len(data)} rows are too many for a chart (at most {MAX_ROWS}); "
                         "group more coarsely")
    return data


def _score_table(result: Result, on: str | None) -> tuple[pd.DataFrame, str]:
    """The rated rows of the period scores or of a roll-up, and the name used."""
    if on is None:
        on = result.policy.grading.on if result.policy.grading is not None else "period"
    if on == "period":
        table = result.scores
    elif on in result.rollups:
        table = result.rollups[on]
    else:
        have = ", ".join(["period", *result.rollups])
        raise CalibError(f"no scores on '{on}'; use one of: {have}")
    return table[table["status"] == "rated"], on


def _periods(table: pd.DataFrame, period: str | Sequence[str] | None) -> pd.DataFrame:
    if period is None:
        return table
    wanted = {str(period)} if isinstance(period, str | int) else {str(p) for p in period}
    out = table[table["period"].astype(str).isin(wanted)]
    if out.empty:
        raise CalibError(f"no rows for period {', '.join(sorted(wanted))}")
    return out


def _people_column(result: Result, by: str) -> pd.Series:
    """Id (text) → value of a people column, or a clear error naming the columns there are."""
    people = getattr(getattr(result, "frame", None), "people", None)
    frame = getattr(people, "frame", None)
    id_col = result.policy.inputs.id
    if frame is None or by not in frame.columns or by == id_col:
        have = [] if frame is None else [c for c in frame.columns if c != id_col]
        raise CalibError(f"cannot group by '{by}': it is not a column of the people table; use "
                         f"'group' (the quota group), 'scorecard' or one of: {', '.join(have) or '(none)'}")
    f = frame.astype({id_col: str}).drop_duplicates(id_col)
    return f.set_index(id_col)[by].astype(object)


def _column_label(policy: Policy, column: str) -> str:
    spec = policy.inputs.people.columns.get(column) if policy.inputs.people is not None else None
    return (spec.label if spec is not None and spec.label else None) or column


def _default_group(result: Result, table: pd.DataFrame) -> str:
    """Quota groups when the grading has them, else the policy's default group
    (``calib.policy.groups.default_group``) among the people columns with a few values (2 to 60
    among the people charted), else the scorecard.
    """
    if "group" in table.columns and table["group"].notna().any():
        return "group"
    frame = getattr(getattr(getattr(result, "frame", None), "people", None), "frame", None)
    if frame is not None:
        ids = set(table["id"].astype(str))
        id_col = result.policy.inputs.id
        rows = frame[frame[id_col].astype(str).isin(ids)]
        candidates = {*grouping_columns(result.policy), *people_text_columns(result.policy)}
        few = [c for c in rows.columns
               if c in candidates and c != id_col and 2 <= rows[c].nunique() <= 60]
        found = default_group(result.policy, few)
        if found is not None:
            return found
    return "scorecard"


def _rule_names(policy: Policy) -> dict[str, str]:
    """Grading rule → the labels of its scorecards (客服主管), for rows without a quota group."""
    if policy.grading is None:
        return {}
    out = {}
    for name, rule in policy.grading.rules.items():
        cards = [policy.scorecards[c].label or c for c in rule.scorecards if c in policy.scorecards]
        out[name] = "、".join(cards) or name
    return out


# --- score and grade charts -------------------------------------------------------------------
def score_distribution(result: Result, on: str | None = "period", period: str | Sequence[str] | None = None,
                       bins: int = 40) -> alt.LayerChart | alt.Chart:
    """Histogram of rated scores with the grade scale's thresholds drawn as labelled rules.

    ``on`` is ``period`` (the period scores), a roll-up name (``year``) or None for the scores the
    policy grades. ``period`` keeps one period (or a list). Bars are coloured by the grade their
    scores get when the scale has thresholds.
    """
    data, rules, on = score_distribution_data(result, on, period, bins)
    return score_distribution_chart(result.policy, data, rules, on, period)


def scores_per_period_data(result: Result) -> pd.DataFrame:
    """Per period: the rated rows' mean score, 10th and 90th percentiles and count."""
    scores = result.scores
    rated = scores[scores["status"].astype(str) == "rated"]
    grouped = rated.groupby(rated["period"].astype(str), sort=True)["score"]
    return pd.DataFrame({"mean": grouped.mean(), "p10": grouped.quantile(0.1),
                         "p90": grouped.quantile(0.9), "rated": grouped.size()}
                        ).rename_axis("period").reset_index().round(2)


def scores_per_period(result: Result) -> alt.LayerChart:
    """The rated scores month by month: the mean as a line over the band of the middle 80 %
    (10th to 90th percentile), so a drifting or tightening scheme shows at a glance.
    """
    data = scores_per_period_data(result)
    base = alt.Chart(data).encode(x=alt.X("period:O", title="Period", sort=None))
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("p10:Q", title="Score", scale=alt.Scale(zero=False)), y2="p90:Q")
    line = base.mark_line(point=True).encode(
        y="mean:Q", tooltip=[alt.Tooltip("period:O"), alt.Tooltip("mean:Q", title="mean"),
                             alt.Tooltip("p10:Q", title="10th pct"),
                             alt.Tooltip("p90:Q", title="90th pct"), alt.Tooltip("rated:Q")])
    return alt.layer(band, line).properties(
        width=WIDTH, height=HEIGHT,
        title=_title("Scores per period (mean; band: 10th–90th percentile)", result.policy))


def not_rated_reasons_data(result: Result) -> pd.DataFrame:
    """Per period and reason: how many rows were not rated (empty when every row was rated)."""
    scores = result.scores
    out = scores[scores["status"].astype(str) != "rated"]
    table = out.groupby([out["period"].astype(str), out["reason"].astype(str)], sort=True).size()
    return table.rename("rows").rename_axis(["period", "reason"]).reset_index()


def not_rated_reasons(result: Result) -> alt.Chart:
    """The rows not rated in each period, stacked by reason (probation, absence, no data …)."""
    data = not_rated_reasons_data(result)
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("period:O", title="Period", sort=None),
        y=alt.Y("rows:Q", title="Not rated", stack="zero"),
        color=alt.Color("reason:N", title="Reason"),
        tooltip=["period:O", "reason:N", "rows:Q"]).properties(
        width=WIDTH, height=HEIGHT // 2,
        title=_title("Rows not rated, by reason", result.policy))


def score_distribution_chart(policy: Policy, data: pd.DataFrame, rules: pd.DataFrame | None,
                             on: str, period: str | Sequence[str] | None = None
                             ) -> alt.LayerChart | alt.Chart:
    """The score chart drawn from ``score_distribution_data``'s bins, rules and name."""
    x = alt.X("start:Q", bin="binned", title="Score" if on == "period" else f"Score ({on})")
    encoding: dict[str, Any] = {"x": x, "x2": alt.X2("end:Q"),
                                "y": alt.Y("count:Q", title="People"),
                                "tooltip": [alt.Tooltip("start:Q", title="from"),
                                            alt.Tooltip("end:Q", title="to"), alt.Tooltip("count:Q")]}
    layers: list[alt.Chart] = []
    if rules is not None:
        displays = _grades(policy)["display"].tolist()
        encoding["color"] = alt.Color("grade:O", scale=_grade_scale(displays), sort=displays,
                                      title="Grade")
        encoding["tooltip"].append(alt.Tooltip("grade:N"))
    bars = alt.Chart(data).mark_bar(binSpacing=0).encode(**encoding)
    layers.append(bars)
    if rules is not None:
        base = alt.Chart(rules)
        layers.append(base.mark_rule(strokeDash=[4, 3], color="#333").encode(
            x=alt.X("min:Q"), tooltip=[alt.Tooltip("text:N", title="threshold")]))
        layers.append(base.mark_text(angle=270, align="right", baseline="bottom", dx=-4, dy=-2,
                                     fontSize=10, color="#333").encode(
            x=alt.X("min:Q"), y=alt.YValue(0), text=alt.Text("text:N")))
    note = None if period is None else f"period {period}" if isinstance(period, str) else None
    chart = layers[0] if len(layers) == 1 else alt.layer(*layers)
    return chart.properties(width=WIDTH, height=HEIGHT,
                            title=_title("Score distribution", policy, note))


def score_distribution_data(result: Result, on: str | None = "period",
                            period: str | Sequence[str] | None = None, bins: int = 40
                            ) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """What ``score_distribution`` draws: the histogram's bins (with the grade of each bin's
    scores when the scale has thresholds), the threshold rules (None without thresholds) and
    the name of the scores (``period`` or a roll-up).
    """
    policy = result.policy
    if period is None and (on or (policy.grading.on if policy.grading else "period")) == "period" \
            and "score" in result.arrays:  # the rated rows' scores, without building the table
        on, scores = "period", result.arrays["score"][result.arrays["rated"]]
    else:
        table, on = _score_table(result, on)
        scores = _periods(table, period)["score"]
    data = _histogram(scores, bins)
    if policy.grading is None or not policy.grading.scale.has_thresholds():
        return data, None, on
    scale = _grades(policy)
    displays = scale["display"].tolist()
    mins = scale["min"].tolist()
    data["grade"] = [next((d for d, m in zip(displays, mins, strict=True)
                           if m is not None and s >= m), displays[-1]) for s in data["start"]]
    rules = scale[scale["min"].notna()].assign(
        text=lambda d: [f"{disp} ≥ {m:g}" for disp, m in zip(d["display"], d["min"], strict=True)])
    return data, rules[["display", "min", "text"]], on


def _targets(policy: Policy, target: Mapping[str, float] | None) -> dict[str, float]:
    if target is not None:
        return {str(k): float(v) for k, v in target.items()}
    rules = policy.grading.rules if policy.grading is not None else {}
    if len(rules) == 1:
        rule = next(iter(rules.values()))
        if rule.method == "forced" and rule.forced is not None:
            return dict(rule.forced.ratios)
    return {}


def grade_distribution(result: Result, target: Mapping[str, float] | None = None,
                       period: str | Sequence[str] | None = None) -> alt.LayerChart:
    """Bars of the share of graded rows per grade (policy's grade order and labels) with the
    target shares as ticks.

    ``target`` maps grade name (or label) → share; by default it is the forced distribution's
    ratios when the policy has a single grading rule (no ticks otherwise).
    """
    return grade_distribution_chart(result.policy, grade_distribution_data(result, target, period))


def grade_distribution_chart(policy: Policy, data: pd.DataFrame) -> alt.LayerChart:
    """The grade chart drawn from ``grade_distribution_data``'s table."""
    displays = data["display"].tolist()
    x = alt.X("display:O", sort=displays, title="Grade", axis=alt.Axis(labelAngle=0))
    base = alt.Chart(data).encode(x=x)
    tooltip = [alt.Tooltip("display:N"), alt.Tooltip("count:Q"), alt.Tooltip("share:Q", format=".1%"),
               alt.Tooltip("target:Q", format=".1%")]
    bars = base.mark_bar().encode(
        y=alt.Y("share:Q", title="Share of graded rows", axis=alt.Axis(format="%")),
        color=alt.Color("display:O", scale=_grade_scale(displays), sort=displays, legend=None),
        tooltip=tooltip)
    text = base.mark_text(dy=-6, fontSize=10).encode(y=alt.Y("share:Q"),
                                                     text=alt.Text("share:Q", format=".1%"))
    layers = [bars, text]
    if data["target"].notna().any():
        layers.append(base.transform_filter("isValid(datum.target)").mark_tick(
            color="black", thickness=3, size=40).encode(y=alt.Y("target:Q"), tooltip=tooltip))
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT,
                                         title=grade_distribution_title(policy, data))


def grade_distribution_title(policy: Policy, data: pd.DataFrame) -> alt.TitleParams:
    """The grade chart's title: the policy, the graded rows and whether ticks show targets."""
    note = f"{int(data['count'].sum())} graded rows" + (
        "; ticks: target shares" if data["target"].notna().any() else "")
    return _title("Grade distribution", policy, note)


def grade_distribution_data(result: Result, target: Mapping[str, float] | None = None,
                            period: str | Sequence[str] | None = None) -> pd.DataFrame:
    """What ``grade_distribution`` draws: per grade (best first) its name, label, display text,
    order, count, share of the graded rows and target share (NaN where none).
    """
    policy = result.policy
    scale = _grades(policy)
    if period is None and result.arrays.get("grade") is not None:
        counts = result.grade_counts()  # from the grading stage's arrays: no table built
    else:
        if result.grades is None:
            raise CalibError("the result has no grades")
        counts = _periods(result.grades, period)["grade"].dropna().astype(str).value_counts()
    data = scale[["grade", "label", "display", "order"]].copy()
    data["count"] = data["grade"].map(counts).fillna(0).astype(int)
    total = int(data["count"].sum())
    data["share"] = data["count"] / total if total else 0.0
    wanted = _targets(policy, target)
    by_label = dict(zip(scale["label"], scale["grade"], strict=True))
    wanted = {by_label.get(k, k): v for k, v in wanted.items()}
    unknown = sorted(set(wanted) - set(scale["grade"]))
    if unknown:
        raise CalibError(f"target names grades not in the scale: {', '.join(unknown)}")
    data["target"] = data["grade"].map(wanted)
    return data


def group_heatmap(result: Result, by: str | None = None, value: str = "score",
                  on: str | None = None) -> alt.Chart:
    """Mean score (or the share of one grade) per group × period as a heat map.

    The rows are the graded rows (scores on the policy's ``on`` when it grades; ``on`` picks the
    period scores or a roll-up when it does not). ``by`` is ``group`` (the quota group, or the
    rule where a row has none), ``scorecard`` or a people column such as ``team``; by default the
    quota group when the grading has groups, else a people column with a few values. ``value`` is
    ``score`` or a grade name/label for that grade's share.
    """
    policy = result.policy
    if result.grades is not None and on is None:
        table = result.grades
    else:
        table, on = _score_table(result, on)
    by = by or _default_group(result, table)
    if by == "group":
        if "group" not in table.columns:
            raise CalibError("these rows have no quota groups; group by a people column")
        rule = pd.Series(as_text(table["rule"]), dtype=object).map(_rule_names(policy))
        group = pd.Series(as_text(table["group"]), dtype=object).fillna(rule).fillna("(not graded)")
        title = "Quota group"
    elif by in ("scorecard", "rule") and by in table.columns:
        group, title = pd.Series(as_text(table[by]), dtype=object), by.capitalize()
    else:
        group = pd.Series(as_text(table["id"].astype(str).map(_people_column(result, by))),
                          dtype=object)
        title = _column_label(policy, by)
    frame = pd.DataFrame({"group": group.fillna("(none)").to_numpy(),
                          "period": table["period"].astype(str).to_numpy()})
    if value == "score":
        frame["value"] = table["score"].to_numpy(dtype=float)
        legend, fmt = "Mean score", ".1f"
    else:
        if "grade" not in table.columns:
            raise CalibError("a grade share needs the graded rows; this result has no grades")
        scale = _grades(policy)
        name = dict(zip(scale["label"], scale["grade"], strict=True)).get(value, value)
        if name not in set(scale["grade"]):
            raise CalibError(f"value '{value}' is neither 'score' nor a grade of the scale")
        frame["value"] = (table["grade"].astype(object) == name).to_numpy(dtype=float)
        legend, fmt = f"Share {scale.set_index('grade').at[name, 'display']}", ".0%"
    data = frame.groupby(["group", "period"], sort=True).agg(value=("value", "mean"),
                                                             n=("value", "size")).reset_index()
    data = _small(data, "group heat map")
    periods = sorted(data["period"].unique())
    scheme = "blues" if value == "score" else "greens"
    return alt.Chart(data).mark_rect().encode(
        x=alt.X("period:O", sort=periods, title="Period"),
        y=alt.Y("group:N", sort="ascending", title=title),
        color=alt.Color("value:Q", title=legend, scale=alt.Scale(scheme=scheme),
                        legend=alt.Legend(format=fmt)),
        tooltip=[alt.Tooltip("group:N", title=title), alt.Tooltip("period:N"),
                 alt.Tooltip("value:Q", title=legend, format=fmt), alt.Tooltip("n:Q", title="rows")],
    ).properties(width=max(WIDTH, 18 * len(periods)), title=_title(f"{legend} by group", policy))


# --- pay --------------------------------------------------------------------------------------
def _default_budget(policy: Policy) -> float | None:
    pool = policy.pay.pool if policy.pay is not None else None
    return float(pool.amount) if pool is not None and pool.by is None else None


def payout_distribution(result: Result, budget: float | None = None, per: str | None = None,
                        bins: int = 40) -> alt.LayerChart | alt.Chart:
    """Payouts: a histogram of what each paid row gets (``per="row"``), or the total per period
    (``per="period"``) as bars with the budget as a rule, bars over it in red.

    ``budget`` is a total per period; it defaults to the bonus pool's amount when the policy
    shares one pool. ``per`` defaults to ``period`` when there is a budget, else ``row``.
    """
    policy = result.policy
    if result.payouts is None:
        raise CalibError("the result has no payouts")
    currency = policy.currency
    budget = _default_budget(policy) if budget is None else float(budget)
    per = per or ("period" if budget is not None else "row")
    p = result.payouts
    if per == "row":
        if budget is not None:
            raise CalibError("a budget is a total per period: chart it with per='period'")
        paid = p[(p["status"] == "rated") | (p["payout"] != 0)] if "status" in p.columns else p
        data = _histogram(paid["payout"], bins)
        return alt.Chart(data).mark_bar(binSpacing=0).encode(
            x=alt.X("start:Q", bin="binned", title=f"Payout ({currency})"), x2=alt.X2("end:Q"),
            y=alt.Y("count:Q", title="People"),
            tooltip=[alt.Tooltip("start:Q", title="from"), alt.Tooltip("end:Q", title="to"),
                     alt.Tooltip("count:Q")],
        ).properties(width=WIDTH, height=HEIGHT,
                     title=_title("Payout distribution", policy, f"{len(paid)} paid rows"))
    if per != "period":
        raise CalibError(f"per must be 'row' or 'period', not '{per}'")
    data = (p.assign(period=p["period"].astype(str)).groupby("period", sort=True)["payout"].sum()
            .reset_index(name="total"))
    data = _small(data, "payout totals")
    data["over"] = (data["total"] > budget + REL) if budget is not None else False
    periods = data["period"].tolist()
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("period:O", sort=periods, title="Period"),
        y=alt.Y("total:Q", title=f"Total payout ({currency})"),
        color=alt.Color("over:N", scale=alt.Scale(domain=[False, True], range=["#4c78a8", "#d62728"]),
                        legend=alt.Legend(title="Over budget")),
        tooltip=[alt.Tooltip("period:N"), alt.Tooltip("total:Q", format=",.2f")])
    if budget is None:
        return bars.properties(width=WIDTH, height=HEIGHT, title=_title("Total payout per period", policy))
    rule = _budget_rule(budget, axis="y")
    return alt.layer(bars, *rule).properties(width=WIDTH, height=HEIGHT,
                                             title=_title("Total payout per period", policy,
                                                          f"budget {budget:,.2f} {currency}"))


def _budget_rule(budget: float, axis: str = "x") -> list[alt.Chart]:
    data = pd.DataFrame({"value": [float(budget)], "text": [f"Budget {budget:,.0f}"]})
    base = alt.Chart(data)
    enc = {axis: alt.X("value:Q") if axis == "x" else alt.Y("value:Q")}
    rule = base.mark_rule(color="#d62728", strokeWidth=2).encode(
        **enc, tooltip=[alt.Tooltip("value:Q", title="budget", format=",.2f")])
    if axis == "x":
        text = base.mark_text(angle=270, align="right", baseline="bottom", dx=-4, dy=-2,
                              color="#d62728").encode(x=alt.X("value:Q"), y=alt.YValue(0),
                                                      text=alt.Text("text:N"))
    else:
        text = base.mark_text(align="left", baseline="bottom", dy=-3, color="#d62728").encode(
            y=alt.Y("value:Q"), x=alt.XValue(2), text=alt.Text("text:N"))
    return [rule, text]


# --- simulation and sensitivity ----------------------------------------------------------------
def monte_carlo(totals: Iterable[float], budget: float | None = None,
                quantiles: Sequence[float] = (0.5, 0.9, 0.95), bins: int = 40,
                title: str = "Simulated total payout", currency: str | None = None) -> alt.LayerChart:
    """Histogram of simulated payout totals (a 1-D array or Series) with rules at the quantiles
    (P50, P90, P95) and at the budget; the subtitle gives the chance of going over it.
    """
    v = np.asarray(pd.to_numeric(pd.Series(np.ravel(np.asarray(totals, dtype=float))), errors="coerce"))
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise CalibError("nothing to chart: no finite simulated totals")
    data = _histogram(v, bins)
    unit = f" ({currency})" if currency else ""
    bars = alt.Chart(data).mark_bar(binSpacing=0, color="#4c78a8").encode(
        x=alt.X("start:Q", bin="binned", title=f"Total payout{unit}"), x2=alt.X2("end:Q"),
        y=alt.Y("count:Q", title="Simulations"),
        tooltip=[alt.Tooltip("start:Q", title="from", format=",.0f"),
                 alt.Tooltip("end:Q", title="to", format=",.0f"), alt.Tooltip("count:Q")])
    qs = pd.DataFrame({"q": [float(q) for q in quantiles]})
    qs["value"] = np.quantile(v, qs["q"]) if len(qs) else []
    qs["name"] = [f"P{q * 100:g}" for q in qs["q"]]
    qs["text"] = [f"{n} {val:,.0f}" for n, val in zip(qs["name"], qs["value"], strict=True)]
    layers: list[alt.Chart] = [bars]
    if len(qs):
        base = alt.Chart(qs)
        layers.append(base.mark_rule(strokeDash=[4, 3], color="#333").encode(
            x=alt.X("value:Q"), tooltip=[alt.Tooltip("name:N"), alt.Tooltip("value:Q", format=",.2f")]))
        layers.append(base.mark_text(angle=270, align="right", baseline="bottom", dx=-4, dy=-2,
                                     fontSize=10, color="#333").encode(
            x=alt.X("value:Q"), y=alt.YValue(0), text=alt.Text("text:N")))
    note = f"{v.size} simulations"
    if budget is not None:
        layers += _budget_rule(budget)
        note += f"; P(total > budget) = {float(np.mean(v > budget)):.1%}"
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT, title=_title(title, None, note))


def _percentile_columns(frame: pd.DataFrame) -> list[tuple[float, str]]:
    cols = []
    for c in frame.columns:
        s = str(c)
        if s.lower().startswith("p"):
            try:
                cols.append((float(s[1:]), c))
            except ValueError:
                continue
    return sorted(cols)


def fan(frame: pd.DataFrame, budget: float | None = None, title: str = "Simulated payout per period",
        currency: str | None = None) -> alt.LayerChart:
    """A fan per period from a table with columns ``period``, ``p5``, ``p50``, ``p95`` (any
    percentile columns ``pNN``: the outermost pair is the light band, the next pair a darker
    one), with the median as a line and an optional budget rule. Periods keep the table's order.
    """
    f = frame.reset_index() if "period" not in frame.columns and frame.index.name == "period" else frame
    cols = _percentile_columns(f)
    if "period" not in f.columns or not any(q == 50 for q, _ in cols) or len(cols) < 3:
        raise CalibError("a fan needs columns period, p50 and a lower and upper percentile (p5, p95)")
    if len(f) > MAX_ROWS:
        raise CalibError(f"a fan of {len(f)} periods is too many for a chart")
    renamed = {c: f"p{q:g}" for q, c in cols}
    data = f[["period", *renamed]].rename(columns=renamed).assign(period=lambda d: d["period"].astype(str))
    names = [renamed[c] for _, c in cols]
    periods = list(dict.fromkeys(data["period"]))
    x = alt.X("period:O", sort=periods, title="Period")
    unit = f" ({currency})" if currency else ""
    base = alt.Chart(data).encode(x=x)
    tooltip = [alt.Tooltip("period:N"), *[alt.Tooltip(f"{n}:Q", format=",.0f") for n in names]]
    layers = [base.mark_area(opacity=0.25, color="#4c78a8").encode(
        y=alt.Y(f"{names[0]}:Q", title=f"Total payout{unit}", scale=alt.Scale(zero=False)),
        y2=f"{names[-1]}:Q", tooltip=tooltip)]
    if len(names) >= 5:
        layers.append(base.mark_area(opacity=0.35, color="#4c78a8").encode(
            y=f"{names[1]}:Q", y2=f"{names[-2]}:Q", tooltip=tooltip))
    layers.append(base.mark_line(point=True, color="#1f3b73").encode(y="p50:Q", tooltip=tooltip))
    if budget is not None:
        layers += _budget_rule(budget, axis="y")
    note = f"band {names[0]}–{names[-1]}, line p50"
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT, title=_title(title, None, note))


def _path_label(path: str, policy: Policy) -> str:
    """A parameter path with the label of what it belongs to: ``回访满意率 · kpis.satisfaction.weight``,
    ``A+ 优秀 · grading.scale.grades[0].min``.
    """
    parts = path.replace("[", ".").replace("]", "").split(".")
    labels = policy.labels()
    label = None
    if parts[:2] == ["grading", "scale"] and len(parts) > 3 and parts[3].isdigit() and policy.grading:
        grades = _grades(policy)
        label = grades["display"].iloc[int(parts[3])] if int(parts[3]) < len(grades) else None
    elif parts[:2] == ["pay", "components"] and len(parts) > 2 and policy.pay is not None:
        component = policy.pay.components.get(parts[2])
        label = component.label if component is not None else None
    elif len(parts) > 1 and parts[0] in ("kpis", "measures", "sections", "scorecards"):
        label = labels.get(parts[1])
        label = None if label == parts[1] else label
    return f"{label} · {path}" if label else path


def tornado(table: pd.DataFrame, metric: str = "Change in total payout", top: int | None = None,
            policy: Policy | None = None) -> alt.LayerChart:
    """Horizontal bars of each parameter's effect at its low and high value, widest range on top.

    ``table`` has columns ``parameter`` (a path or label), ``low`` and ``high`` (the change in
    the metric); an optional ``label`` column names the parameter for people, else ``policy``'s
    labels name the KPI/measure/section a path belongs to. ``top`` keeps the widest ranges.
    """
    missing = [c for c in ("parameter", "low", "high") if c not in table.columns]
    if missing:
        raise CalibError(f"a tornado table needs columns parameter, low, high; missing: {', '.join(missing)}")
    t = table[[c for c in ("parameter", "label", "low", "high") if c in table.columns]].copy()
    t["parameter"] = t["parameter"].astype(str)
    if "label" in t.columns:
        t["name"] = t["label"].astype(object).where(t["label"].notna(), t["parameter"]).astype(str)
    elif policy is not None:
        t["name"] = [_path_label(p, policy) for p in t["parameter"]]
    else:
        t["name"] = t["parameter"]
    t["low"] = pd.to_numeric(t["low"], errors="coerce").astype(float)
    t["high"] = pd.to_numeric(t["high"], errors="coerce").astype(float)
    t["range"] = (t["high"] - t["low"]).abs()
    t = t.sort_values("range", ascending=False, kind="stable")
    if top is not None:
        t = t.head(top)
    t = _small(t, "tornado")
    order = list(dict.fromkeys(t["name"]))
    long = t.melt(id_vars=["parameter", "name", "range"], value_vars=["low", "high"],
                  var_name="side", value_name="value").assign(zero=0.0)
    tooltip = [alt.Tooltip("parameter:N", title="parameter"), alt.Tooltip("side:N"),
               alt.Tooltip("value:Q", title=metric, format=",.2f"), alt.Tooltip("range:Q", format=",.2f")]
    bars = alt.Chart(long).mark_bar(opacity=0.85).encode(
        y=alt.Y("name:N", sort=order, title=None),
        x=alt.X("value:Q", title=metric), x2=alt.X2("zero:Q"),
        color=alt.Color("side:N", scale=alt.Scale(domain=["low", "high"], range=["#4c78a8", "#f58518"]),
                        title="Parameter at"),
        tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="#333").encode(x=alt.X("zero:Q"))
    return alt.layer(bars, zero).properties(width=WIDTH, height=max(120, 22 * len(order)),
                                            title=_title("Sensitivity", policy, metric))


# --- before / after ---------------------------------------------------------------------------
def _grid(points: pd.DataFrame, limit: int) -> pd.DataFrame:
    """Rows binned on a score grid (coarser until at most ``limit`` cells) with their count."""
    span = float(np.nanmax(points[["score_before", "score_after"]].to_numpy()) -
                 np.nanmin(points[["score_before", "score_after"]].to_numpy())) if len(points) else 0.0
    step = _nice_step(span, 200)
    while True:
        cells = points.assign(score_before=(points["score_before"] / step).round() * step,
                              score_after=(points["score_after"] / step).round() * step)
        out = (cells.groupby(["score_before", "score_after", "move"], sort=True).size()
               .reset_index(name="count"))
        if len(out) <= limit:
            return out
        step *= 2


def moved(before: Result | pd.DataFrame, after: Result | pd.DataFrame, policy: Policy | None = None,
          keep: int = 1500) -> alt.LayerChart:
    """Scatter of score before vs after (two grades tables or Results) coloured by the move of
    ``calib.analysis.moves.moves`` (up, down, new, gone; ``same`` for a grade kept).

    Rows whose grade stayed the same are binned on a score grid (point size: how many); movers
    are drawn one by one with id, period and grades when there are at most ``keep`` of them.
    Rows without a score on both sides are not drawn; the subtitle counts every row.
    """
    for side in (before, after):
        if isinstance(side, Result) and side.grades is None:
            raise CalibError("the result has no grades")
    every = moves(before, after, policy, everyone=True)  # the runs' scales unless one is given
    policy = policy or (after.policy if isinstance(after, Result) else
                        before.policy if isinstance(before, Result) else None)
    m = every.dropna(subset=["score_before", "score_after"])
    if m.empty:
        raise CalibError("no row is scored both before and after")
    m = m[["id", "period", "move", "grade_before", "grade_after", "score_before", "score_after"]]
    if policy is not None and policy.grading is not None:
        shown = _grades(policy).set_index("grade")["display"].to_dict()
        m = m.assign(**{side: m[side].map(lambda g: shown.get(g, g))
                        for side in ("grade_before", "grade_after")})
    movers = m[m["move"] != SAME]
    if len(movers) <= keep:
        points = pd.concat([movers.assign(count=1), _grid(m[m["move"] == SAME], MAX_ROWS - len(movers))])
    else:
        points = _grid(m, MAX_ROWS)
    cols = [c for c in ("id", "period", "grade_before", "grade_after") if c in points.columns]
    points = points[["score_before", "score_after", "move", "count", *cols]]
    counts = every["move"].value_counts()
    domain = [c for c in MOVE_COLOURS if c in m["move"].to_numpy()]
    lo = float(min(m["score_before"].min(), m["score_after"].min()))
    hi = float(max(m["score_before"].max(), m["score_after"].max()))
    diagonal = alt.Chart(pd.DataFrame({"score_before": [lo, hi], "score_after": [lo, hi]})).mark_line(
        color="#999", strokeDash=[4, 3]).encode(x=alt.X("score_before:Q"), y=alt.Y("score_after:Q"))
    tooltip = [alt.Tooltip("move:N"), alt.Tooltip("count:Q"),
               *[alt.Tooltip(f"{c}:N") for c in cols],
               alt.Tooltip("score_before:Q", format=".2f"), alt.Tooltip("score_after:Q", format=".2f")]
    dots = alt.Chart(points).mark_circle(opacity=0.7).encode(
        x=alt.X("score_before:Q", title="Score before", scale=alt.Scale(zero=False)),
        y=alt.Y("score_after:Q", title="Score after", scale=alt.Scale(zero=False)),
        color=alt.Color("move:N", title="Grade move",
                        scale=alt.Scale(domain=domain, range=[MOVE_COLOURS[c] for c in domain])),
        size=alt.Size("count:Q", title="Rows", scale=alt.Scale(range=[12, 300], zero=False)),
        order=alt.Order("count:Q", sort="descending"),
        tooltip=tooltip)
    note = ", ".join(f"{int(counts[c])} {c}" for c in MOVE_COLOURS if c in counts.index)
    return alt.layer(diagonal, dots).properties(width=WIDTH - 140, height=WIDTH - 140,
                                                title=_title("Who moved", policy, note))


# --- output -----------------------------------------------------------------------------------
def _vl_version() -> str | None:
    import vl_convert as vlc

    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return major_minor if major_minor in vlc.get_vegalite_versions() else None


def save(chart: alt.TopLevelMixin, path: str | Path, scale: float = 2.0,
         font_dir: str | Path | None = None) -> Path:
    """Write a chart as PNG, SVG, PDF or self-contained HTML (by the suffix) with vl-convert,
    without a network: external data URLs are refused and HTML bundles the Vega libraries.

    ``font_dir`` registers a folder of fonts first (a CJK font for Chinese labels).
    """
    import vl_convert as vlc

    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if font_dir is not None:
        vlc.register_font_directory(str(Path(font_dir).resolve()))
    spec = chart.to_json()
    version = _vl_version()
    if kind == "png":
        out: bytes | str = vlc.vegalite_to_png(spec, vl_version=version, scale=scale, allowed_base_urls=[])
    elif kind == "svg":
        out = vlc.vegalite_to_svg(spec, vl_version=version, allowed_base_urls=[])
    elif kind == "pdf":
        out = vlc.vegalite_to_pdf(spec, vl_version=version, scale=scale, allowed_base_urls=[])
    elif kind == "html":
        out = vlc.vegalite_to_html(spec, vl_version=version, bundle=True)
    else:
        raise CalibError(f"cannot save a chart as '{path.suffix}': use .png, .svg, .pdf or .html")
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(out, str):
        path.write_text(out, encoding="utf-8")
    else:
        path.write_bytes(out)
    return path


def enable_offline() -> None:
    """Render charts in Jupyter and Voila without a network, both ways Altair shows one.

    A chart displayed as is goes through the ``jupyter`` renderer with ``offline=True``; an
    ``alt.JupyterChart`` made directly (as the dashboards and :func:`widget` do) gets the Vega
    libraries bundled by vl-convert. Without this, either loads vega-embed from a CDN and stays
    blank offline (red JavaScript errors in the app). Safe to call again: the bundle (~2 s) is
    made once per kernel.
    """
    try:
        alt.JupyterChart.enable_offline()
    except ImportError as exc:  # vl-convert is a dependency of calib: this is a broken install
        raise CalibError(f"charts cannot be drawn offline: {exc}. Fix: install vl-convert-python "
                         "(pip install vl-convert-python)") from exc
    if alt.renderers.active != "jupyter" or alt.renderers.options.get("offline") is not True:
        alt.renderers.enable("jupyter", offline=True)


def widget(chart: alt.TopLevelMixin) -> alt.JupyterChart:
    """``chart`` as an offline ``alt.JupyterChart`` widget (see :func:`enable_offline`): what a
    notebook or app should display, so that it draws without internet.
    """
    enable_offline()
    return alt.JupyterChart(chart)
