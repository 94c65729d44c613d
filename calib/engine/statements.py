"""Every person's statement (R37), for the review meetings (面谈): one printable page per person,
one workbook of every line, an index.

The pages read the same statements as ``calib explain`` (``calib.engine.explain``), so each
number, rule and policy path, each cap or floor that bit and each override is what was paid and
explained. The folder is written aside and moved in whole with a manifest
(``calib._util.outputs.RunFolder``); file names come from the ids, made safe and unique, so no
id (``../x``, ``a/b``, ``张三 李``) can write outside the folder or over another's page.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calib._util.outputs import RunFolder
from calib._util.xlsx import Table, write_tables
from calib.engine.explain import Index, Statement, approval_text, explain
from calib.engine.result import Result
from calib.engine.statement_text import language, texts
from calib.policy.hashing import policy_sha256

WORKBOOK = "statements.xlsx"
INDEX = "index.html"
COLUMNS = ["id", "period", "section", "item", "value", "rule", "policy path"]
_RESERVED = {"index", "statements", "manifest"}
_UNSAFE = re.compile(r"[^\w\-.]+")
_MAX_STEM = 60  # characters; 60 CJK characters are 180 bytes, under every file system's 255


@dataclass(frozen=True)
class Line:
    """One line of a statement: what it is, its number or text, the rule and the policy path.

    ``kind`` is ``money`` for an amount, ``payout`` for the payout (the pages mark it so a
    reader, or a test, finds it), empty otherwise.
    """

    section: str
    item: str
    value: Any
    rule: str = ""
    path: str = ""
    kind: str = ""


@dataclass(frozen=True)
class Written:
    """What ``write_statements`` wrote: people, statements, workbook lines, the pages by id."""

    people: int
    statements: int
    lines: int
    pages: dict[str, str]


def rows_of(result: Result) -> list[tuple[str, str]]:
    """Every (id, period) with a statement, by person (ids as text, sorted) and then period:
    the scoring periods in order, then the roll-up periods the policy grades or pays on (the
    rows of ``results.csv``).
    """
    policy = result.policy
    parts = [result.scores[["id", "period"]].assign(level=0)]
    levels = []
    for section in (policy.grading, policy.pay):
        if section is not None and section.on != "period" and section.on not in levels:
            levels.append(section.on)
    for k, level in enumerate(levels, start=1):
        parts.append(result.rollups[level][["id", "period"]].assign(level=k))
    table = pd.concat([p.astype({"id": str, "period": str}) for p in parts], ignore_index=True)
    table = table.sort_values(["id", "level", "period"], kind="stable")
    return list(zip(table["id"], table["period"], strict=True))


def statements(result: Result) -> Iterator[Statement]:
    """Every statement of ``result``, in the order of ``rows_of`` (one ``Index`` for all)."""
    index = Index(result)
    for person, period in rows_of(result):
        yield explain(result, person, period, index)


# --- lines ---------------------------------------------------------------------------------------
def _num(x: Any) -> str:
    if x is None or x is pd.NA or (isinstance(x, float) and x != x):
        return "—"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        return f"{x:.6g}" if abs(x) < 1e6 else f"{x:,.2f}"
    return str(x)


def _limit_rule(x: dict[str, Any], t: dict[str, str]) -> str:
    floor = x["kind"] == "floor"
    text = f"{t['floor_at' if floor else 'capped_at']} {_num(x.get('at'))}"
    if x.get("before") is not None:
        text += f"; {t['before_floor' if floor else 'before_cap']} {x['before']:,.2f}"
    return text + (f"; {x['note']}" if x.get("note") else "")


def _override_rule(o: dict[str, Any], t: dict[str, str]) -> str:
    reason = o["reason"] + (f" ({o['meaning']})" if o.get("meaning") else "")
    note = f"; {o['note']}" if o.get("note") else ""
    return (f"{t['overridden']}: {t['computed']} {_num(o['computed'])} → {t['final']} "
            f"{_num(o['final'])}; {t['reason']} {reason}{note}; {t['by']} {o.get('by') or '—'}; "
            f"{t['at']} {o.get('at') or '—'}")


def _score_lines(d: dict[str, Any], t: dict[str, str], lines: list[Line]) -> None:
    p = d["person"]
    for s in d.get("sections", []):
        weighted = s["combine"] == "weighted"
        for it in s["items"]:
            rule = (f"{_num(it['points'])} × {_num(it['weight'])}%" if it.get("weight") is not None
                    else "")
            path = f"{s['path']}.weights.{it['name']}" if weighted else s["path"]
            lines.append(Line(s["label"], it["label"], it["contribution"], rule, path))
        base = f"; base {_num(s['base'])}" if s.get("base") else ""
        lines.append(Line(s["label"], s["label"], s["value"], f"{s['combine']}{base}", s["path"]))
    for part in d.get("parts", []):
        lines.append(Line(t["parts"], part["label"], part["value"], f"× {_num(part['weight'])}%",
                          f"rollups.{p['rollup']}"))
    where = f"rollups.{p['rollup']}" if p.get("rollup") else f"scorecards.{p.get('scorecard')}"
    for key, value in (d.get("score") or {}).items():
        if value is not None:
            lines.append(Line(t["score"], key, value, "", where))
    for ev in d.get("adjustments", []):
        lines.append(Line(t["adjustments"], f"row {ev['row']}", ev["points"],
                          approval_text(ev) if ev["needs_approval"] else "",
                          f"{where}.adjustments"))


def lines_of(statement: Statement, t: dict[str, str]) -> list[Line]:
    """The statement as lines, in the order of the page: status, inputs, measures, KPI points,
    sections, score, grade, pay, caps and floors that bit, overrides.
    """
    d = statement.data
    p = d["person"]
    lines = [Line(t["status"], t["status"], t.get(p["status"], p["status"]) + (
        f" ({p['reason']})" if p.get("reason") else ""), "", "eligibility" if p.get("reason")
        else "")]
    for key, value in (d.get("inputs") or {}).items():
        lines.append(Line(t["inputs"], key, value, "", f"inputs.{key}"))
    for m in d.get("measures", []):
        lines.append(Line(t["measures"], m["label"], m["value"], m["formula"], m["path"]))
    for k in d.get("kpis", []):
        lines.append(Line(t["kpis"], k["label"], k["points"],
                          f"{_num(k['value'])} → {_num(k['points'])}: {k['rule']}", k["path"]))
    _score_lines(d, t, lines)
    g = d.get("grade")
    if g and g.get("grade") is None:
        lines.append(Line(t["grade"], t["grade"], "—", g.get("note") or "", "grading"))
    elif g:
        where = (f"; {g['place']}/{g['group_size']} {g['group']}, quota {g.get('quota')}"
                 if g.get("place") else "")
        lines.append(Line(t["grade"], t["grade"], f"{g['grade']} {g.get('label') or ''}".strip(),
                          f"{g['rule']}{where}", f"grading.rules.{g['rule']}"))
    pay = d.get("pay")
    if pay:
        paths = {"streaks": "grading.streaks", "pool": "pay.pool"}
        for c in pay["components"]:
            lines.append(Line(t["pay"], c["label"], c["amount"], "",
                              paths.get(c["name"], f"pay.components.{c['name']}"), "money"))
        lines.append(Line(t["pay"], t["payout"], pay["payout"], d["policy"]["currency"], "pay",
                          "payout"))
    for x in d.get("limits", []):
        value = x.get("amount") if x.get("amount") is not None else x.get("at")
        lines.append(Line(t["limits"], x["what"], value, _limit_rule(x, t), x["path"]))
    for o in d.get("overrides", []):
        lines.append(Line(t["overrides"], str(o["field"]), o["final"], _override_rule(o, t),
                          f"calibration.reasons.{o['reason']}"))
    for o in d.get("outcomes", []):
        rule = o["why"] + (f" — {o['caution']}" if o.get("caution") else "")
        lines.append(Line(t["outcomes"], o["label"], o["kind"], rule, f"outcomes.{o['outcome']}"))
    return lines


# --- file names ----------------------------------------------------------------------------------
def page_names(ids: Iterable[str]) -> dict[str, str]:
    """A safe, unique ``.html`` file name for each id.

    Letters (any script), digits, ``-``, ``_`` and ``.`` are kept, every other run of characters
    becomes ``_``, leading dots go (no ``..``, no hidden file) and the name is cut to 60
    characters. An id this changes (``a/b``, ``../x``, ``张三 李``), or that is a name of the
    folder's own files (index, statements, manifest), gets the first 8 hex digits of its sha256
    appended, so it cannot take another id's name (``a_b``) and its name depends on the id
    alone. Names are unique letter case aside (for Windows and macOS file systems).
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for i in sorted(set(ids)):
        stem = _UNSAFE.sub("_", unicodedata.normalize("NFC", i)).lstrip(".")[:_MAX_STEM] or "_"
        if stem != i or stem.casefold() in _RESERVED:
            stem = f"{stem}_{hashlib.sha256(i.encode()).hexdigest()[:8]}"
        name, n = stem, 2
        while name.casefold() in taken:  # ids alike but for case, or a sha256 prefix shared
            name, n = f"{stem}_{n}", n + 1
        taken.add(name.casefold())
        out[i] = f"{name}.html"
        assert "/" not in out[i] and not out[i].startswith("."), out[i]
    return out


