"""The managers' what-if panel (R37-style questions): change one person's inputs, see what moves.

``WhatIf(policy, data)`` shows one person and one period to pick, the person's inputs of that
period as a form (the records columns the policy reads for their scorecard, typed: whole numbers,
numbers, checkboxes, drop-downs of the allowed or seen values) and a *Recalculate* button. It
re-runs the scheme on a copy of the data (the files are never touched) and shows, before and
after: the person's score, grade, place, each pay component and the payout, the statement lines
that changed, and who else moved (a forced distribution moves others). Numbers read as people read
them (``calib.lab.whatif_format``); the logic is in ``calib.lab.whatif_report``. Plain widgets
only (no charts redrawn in an ``Output``), so it works in Voilà.

The result on screen is never stale: editing an input greys the last result and marks it out of
date until *Recalculate*, and an input the scheme refuses (or any error of the re-run) replaces
the result with the error, so an old answer can never be read as the answer to the new inputs.
"""

from __future__ import annotations

import html
import math
import time
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd
import traitlets

import calib
from calib._util.text import as_text
from calib.analysis.moves import COLUMNS, moves
from calib.errors import CalibError, DataError
from calib.lab import whatif_format as f
from calib.lab import whatif_report as rep
from calib.policy.model import Policy

ERROR_CLASS = "calib-whatif-error"
"""The HTML class of the error shown in the result's place."""

STALE_MARK = "calib-stale"
"""The HTML class of a result marked out of date (its inputs were edited since)."""

_WIDE = {"description_width": "initial"}
_FORM = {"description_width": "150px"}  # the form's labels in one column
_INT64 = 2**63 - 1


class _MaybeInt(traitlets.CInt):
    """A whole number or nothing: NaN, ``pd.NA`` and None are stored as None (an empty field)."""

    def validate(self, obj: Any, value: Any) -> Any:
        if f.is_missing(value):
            return None
        return super().validate(obj, value)


class _MaybeFloat(traitlets.CFloat):
    """A number or nothing: NaN (which JSON cannot carry to the browser) is stored as None."""

    def validate(self, obj: Any, value: Any) -> Any:
        if f.is_missing(value):
            return None
        return super().validate(obj, value)


class IntField(w.IntText):
    """A whole-number box that may be empty (a missing count reads as an empty box, not 0)."""

    value = _MaybeInt(0, allow_none=True).tag(sync=True)


class FloatField(w.FloatText):
    """A number box that may be empty."""

    value = _MaybeFloat(0.0, allow_none=True).tag(sync=True)


def _stale(shown: str) -> str:
    """``shown`` greyed under a banner saying it no longer matches the inputs."""
    return (f"<div class='{STALE_MARK}'><div style='background:#fff4e5;border-left:4px solid #ff9800;"
            "padding:4px 8px'><b>Out of date</b>: the inputs changed; press Recalculate for the "
            "result of these inputs.</div><div style='opacity:0.4;filter:grayscale(1)'>"
            f"{shown}</div></div>")


def _html_table(frame: pd.DataFrame, highlight: pd.Series | None = None) -> str:
    """A small HTML table of text cells; rows where ``highlight`` is true in bold."""
    head = "".join(f"<th style='padding:2px 10px;text-align:left'>{html.escape(str(c))}</th>"
                   for c in frame.columns)
    body = []
    for i, row in enumerate(frame.itertuples(index=False)):
        bold = highlight is not None and bool(highlight.iloc[i])
        style = " style='font-weight:bold;background:#eef6ff'" if bold else ""
        cells = "".join(f"<td style='padding:2px 10px'>{html.escape(str(v))}</td>" for v in row)
        body.append(f"<tr{style}>{cells}</tr>")
    return (f"<table class='dataframe' style='border-collapse:collapse'><thead><tr>{head}</tr>"
            f"</thead><tbody>{''.join(body)}</tbody></table>")


