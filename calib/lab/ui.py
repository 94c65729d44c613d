"""Interactive panels for notebooks (ipywidgets): sliders built from a policy's parameter paths.

``ParamPanel`` shows one slider per tunable number (its range from the policy, its label from the
scheme: KPI, section or grade label and the short path). Every change goes through
``Scenario.with_params``, so a value the policy does not allow is refused with a plain message in
the panel and the previous scenario is kept. Moving one share of a ratio row (forced distribution,
a cascade's leader-grade row) rebalances the row's other shares so it still adds up to 100 %
(``calib.analysis.rebalance``). ``Dashboard`` puts a panel next to live charts (``alt.JupyterChart``
made by ``charts.widget``: offline, no CDN), a table of grade counts and payout total, and a
"who moved" table against the starting scenario.

No logic of a scheme lives here: everything is read from the policy, so the same panels work for
every scheme.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import altair as alt
import ipywidgets as w
import numpy as np
import pandas as pd
from altair.utils.schemapi import debug_mode

from calib._util.memo import array_key, json_key
from calib.analysis.moves import move_counts, moves
from calib.analysis.rebalance import ratio_row, rebalance_note, row_changes
from calib.engine.result import Result
from calib.errors import CalibError
from calib.lab import charts
from calib.policy.model import Policy
from calib.policy.paths import Param, get_path, split_path
from calib.scenario import Scenario

__all__ = ["Dashboard", "ParamPanel", "grade_counts", "grading_overview", "moved_table", "param_label",
           "quota_table", "slider_range", "suggest_target"]

SCORING_ROLES = ("threshold", "points", "weight")
"""Roles of the numbers that shape scores (bands, tiers, steps, weights)."""

_DEFAULT_SPAN = {"threshold": 1.0, "points": 10.0, "weight": 50.0, "ratio": 1.0, "money": 1000.0,
                 "rate": 0.1, "factor": 1.0}


# --- labels and ranges ------------------------------------------------------------------------
def _grade_display(policy: Policy, index: int) -> str:
    if policy.grading is None or index >= len(policy.grading.scale.grades):
        return f"grade {index}"
    g = policy.grading.scale.grades[index]
    return g.name if not g.label or g.label == g.name else f"{g.name} {g.label}"


def _group(path: str, policy: Policy) -> tuple[str, str]:
    """The part of the policy a path belongs to: (key, title) such as ('kpis.on_time', '准时率')."""
    parts = split_path(path)
    labels = policy.labels()
    head = parts[0]
    if head in ("kpis", "measures", "sections", "scorecards", "rollups") and len(parts) > 1:
        name = str(parts[1])
        label = labels.get(name, name)
        kind = {"kpis": "KPI", "measures": "measure", "sections": "section", "scorecards": "scorecard",
                "rollups": "roll-up"}[head]
        title = f"{label} ({kind} {name})" if label != name else f"{kind} {name}"
        return f"{head}.{name}", title
    if head == "grading" and len(parts) > 1 and parts[1] == "scale":
        return "grading.scale", "Grade thresholds"
    if head == "grading" and len(parts) > 2 and parts[1] == "rules":
        return f"grading.rules.{parts[2]}", f"Grading rule {parts[2]}"
    if head == "pay" and len(parts) > 2 and parts[1] == "components" and policy.pay is not None:
        component = policy.pay.components.get(str(parts[2]))
        label = getattr(component, "label", None) or str(parts[2])
        return f"pay.components.{parts[2]}", f"Pay: {label}"
    key = ".".join(str(p) for p in parts[:2])
    return key, key


def param_label(path: str, policy: Policy) -> str:
    """A short label for a slider: names of KPIs, sections and grades replaced by their labels.

    ``grading.scale.grades[0].min`` → ``A+ 优秀 · min``; ``sections.total.weights.ethics`` →
    ``德勤能绩月度得分 · weight 德``; ``kpis.on_time.rule.bands[0].at`` → ``准时率 · bands[0].at``.
    """
    parts = split_path(path)
    labels = policy.labels()
    if parts[:2] == ["grading", "scale"] and len(parts) > 3 and isinstance(parts[3], int):
        return f"{_grade_display(policy, parts[3])} · {'.'.join(str(p) for p in parts[4:])}"
    if len(parts) > 3 and parts[0] == "grading" and "ratios" in parts:
        i = parts.index("ratios")
        rest = [str(p) for p in parts[i + 1:]]
        if len(rest) == 2:
            return f"{parts[2]} · leader {rest[0]} → share {rest[1]}"
        return f"{parts[2]} · share {' '.join(rest)}"
    if parts[0] in ("kpis", "measures", "sections", "scorecards") and len(parts) > 1:
        owner = labels.get(str(parts[1]), str(parts[1]))
        rest = [p for p in parts[2:] if p != "rule"]
        if len(rest) == 2 and rest[0] == "weights":
            return f"{owner} · weight {labels.get(str(rest[1]), rest[1])}"
        short = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
        return f"{owner} · {short}"
    return path


def _nice_step(span: float) -> float:
    raw = span / 200 if span > 0 else 0.01
    base = 10 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 5, 10) if m * base >= raw * 0.999)


def slider_range(param: Param) -> tuple[float, float, float]:
    """(min, max, step) for a slider: the policy's range, else a default for the number's role.

    Ratios run 0–1 by 0.01; weights 0–100; other numbers ±50 % around the value (a role default
    when the value is 0). An exclusive bound moves in by one step. The current value is always
    inside.
    """
    v = float(param.value)
    role = param.role
    if role in ("ratio",):
        lo, hi = 0.0, 1.0
    elif role == "weight":
        lo, hi = 0.0, max(100.0, v * 2)
    else:
        span = abs(v) * 0.5 if v else _DEFAULT_SPAN.get(role, 1.0)
        if role == "threshold" and v and abs(v) < 2:
            span = max(span, 0.1)
        lo, hi = v - span, v + span
    lo = float(param.min) if param.min is not None else lo
    hi = float(param.max) if param.max is not None else hi
    if param.min is not None and param.max is None and hi <= lo:
        hi = lo + (abs(v) or _DEFAULT_SPAN.get(role, 1.0))
    if param.max is not None and param.min is None and lo >= hi:
        lo = hi - (abs(v) or _DEFAULT_SPAN.get(role, 1.0))
    step = 0.01 if role == "ratio" and hi - lo <= 1.0 else _nice_step(hi - lo)
    if param.min_exclusive:
        lo += step
    if param.max_exclusive:
        hi -= step
    return min(lo, v), max(hi, v), step


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0


# --- tables -----------------------------------------------------------------------------------
def _grade_names(policy: Policy) -> list[tuple[str, str]]:
    if policy.grading is None:
        return []
    return [(g.name, _grade_display(policy, i)) for i, g in enumerate(policy.grading.scale.grades)]


def grade_counts(scenario: Scenario, start: Scenario | None = None) -> pd.DataFrame:
    """People per grade (and share) now, with the starting scenario's counts when given, plus
    a last row with the payout total when the policy pays.

    Built column by column in numpy and made a table once: the dashboard reads it on every
    move, and each pandas step on a table this small costs more than its numbers.
    """
    policy = scenario.policy
    sides = [("now", scenario)] if start is None else [("start", start), ("now", scenario)]
    shown = _grade_names(policy)
    pays = policy.pay is not None
    columns: dict[str, np.ndarray] = {}
    shares: dict[str, np.ndarray] = {}
    for name, sc in sides:
        counts = sc.result.grade_counts()  # from the grading stage's arrays: no table
        count = np.array([int(counts.get(grade, 0)) for grade, _ in shown], dtype=np.int64)
        total = count.sum()
        share = np.round(count / total * 100, 1) if total else np.zeros(len(count))
        if pays:  # the payout row: its total in the counts' columns, no share
            count = np.append(count.astype(np.float64), sc.total_payout())
            share = np.append(share, np.nan)
        columns[name], shares[f"{name} %"] = count, share
    index = [display for _, display in shown]
    if pays:
        index.append(f"payout total ({policy.currency})")
    table = pd.DataFrame({**columns, **shares}, index=pd.Index(index, name="grade"))
    if start is not None and len(table):
        table["change"] = columns["now"] - columns["start"]
    return table


def moved_table(before: Scenario | Result, after: Scenario | Result,
                top: int = 15) -> tuple[pd.DataFrame, dict[str, int]]:
    """Who moved grade between two scenarios or runs (``calib.analysis.moves.moves``): the
    ``top`` rows with the largest score change first (then the higher score after, then in row
    order; rows graded on one side only last), grades as the policy shows them and scores to 2
    decimals; and how many rows moved each way (``move_counts``). Empty when a side does not
    grade.
    """
    sides = [getattr(side, "result", side) for side in (before, after)]
    if any(r.arrays.get("grade") is None for r in sides):
        return pd.DataFrame(), {}  # a side without grading (read from the arrays: no table built)
    table = moves(before, after)
    change = table["score_change"].to_numpy(dtype=np.float64)
    score_after = table["score_after"].to_numpy(dtype=np.float64)
    size = np.abs(np.round(change, 2))
    order = np.lexsort((np.where(np.isnan(score_after), np.inf, -score_after),
                        np.where(np.isnan(size), np.inf, -size)))[:top]  # stable; NaN last
    moved = table.iloc[order].reset_index(drop=True)
    shown = dict(_grade_names(sides[1].policy))
    for col in ("grade_before", "grade_after"):
        moved[col] = np.array([shown.get(g, g) for g in moved[col].astype(object)], dtype=object)
    for col in ("score_before", "score_after", "score_change"):
        moved[col] = np.round(moved[col].to_numpy(dtype=np.float64), 2)
    return moved, move_counts(table)


def _movers_shown(moved: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``moved_table`` the dashboard shows (the payout change when a side pays
    on the level it grades), headed in words.
    """
    columns = ["id", "period", "move", "grade_before", "grade_after", "score_before",
               "score_after", "score_change"]
    if moved["payout_change"].notna().any():
        columns.append("payout_change")
    return moved[columns].rename(columns=lambda c: c.replace("_", " "))


