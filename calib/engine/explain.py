"""One person's statement (SCHEMES.md R37): how every number of a result was reached.

The statement reads the engine's own tables (measures, KPI points, sections, scores, grades,
payouts) and the raw input rows; it never recomputes a result, so what HR shows an employee is
what was paid. Each line names the rule and the policy path behind it.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
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
        pay = d.get("pay")
        if pay:
            lines.append("\npay:")
            lines += [f"  {c['label']}: {c['amount']:,.2f}" for c in pay["components"]]
            lines.append(f"  payout: {pay['payout']:,.2f} {d['policy']['currency']}")
        return "\n".join(lines) + "\n"

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
                     (" — needs written approval" if ev["needs_approval"] else ""))
    return lines


def _fmt(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.6g}" if abs(x) < 1e6 else f"{x:,.2f}"
    return str(x)


def _row_index(result: Result, person_id: object, period: str) -> int | None:
    s = result.scores
    hit = np.flatnonzero((s["id"].astype(str) == str(person_id)).to_numpy()
                         & (s["period"].astype(str) == str(period)).to_numpy())
    return int(hit[0]) if len(hit) else None


def _measure_line(result: Result, name: str, m: Measure, i: int) -> dict[str, Any]:
    frame = result.frame
    formula = describe_measure(m)
    if isinstance(m, RatioMeasure) and m.table is None and m.group_by is None:
        num = sum(float(np.asarray(frame.column(c), dtype=float)[i]) for c in m.numerator)
        den = sum(float(np.asarray(frame.column(c), dtype=float)[i]) for c in m.denominator)
        formula += f" = {num:g} / {den:g}"
    return {"name": name, "label": m.label or name, "kind": m.kind, "formula": formula,
            "value": _value(result.measures[name].iloc[i]), "path": f"measures.{name}"}


def _section_line(result: Result, name: str, i: int) -> dict[str, Any]:
    policy = result.policy
    sec = policy.sections[name]
    labels = policy.labels()

    def points(child: str) -> float | None:
        table = result.kpi_points if child in policy.kpis else result.sections
        return _value(table[child].iloc[i])

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
            "value": _value(result.sections[name].iloc[i]), "path": f"sections.{name}"}


def _inputs(result: Result, i: int) -> dict[str, Any]:
    frame = result.frame
    policy = result.policy
    out: dict[str, Any] = {}
    rec = frame.records.frame
    for col in policy.inputs.records.columns:
        if col in rec.columns:
            out[col] = _value(rec[col].iloc[i])
    if frame.people is not None:
        people = frame.people.frame
        for col in policy.inputs.people.columns:
            if col in people.columns:
                out[col] = _value(people[col].iloc[int(frame.people_row[i])])
    return out


def _adjustments(result: Result, i: int) -> list[dict[str, Any]]:
    frame = result.frame
    out = []
    for card in result.policy.scorecards.values():
        adj = card.adjustments
        if adj is None or adj.table not in frame.events:
            continue
        ev = frame.events[adj.table]
        flags = result.adjustments
        for k in np.flatnonzero(ev.row == i):
            row = int(np.asarray(ev.typed.rows)[k])
            flagged = flags[(flags["row"] == row)]["needs_approval"]
            out.append({"row": row, "points": float(ev.column(adj.points)[k]),
                        "needs_approval": bool(flagged.any())})
    return out


def _lookup(table: pd.DataFrame | None, person_id: object, period: str) -> pd.Series | None:
    if table is None:
        return None
    hit = table[(table["id"].astype(str) == str(person_id)) &
                (table["period"].astype(str) == str(period))]
    return hit.iloc[0] if len(hit) else None


def _grade(result: Result, person_id: object, period: str) -> dict[str, Any] | None:
    row = _lookup(result.grades, person_id, period)
    if row is None:
        return None
    if pd.isna(row["grade"]):
        note = row.get("note")
        return {"grade": None, "rule": None, "note": None if pd.isna(note) else str(note)} \
            if note is not None and not pd.isna(note) else None
    out = {k: _value(row[k]) for k in ("grade", "grade_label", "rule", "group", "place",
                                       "group_size", "on_boundary", "vetoed") if k in row}
    out["label"] = out.pop("grade_label", None)
    for key in ("place", "group_size"):
        if out.get(key) is not None:
            out[key] = int(out[key])
    if result.quotas is not None and out.get("group"):
        q = result.quotas
        hit = q[(q["period"].astype(str) == str(period)) & (q["group"] == out["group"])
                & (q["grade"] == out["grade"])]
        if len(hit):
            out["quota"] = int(hit["quota"].iloc[0])
    return out


def _pay(result: Result, person_id: object, period: str) -> dict[str, Any] | None:
    row = _lookup(result.payouts, person_id, period)
    if row is None:
        return None
    spec = result.policy.pay
    assert spec is not None, "a payouts table comes from a policy that pays"
    names = [*spec.components, "streaks", "pool"]
    comps = [{"name": n, "label": (getattr(spec.components.get(n), "label", None) or n),
              "amount": float(row[n])} for n in names if n in row.index]
    return {"components": comps, "payout": float(row["payout"])}


def explain(result: Result, person_id: object, period: str) -> Statement:
    """The statement of ``person_id`` for ``period`` (a scoring period or a roll-up period)."""
    policy = result.policy
    head = {"policy": {"name": policy.name, "title": policy.title or policy.name,
                       "sha256": policy_sha256(policy), "currency": policy.currency}}
    i = _row_index(result, person_id, period)
    if i is None:
        return _explain_rollup(result, person_id, period, head)
    s = result.scores.iloc[i]
    data: dict[str, Any] = {**head, "person": {"id": str(person_id), "period": str(period),
                               "scorecard": _value(s["scorecard"]), "status": str(s["status"]),
                               "reason": _value(s["reason"])}}
    data["inputs"] = _inputs(result, i)
    card = policy.scorecards.get(str(s["scorecard"])) if pd.notna(s["scorecard"]) else None
    if card is not None and card.root is not None:
        kpis, sections = policy.tree(card.root)
        used = [m for m in (policy.kpis[k].measure for k in kpis) if m]
        data["measures"] = [_measure_line(result, m, policy.measures[m], i)
                            for m in dict.fromkeys(used)]
        data["kpis"] = [{"name": k, "label": policy.kpis[k].label or k,
                         "value": _value(result.measures[policy.kpis[k].measure].iloc[i]
                                         if policy.kpis[k].measure else
                                         data["inputs"].get(policy.kpis[k].column)),
                         "rule": describe_rule(policy.kpis[k].rule),
                         "points": _value(result.kpi_points[k].iloc[i]),
                         "path": f"kpis.{k}.rule"} for k in kpis]
        data["sections"] = [_section_line(result, name, i) for name in sections]
    parts = ("base", "added", "deducted", "bonus", "capped", "veto", "proration", "score")
    data["score"] = {k: _value(s[k]) for k in parts if k in s.index}
    data["adjustments"] = _adjustments(result, i)
    data["grade"] = _grade(result, person_id, period)
    data["pay"] = _pay(result, person_id, period)
    return Statement(data)


def _explain_rollup(result: Result, person_id: object, period: str,
                    head: dict[str, Any]) -> Statement:
    policy = result.policy
    for name, table in result.rollups.items():
        row = _lookup(table, person_id, period)
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
                "grade": _grade(result, person_id, period),
                "pay": _pay(result, person_id, period)}
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
