"""The managers' what-if panel (R37-style questions): change one person's inputs, see what moves.

``WhatIf(policy, data)`` shows a person and a period to pick, one field per input of that person's
record that the person's scorecard reads, and a *Recalculate* button. It re-runs the scheme on a
copy of the data (the files are never touched) and shows, before and after: the person's score,
grade, rank and pay, who else moved (a forced distribution can move others), and the person's
statement. Plain widgets only (no charts redrawn in an ``Output``), so it works in Voilà.

The result on screen is never stale: editing an input greys the last result and marks it out of
date until *Recalculate*, and an input the scheme refuses (or any error of the re-run) replaces
the result with the error, so an old answer can never be read as the answer to the new inputs.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd

import calib
from calib._util.text import as_text
from calib.analysis.moves import COLUMNS, moves
from calib.errors import CalibError
from calib.policy.model import Policy
from calib.policy.rules import LabelPoints

ERROR_CLASS = "calib-whatif-error"
"""The HTML class of the error shown in the result's place."""

STALE_MARK = "calib-stale"
"""The HTML class of a result marked out of date (its inputs were edited since)."""


def _stale(shown: str) -> str:
    """``shown`` greyed under a banner saying it no longer matches the inputs."""
    return (f"<div class='{STALE_MARK}'><div style='background:#fff4e5;border-left:4px solid #ff9800;"
            "padding:4px 8px'><b>Out of date</b>: the inputs changed; press Recalculate for the "
            "result of these inputs.</div><div style='opacity:0.4;filter:grayscale(1)'>"
            f"{shown}</div></div>")


def _inputs_of(policy: Policy, card: str | None) -> list[str]:
    """Records columns that the scorecard's KPIs read (directly or through their measures)."""
    sc = policy.scorecards.get(card) if card else None
    if sc is None or sc.root is None:
        return []
    kpis, _ = policy.tree(sc.root)
    columns: list[str] = []
    for name in kpis:
        kpi = policy.kpis[name]
        if kpi.column:
            columns.append(kpi.column)
        elif kpi.measure:
            columns += policy.measures[kpi.measure].columns()
    records = policy.inputs.records.columns
    return [c for c in dict.fromkeys(columns) if c in records]


def _side(result: calib.Result, person: str, keys: list[str] | None = None) -> pd.DataFrame:
    s = result.scores.astype({"id": str, "period": str})
    out = s.loc[s["id"] == person, ["id", "period", "status", "score"]]
    if result.grades is not None:
        g = result.grades.astype({"id": str, "period": str})
        rank = [c for c in ("rank", "place") if c in g.columns][:1]
        out = out.merge(g[["id", "period", "grade", *rank]], on=["id", "period"], how="outer")
    if result.payouts is not None:
        p = result.payouts.astype({"id": str, "period": str})
        out = out.merge(p[["id", "period", "payout"]], on=["id", "period"], how="outer")
    return out[out["id"] == person]


def _first_person(rated: pd.DataFrame, people: list[str]) -> str | None:
    """The person the panel opens on: the first of the scheme's main scorecard (the one most rows
    are rated with), so that the fields show the inputs most people are scored on.
    """
    if not people:
        return None
    main = rated["scorecard"].astype(str).mode()
    mine = rated.loc[rated["scorecard"].astype(str) == main.iloc[0], "id"] if len(main) else []
    return str(sorted(mine)[0]) if len(mine) else people[0]


