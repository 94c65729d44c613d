"""One person's statement (SCHEMES.md R37): how every number of a result was reached.

The statement reads the engine's own tables (measures, KPI points, sections, scores, grades,
payouts) and the raw input rows; it never recomputes a result, so what HR shows an employee is
what was paid. Each line names the rule and the policy path behind it, every cap or floor that
bit (the score's, a pay component's own, the pool's, the payout's) and every override.

``Index`` finds a person's rows in every table once (a dictionary per table), so writing the
statements of everyone (``calib.engine.statements``) costs a lookup per table and row, not a
scan of the whole table.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calib.engine.result import Result
from calib.errors import CalibError
from calib.policy.describe import describe_measure, describe_rule
from calib.policy.hashing import policy_sha256
from calib.policy.measures import Measure, RatioMeasure


class NotFound(CalibError):
    """No row for the person and period asked for."""


def _value(x: Any) -> Any:
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and x != x:
        return None
    if isinstance(x, pd.Timestamp):
        return x.isoformat()
    return x


@dataclass
class Statement:
    """A statement as data; ``to_text``, ``to_html`` and ``to_excel`` render it for people."""

    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The statement as plain data (for programs)."""
        return self.data

    def to_text(self) -> str:
        """The statement as text, with the policy's (Chinese) labels."""
        d = self.data
        p = d["person"]
        lines = [f"{d['policy']['title']} — {p['id']} — {p['period']}",
                 f"policy {d['policy']['name']} policy_sha256 {d['policy']['sha256']}",
                 f"status: {p['status']}" + (f" ({p['reason']})" if p.get("reason") else "")]
        if d.get("inputs"):
            lines.append("\ninputs:")
            lines += [f"  {k}: {v}" for k, v in d["inputs"].items()]
        if d.get("measures"):
            lines.append("\nmeasures:")
            lines += [f"  {m['label']} = {m['formula']} = {_fmt(m['value'])}   [{m['path']}]"
                      for m in d["measures"]]
        if d.get("kpis"):
            lines.append("\nKPI points:")
            for k in d["kpis"]:
                pts = "excluded" if k["points"] is None else _fmt(k["points"])
                lines.append(f"  {k['label']}: value {_fmt(k['value'])} → {pts}   "
                             f"({k['rule']}) [{k['path']}]")
        for s in d.get("sections", []):
            lines.append(f"\n{s['label']} ({s['combine']}) = {_fmt(s['value'])}   [{s['path']}]")
            for it in s["items"]:
                w = f" × {_fmt(it['weight'])}%" if it.get("weight") is not None else ""
                lines.append(f"  {it['label']}: {_fmt(it['points'])}{w} → {_fmt(it['contribution'])}")
            if s.get("base"):
                lines.append(f"  base {_fmt(s['base'])}")
        for part in d.get("parts", []):
            lines.append(f"\n{part['label']}: {_fmt(part['value'])} × {_fmt(part['weight'])}%")
        lines += _score_lines(d)
        g = d.get("grade")
        if g and g.get("grade") is None:
            lines.append(f"\ngrade: none — {g.get('note')}")
        elif g:
            lines.append(f"\ngrade: {g['grade']} {g.get('label') or ''} by rule '{g['rule']}'" +
                         (f"; place {g['place']} of {g['group_size']} in {g['group']}, quota "
                          f"{g.get('quota')}" if g.get("place") else ""))
        return "\n".join(lines + _pay_lines(d)) + "\n"

    def to_html(self) -> str:
        """A one-page HTML statement HR can hand over."""
        text = html.escape(self.to_text())
        title = html.escape(f"{self.data['person']['id']} {self.data['person']['period']}")
        return ("<!doctype html><html><head><meta charset='utf-8'><title>" + title +
                "</title><style>body{font-family:sans-serif;margin:2em}pre{font-size:13px;"
                "line-height:1.45}</style></head><body><pre>" + text + "</pre></body></html>\n")

    def to_excel(self, path: str | Path) -> None:
        """The statement on one worksheet (one line per row)."""
        lines = self.to_text().splitlines()
        frame = pd.DataFrame({"statement": lines})
        from calib._util.outputs import atomic_path
        from calib._util.xlsx import Table, write_tables

        with atomic_path(path) as temp:  # ids, labels and reasons stay text, never formulas
            write_tables(temp, {"statement": Table(frame, widths={"statement": 120})})

    def to_json(self) -> str:
        """The statement as JSON."""
        return json.dumps(self.data, ensure_ascii=False, indent=2, default=str)