def _records(frame: pd.DataFrame) -> list[dict] | None:
    """The rows of a chart's frame as Altair writes them inline (numbers as Python numbers,
    missing or infinite values and missing text as None), for frames of numbers, flags and
    text; None for anything else (Altair's own conversion then runs). A redraw writes its
    frames on every move, and Altair's conversion copies and re-types every column first.
    """
    columns = {}
    for name in frame.columns:
        if not isinstance(name, str):
            return None
        col = frame[name]
        kind = col.dtype.kind
        if kind in "iub" and isinstance(col.dtype, np.dtype):
            columns[name] = col.to_numpy().tolist()
        elif kind == "f" and isinstance(col.dtype, np.dtype):
            values = col.to_numpy()
            columns[name] = [None if bad else v for v, bad in
                             zip(values.tolist(), ~np.isfinite(values), strict=True)]
        elif str(col.dtype) in ("str", "string", "category", "object"):
            values = col.astype(object).tolist()
            if not all(v is None or isinstance(v, str) or (isinstance(v, float) and v != v)
                       for v in values):
                return None
            columns[name] = [None if not isinstance(v, str) else v for v in values]
        else:
            return None
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)] \
        if names else [{} for _ in range(len(frame))]


class _SpecPatch:
    """A drawn chart's Vega-Lite spec with, for each of its data frames, the dataset it became:
    a redraw of the same shape of chart swaps in the new frames' datasets (named as Altair names
    them, by a hash of their values) and title, instead of building the chart again — most of a
    redraw's time was Altair building and serialising chart objects.
    """

    def __init__(self, spec: dict, shape: tuple, names: dict[str, str]):
        self.spec, self.shape, self.names = spec, shape, names

    @staticmethod
    def _dataset(frame: pd.DataFrame) -> tuple[str, list]:
        """The name and values Altair gives ``frame`` inline."""
        from altair.utils.data import to_values
        from altair.vegalite.v6.api import _dataset_name

        values = _records(frame)
        if values is None:
            values = to_values(frame)["values"]
        return _dataset_name(values), values

    @classmethod
    def of(cls, spec: dict, shape: tuple, frames: dict[str, pd.DataFrame], title: dict | None
           ) -> _SpecPatch | None:
        """The patch of ``spec`` drawn from ``frames``; None when a frame's dataset is not found
        in it (then the chart is always built again).
        """
        try:
            names = {role: cls._dataset(frame)[0] for role, frame in frames.items()}
        except Exception:  # an Altair without these helpers: build the charts each time
            return None
        if not all(n in spec.get("datasets", {}) for n in names.values()):
            return None
        return cls(spec, shape, names)

    def with_data(self, shape: tuple, frames: dict[str, pd.DataFrame], title: dict | None
                  ) -> dict | None:
        """The spec with ``frames`` in place of the last ones (None when the shape changed);
        the patch then describes the new spec.
        """
        if shape != self.shape or frames.keys() != self.names.keys():
            return None
        renamed, datasets = {}, {}
        for role, frame in frames.items():
            name, values = self._dataset(frame)
            renamed[self.names[role]] = name
            datasets[name] = values
        spec = dict(self.spec, datasets=datasets)
        if "data" in spec:
            spec["data"] = {"name": renamed[spec["data"]["name"]]}
        if "layer" in spec:
            spec["layer"] = [dict(layer, data={"name": renamed[layer["data"]["name"]]})
                             if "data" in layer else layer for layer in spec["layer"]]
        if title is not None:
            spec["title"] = title
        self.spec, self.names = spec, {role: renamed[self.names[role]] for role in frames}
        return spec