# --- pages ---------------------------------------------------------------------------------------
STYLE = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
  "Microsoft YaHei", "PingFang SC", "SimSun", sans-serif; font-size: 10.5pt; color: #000;
  margin: 1.5em; line-height: 1.35; }
h1 { font-size: 15pt; margin: 0 0 .2em; }
h2 { font-size: 12pt; margin: 1.2em 0 .4em; border-bottom: 1px solid #000; }
.meta { color: #333; font-size: 9pt; margin: 0 0 .8em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 2px 5px; vertical-align: top; text-align: left; }
th.section { background: #eee; }
td.num { text-align: right; white-space: nowrap; }
td.path { font-family: monospace; font-size: 8pt; color: #333; word-break: break-all; }
td.rule { font-size: 9pt; }
tr.payout td { font-weight: bold; }
tr.limit td, tr.override td { background: #fff6dd; }
section.period { break-inside: avoid; page-break-inside: avoid; }
tr { break-inside: avoid; page-break-inside: avoid; }
.signatures { break-inside: avoid; page-break-inside: avoid; margin-top: 2em; }
.signatures table td { border: none; padding: 1.4em .5em .2em; width: 33%; }
.line { border-bottom: 1px solid #000; height: 1.6em; margin-bottom: .5em; }
@media print { body { margin: 0; } a { color: #000; text-decoration: none; } }
"""


def _cell(line: Line) -> str:
    v = line.value
    if line.kind in ("money", "payout") and isinstance(v, int | float) and not isinstance(v, bool):
        return f"{v:,.2f}"
    return _num(v)


def _period_html(statement: Statement, t: dict[str, str]) -> str:
    d = statement.data
    period = html.escape(d["person"]["period"])
    out = [f'<section class="period"><h2>{html.escape(t["period"])} {period}</h2><table>',
           f"<tr><th>{t['item']}</th><th>{t['value']}</th><th>{t['rule']}</th>"
           f"<th>{t['path']}</th></tr>"]
    section = None
    for line in lines_of(statement, t):
        if line.section != section:
            section = line.section
            out.append(f'<tr><th class="section" colspan="4">{html.escape(section)}</th></tr>')
        css = {t["limits"]: "limit", t["overrides"]: "override"}.get(line.section, "")
        css = "payout" if line.kind == "payout" else css
        num = isinstance(line.value, int | float) and not isinstance(line.value, bool)
        value_css = ("num payout" if line.kind == "payout" else "num") if num else "text"
        data = f' data-period="{period}"' if line.kind == "payout" else ""
        out.append(f'<tr class="{css}"><td>{html.escape(line.item)}</td>'
                   f'<td class="{value_css}"{data}>{html.escape(_cell(line))}</td>'
                   f'<td class="rule">{html.escape(line.rule)}</td>'
                   f'<td class="path">{html.escape(line.path)}</td></tr>')
    out.append("</table></section>")
    return "\n".join(out)


def _signatures(t: dict[str, str]) -> str:
    cells = "".join(f"<td><strong>{html.escape(t[who])}</strong>"
                    f"<div>{html.escape(t['signature'])}</div><div class=\"line\"></div>"
                    f"<div>{html.escape(t['date'])}</div><div class=\"line\"></div></td>"
                    for who in ("employee", "assessor", "reviewer"))
    return (f'<section class="signatures"><h2>{html.escape(t["signatures"])}</h2>'
            f"<table><tr>{cells}</tr></table></section>")


def _document(title: str, lang: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def person_page(person_id: str, items: list[Statement], t: dict[str, str], lang: str) -> str:
    """One person's page: a heading, each period's statement in order, the signature block."""
    head = items[0].data["policy"]
    title = f"{head['title']} — {t['statement']} — {person_id}"
    body = [f"<h1>{html.escape(head['title'])} · {html.escape(t['statement'])}</h1>",
            f'<p class="meta">{html.escape(t["person"])}: <strong>{html.escape(person_id)}'
            f"</strong> · {html.escape(t['policy'])}: {html.escape(head['name'])} · "
            f"{html.escape(t['sha256'])} {html.escape(head['sha256'])}</p>"]
    body += [_period_html(s, t) for s in items]
    body.append(_signatures(t))
    return _document(title, lang, "\n".join(body))


def index_page(result: Result, pages: dict[str, str], counts: dict[str, int],
               t: dict[str, str], lang: str) -> str:
    """The index: every person's page, linked, with the number of periods on it."""
    policy = result.policy
    title = f"{policy.title or policy.name} — {t['index']}"
    items = "\n".join(f'<li><a href="{html.escape(name)}">{html.escape(pid)}</a> '
                      f"({counts[pid]} {html.escape(t['periods'])})</li>"
                      for pid, name in pages.items())
    body = (f"<h1>{html.escape(title)}</h1><p class=\"meta\">{len(pages)} "
            f"{html.escape(t['people'])} · {html.escape(t['sha256'])} "
            f"{html.escape(policy_sha256(policy))}</p><ol>\n{items}\n</ol>")
    return _document(title, lang, body)


# --- the folder ----------------------------------------------------------------------------------
def _by_person(result: Result) -> Iterator[tuple[str, list[Statement]]]:
    person: str | None = None
    items: list[Statement] = []
    for s in statements(result):
        pid = s.data["person"]["id"]
        if pid != person and items:
            yield str(person), items
            items = []
        person = pid
        items.append(s)
    if items:
        yield str(person), items


def _workbook(rows: dict[str, list[Any]]) -> Table:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return Table(frame, widths={"id": 14, "period": 10, "section": 18, "item": 28, "value": 14,
                                "rule": 60, "policy path": 44})


def write_statements(result: Result, out: str | Path, command: list[str],
                     facts: dict[str, Any] | None = None) -> Written:
    """Write every person's page, ``statements.xlsx`` and ``index.html`` into the folder ``out``.

    The folder is written aside and moved in whole with ``manifest.json`` last (``RunFolder``:
    locked, and refused when it holds files calib did not write). ``command`` and ``facts``
    (the policy's and data's paths and hashes) go in the manifest.
    """
    t = texts(result.policy)
    lang = language(result.policy)
    ids = [pid for pid, _ in rows_of(result)]
    pages = page_names(ids)
    rows: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    counts: dict[str, int] = {}
    with RunFolder(out, command) as folder:
        for pid, items in _by_person(result):
            counts[pid] = len(items)
            folder.write(pages[pid], _text_writer(person_page(pid, items, t, lang)))
            for s in items:
                period = s.data["person"]["period"]
                for line in lines_of(s, t):
                    for column, value in zip(COLUMNS, (pid, period, line.section, line.item,
                                                       _sheet_value(line.value), line.rule,
                                                       line.path), strict=True):
                        rows[column].append(value)
        text = index_page(result, pages, counts, t, lang)
        folder.write(INDEX, _text_writer(text))
        table = _workbook(rows)
        folder.write(WORKBOOK, lambda p: write_tables(p, {"statements": table}))
        policy = {"name": result.policy.name, "sha256": policy_sha256(result.policy)}
        folder.commit("complete", {"policy": policy, **(facts or {})})
    return Written(len(counts), sum(counts.values()), len(rows["id"]), pages)


def _text_writer(text: str) -> Callable[[Path], int]:
    """A writer of ``text`` (UTF-8) for ``RunFolder.write``."""
    return lambda path: path.write_text(text, encoding="utf-8")


def _sheet_value(value: Any) -> Any:
    """A cell of the ``value`` column: numbers stay numbers, everything else is text."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | np.number):
        return value
    return str(value)