def _score_lines(d: dict[str, Any]) -> list[str]:
    lines = []
    if d.get("score"):
        lines.append("\nscore:")
        lines += [f"  {k}: {_fmt(v)}" for k, v in d["score"].items() if v is not None]
    for ev in d.get("adjustments", []):
        lines.append(f"  event (row {ev['row']}): {ev['points']:+g}" +
                     (f" — {approval_text(ev)}" if ev["needs_approval"] else ""))
    return lines


def _pay_lines(d: dict[str, Any]) -> list[str]:
    """Pay, the caps and floors that bit, and the overrides, as text lines."""
    lines = []
    pay = d.get("pay")
    if pay:
        lines.append("\npay:")
        lines += [f"  {c['label']}: {c['amount']:,.2f}" for c in pay["components"]]
        lines.append(f"  payout: {pay['payout']:,.2f} {d['policy']['currency']}")
    if d.get("limits"):
        lines.append("\ncaps and floors that bit:")
        lines += [f"  {limit_text(x)}" for x in d["limits"]]
    if d.get("overrides"):
        lines.append("\noverrides:")
        lines += [f"  {override_text(o)}" for o in d["overrides"]]
    if d.get("outcomes"):
        lines.append("\noutcomes:")
        for o in d["outcomes"]:
            lines.append(f"  {o['label']} ({o['kind']}): {o['why']}")
            if o.get("caution"):
                lines.append(f"    caution: {o['caution']}")
    return lines


def _fmt(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.6g}" if abs(x) < 1e6 else f"{x:,.2f}"
    return str(x)


def limit_text(x: dict[str, Any]) -> str:
    """One cap or floor that bit, in words: what, at which value, its path, the value before."""
    at = "" if x.get("at") is None else f" {_fmt(x['at'])}"
    verb = "capped at" if x["kind"] == "cap" else "raised to the floor"
    before = "" if x.get("before") is None else (
        f"; before the {'cap' if x['kind'] == 'cap' else 'floor'} {x['before']:,.2f}")
    return f"{x['what']}: {verb}{at} ({x['path']}){before}"


def override_text(o: dict[str, Any]) -> str:
    """One override, in words: computed → final, the reason (code and meaning), who, when."""
    reason = o["reason"] + (f" ({o['meaning']})" if o.get("meaning") else "")
    note = f"; {o['note']}" if o.get("note") else ""
    return (f"{o['field']} overridden: computed {_fmt(o['computed'])} → final {_fmt(o['final'])}, "
            f"reason {reason}{note}, by {o.get('by') or '—'}, at {o.get('at') or '—'}")


def _key(person_id: object, period: object) -> tuple[str, str]:
    return str(person_id), str(period)


def _positions(table: pd.DataFrame | None) -> dict[tuple[str, str], int]:
    """Each (id, period) of ``table`` → its first row position."""
    if table is None or len(table) == 0:
        return {}
    keys = zip(table["id"].astype(str).to_numpy(), table["period"].astype(str).to_numpy(),
               strict=True)
    out: dict[tuple[str, str], int] = {}
    for pos, key in enumerate(keys):
        out.setdefault(key, pos)
    return out