class WhatIf:
    """Pick a person and a period, change their inputs, recalculate: before and after."""

    def __init__(self, policy: Policy, data: Any):
        self.policy = policy
        self.data = calib.load_data(data, policy)
        self.before = calib.run(policy, self.data)
        self.after: calib.Result | None = None
        scores = self.before.scores.astype({"id": str, "period": str})
        rated = scores[scores["status"] == "rated"]
        self._rated = rated
        people = sorted(rated["id"].unique())
        self.person = w.Dropdown(options=people, value=_first_person(rated, people),
                                 description="Person")
        self.period = w.Dropdown(description="Period")
        self.fields = w.VBox()
        self.button = w.Button(description="Recalculate", button_style="primary", icon="refresh")
        self.message = w.HTML()
        self.result = w.HTML()
        self.error: str | None = None  # the last recalculation's error, None when it worked
        self.person.observe(lambda _: self._pick_person(), names="value")
        self.period.observe(lambda _: self._pick_period(), names="value")
        self.button.on_click(lambda _: self.recalculate())
        self.widget = w.VBox([w.HBox([self.person, self.period]), self.fields,
                              w.HBox([self.button, self.message]), self.result])
        self._pick_person()

    # --- choosing -------------------------------------------------------------------------------
    def _row(self) -> int | None:
        rec = self.data.tables["records"]
        pid, col = self.policy.inputs.id, self.policy.inputs.records.period
        hit = np.flatnonzero((rec[pid].astype(str) == str(self.person.value)).to_numpy()
                             & (rec[col].astype(str) == str(self.period.value)).to_numpy())
        return int(hit[0]) if len(hit) else None

    def _pick_person(self) -> None:
        periods = sorted(self._rated.loc[self._rated["id"] == self.person.value, "period"])
        self.period.options = periods
        self.period.value = periods[-1] if periods else None
        self._pick_period()

    def _pick_period(self) -> None:
        self.after, self.error = None, None
        self.message.value = ""
        i = self._row()
        if i is None:
            self.fields.children = ()
            self.result.value = ""
            return
        card = self._rated.loc[(self._rated["id"] == self.person.value)
                               & (self._rated["period"] == self.period.value), "scorecard"]
        columns = _inputs_of(self.policy, str(card.iloc[0]) if len(card) else None)
        rec = self.data.tables["records"]
        specs = self.policy.inputs.records.columns
        boxes = []
        for col in columns:
            value = rec[col].iloc[i]
            label = f"{specs[col].label or col}"
            boxes.append(self._field(col, label, value))
        self.fields.children = tuple(boxes)
        self.result.value = "<i>change a value and press Recalculate</i>" if boxes else \
            "<i>this person's score comes from other tables (e.g. ratings): nothing to change here</i>"

    def _field(self, column: str, label: str, value: Any) -> w.Widget:
        spec = self.policy.inputs.records.columns[column]
        style = {"description_width": "initial"}
        if spec.type == "label":
            labels = list(spec.labels or [])
            for kpi in self.policy.kpis.values():
                if kpi.column == column and isinstance(kpi.rule, LabelPoints):
                    labels += [k for k in kpi.rule.points if k not in labels]
            current = "" if pd.isna(value) else str(value)
            options = labels if current in labels or not current else [current, *labels]
            box = w.Dropdown(options=options, value=current or None, description=label, style=style)
        elif spec.type == "bool":
            box = w.Checkbox(value=bool(value), description=label)
        else:
            box = w.FloatText(value=float(value) if not pd.isna(value) else 0.0, description=label,
                              style=style)
        box.column = column  # which record column the field writes
        box.observe(lambda _: self._inputs_changed(), names="value")
        return box

    def _inputs_changed(self) -> None:
        """An input was edited: what is shown no longer answers the inputs, so grey it and say so
        (until *Recalculate*). Nothing is shown yet: nothing to mark.
        """
        shown = self.result.value
        if (self.after is None and self.error is None) or STALE_MARK in shown:
            return
        self.message.value = ""
        self.result.value = _stale(shown)

    # --- the same in code (notebook 05 uses these; no scheme logic lives in a notebook) ---------
    def inputs(self) -> pd.DataFrame:
        """The picked record's inputs that the person's scorecard reads: value and meaning."""
        i = self._row()
        specs = self.policy.inputs.records.columns
        rows = [(box.column, self.data.tables["records"][box.column].iloc[i],
                 specs[box.column].label or "") for box in self.fields.children]
        return pd.DataFrame(rows, columns=["column", "value", "meaning"]).set_index("column")

    def set_inputs(self, changes: dict[str, Any]) -> None:
        """Type ``changes`` ({column: new value}) into the fields, as a person would."""
        boxes = {box.column: box for box in self.fields.children}
        unknown = sorted(set(changes) - set(boxes))
        if unknown:
            raise CalibError(f"{', '.join(unknown)}: not an input of this person's scorecard in "
                             f"{self.period.value}; the inputs are {', '.join(boxes) or 'none'}")
        for column, value in changes.items():
            boxes[column].value = value

    def suggest(self) -> dict[str, Any]:
        """A change worth trying on a KPI this person is scored on: a ratio at 100 % (or 80 % when
        it is already full), or a rating at the best label (or the worst when already the best);
        {} when no KPI of the record is a ratio or a rating.
        """
        i = self._row()
        if i is None:
            return {}
        row = self.data.tables["records"].iloc[i]
        inputs = {box.column for box in self.fields.children}
        specs = self.policy.inputs.records.columns
        for kpi in self.policy.kpis.values():
            m = self.policy.measures.get(kpi.measure) if kpi.measure else None
            if getattr(m, "kind", "") == "ratio" and len(m.numerator) == 1 and len(m.denominator) == 1:
                num, den = m.numerator[0], m.denominator[0]
                if {num, den} <= inputs and row[den] > 0:
                    full = int(row[den])
                    return {num: full if row[num] < full else int(full * 0.8)}
            spec = specs.get(kpi.column or "")
            if spec is not None and spec.type == "label" and kpi.column in inputs:
                best, worst = spec.labels[0], spec.labels[-1]
                return {kpi.column: best if row[kpi.column] != best else worst}
        return {}

    def compare(self) -> pd.DataFrame:
        """The person's score, grade, rank and pay before and after the last recalculation, for
        every period that changed (the picked period always).
        """
        if self.after is None:
            raise CalibError("nothing recalculated yet: set the inputs and call recalculate()")
        person = str(self.person.value)
        both = _side(self.before, person).merge(_side(self.after, person), on=["id", "period"],
                                                how="outer", suffixes=(" before", " after"))
        names = [c[:-7] for c in both.columns if c.endswith(" before")]
        differs = np.column_stack([as_text(both[f"{n} before"], "") != as_text(both[f"{n} after"], "")
                                   for n in names]).any(axis=1)  # missing on both sides: equal
        view = both[differs | (both["period"] == str(self.period.value)).to_numpy()].set_index("period")
        return view[[f"{n} {s}" for n in names for s in ("before", "after")]]

    def others_moved(self) -> pd.DataFrame:
        """Everybody else whose grade moved with the last recalculation (a forced distribution
        moves others): the table of ``calib.analysis.moves.moves`` without the person; empty
        when the scheme has no grades.
        """
        if self.after is None:
            raise CalibError("nothing recalculated yet: set the inputs and call recalculate()")
        if self.before.grades is None or self.after.grades is None:
            return pd.DataFrame(columns=COLUMNS)
        moved = moves(self.before, self.after)
        return moved[moved["id"] != str(self.person.value)].reset_index(drop=True)

    # --- recalculating -------------------------------------------------------------------------
    def changes(self) -> dict[str, Any]:
        """The fields whose value differs from the record."""
        i = self._row()
        rec = self.data.tables["records"]
        out = {}
        for box in self.fields.children:
            old = rec[box.column].iloc[i]
            new = box.value
            if isinstance(new, float) and float(new).is_integer() and \
                    self.policy.inputs.records.columns[box.column].type == "int":
                new = int(new)
            if pd.isna(old) or str(old) != str(new):
                if not (isinstance(new, float | int) and not pd.isna(old)
                        and float(old) == float(new)):
                    out[box.column] = new
        return out

    def recalculate(self) -> calib.Result | None:
        """Run the scheme on a copy of the data with the changed fields; show before and after.

        Any error (an input the scheme refuses, a value that cannot be stored, a failure of the
        re-run) is shown in the result's place and the previous result is removed; None is
        returned. A widget callback's exception would only reach the browser's console.
        """
        self.after = None
        try:
            change = self.changes()
            tables = {name: t.copy() for name, t in self.data.tables.items()}
            i = self._row()
            for column, value in change.items():
                tables["records"].loc[tables["records"].index[i], column] = value
            after = calib.run(self.policy, tables)
            self.after = after  # compare() and others_moved() read it
            report = self._report(after)
        except Exception as exc:  # every error is shown: none may leave the old result on screen
            self.after = None
            self._show_error(exc)
            return None
        self.after, self.error = after, None
        self.message.value = ("<span style='color:#555'>changed: " + html.escape(
            ", ".join(f"{k} → {v}" for k, v in change.items()) or "nothing") + "</span>")
        self.result.value = report
        return after

    def _show_error(self, exc: Exception) -> None:
        """Put the error where the result was: the old result must not stay on screen."""
        text = str(exc) if isinstance(exc, CalibError) else (
            f"{type(exc).__name__}: {exc} (not a message calib words for this input: please report it)")
        self.error = text
        self.message.value = "<span style='color:#b00'><b>Not applied</b>: see below</span>"
        lines = "<br>".join(html.escape(line) for line in text.splitlines() if line.strip())
        self.result.value = (
            f"<div class='{ERROR_CLASS}' style='background:#fdecea;border-left:4px solid #d62728;"
            "padding:4px 8px'><b>Not applied: these inputs cannot be calculated</b><br>"
            f"{lines}<br><span style='color:#555'>No result is shown: fix the input and press "
            "Recalculate.</span></div>")

    def _report(self, result: calib.Result) -> str:
        """Before and after for the person, who else moved and the statement after the change
        (the tables of ``compare`` and ``others_moved``).
        """
        person = str(self.person.value)
        parts = ["<b>This person</b>", self.compare().reset_index().to_html(
            index=False, border=0, na_rep="")]
        if self.before.grades is not None and result.grades is not None:
            others = self.others_moved()
            unpaid = [c for c in COLUMNS if c.startswith("payout") and others[c].isna().all()]
            shown = others.head(20).drop(columns=unpaid)  # pay shown when paid as graded
            parts += [f"<b>Who else moved</b> ({len(others)})",
                      shown.to_html(index=False, border=0, na_rep="") if len(others) else
                      "<div>nobody</div>"]
        statement = result.explain(person, str(self.period.value)).to_text()
        parts += ["<b>Statement after the change</b>",
                  f"<pre style='font-size:12px'>{html.escape(statement)}</pre>"]
        return "\n".join(parts)