def quota_table(result: Any, period: str | None = None, rule: str | None = None) -> pd.DataFrame:
    """``result.quotas`` for one period (the first by default) as group × grade quotas."""
    q = result.quotas
    if q is None or q.empty:
        return pd.DataFrame()
    if rule is not None:
        q = q[q["rule"].astype(str) == rule]
    periods = sorted(q["period"].astype(str).unique())
    period = period if period is not None else periods[0]
    q = q[q["period"].astype(str) == period]
    names = result.policy.grading.scale.names()
    table = q.pivot_table(index=["rule", "group", "size"], columns="grade", values="quota",
                          aggfunc="sum", observed=True)
    table = table.reindex(columns=[g for g in names if g in table.columns])
    table.columns.name = f"quota per grade, {period}"
    return table


def grading_overview(policy: Policy) -> pd.DataFrame:
    """One row per grading rule: how it grades (thresholds, forced distribution, cascade), whom,
    within which groups, and its ratios per grade when it has some.
    """
    if policy.grading is None:
        return pd.DataFrame(columns=["rule", "method", "scorecards", "groups", "ratios"])
    how = {"thresholds": "score thresholds (grade minimums)", "forced": "forced distribution",
           "cascade": "cascaded quotas (team shares follow the leader's grade)"}
    rows = []
    for name, rule in policy.grading.rules.items():
        groups, ratios = "", ""
        if rule.method == "forced" and rule.forced is not None:
            groups = ", ".join(rule.forced.by) or "everyone together"
            ratios = " / ".join(f"{g} {v:.0%}" for g, v in rule.forced.ratios.items())
        elif rule.method == "cascade" and rule.cascade is not None:
            groups = f"teams ({rule.cascade.team})"
            ratios = "; ".join(f"leader {lead}: " + " / ".join(f"{g} {v:.0%}" for g, v in r.items())
                               for lead, r in rule.cascade.ratios.items())
        rows.append({"rule": name, "method": how.get(rule.method, rule.method),
                     "scorecards": ", ".join(rule.scorecards) or "all", "groups": groups,
                     "ratios": ratios})
    return pd.DataFrame(rows).set_index("rule")