@dataclass
class Index:
    """Where each person's rows are in a result's tables, and what every statement shares
    (the policy's head, its hash, the numeric columns): found once for many statements.
    """

    result: Result
    _tables: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)
    _columns: dict[str, np.ndarray] = field(default_factory=dict)
    _events: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict)

    def position(self, name: str, table: pd.DataFrame | None, person_id: object,
                 period: object) -> int | None:
        """The row of (person, period) in ``table`` (kept under ``name``), or None."""
        if name not in self._tables:
            self._tables[name] = _positions(table)
        return self._tables[name].get(_key(person_id, period))

    def row(self, name: str, table: pd.DataFrame | None, person_id: object,
            period: object) -> dict[str, Any] | None:
        """The row of (person, period) in ``table`` as a dict (column → cell), or None."""
        pos = self.position(name, table, person_id, period)
        return None if pos is None or table is None else self.record(name, table, pos)

    def cells(self, name: str, table: pd.DataFrame, column: str) -> np.ndarray:
        """A column of ``table`` (kept under ``name``) as a numpy array, converted once: a
        pandas cell read costs microseconds, an array's a fraction of one.
        """
        key = f"{name}\x00{column}"
        if key not in self._columns:
            self._columns[key] = table[column].to_numpy()
        return self._columns[key]

    def record(self, name: str, table: pd.DataFrame, pos: int) -> dict[str, Any]:
        """Row ``pos`` of ``table`` as a dict (column → cell)."""
        return {c: self.cells(name, table, c)[pos] for c in table.columns}

    def column(self, name: str) -> np.ndarray:
        """A numeric column of the frame, as floats (converted once)."""
        if name not in self._columns:
            self._columns[name] = np.asarray(self.result.frame.column(name), dtype=float)
        return self._columns[name]

    def events(self, table: str) -> dict[int, list[int]]:
        """The events of ``table`` by the records row they belong to."""
        if table not in self._events:
            by_row: dict[int, list[int]] = {}
            for k, row in enumerate(np.asarray(self.result.frame.events[table].row).tolist()):
                by_row.setdefault(int(row), []).append(k)
            self._events[table] = by_row
        return self._events[table]

    def once(self, key: str, make: Any) -> Any:
        """``make()`` the first time ``key`` is asked for, then the same value."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]


def _measure_line(ix: Index, name: str, m: Measure, i: int) -> dict[str, Any]:
    result = ix.result
    formula = describe_measure(m)
    if isinstance(m, RatioMeasure) and m.table is None and m.group_by is None:
        num = sum(float(ix.column(c)[i]) for c in m.numerator)
        den = sum(float(ix.column(c)[i]) for c in m.denominator)
        formula += f" = {num:g} / {den:g}"
    return {"name": name, "label": m.label or name, "kind": m.kind, "formula": formula,
            "value": _value(ix.cells("measures", result.measures, name)[i]),
            "path": f"measures.{name}"}


def _section_line(ix: Index, name: str, i: int) -> dict[str, Any]:
    result = ix.result
    policy = result.policy
    sec = policy.sections[name]
    labels = ix.once("labels", policy.labels)

    def points(child: str) -> float | None:
        if child in policy.kpis:
            return _value(ix.cells("kpi_points", result.kpi_points, child)[i])
        return _value(ix.cells("sections", result.sections, child)[i])

    items = []
    if sec.combine == "weighted":
        assert sec.weights is not None, "a weighted section has weights (Section._shape)"
        present = {c: w for c, w in sec.weights.items() if points(c) is not None}
        scale = sec.total_weight / sum(present.values()) if sum(present.values()) else 0.0
        for child, weight in sec.weights.items():
            p = points(child)
            items.append({"name": child, "label": labels.get(child, child), "points": p,
                          "weight": weight * scale if p is not None else weight,
                          "contribution": None if p is None else round(p * weight * scale / 100,
                                                                       9)})
    else:
        for child in sec.children():
            p = points(child)
            items.append({"name": child, "label": labels.get(child, child), "points": p,
                          "weight": None, "contribution": p})
    return {"name": name, "label": sec.label or name, "combine": sec.combine,
            "base": sec.base if sec.combine == "sum" else None, "items": items,
            "value": _value(ix.cells("sections", result.sections, name)[i]),
            "path": f"sections.{name}"}


def _inputs(ix: Index, i: int) -> dict[str, Any]:
    frame = ix.result.frame
    policy = ix.result.policy
    out: dict[str, Any] = {}
    rec = frame.records.frame
    for col in policy.inputs.records.columns:
        if col in rec.columns:
            out[col] = _value(ix.cells("records", rec, col)[i])
    if frame.people is not None:
        people = frame.people.frame
        for col in policy.inputs.people.columns:
            if col in people.columns:
                out[col] = _value(ix.cells("people", people, col)[int(frame.people_row[i])])
    return out


def _approval_notes(flags: pd.DataFrame) -> dict[int, str]:
    """Event row → why it needs approval, for the flagged events (R16)."""
    need = flags[flags["needs_approval"].astype(bool)]
    notes = need["approval_note"] if "approval_note" in need else pd.Series("", index=need.index)
    return dict(zip(need["row"].astype(int), notes.fillna("").astype(str), strict=True))


def approval_text(ev: dict[str, Any]) -> str:
    """What a statement says of a flagged event: its note, or written approval (R16)."""
    return str(ev.get("approval_note") or "needs written approval")


def _adjustments(ix: Index, i: int) -> list[dict[str, Any]]:
    result = ix.result
    frame = result.frame
    out = []
    flags = result.adjustments
    approval = ix.once("needs approval", lambda: {} if flags is None else _approval_notes(flags))
    for card in result.policy.scorecards.values():
        adj = card.adjustments
        if adj is None or adj.table not in frame.events:
            continue
        ev = frame.events[adj.table]
        rows = np.asarray(ev.typed.rows)
        points = ix.once(f"event points {adj.table}.{adj.points}",
                         lambda ev=ev, adj=adj: np.asarray(ev.column(adj.points), dtype=float))
        for k in ix.events(adj.table).get(i, []):
            row = int(rows[k])
            out.append({"row": row, "points": float(points[k]),
                        "needs_approval": row in approval, "approval_note": approval.get(row, "")})
    return out


def _grade(ix: Index, person_id: object, period: str) -> dict[str, Any] | None:
    result = ix.result
    row = ix.row("grades", result.grades, person_id, period)
    if row is None:
        return None
    if pd.isna(row["grade"]):
        note = row.get("note")
        return {"grade": None, "rule": None, "note": None if pd.isna(note) else str(note)} \
            if note is not None and not pd.isna(note) else None
    out: dict[str, Any] = {k: _value(row[k]) for k in ("grade", "grade_label", "rule", "group", "place",
                                       "group_size", "on_boundary", "vetoed") if k in row}
    out["label"] = out.pop("grade_label", None)
    for key in ("place", "group_size"):
        if out.get(key) is not None:
            out[key] = int(out[key])
    if result.quotas is not None and out.get("group"):
        quotas = ix.once("quotas", lambda: {
            (str(p), g, gr): int(q) for p, g, gr, q in zip(
                result.quotas["period"], result.quotas["group"], result.quotas["grade"],
                result.quotas["quota"], strict=True)})
        quota = quotas.get((str(period), out["group"], out["grade"]))
        if quota is not None:
            out["quota"] = quota
    return out


def _pay(ix: Index, person_id: object, period: str) -> dict[str, Any] | None:
    result = ix.result
    row = ix.row("payouts", result.payouts, person_id, period)
    if row is None:
        return None
    spec = result.policy.pay
    assert spec is not None, "a payouts table comes from a policy that pays"
    names = [*spec.components, "streaks", "pool"]
    comps = [{"name": n, "label": (getattr(spec.components.get(n), "label", None) or n),
              "amount": float(row[n])} for n in names if n in row]
    return {"components": comps, "payout": float(row["payout"])}


def _policy_value(result: Result, path: str) -> Any:
    """The policy's number at ``path`` (None where the path does not address one)."""
    try:
        value = result.policy.get(path)
    except Exception:  # a path the addressing does not reach (a floor keyed by a label)
        return None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _floor_value(result: Result, path: str) -> Any:
    """The floor share at ``pay.components.<name>.floors.<value>``."""
    name, _, value = path.removeprefix("pay.components.").partition(".floors.")
    comp = result.policy.pay.components.get(name) if result.policy.pay else None
    return getattr(comp, "floors", {}).get(value)