def error_box(exc: Exception, labels: dict[str, str] | None = None,
              title: str = "Not applied: these inputs cannot be calculated",
              footer: str = "No result is shown: fix the input and press Recalculate.") -> str:
    """An error in place, in a red box under ``title``: a data error's problems with their fixes
    (each column under its label), else calib's message; another exception is named as a bug to
    report. ``footer`` says what to do next.
    """
    labels = labels or {}
    if isinstance(exc, DataError):
        lines = []
        for p in exc.problems.itertuples(index=False):
            column = str(p.column) if not f.is_missing(p.column) and p.column else ""
            where = f"{labels[column]} ({column})" if column in labels else column
            got = "" if f.is_missing(p.value) else f" (you typed {f.value(p.value)})"
            fix = f". Fix: {p.fix}" if not f.is_missing(p.fix) and p.fix else ""
            lines.append(f"{where}: {p.problem}{got}{fix}" if where else f"{p.problem}{got}{fix}")
    else:
        text = str(exc) if isinstance(exc, CalibError) else (
            f"{type(exc).__name__}: {exc} (not a message calib words for this input: please report it)")
        lines = [line for line in text.splitlines() if line.strip()]
    body = "<br>".join(html.escape(line) for line in lines)
    return (f"<div class='{ERROR_CLASS}' style='background:#fdecea;border-left:4px solid #d62728;"
            f"padding:4px 8px'><b>{html.escape(title)}</b><br>{body}<br>"
            f"<span style='color:#555'>{html.escape(footer)}</span></div>")


def _first_person(rated: pd.DataFrame, people: list[str]) -> str | None:
    """The person the panel opens on: the first of the scheme's main scorecard (the one most rows
    are rated with), so that the fields show the inputs most people are scored on.
    """
    if not people:
        return None
    main = rated["scorecard"].astype(str).mode()
    mine = rated.loc[rated["scorecard"].astype(str) == main.iloc[0], "id"] if len(main) else []
    return str(sorted(mine)[0]) if len(mine) else people[0]


def _side(result: calib.Result, person: str) -> pd.DataFrame:
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