def suggest_target(policy: Policy) -> dict[str, float]:
    """A target distribution to start from: the forced ratios when one forced rule sets them,
    else a bell over the scale (10/20/40/20/10 for five grades).
    """
    if policy.grading is None:
        raise CalibError("the policy has no grading")
    for rule in policy.grading.rules.values():
        if rule.method == "forced" and rule.forced is not None:
            return {k: float(v) for k, v in rule.forced.ratios.items()}
    names = policy.grading.scale.names()
    centre = (len(names) - 1) / 2
    weights = np.array([2.0 ** -abs(i - centre) for i in range(len(names))])
    shares = np.round(weights / weights.sum(), 4)
    shares[int(centre)] += round(1 - shares.sum(), 4)
    return {n: float(round(s, 4)) for n, s in zip(names, shares, strict=True)}


def _html_table(frame: pd.DataFrame, title: str, note: str = "") -> str:
    note = f"<div style='color:#555'>{html.escape(note)}</div>" if note else ""
    return f"<b>{html.escape(title)}</b>{note}{_table_html(frame)}"


_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _table_html(frame: pd.DataFrame) -> str:
    """``frame.to_html(border=0, na_rep="")`` with floats as 1,234.5 (at most 2 decimals),
    written directly: the dashboard writes its two small tables on every move, and pandas'
    HTML writer took a sixth of a move.
    """
    def text(value: Any) -> str:
        return str(value).translate(_ESCAPE)

    def cell(value: Any, is_float: bool) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return ""
        return f"{value:,.2f}".rstrip("0").rstrip(".") if is_float else text(value)

    floats = [frame[c].dtype.kind == "f" for c in frame.columns]
    out = ['<table class="dataframe">', "  <thead>", '    <tr style="text-align: right;">',
           "      <th></th>", *(f"      <th>{text(c)}</th>" for c in frame.columns), "    </tr>"]
    if frame.index.name is not None:
        out += ["    <tr>", f"      <th>{text(frame.index.name)}</th>",
                *(["      <th></th>"] * len(frame.columns)), "    </tr>"]
    out += ["  </thead>", "  <tbody>"]
    columns = [frame[c].tolist() for c in frame.columns]
    for i, label in enumerate(frame.index):
        out += ["    <tr>", f"      <th>{text(label)}</th>",
                *(f"      <td>{cell(col[i], f)}</td>" for col, f in zip(columns, floats, strict=True)),
                "    </tr>"]
    out += ["  </tbody>", "</table>"]
    return "\n".join(out)