def _score_limits(ix: Index, s: dict[str, Any], person_id: object, period: str
                  ) -> list[dict[str, Any]]:
    """The score's own caps (``capped`` in scores): the scorecard's min and max, its team's max,
    the group-average cap of added points.
    """
    result = ix.result
    if not bool(s.get("capped", False)) or pd.isna(s["scorecard"]):
        return []
    name = str(s["scorecard"])
    card = result.policy.scorecards[name]
    parts = [s.get(k) for k in ("base", "added", "deducted")]
    before = float(np.nansum([float(p) for p in parts if p is not None and pd.notna(p)]))
    score = float(s["score"]) if pd.notna(s["score"]) else None
    found = []
    path = f"scorecards.{name}"
    if card.max is not None and before > card.max:
        found.append({"kind": "cap", "at": card.max, "path": f"{path}.max", "before": before})
    if card.min is not None and before < card.min:
        found.append({"kind": "floor", "at": card.min, "path": f"{path}.min", "before": before})
    if card.team is not None and card.team.max is not None:
        found.append({"kind": "cap", "at": card.team.max, "path": f"{path}.team.max",
                      "before": None})
    adj = card.adjustments
    if adj is not None and adj.group_average is not None and not found:
        found.append({"kind": "cap", "at": adj.group_average.max,
                      "path": f"{path}.adjustments.group_average", "before": None,
                      "note": "the added points were scaled so the group's average is at most "
                              "the cap (see group_caps)"})
    if not found:
        found.append({"kind": "cap", "at": score, "path": path, "before": before})
    for f in found:
        f["what"] = "score"
    return found


