"""The calibration session's panel (校准会): pick a population, see the 9-box, propose overrides.

``SessionPanel(policy, data)`` is the app of ``./dev app session`` (notebook 07). From top to bottom:

- **Population**: a column (branch, team, position, supervisor ...) and its value, and the period;
- **Grades against target**: per quota group of the population, the share of the top grades in
  the target and in the final grades; a group more than ``threshold`` above its target is flagged;
- **9-box**: two axes (score, grade, a KPI's points or a label column); each box is a button with
  its count; clicking it lists its people below the grid;
- **Propose an override**: person, period, field (grade, score, a pay component, payout), value,
  reason (the policy's codes), note and who decides. *Propose* re-runs the scheme with every
  pending override: the quota breaches, the compensating moves (when *balance* is on) and the cost
  change appear at once; a refused override is shown with its fix and not added;
- **Pending overrides**, each with *Remove*; *Accept the proposed moves* adds the balancing moves;
- **Diagnostics** of the session: overrides per decision-maker and per group (up, down, same),
  the grade counts before and after, the pay change per group;
- **Save to the cycle**: the pending overrides appended to the cycle's ledger (``calib.cycle``).

The logic is in ``calib.lab.session`` (plain functions); this module only wires widgets to it.
Tables are HTML widgets and the grid is buttons: no chart is redrawn in an ``Output`` (which stalls
nbclient and Voilà).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd

import calib
from calib.errors import CalibError, DataError
from calib.lab import session as s
from calib.policy.model import Policy

EVERYONE = "(everyone)"
ALL_PERIODS = "(all periods)"
ERROR_CLASS = "calib-session-error"
"""The HTML class of an error shown in place (a refused override, a failed save)."""

_WIDE = {"description_width": "initial"}


def _table(frame: pd.DataFrame, formats: Mapping[str, Callable[[Any], str]] | None = None,
           title: str = "", empty: str = "none") -> str:
    """``frame`` as an HTML table, each column formatted by ``formats`` (else as text)."""
    head = f"<b>{html.escape(title)}</b>" if title else ""
    if frame is None or not len(frame):
        return f"{head}<div style='color:#555'>{html.escape(empty)}</div>"
    formats = dict(formats or {})
    cols = list(frame.columns)
    rows = ["<table class='dataframe' style='border-collapse:collapse'><thead><tr>",
            *(f"<th style='padding:2px 8px;text-align:left'>{html.escape(str(c))}</th>" for c in cols),
            "</tr></thead><tbody>"]
    for rec in frame.itertuples(index=False):
        cells = []
        for c, v in zip(cols, rec, strict=True):
            text = formats[c](v) if c in formats else ("" if v is None or (isinstance(v, float)
                                                                           and v != v) else str(v))
            cells.append(f"<td style='padding:2px 8px'>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append("</tbody></table>")
    return head + "".join(rows)


def _error(title: str, exc: Exception) -> str:
    """An error in place: what was refused and, for bad data, every problem with its fix."""
    if isinstance(exc, DataError):
        body = _table(exc.problems[["id", "column", "problem", "fix"]])
    else:
        text = str(exc) if isinstance(exc, CalibError) else f"{type(exc).__name__}: {exc}"
        body = "<br>".join(html.escape(line) for line in text.splitlines() if line.strip())
    return (f"<div class='{ERROR_CLASS}' style='background:#fdecea;border-left:4px solid #d62728;"
            f"padding:4px 8px'><b>{html.escape(title)}</b><br>{body}</div>")


class SessionPanel:
    """The calibration session on one scheme: population, 9-box, overrides, breaches and cost.

    Parameters
    ----------
    policy : Policy
        The scheme (its reasons, grades and quotas drive the form).
    data : folder, tables or ``calib.Data``
        The history the session calibrates.
    threshold : float
        How far (as a share: 0.10 = ten points) a group's top grades may exceed its target before
        it is flagged lenient.
    cycle : str or Path
        The ledger file the *Save* button appends to (editable in the panel).
    """

    def __init__(self, policy: Policy, data: Any, threshold: float = 0.10, cycle: str | Path = "",
                 by: str = ""):
        self.policy = policy
        if policy.grading is None:  # said in place, as an app says it (nothing to calibrate)
            self.widget: w.Widget = w.HTML(
                f"<div class='{ERROR_CLASS}'><b>{html.escape(policy.title or policy.name)}</b> gives no "
                "grades: a calibration session calibrates grades. Its pay can still be overridden "
                "with <code>calib cycle override</code>.</div>")
            return
        self.data = calib.load_data(data, policy)
        self.threshold = threshold
        self.base = calib.run(policy, self.data)
        self.result = self.base
        self.pending: list[dict[str, str]] = []
        self.seconds = 0.0  # the last re-run's time
        self.table = s.axis_table(self.result, policy, self.data)
        self.labels = policy.labels()
        self.currency = policy.currency
        self._box: tuple[str, str] | None = None
        self._quiet = False  # set while the panel itself sets pickers (no re-draw per setting)
        self._build(cycle, by)
        self._pick_population()

    # --- widgets --------------------------------------------------------------------------------
    def _label(self, name: str) -> str:
        spec = (self.policy.inputs.people.columns.get(name) if self.policy.inputs.people else None) \
            or self.policy.inputs.records.columns.get(name)
        label = self.labels.get(name) or (spec.label if spec is not None else None)
        return f"{label} ({name})" if label and label != name else name

    def _build(self, cycle: str | Path, by: str) -> None:
        columns = [c for c in s.filter_columns(self.policy, self.data) if c != s.PERIOD]
        periods = s.choices(self.table, s.PERIOD)
        self.column = w.Dropdown(options=[(self._label(c), c) for c in columns], description="Pick by",
                                 value=columns[0] if columns else None, style=_WIDE)
        self.value = w.Dropdown(options=[EVERYONE], value=EVERYONE, description="Value", style=_WIDE)
        self.period = w.Dropdown(options=[ALL_PERIODS, *periods],
                                 value=periods[-1] if periods else ALL_PERIODS, description="Period")
        axes = [c for c in self.table.columns if c not in ("id", s.PERIOD, *columns)] + columns
        text_axes = [a for a in axes if a in columns and self._is_label(a)]
        self.x = w.Dropdown(options=[(self._label(a), a) for a in axes], value=s.SCORE,
                            description="Across", style=_WIDE)
        self.y = w.Dropdown(options=[(self._label(a), a) for a in axes],
                            value=text_axes[0] if text_axes else s.GRADE, description="Up",
                            style=_WIDE)
        self.distribution = w.HTML()
        self.grid = w.GridBox()
        self.box_people = w.HTML("<i>click a box to list its people</i>")
        # the form
        self.person = w.Dropdown(description="Person")
        self.person_period = w.Dropdown(description="In period")
        fields = ["grade", "score", *(self.policy.pay.components if self.policy.pay else []),
                  *(["payout"] if self.policy.pay else [])]
        self.field = w.Dropdown(options=[(self._label(f), f) for f in fields], value="grade",
                                description="Field")
        self.new_value = w.Combobox(description="New value", placeholder="e.g. A+ or 92.5",
                                    ensure_option=False, style=_WIDE)
        reasons = self.policy.cycle.reasons
        self.reason = w.Dropdown(options=[(f"{code}: {text}", code) for code, text in reasons.items()],
                                 description="Reason")
        self.note = w.Text(description="Note", placeholder="what the committee saw")
        self.by = w.Text(value=by, description="Decided by", placeholder="who decides", style=_WIDE)
        self.propose_button = w.Button(description="Propose", button_style="primary", icon="plus")
        self.message = w.HTML()
        balance = self.policy.cycle.quotas == "balance"
        self.balance = w.Checkbox(value=balance, description="Propose compensating moves (balance)",
                                  indent=False)
        self.status = w.HTML()
        self.accept_button = w.Button(description="Accept the proposed moves", icon="check",
                                      disabled=True, layout=w.Layout(width="auto"))
        self.pending_box = w.VBox()
        self.diagnostics = w.HTML()
        self.cycle = w.Text(value=str(cycle), description="Cycle file", placeholder="cycle.sqlite",
                            style=_WIDE, layout=w.Layout(width="420px"))
        self.create = w.Checkbox(value=False, description="start the cycle if the file is new",
                                 indent=False)
        self.save_button = w.Button(description="Save to the cycle", icon="save")
        self.saved = w.HTML()
        # wiring
        self.column.observe(self._quietly(self._pick_column), names="value")
        self.value.observe(self._quietly(self._pick_population), names="value")
        self.period.observe(self._quietly(self._pick_population), names="value")
        self.x.observe(self._quietly(self._draw_grid), names="value")
        self.y.observe(self._quietly(self._draw_grid), names="value")
        self.person.observe(self._quietly(self._pick_person), names="value")
        self.field.observe(lambda _: self._pick_field(), names="value")
        self.propose_button.on_click(lambda _: self.propose_from_form())
        self.accept_button.on_click(lambda _: self.accept_proposals())
        self.balance.observe(lambda _: self._run(), names="value")
        self.save_button.on_click(lambda _: self.save())
        self._pick_column(refresh=False)
        self._pick_field()
        h = w.HTML
        self.widget = w.VBox([
            h(f"<h3>{html.escape(self.policy.title or self.policy.name)}: calibration session</h3>"),
            h("<b>Population</b>"), w.HBox([self.column, self.value, self.period]),
            self.distribution,
            h("<b>9-box</b> (counts; click a box for its people)"), w.HBox([self.x, self.y]),
            self.grid, self.box_people,
            h("<b>Propose an override</b>"), w.HBox([self.person, self.person_period, self.field]),
            w.HBox([self.new_value, self.reason]), w.HBox([self.note, self.by]),
            w.HBox([self.propose_button, self.balance]), self.message,
            self.status, self.accept_button,
            h("<b>Pending overrides</b>"), self.pending_box,
            self.diagnostics,
            h("<b>Save to the cycle</b>"), w.HBox([self.cycle, self.create, self.save_button]),
            self.saved])

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _quietly(self, action: Callable[[], Any]) -> Callable[[Any], None]:
        """A change handler running ``action`` unless the panel itself is setting pickers."""
        def handler(_: Any) -> None:
            if not self._quiet:
                action()
        return handler

    def _is_label(self, column: str) -> bool:
        spec = self.policy.inputs.records.columns.get(column) or (
            self.policy.inputs.people.columns.get(column) if self.policy.inputs.people else None)
        return spec is not None and spec.type == "label"

    # --- the population -----------------------------------------------------------------------
    def where(self) -> dict[str, str]:
        """The population picked: {column: value} (the period too, unless all)."""
        out = {}
        if self.column.value and self.value.value not in (None, EVERYONE):
            out[self.column.value] = self.value.value
        if self.period.value not in (None, ALL_PERIODS):
            out[s.PERIOD] = self.period.value
        return out

    def _pick_column(self, refresh: bool = True) -> None:
        values = s.choices(self.table, self.column.value) if self.column.value else []
        self._quiet = True
        try:
            self.value.options = [EVERYONE, *values]
            self.value.value = EVERYONE
        finally:
            self._quiet = False
        if refresh:
            self._pick_population()

    def set_population(self, column: str | None = None, value: str | None = None,
                       period: str | None = None) -> None:
        """Pick the population as a person would: a column, its value (None: everyone), the period
        (None: all periods).
        """
        self._quiet = True
        try:
            if column is not None and column != self.column.value:
                self.column.value = column
                self._pick_column(refresh=False)
                self._quiet = True
            self.value.value = EVERYONE if value is None else value
            self.period.value = ALL_PERIODS if period is None else period
        finally:
            self._quiet = False
        self._pick_population()

    def _pick_population(self) -> None:
        rows = s.pick(self.table, self.policy, self.data, self.where())
        people = sorted(set(rows["id"]))
        keep = self.person.value if self.person.value in people else (people[0] if people else None)
        self._quiet = True
        try:
            self.person.options = people
            self.person.value = keep
        finally:
            self._quiet = False
        self._pick_person()
        self._refresh()

    def _pick_person(self) -> None:
        rows = self.table[self.table["id"] == self.person.value]
        periods = sorted(set(rows["period"]))
        wanted = self.period.value if self.period.value in periods else (periods[-1] if periods else None)
        self.person_period.options = periods
        self.person_period.value = wanted

    def _pick_field(self) -> None:
        if self.field.value == "grade":
            scale = self.policy.grading.scale
            self.new_value.options = list(scale.names())
            self.new_value.placeholder = f"a grade: {', '.join(scale.names())}"
        else:
            self.new_value.options = []
            self.new_value.placeholder = "a number, e.g. 92.5 or 1200"
        self.new_value.value = ""

    # --- overrides ----------------------------------------------------------------------------
    def propose_from_form(self) -> bool:
        """Propose the override typed in the form (see :meth:`propose`)."""
        return self.propose(self.person.value, self.person_period.value, self.field.value,
                            self.new_value.value, self.reason.value, self.note.value, self.by.value)

    def propose(self, person: str, period: str, field: str, value: Any, reason: str,
                note: str = "", by: str = "") -> bool:
        """Add an override and re-run; True when it was accepted. A refused one (blank value,
        nobody deciding, a value or reason the scheme refuses) is shown with its fix and not added.
        """
        missing = [n for n, v in (("a person", person), ("a period", period), ("a value", value),
                                  ("a reason", reason), ("who decides", by)) if not str(v or "").strip()]
        if missing:
            self.message.value = _error("Not proposed", CalibError(f"give {', '.join(missing)}"))
            return False
        row = s.override_row(person, period, field, str(value).strip(), reason, note, by.strip())
        same = [r for r in self.pending if (r["id"], r["period"], r["field"]) == (row["id"], row["period"],
                                                                                    row["field"])]
        trial = [r for r in self.pending if r not in same] + [row]
        if not self._run(trial, refused="Not proposed: the scheme refuses this override"):
            return False
        self.message.value = (f"<span style='color:#2a7'>proposed: {html.escape(person)} "
                              f"{html.escape(period)} {html.escape(field)} → {html.escape(str(value))}"
                              + (" (replaces the earlier one)" if same else "") + "</span>")
        self.note.value = ""
        return True

    def remove(self, index: int) -> None:
        """Drop the pending override at ``index`` and re-run."""
        trial = [r for i, r in enumerate(self.pending) if i != index]
        self._run(trial)

    def accept_proposals(self) -> int:
        """Add the balancing moves the last run proposed (reason ``quota`` when the policy has
        it); how many were added.
        """
        check = self.result.quota_check
        proposals = check.proposals if check is not None else None
        if proposals is None or not len(proposals):
            return 0
        reasons = self.policy.cycle.reasons
        reason = "quota" if "quota" in reasons else next(iter(reasons))
        by = self.by.value.strip() or "calibration session"
        moves = [s.override_row(str(p.id), str(p.period), "grade", str(p.to_grade), reason,
                                "balancing move proposed by calib", by)
                 for p in proposals.itertuples()]
        return len(moves) if self._run(self.pending + moves) else 0

    def _policy(self) -> Policy:
        on = bool(self.balance.value)
        if on == (self.policy.cycle.quotas == "balance"):
            return self.policy
        return s.with_balance(self.policy, on)

    def _run(self, pending: Sequence[dict[str, str]] | None = None,
             refused: str = "Not applied") -> bool:
        """Re-run with ``pending`` (the current ones when None); on success they become the pending
        overrides and every view is redrawn; on failure nothing changes and the error is shown.
        """
        pending = list(self.pending if pending is None else pending)
        started = time.perf_counter()
        try:
            result = s.rerun(self._policy(), self.data, pending)
            table = s.axis_table(result, self.policy, self.data)
        except Exception as exc:  # every error is shown in place; a callback's would be lost
            self.message.value = _error(refused, exc)
            return False
        self.seconds = time.perf_counter() - started
        self.pending, self.result, self.table = pending, result, table
        self.message.value = ""
        self._refresh()
        return True

    # --- views ------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        self._draw_distribution()
        self._draw_grid()
        self._draw_status()
        self._draw_pending()
        self._draw_diagnostics()

    def population_grades(self) -> pd.DataFrame:
        """The graded rows of the population picked (``result.grades`` rows, with its columns)."""
        return s.pick(self.result.grades, self.policy, self.data, self.where())

    def leniency(self) -> pd.DataFrame:
        """Grades against target per group of the population (``calib.lab.session.leniency``)."""
        return s.leniency(s.grade_distribution(self.result, self.population_grades()), self.policy,
                          self.threshold)

    def _draw_distribution(self) -> None:
        lenient = self.leniency()
        lenient = lenient[lenient["target_top"].notna() | (lenient["size"] > 0)]
        tops = "/".join(s.top_grades(self.policy))
        shown = pd.DataFrame({
            "group": [g if g != s.NO_QUOTA else f"{r} {g}"
                      for r, g in zip(lenient["rule"], lenient["group"], strict=True)],
            "graded": lenient["size"],
            f"{tops} target": lenient["target_share"], f"{tops} final": lenient["final_share"],
            "over target": lenient["excess"],
            "flag": ["lenient" if f else "" for f in lenient["lenient"]]})
        flagged = int(lenient["lenient"].sum())
        note = (f"{flagged} group{'s' if flagged != 1 else ''} over target by more than "
                f"{s.percent(self.threshold)}" if flagged else "no group over its target")
        self.distribution.value = _table(
            shown, {"graded": s.count, f"{tops} target": s.percent, f"{tops} final": s.percent,
                    "over target": lambda v: "" if v != v else f"{100 * v:+.1f} pts"},
            title=f"Grades against target ({note})", empty="nobody graded in this population")

    def nine_box(self) -> s.NineBox:
        """The 9-box of the population on the two axes picked."""
        rows = s.pick(self.table, self.policy, self.data, self.where())
        return s.nine_box(rows, self.x.value, self.y.value, self.policy)

    def _draw_grid(self) -> None:
        try:
            box = self.nine_box()
        except Exception as exc:
            self.grid.children = ()
            self.box_people.value = _error("No 9-box on these axes", exc)
            return
        self._grid = box
        counts = box.counts
        cells: list[w.Widget] = [w.HTML(f"<b>{html.escape(self._label(box.y.column))} ↑ / "
                                        f"{html.escape(self._label(box.x.column))} →</b>")]
        cells += [w.HTML(f"<b>{html.escape(str(c))}</b>") for c in counts.columns]
        for yb in counts.index:
            cells.append(w.HTML(f"<b>{html.escape(str(yb))}</b>"))
            for xb in counts.columns:
                n = int(counts.loc[yb, xb])
                b = w.Button(description=s.count(n), tooltip=f"{yb} × {xb}: {n} people",
                             layout=w.Layout(width="auto", height="36px"),
                             button_style="info" if n else "")
                b.add_class("calib-box")
                b.on_click(lambda _, yb=yb, xb=xb: self.click_box(str(yb), str(xb)))
                cells.append(b)
        self.grid.children = tuple(cells)
        self.grid.layout = w.Layout(grid_template_columns=f"220px repeat({len(counts.columns)}, 120px)",
                                    grid_gap="4px")
        if self._box is not None:
            self.click_box(*self._box)

    def click_box(self, y_bin: str, x_bin: str) -> pd.DataFrame:
        """List the people of one box (as clicking it does); the rows listed."""
        self._box = (y_bin, x_bin)
        box = getattr(self, "_grid", None) or self.nine_box()
        people = box.people(y_bin, x_bin)
        formats = {c: s.score for c in people.columns
                   if c not in ("id", "period") and pd.api.types.is_float_dtype(people[c])}
        self.box_people.value = _table(
            people.rename(columns={c: self._label(c) for c in people.columns if c not in ("id", "period")}),
            {self._label(c): f for c, f in formats.items()},
            title=f"{y_bin} × {x_bin}: {s.count(len(people))} "
                  f"{'person-period' if len(people) == 1 else 'person-periods'}",
            empty="nobody in this box")
        return people

    def _draw_status(self) -> None:
        parts = []
        if self.result.payouts is not None:
            cost = s.cost_change(self.base, self.result)
            parts.append(f"<div class='calib-cost'><b>Cost</b>: {s.money(cost.before, self.currency)} "
                         f"before, {s.money(cost.after, self.currency)} with the pending overrides: "
                         f"<b>{s.money(cost.change, self.currency, signed=True)}</b></div>")
        check = self.result.quota_check
        breaches = check.breaches if check is not None else pd.DataFrame()
        parts.append("<div class='calib-breaches'>" + _table(
            breaches[["period", "group", "grade", "target", "computed", "final", "off_by", "note"]]
            if len(breaches) else breaches,
            {"target": s.count, "computed": s.count, "final": s.count,
             "off_by": lambda v: f"{int(v):+d}"},
            title=f"Quota breaches ({s.count(len(breaches))})",
            empty="no quota broken") + "</div>")
        proposals = check.proposals if check is not None else None
        if self.balance.value:
            parts.append(_table(proposals if proposals is not None else pd.DataFrame(),
                                {"place": s.count, "score": s.score},
                                title="Proposed compensating moves (not applied)",
                                empty="none needed"))
        if self.pending:
            parts.append(f"<div style='color:#777'>re-run in {self.seconds:.2f} s</div>")
        self.accept_button.disabled = proposals is None or not len(proposals)
        self.status.value = "".join(parts)

    def pending_table(self) -> pd.DataFrame:
        """The pending overrides as an overrides table."""
        return s.overrides_table(self.pending)

    def _draw_pending(self) -> None:
        rows: list[w.Widget] = []
        o = self.result.overrides
        for i, r in enumerate(self.pending):
            computed = ""
            if o is not None:
                hit = o[(o["id"].astype(str) == r["id"]) & (o["period"].astype(str) == r["period"])
                        & (o["field"].astype(str) == r["field"])]
                computed = f" (was {hit['computed'].iloc[0]})" if len(hit) else ""
            text = (f"{html.escape(r['id'])} {html.escape(r['period'])}: {html.escape(r['field'])} → "
                    f"<b>{html.escape(r['value'])}</b>{html.escape(computed)}, {html.escape(r['reason'])}"
                    f" by {html.escape(r['by'])}" + (f"; {html.escape(r['note'])}" if r["note"] else ""))
            button = w.Button(description="Remove", icon="trash", layout=w.Layout(width="100px"))
            button.on_click(lambda _, i=i: self.remove(i))
            rows.append(w.HBox([button, w.HTML(text)]))
        self.pending_box.children = tuple(rows) or (w.HTML("<i>none yet</i>"),)

    def _draw_diagnostics(self) -> None:
        if not self.pending:
            self.diagnostics.value = ""
            return
        rows = self.population_grades()
        who = s.override_summary(self.result, self.policy, self.data, "by")
        groups = s.override_summary(self.result, self.policy, self.data, "group", rows)
        groups = groups[groups["overrides"] > 0]
        counts = s.distribution_change(self.result, rows)
        ints = {c: s.count for c in ("overrides", "up", "down", "same", "rows", "before", "after")}
        signed = {"net_steps": lambda v: f"{int(v):+d}", "change": lambda v: f"{int(v):+d}"}
        parts = ["<b>Diagnostics of the session</b>",
                 _table(who.drop(columns=["rows", "rate"]), ints | signed, "Overrides per decision-maker"),
                 _table(groups, ints | signed | {"rate": s.percent}, "Overrides per group"),
                 _table(counts, ints | signed, "Grades of the population, before and after")]
        if self.result.payouts is not None:
            pay_rows = s.pick(self.result.payouts, self.policy, self.data, self.where())
            by = self.column.value or "group"
            pay = s.pay_change(self.result, self.policy, self.data, by, pay_rows)
            pay = pay[pay["change"] != 0]
            money = {c: (lambda v: s.money(v, self.currency)) for c in ("before", "after")}
            parts.append(_table(pay, money | {"change": lambda v: s.money(v, self.currency, True)},
                                f"Pay change per {self._label(by)}", empty="no pay changed"))
        self.diagnostics.value = "".join(parts)

    # --- saving ---------------------------------------------------------------------------------
    def save(self, path: str | Path | None = None, create: bool | None = None) -> list[int]:
        """Append the pending overrides to the cycle's ledger (the path typed, or ``path``); the
        ledger rows written ([] when refused, with the reason shown).
        """
        if path is not None:
            self.cycle.value = str(path)
        if create is not None:
            self.create.value = create
        target = self.cycle.value.strip()
        try:
            if not target:
                raise CalibError("type the cycle's file (e.g. 2026H1.sqlite) first")
            seqs = s.save_to_cycle(target, self.pending, self.policy, by=self.by.value.strip() or None,
                                   create=self.create.value)
        except Exception as exc:
            self.saved.value = _error("Not saved", exc)
            return []
        self.saved.value = (f"<span style='color:#2a7'>{s.count(len(seqs))} override"
                            f"{'s' if len(seqs) != 1 else ''} saved to {html.escape(target)} "
                            f"(ledger rows {seqs[0]}–{seqs[-1]})</span>")
        return seqs