# --- the panel --------------------------------------------------------------------------------
class ParamPanel:
    """One slider per tunable number of ``scenario``'s policy, re-running it on each change.

    Parameters
    ----------
    scenario : calib.Scenario
        The starting scenario (policy + data).
    paths : sequence of str, optional
        The parameter paths to show (default: all, filtered by ``roles`` and ``under``).
    roles : sequence of str, optional
        Keep the numbers of these roles (``threshold``, ``points``, ``weight``, ``ratio``,
        ``money``, ``rate``, ``factor``).
    on_change : callable, optional
        Called with the new scenario after each successful change.
    under : sequence of str, optional
        Keep paths starting with one of these prefixes (``grading.``, ``kpis.on_time``).
    exclude : sequence of str, optional
        Leave out paths starting with one of these prefixes (``pay.``).

    ``panel.scenario`` is the current scenario; ``panel.set({path: value})`` changes numbers
    from code exactly as given; ``panel.move(path, value)`` moves one number as its slider does;
    ``panel.changes()`` lists what differs from the start. A refused value leaves the slider and
    the scenario as they were and shows the reason in ``panel.message``.

    Ratio rows: a share of a forced distribution or of a cascade's leader-grade row cannot move
    alone (its row must add up to 100 %). Moving its slider sets it and changes the row's other
    shares in proportion to their current values (equally when they are all 0), each rounded to
    the slider's step and kept within its slider's range, the rounding residual on the largest
    (``calib.analysis.rebalance.rebalance``). The row goes in as one change (one re-run), the other
    sliders show their new values and ``panel.message`` says what moved ("B 30% → 28%, C 40% →
    38% to keep the row at 100%"). When the others' ranges cannot make room for the value asked,
    the slider is clamped to the nearest value they can and the message says so. Other numbers
    move alone, as before.
    """

    def __init__(self, scenario: Scenario, paths: Sequence[str] | None = None,
                 roles: Iterable[str] | None = None,
                 on_change: Callable[[Scenario], Any] | None = None,
                 under: Iterable[str] | None = None, exclude: Iterable[str] | None = None):
        self.start = scenario
        self.scenario = scenario
        self.on_change = on_change
        self.error: str | None = None
        policy = scenario.policy
        params = policy.params()
        if paths is not None:
            by_path = {p.path: p for p in params}
            unknown = [p for p in paths if p not in by_path]
            if unknown:
                raise CalibError(f"not tunable numbers of policy {policy.name}: {', '.join(unknown)}")
            params = [by_path[p] for p in paths]
        if roles is not None:
            roles = set(roles)
            params = [p for p in params if p.role in roles]
        if under is not None:
            prefixes = tuple(under)
            params = [p for p in params if p.path.startswith(prefixes)]
        if exclude is not None:
            prefixes = tuple(exclude)
            params = [p for p in params if not p.path.startswith(prefixes)]
        self.params: dict[str, Param] = {p.path: p for p in params}
        self._shares: dict[str, Param] = {p.path: p for p in policy.params() if ratio_row(p.path)}
        self.sliders: dict[str, w.FloatSlider] = {}
        self._quiet = False
        groups: dict[str, tuple[str, list[w.Widget]]] = {}
        for p in params:
            lo, hi, step = slider_range(p)
            slider = w.FloatSlider(value=p.value, min=lo, max=hi, step=step, continuous_update=False,
                                   description=param_label(p.path, policy),
                                   readout_format=f".{_decimals(step)}f",
                                   style={"description_width": "250px"},
                                   layout=w.Layout(width="560px"))
            slider.tooltip = f"{p.path} ({p.role})"
            slider.observe(self._changed(p.path), names="value")
            self.sliders[p.path] = slider
            key, title = _group(p.path, policy)
            groups.setdefault(key, (title, []))[1].append(slider)
        self.status = w.HTML(self._status())
        self.message = w.HTML("")
        self.reset_button = w.Button(description="Back to start", icon="undo",
                                     tooltip="Set every number back to the starting policy")
        self.reset_button.on_click(lambda _: self.reset())
        if groups:
            boxes = [w.VBox(children) for _, children in groups.values()]
            self.sections = w.Accordion(children=boxes, titles=tuple(t for t, _ in groups.values()),
                                        selected_index=0)
        else:
            self.sections = w.HTML("<i>No tunable numbers of the chosen kinds in this policy.</i>")
        self.widget = w.VBox([w.HBox([self.status, self.reset_button]), self.message, self.sections])

    # --- display ---
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _status(self) -> str:
        n = len(self.changes())
        return (f"<span style='color:#555'>{len(self.sliders)} numbers · {n} changed from the start · "
                f"last re-run {self.scenario.seconds * 1000:.0f} ms</span>")

    # --- changes ---
    def _changed(self, path: str) -> Callable[[dict], None]:
        def handler(change: dict) -> None:
            if self._quiet:
                return
            self.move(path, change["new"])
        return handler

    def _round(self, path: str, value: float) -> float:
        step = self.sliders[path].step if path in self.sliders else 0
        value = float(value)
        if step:
            value = round(value, _decimals(step) + 2)
        return int(value) if value.is_integer() and isinstance(self.params.get(path), Param) \
            and float(self.params[path].value).is_integer() else value

    def _current(self, path: str) -> float:
        return float(get_path(self._policy_data(), path))

    def _policy_data(self) -> dict:
        """The current policy as plain data, made once per policy (every slider reads it)."""
        policy = self.scenario.policy
        if getattr(self, "_data_of", None) is not policy:
            self._data, self._data_of = policy.to_dict(), policy
        return self._data

    def set(self, changes: Mapping[str, float]) -> bool:
        """Apply ``changes`` (path → value): True when accepted; a refusal is shown, not raised."""
        clean = {p: v for p, v in changes.items() if p not in self.params or v != self._current(p)}
        if not clean:
            return True
        try:
            new = self.scenario.with_params(clean)
        except Exception as exc:  # policy and data-dependent rules, bad paths, anything else:
            self._refuse(exc)  # shown in the panel (a callback's exception reaches no one)
            return False
        old, self.scenario = self.scenario, new
        self.error = None
        self.message.value = ""
        self._sync()
        if self.on_change is not None and not self._shown(new, old):
            return False
        return True

    def _shown(self, new: Scenario, old: Scenario) -> bool:
        """Show ``new`` through ``on_change``; when that fails, go back to ``old`` (sliders and
        what is shown) and show the error, so that the results on screen always match the
        sliders. False when it failed.
        """
        try:
            self.on_change(new)
            return True
        except Exception as exc:  # the charts or tables could not be drawn for the new numbers
            self.scenario = old
            self._refuse(exc)
            try:
                self.on_change(old)
            except Exception:  # nothing shown can be trusted: say so where the error is
                self.message.value += (
                    "<div style='background:#fff4e5;border-left:4px solid #ff9800;padding:4px 8px'>"
                    "<b>Out of date</b>: the charts and tables could not be redrawn; press "
                    "<i>Back to start</i>.</div>")
            return False

    def move(self, path: str, value: float) -> bool:
        """Move one number as its slider does: True when applied (a share may be clamped).

        A share of a ratio row rebalances the other shares of its row (see the class notes);
        any other number is set alone, as with ``set``.
        """
        value = self._round(path, value)
        key = ratio_row(path)
        if key is None or path not in self._shares:
            return self.set({path: value})
        row = {p: self._current(p) for p in self._shares if ratio_row(p) == key}
        try:
            changes = row_changes(row, path, value, {p: self._share_range(p)[:2] for p in row},
                                  self._share_range(path)[2])
        except CalibError as exc:
            self._refuse(exc)
            return False
        if not self.set(changes):
            return False
        if changes[path] != value:  # clamped: put the slider on the value applied
            self._sync()
        grade = {p: p[len(key) + 1:] for p in row}
        after = {grade[p]: changes.get(p, v) for p, v in row.items()}
        note = rebalance_note({grade[p]: v for p, v in row.items()}, after, grade[path], value)
        if note:
            parts = split_path(key)
            title = f"{parts[2]} · leader {parts[-1]}" if parts[3] == "cascade" else str(parts[2])
            self.message.value = ("<div style='background:#eef4fb;border-left:4px solid #1f77b4;"
                                  f"padding:4px 8px'><b>{html.escape(title)}</b>: {html.escape(note)}</div>")
        return True

    def _share_range(self, path: str) -> tuple[float, float, float]:
        """(min, max, step) of a share: its slider's, else the one its slider would have."""
        slider = self.sliders.get(path)
        if slider is not None:
            return slider.min, slider.max, slider.step
        return slider_range(self._shares[path])

    def _refuse(self, exc: Exception) -> None:
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        self.error = text
        lines = "<br>".join(html.escape(line) for line in text.splitlines() if line.strip())
        why = "the policy does not allow this value" if isinstance(exc, CalibError | KeyError | ValueError) \
            else f"calib failed on this value ({type(exc).__name__}; please report it)"
        self.message.value = (
            "<div style='background:#fdecea;border-left:4px solid #d62728;padding:4px 8px'>"
            f"<b>Not applied</b> — {why}:<br>{lines}<br>"
            "<span style='color:#555'>The previous numbers are kept.</span></div>")
        self._sync()

    def _sync(self) -> None:
        """Put every slider back on the current scenario's value (without re-running)."""
        self._quiet = True
        try:
            for path, slider in self.sliders.items():
                value = self._current(path)
                if value < slider.min:
                    slider.min = value
                if value > slider.max:
                    slider.max = value
                if slider.value != value:
                    slider.value = value
        finally:
            self._quiet = False
        self.status.value = self._status()

    def reset(self) -> None:
        """Go back to the starting scenario."""
        self.scenario = self.start
        self.error = None
        self.message.value = ""
        self._sync()
        if self.on_change is not None:
            self.on_change(self.start)

    def changes(self) -> pd.DataFrame:
        """The numbers that differ from the starting policy: path, label, start, now."""
        rows = []
        for path, p in self.params.items():
            now = self._current(path)
            if now != p.value:
                rows.append({"path": path, "label": param_label(path, self.start.policy),
                             "start": p.value, "now": now})
        return pd.DataFrame(rows, columns=["path", "label", "start", "now"])