def _pay_limits(ix: Index, person_id: object, period: str) -> list[dict[str, Any]]:
    """Each pay component's own cap or floor that bit, the pool's, and the payout's clip."""
    result = ix.result
    pos = ix.position("payouts", result.payouts, person_id, period)
    spec = result.policy.pay
    if pos is None or spec is None:
        return []
    row = ix.record("payouts", result.payouts, pos)
    later = result.arrays.get("bounds")
    bounds = ix.once("bounds", later) if callable(later) else {}
    out = []
    for name, b in bounds.items():
        path = b.which[pos]
        if path is None:
            continue
        floor = path.endswith(".min") or ".floors." in path or path.endswith(".floor")
        at = _floor_value(result, path) if ".floors." in path else _policy_value(result, path)
        if at is None and name == "pool":  # a cap or floor per person: the share is at it
            at = float(row["pool"])
        before = float(b.before[pos])
        label = getattr(spec.components.get(name), "label", None) or (
            "bonus pool" if name == "pool" else name)
        out.append({"what": label, "kind": "floor" if floor else "cap", "at": at, "path": path,
                    "before": None if before != before else before,
                    "amount": float(row[name]) if name in row else None})
    if bool(row.get("clipped", False)):
        parts = [n for n in [*spec.components, "streaks", "pool"] if n in row]
        before = round(float(sum(float(row[n]) for n in parts)), 9)
        low = spec.min is not None and before < float(spec.min)
        out.append({"what": "payout", "kind": "floor" if low else "cap",
                    "at": float(spec.min if low else spec.max),  # type: ignore[arg-type]
                    "path": "pay.min" if low else "pay.max", "before": before,
                    "amount": float(row["payout"])})
    return out


def _overrides(ix: Index, person_id: object, period: str) -> list[dict[str, Any]]:
    """The overrides of (person, period) from ``result.overrides`` (a calibration cycle's),
    each with the policy's meaning of its reason code; [] when the result has none.
    """
    result = ix.result
    table = getattr(result, "overrides", None)
    if not isinstance(table, pd.DataFrame) or len(table) == 0:
        return []
    groups = ix.once("overrides", lambda: {
        key: list(rows) for key, rows in pd.Series(range(len(table))).groupby(
            [table["id"].astype(str).to_numpy(), table["period"].astype(str).to_numpy()])})
    reasons = result.policy.cycle.reasons
    out = []
    for pos in groups.get(_key(person_id, period), []):
        r = table.iloc[pos]
        item = {k: _value(r[k]) if k in r.index else None
                for k in ("field", "computed", "final", "reason", "note", "by", "at")}
        item = {k: (None if v is pd.NA else v) for k, v in item.items()}
        item["reason"] = "" if item["reason"] is None else str(item["reason"])
        item["meaning"] = reasons.get(str(item["reason"]))
        out.append(item)
    return out


def _outcomes(ix: Index, person_id: object, period: str) -> list[dict[str, Any]]:
    """The outcomes raised for (person, period) (``result.outcomes``); [] when none."""
    table = ix.result.outcomes
    if table is None or len(table) == 0:
        return []
    groups = ix.once("outcomes", lambda: {
        key: list(rows) for key, rows in pd.Series(range(len(table))).groupby(
            [table["id"].astype(str).to_numpy(), table["period"].astype(str).to_numpy()])})
    return [{k: str(table.iloc[pos][k]) for k in ("outcome", "label", "kind", "why", "caution")}
            for pos in groups.get(_key(person_id, period), [])]


def _head(ix: Index) -> dict[str, Any]:
    policy = ix.result.policy
    return ix.once("head", lambda: {"policy": {
        "name": policy.name, "title": policy.title or policy.name,
        "sha256": policy_sha256(policy), "currency": policy.currency}})