class WhatIf:
    """Pick a person and a period, change their inputs, recalculate: before and after.

    Parameters
    ----------
    policy : Policy
        The scheme.
    data : folder, tables or ``calib.Data``
        Its history; a copy is changed, never the files.
    before : Result, optional
        The run of ``policy`` on ``data`` when the caller has it already (the app times its
        steps); computed here otherwise.
    """

    def __init__(self, policy: Policy, data: Any, before: calib.Result | None = None):
        self.policy = policy
        self.data = calib.load_data(data, policy)
        self.before = before if before is not None else calib.run(policy, self.data)
        self.after: calib.Result | None = None
        self.seconds = 0.0  # the last recalculation's time
        self.error: str | None = None  # the last recalculation's error, None when it worked
        scores = self.before.scores.astype({"id": str, "period": str})
        rated = scores[scores["status"] == "rated"]
        self._rated = rated
        self._labels: dict[str, str] = {}
        people = sorted(rated["id"].unique())
        self.person = w.Dropdown(options=people, value=_first_person(rated, people),
                                 description="Person")
        word = "Month" if policy.calendar.frequency == "month" else "Period"
        self.period = w.Dropdown(description=word)
        self.who = w.HTML()
        self.fields = w.VBox()
        self.button = w.Button(description="Recalculate", button_style="primary", icon="refresh",
                               tooltip="run the scheme again with these inputs (what if…?)")
        self.message = w.HTML()
        self.result = w.HTML()
        self.person.observe(lambda _: self._pick_person(), names="value")
        self.period.observe(lambda _: self._pick_period(), names="value")
        self.button.on_click(lambda _: self.recalculate())
        self.widget = w.VBox([w.HBox([self.person, self.period]), self.who, self.fields,
                              w.HBox([self.button, self.message]), self.result])
        self._pick_person()

    # --- choosing -------------------------------------------------------------------------------
    def _row(self) -> int | None:
        rec = self.data.tables["records"]
        pid, col = self.policy.inputs.id, self.policy.inputs.records.period
        hit = np.flatnonzero((rec[pid].astype(str) == str(self.person.value)).to_numpy()
                             & (rec[col].astype(str) == str(self.period.value)).to_numpy())
        return int(hit[0]) if len(hit) else None

    def _card(self) -> str | None:
        card = self._rated.loc[(self._rated["id"] == self.person.value)
                               & (self._rated["period"] == self.period.value), "scorecard"]
        return str(card.iloc[0]) if len(card) else None

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
            self.who.value = self._who()
            return
        rec = self.data.tables["records"]
        specs = [rep.field_spec(self.policy, c, rec) for c in rep.policy_inputs(self.policy, self._card())]
        self._labels = {s.column: s.label for s in specs}
        self.fields.children = tuple(self._field(s, rec[s.column].iloc[i]) for s in specs)
        self.who.value = self._who()  # last: a browser sees the line once the form is there
        self.result.value = ("<i>change a value and press Recalculate</i>" if specs else
                             "<i>this person's score comes from other tables (e.g. ratings): "
                             "nothing to change here</i>")

    def _who(self) -> str:
        """One line on the picked person and period: their scorecard and their text columns
        (branch, team, role …).
        """
        parts = [str(self.person.value), str(self.period.value)]
        card = self._card()
        if card:
            parts.append(self.policy.scorecards[card].label or card)
        people = self.data.tables.get("people")
        spec = self.policy.inputs.people
        if people is not None and spec is not None:
            row = people[people[self.policy.inputs.id].astype(str) == str(self.person.value)]
            text = [c for c, s in spec.columns.items() if s.type in ("text", "label") and c in people]
            if len(row):
                parts += [str(row[c].iloc[0]) for c in text[:4] if not f.is_missing(row[c].iloc[0])]
        return f"<span style='color:#555'>{html.escape(' · '.join(parts))}</span>"

    def _field(self, spec: rep.FieldSpec, value: Any) -> w.Widget:
        missing = f.is_missing(value)
        box: w.Widget
        if spec.kind == "int":
            box = IntField(value=None if missing else int(value), description=spec.label, style=_FORM)
        elif spec.kind == "float":
            box = FloatField(value=None if missing else float(value), description=spec.label,
                             style=_FORM)
        elif spec.kind == "bool":
            box = w.Checkbox(value=bool(value) if not missing else False, description=spec.label,
                             style=_FORM)
        elif spec.kind == "choice":
            current = "" if missing else str(value)
            options = list(spec.options) if current in spec.options or not current \
                else [current, *spec.options]
            box = w.Dropdown(options=options, value=current or None, description=spec.label,
                             style=_FORM)
        else:
            box = w.Text(value="" if missing else str(value), description=spec.label, style=_FORM)
        box.column = spec.column  # which record column the field writes
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
        every period that changed (the picked period always); raw values, for code.
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

    def before_after(self) -> pd.DataFrame:
        """The picked period's outcome before and after, item by item, formatted for reading
        (``calib.lab.whatif_report.before_after``).
        """
        if self.after is None:
            raise CalibError("nothing recalculated yet: set the inputs and call recalculate()")
        return rep.before_after(self.before, self.after, self.policy, str(self.person.value),
                                str(self.period.value))

    def statement_changes(self) -> list[tuple[str, str]]:
        """The lines of the person's statement that the last recalculation changed."""
        if self.after is None:
            raise CalibError("nothing recalculated yet: set the inputs and call recalculate()")
        person, period = str(self.person.value), str(self.period.value)
        return rep.statement_changes(self.before.explain(person, period).to_text(),
                                     self.after.explain(person, period).to_text())

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
        """The fields whose value differs from the record (an emptied field: None)."""
        i = self._row()
        rec = self.data.tables["records"]
        out = {}
        for box in self.fields.children:
            old, new = rec[box.column].iloc[i], box.value
            if f.is_missing(new) or new == "":
                if not f.is_missing(old):
                    out[box.column] = None
                continue
            if f.is_missing(old):
                out[box.column] = new
            elif isinstance(new, bool) or not isinstance(new, int | float):
                if str(old) != str(new):
                    out[box.column] = new
            elif float(old) != float(new):
                out[box.column] = new
        return out

    def _apply(self, change: dict[str, Any]) -> dict[str, pd.DataFrame]:
        """A copy of the tables with ``change`` written into the picked record.

        A value the records column cannot hold (a whole number beyond 64 bits) is refused as a
        ``DataError`` with its fix, as the engine refuses any other bad value.
        """
        tables = {name: t.copy() for name, t in self.data.tables.items()}
        records = tables["records"]
        i = self._row()
        for column, value in change.items():
            if (isinstance(value, int) and not isinstance(value, bool) and abs(value) > _INT64) or (
                    isinstance(value, float) and math.isinf(value)):
                raise DataError(pd.DataFrame([{
                    "table": "records", "row": i, "id": str(self.person.value), "column": column,
                    "problem": "far too large to be a real value", "value": value,
                    "fix": "type the real number"}]))
            if value is None:
                if pd.api.types.is_integer_dtype(records[column]):
                    records[column] = records[column].astype("Int64")
                elif pd.api.types.is_bool_dtype(records[column]):
                    records[column] = records[column].astype("boolean")
                value = pd.NA
            elif pd.api.types.is_integer_dtype(records[column]) and isinstance(value, float):
                records[column] = records[column].astype("float64")  # refused below if not whole
            records.loc[records.index[i], column] = value
        return tables

    def recalculate(self) -> calib.Result | None:
        """Run the scheme on a copy of the data with the changed fields; show before and after.

        Any error (an input the scheme refuses, a value that cannot be stored, a failure of the
        re-run) is shown in the result's place and the previous result is removed; None is
        returned. A widget callback's exception would only reach the browser's console.
        """
        self.after = None
        self.message.value = "<span style='color:#555'>recalculating…</span>"
        start = time.perf_counter()
        try:
            change = self.changes()
            after = calib.run(self.policy, self._apply(change))
            self.after = after  # the report's tables read it
            report = self._report(after)
        except Exception as exc:  # every error is shown: none may leave the old result on screen
            self.after = None
            self._show_error(exc)
            return None
        self.seconds = time.perf_counter() - start
        self.after, self.error = after, None
        said = ", ".join(f"{k} → {f.MISSING if v is None else f.value(v)}" for k, v in change.items())
        self.message.value = (f"<span style='color:#555'>changed: {html.escape(said or 'nothing')} · "
                              f"{self.seconds:.2f} s</span>")
        self.result.value = report
        return after

    def _show_error(self, exc: Exception) -> None:
        """Put the error where the result was: the old result must not stay on screen."""
        self.error = str(exc) if isinstance(exc, CalibError) else f"{type(exc).__name__}: {exc}"
        self.message.value = "<span style='color:#b00'><b>Not applied</b>: see below</span>"
        self.result.value = error_box(exc, self._labels)

    def _report(self, result: calib.Result) -> str:
        """Before and after for the person, the statement lines that changed, who else moved and
        the statement after the change, formatted for reading.
        """
        person, period = str(self.person.value), str(self.period.value)
        table = self.before_after()
        parts = ["<h4 style='margin:8px 0 4px'>This person</h4>", self._headline(table),
                 _html_table(table[["item", "before", "after", "change"]], table["changed"])]
        periods = self.compare()
        others = periods[periods.index != period]
        if len(others):
            parts += ["<b>Other periods that changed</b>",
                      _html_table(_formatted_periods(others.reset_index(), self.policy))]
        lines = self.statement_changes()
        parts.append("<h4 style='margin:8px 0 4px'>Statement lines that changed</h4>")
        parts.append(_html_table(pd.DataFrame(lines, columns=["before", "after"])) if lines
                     else "<div>none</div>")
        if self.before.grades is not None and result.grades is not None:
            moved = self.others_moved()
            parts.append(f"<h4 style='margin:8px 0 4px'><b>Who else moved</b> ({len(moved)})</h4>")
            parts.append(_html_table(rep.moved_view(moved.head(50), self.policy, result))
                         if len(moved) else "<div>nobody</div>")
            if len(moved) > 50:
                parts.append(f"<div>… and {len(moved) - 50} more</div>")
        statement = f.no_na(result.explain(person, period).to_text())
        parts.append("<details><summary><b>Statement after the change</b> (every number, from the "
                     "inputs to the pay)</summary>"
                     f"<pre style='font-size:12px'>{html.escape(statement)}</pre></details>")
        return "\n".join(parts)

    def _headline(self, table: pd.DataFrame) -> str:
        """The answer in one line: score, grade and payout after, with what they were."""
        said = []
        for item in ("score", "grade", "payout"):
            row = table[table["item"] == item]
            if len(row):
                r = row.iloc[0]
                was = f" (was {r['before']}{', ' + r['change'] if r['change'] else ''})" \
                    if r["changed"] else " (unchanged)"
                said.append(f"<b>{item} after</b> {html.escape(r['after'])}{html.escape(was)}")
        return f"<div style='margin:4px 0'>{' · '.join(said)}</div>"


def _formatted_periods(frame: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """``WhatIf.compare``'s rows as text: scores to the policy's precision, money with currency."""
    decimals = f.score_decimals(policy)
    out = frame.copy().astype(object)
    for column in out.columns:
        if column.startswith("score"):
            out[column] = [f.score(v, decimals) for v in frame[column]]
        elif column.startswith("payout"):
            out[column] = [f.money(v, policy.currency) for v in frame[column]]
        elif column.startswith(("rank", "place")):
            out[column] = [f.integer(v) for v in frame[column]]
        else:
            out[column] = [f.MISSING if f.is_missing(v) else str(v) for v in frame[column]]
    return out