# --- the dashboard ----------------------------------------------------------------------------
class Dashboard:
    """A ``ParamPanel`` with live charts, a grade-count/payout table and a "who moved" table.

    Parameters
    ----------
    scenario : calib.Scenario
        The starting scenario.
    paths, roles, under, exclude
        Which numbers get sliders (see ``ParamPanel``).
    target : mapping, optional
        Target share per grade for the grade chart (default: the forced ratios, if any).
    period : str, optional
        Keep one period in the charts.
    top : int
        How many movers the "who moved" table lists.

    ``dash.scenario`` is the current scenario, ``dash.charts`` the ``alt.JupyterChart`` widgets
    (``scores``, ``grades``), ``dash.set({path: value})`` changes numbers from code.
    """

    def __init__(self, scenario: Scenario, paths: Sequence[str] | None = None,
                 roles: Iterable[str] | None = None, under: Iterable[str] | None = None,
                 exclude: Iterable[str] | None = None, target: Mapping[str, float] | None = None,
                 period: str | None = None, top: int = 15):
        charts.enable_offline()  # Vega from the Python package: a plain JupyterChart uses a CDN
        self.start = scenario
        self.target = dict(target) if target is not None else None
        self.period = period
        self.top = top
        self.panel = ParamPanel(scenario, paths=paths, roles=roles, under=under, exclude=exclude,
                                on_change=self._update)
        self.charts: dict[str, alt.JupyterChart] = {}
        self._drawn: dict[str, tuple] = self._chart_inputs(scenario)
        self._patches: dict[str, _SpecPatch | None] = {}
        for name in self._chart_names(scenario):
            shape, frames, title = self._chart_data(name, scenario)
            self.charts[name] = charts.widget(self._chart(name, scenario.policy, shape, frames))
            self._patches[name] = _SpecPatch.of(self.charts[name].spec, shape, frames, title)
        self.counts = w.HTML()
        self.movers = w.HTML()
        self._tables(scenario)
        right = w.VBox([*self.charts.values(), w.HBox([self.counts, self.movers],
                                                       layout=w.Layout(grid_gap="24px"))])
        self.widget = w.VBox([self.panel.widget, right])

    @property
    def scenario(self) -> Scenario:
        """The current scenario."""
        return self.panel.scenario

    def set(self, changes: Mapping[str, float]) -> bool:
        """Change numbers by path (as if the sliders moved): True when accepted."""
        return self.panel.set(changes)

    def apply(self, policy: Policy) -> bool:
        """Move the sliders to the numbers of ``policy`` (for example a solver's answer)."""
        return self.set({path: float(policy.get(path)) for path in self.panel.params})

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @staticmethod
    def _chart_names(scenario: Scenario) -> list[str]:
        """The charts drawn: the scores, and the grades when the policy grades."""
        graded = scenario.result.arrays.get("grade") is not None  # from the arrays: no table
        return ["scores", "grades"] if graded else ["scores"]

    @staticmethod
    def _chart(name: str, policy: Policy, shape: tuple, frames: dict) -> alt.TopLevelMixin:
        """Chart ``name`` drawn from its data (``_chart_data``)."""
        if name == "grades":
            return charts.grade_distribution_chart(policy, frames["grades"])
        on, _, period = shape
        return charts.score_distribution_chart(policy, frames["bars"], frames.get("rules"), on,
                                               period)

    def _tables(self, scenario: Scenario) -> None:
        counts = grade_counts(scenario, self.start)
        self.counts.value = _html_table(counts, "Grades and payout", "start: the policy as loaded")
        moved, summary = moved_table(self.start, scenario, self.top)
        if not summary:
            self.movers.value = "<i>The policy has no grades: nobody can move.</i>"
            return
        if moved.empty:
            self.movers.value = "<b>Who moved</b><div>nobody changed grade</div>"
            return
        note = ", ".join(f"{v} {k}" for k, v in summary.items() if v or k in ("up", "down"))
        self.movers.value = _html_table(_movers_shown(moved),
                                        f"Who moved (largest score changes, top {self.top})", note)

    def _chart_inputs(self, scenario: Scenario) -> dict[str, tuple]:
        """What each chart is drawn from: the scores (the scoring stage) and the grading policy
        (threshold lines), the grades and the grading policy (targets).
        """
        grading = scenario.policy.grading
        rules = None if grading is None else json_key(grading)
        grade = scenario.result.arrays.get("grade")
        return {"scores": (id(scenario._scored[1]), rules),
                "grades": (None if grade is None else array_key(grade), rules)}

    def _chart_data(self, name: str, scenario: Scenario) -> tuple[tuple, dict, dict | None]:
        """What chart ``name`` draws: its shape (what decides the spec besides the data), its
        data frames by role, and its title (None: fixed by the shape).
        """
        result = scenario.result
        if name == "grades":  # (the policy's scale, the targets and the period decide its shape)
            data = charts.grade_distribution_data(result, target=self.target, period=self.period)
            shape = (tuple(data["display"]), bool(data["target"].notna().any()), self.period)
            title = charts.grade_distribution_title(result.policy, data).to_dict()
            return shape, {"grades": data}, title
        try:
            on = None if result.arrays.get("grade") is not None else "period"  # no table built
            bars, rules, on = charts.score_distribution_data(result, on=on, period=self.period)
        except CalibError:
            bars, rules, on = charts.score_distribution_data(result, on="period", period=self.period)
        frames = {"bars": bars} if rules is None else {"bars": bars, "rules": rules}
        displays = None if rules is None else tuple(charts._grades(result.policy)["display"])
        return (on, displays, self.period), frames, None

    def _update(self, scenario: Scenario) -> None:
        drawn, self._drawn = self._drawn, self._chart_inputs(scenario)
        for name in self.charts:
            if drawn.get(name) == self._drawn[name]:
                continue  # its inputs did not move (a pay slider redraws nothing)
            shape, frames, title = self._chart_data(name, scenario)
            patch = self._patches.get(name)
            # the same chart with new data: its datasets (and title) swapped in the last spec,
            # as Altair would name and write them, without building the chart again
            spec = patch.with_data(shape, frames, title) if patch is not None else None
            if spec is None:
                # otherwise the same chart function that made a valid spec at start-up, without
                # Altair's JSON-schema checks (which took most of a redraw)
                with debug_mode(False):
                    spec = self._chart(name, scenario.policy, shape, frames).to_dict(validate=False)
                self._patches[name] = _SpecPatch.of(spec, shape, frames, title)
            self.charts[name].spec = spec
        self._tables(scenario)