def explain(result: Result, person_id: object, period: str, index: Index | None = None
            ) -> Statement:
    """The statement of ``person_id`` for ``period`` (a scoring period or a roll-up period).

    ``index`` (an ``Index`` of ``result``) is for many statements: each then finds its rows by
    a lookup; without it one is made for this statement.
    """
    ix = index if index is not None else Index(result)
    policy = result.policy
    head = _head(ix)
    i = ix.position("scores", result.scores, person_id, period)
    if i is None:
        return _explain_rollup(ix, person_id, period, head)
    s = ix.record("scores", result.scores, i)
    data: dict[str, Any] = {**head, "person": {"id": str(person_id), "period": str(period),
                               "scorecard": _value(s["scorecard"]), "status": str(s["status"]),
                               "reason": _value(s["reason"])}}
    data["inputs"] = _inputs(ix, i)
    card = policy.scorecards.get(str(s["scorecard"])) if pd.notna(s["scorecard"]) else None
    if card is not None and card.root is not None:
        kpis, sections = ix.once(f"tree {card.root}", lambda: policy.tree(card.root))
        used = [m for m in (policy.kpis[k].measure for k in kpis) if m]
        data["measures"] = [_measure_line(ix, m, policy.measures[m], i)
                            for m in dict.fromkeys(used)]
        rules = ix.once("rules", lambda: {k: describe_rule(kpi.rule)
                                          for k, kpi in policy.kpis.items()})
        data["kpis"] = [{"name": k, "label": policy.kpis[k].label or k,
                         "value": _value(ix.cells("measures", result.measures,
                                                  str(policy.kpis[k].measure))[i]
                                         if policy.kpis[k].measure else
                                         data["inputs"].get(policy.kpis[k].column)),
                         "rule": rules[k],
                         "points": _value(ix.cells("kpi_points", result.kpi_points, k)[i]),
                         "path": f"kpis.{k}.rule"} for k in kpis]
        data["sections"] = [_section_line(ix, name, i) for name in sections]
    parts = ("base", "added", "deducted", "bonus", "capped", "veto", "proration", "score")
    data["score"] = {k: _value(s[k]) for k in parts if k in s}
    data["adjustments"] = _adjustments(ix, i)
    data["grade"] = _grade(ix, person_id, period)
    data["pay"] = _pay(ix, person_id, period)
    data["limits"] = _score_limits(ix, s, person_id, period) + _pay_limits(ix, person_id, period)
    data["overrides"] = _overrides(ix, person_id, period)
    data["outcomes"] = _outcomes(ix, person_id, period)
    return Statement(data)


def _explain_rollup(ix: Index, person_id: object, period: str,
                    head: dict[str, Any]) -> Statement:
    result = ix.result
    policy = result.policy
    for name, table in result.rollups.items():
        row = ix.row(f"rollup {name}", table, person_id, period)
        if row is None:
            continue
        rollup = policy.rollups[name]
        parts = []
        for part in rollup.parts:
            key = part.source if part.source == "score" else f"{part.source}.{part.column}"
            parts.append({"label": part.label or key, "value": _value(row[f"part:{key}"]),
                          "weight": part.weight})
        data: dict[str, Any] = {**head, "person": {"id": str(person_id), "period": str(period),
                                   "rollup": name, "status": str(row["status"]),
                                   "reason": _value(row["reason"])},
                "parts": parts,
                "score": {"score": _value(row["score"]), "periods": int(row["periods"]),
                          "periods_rated": int(row["periods_rated"])},
                "grade": _grade(ix, person_id, period),
                "pay": _pay(ix, person_id, period),
                "limits": _pay_limits(ix, person_id, period),
                "overrides": _overrides(ix, person_id, period),
                "outcomes": _outcomes(ix, person_id, period)}
        return Statement(data)
    raise NotFound(_not_found(result, str(person_id), str(period)))


def _not_found(result: Result, person: str, period: str) -> str:
    """Why nothing matches, with what does: the ids that look alike, or the person's periods."""
    import difflib

    ids = pd.Index(result.scores["id"].astype(str).unique())
    if person not in ids:
        near = [i for i in ids if i.casefold() == person.casefold().strip()]
        near = near or difflib.get_close_matches(person, list(ids), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(near)}?" if near else (
            f"; ids look like {', '.join(ids[:3])}")
        return f"no person with id '{person}' in the results{hint} (ids are compared exactly)"
    mine = result.scores.loc[result.scores["id"].astype(str) == person, "period"].astype(str)
    rolled = [str(p) for t in result.rollups.values()
              for p in t.loc[t["id"].astype(str) == person, "period"].astype(str).unique()]
    periods = list(dict.fromkeys([*mine, *rolled]))
    shown = ", ".join(periods[:24]) + (" …" if len(periods) > 24 else "")
    return (f"no result for person {person} in period '{period}'; {person} has results for "
            f"{shown}: give one of them as --period")
