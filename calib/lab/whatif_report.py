"""What the what-if app shows, as plain functions: the inputs a person's score reads, and the
person's outcome before and after a change, formatted for managers.

Kept apart from the widgets (``calib.lab.whatif``) so that each piece is tested without a panel:
which records columns a policy reads for a scorecard (:func:`policy_inputs`), what kind of field
each one gets (:func:`field_spec`), the person's score, grade, place, pay components and payout
before and after (:func:`before_after`), the statement lines that changed
(:func:`statement_changes`) and who else moved, in words (:func:`moved_view`, from
``calib.analysis.moves``, the one home for "who moved").
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from calib.engine.result import Result
from calib.lab import whatif_format as f
from calib.policy.model import Policy
from calib.policy.rules import LabelPoints

PAY_META = ("id", "period", "status", "score", "grade", "proration", "payout", "clipped")
"""Columns of ``Result.payouts`` that are not pay components."""

_PATH = re.compile(r"\s*\[[\w.\[\]+\-\u3400-\u9fff]+\]\s*$")

ARROWS = {"up": "↑ up", "down": "↓ down", "new": "new", "gone": "gone"}


# --- the form ------------------------------------------------------------------------------------
def policy_inputs(policy: Policy, card: str | None) -> list[str]:
    """The records columns a person on scorecard ``card`` is scored and paid on, in reading order.

    First those the eligibility reads (whether the period is rated: probation, absence; days
    present for proration), then the columns the card's KPIs read (directly or through their
    measures), then any the pay reads.
    Only records columns (one value per person and period) are listed: people columns and event
    tables are not a period's inputs.
    """
    records = policy.inputs.records.columns
    sc = policy.scorecards.get(card) if card else None
    columns: list[str] = [rule.when.column for rule in policy.eligibility.not_rated]
    if policy.eligibility.proration is not None and policy.eligibility.proration.days:
        columns.append(policy.eligibility.proration.days)
    if sc is not None and sc.root is not None:
        kpis, _ = policy.tree(sc.root)
        for name in kpis:
            kpi = policy.kpis[name]
            if kpi.column:
                columns.append(kpi.column)
            elif kpi.measure:
                columns += policy.measures[kpi.measure].columns()
    if policy.pay is not None:
        columns += _columns_named(policy.pay.model_dump())
    return [c for c in dict.fromkeys(columns) if c in records and c != policy.inputs.records.period]


def _columns_named(tree: Any) -> list[str]:
    """Every text value under a ``column`` or ``days`` key of a dumped model (pay reads them)."""
    found: list[str] = []
    if isinstance(tree, dict):
        for key, item in tree.items():
            if key in ("column", "days") and isinstance(item, str):
                found.append(item)
            else:
                found += _columns_named(item)
    elif isinstance(tree, list):
        for item in tree:
            found += _columns_named(item)
    return found


@dataclass(frozen=True)
class FieldSpec:
    """One field of the form: the records column, its label, its kind and, for choices, the
    options (``int`` → whole-number box, ``float`` → number box, ``bool`` → checkbox,
    ``choice`` → drop-down, ``text`` → text box).
    """

    column: str
    label: str
    kind: str
    options: tuple[str, ...] = field(default_factory=tuple)


def field_spec(policy: Policy, column: str, records: pd.DataFrame | None = None) -> FieldSpec:
    """The field for records ``column``: its label (and unit) from the policy, its kind from the
    column's type, and the choices of a label column (the policy's labels, with any the KPIs
    score) or a text column (the values seen in ``records``).
    """
    spec = policy.inputs.records.columns[column]
    label = spec.label or column
    if spec.unit:
        label = f"{label} ({spec.unit})"
    if spec.type == "int":
        return FieldSpec(column, label, "int")
    if spec.type == "float":
        return FieldSpec(column, label, "float")
    if spec.type == "bool":
        return FieldSpec(column, label, "bool")
    if spec.type == "label":
        options = list(spec.labels or [])
        for kpi in policy.kpis.values():
            if kpi.column == column and isinstance(kpi.rule, LabelPoints):
                options += [k for k in kpi.rule.points if k not in options]
        return FieldSpec(column, label, "choice", tuple(options))
    if spec.type == "text" and records is not None and column in records:
        seen = records[column].dropna().astype(str).unique()
        if 0 < len(seen) <= 200:
            return FieldSpec(column, label, "choice", tuple(sorted(seen)))
    return FieldSpec(column, label, "text")


# --- before and after ----------------------------------------------------------------------------
def pay_columns(policy: Policy, payouts: pd.DataFrame | None) -> dict[str, str]:
    """The pay components of ``payouts`` ({column: label}), in the payouts' column order."""
    if payouts is None:
        return {}
    labels: dict[str, str] = {}
    if policy.pay is not None:
        labels = {name: c.label or name for name, c in policy.pay.components.items()}
        if policy.pay.pool is not None:
            labels["pool"] = policy.pay.pool.label or "pool"
    return {c: labels.get(c, c) for c in payouts.columns
            if c not in PAY_META and pd.api.types.is_float_dtype(payouts[c])}


def _pay_period(period: str, periods: list[str]) -> str | None:
    """The pay period holding ``period``: itself, its year (``2025``) or its quarter (``2025-Q2``)."""
    if period in periods:
        return period
    year = period[:4]
    quarter = None
    if len(period) == 7 and period[4] == "-" and period[5:].isdigit():
        quarter = f"{year}-Q{(int(period[5:]) - 1) // 3 + 1}"
    for candidate in (quarter, year):
        if candidate in periods:
            return candidate
    return None


def outcome(result: Result, policy: Policy, person: str, period: str) -> dict[str, Any]:
    """One person's outcome in one period: status, score, grade, place and pay (raw values).

    The pay is the pay period's that holds ``period`` (the month itself, or its quarter or year
    when the policy pays on a roll-up). Keys: ``status``, ``reason``, ``score``, ``grade``,
    ``grade_label``, ``place``, ``group_size``, ``group``, ``pay_period``, each pay component's
    column, and ``payout``; a missing value is None.
    """
    out: dict[str, Any] = {}
    s = result.scores
    row = s[(s["id"].astype(str) == person) & (s["period"].astype(str) == period)]
    if len(row):
        out.update(status=str(row["status"].iloc[0]), reason=row["reason"].iloc[0],
                   score=row["score"].iloc[0])
    if result.grades is not None:
        g = result.grades
        row = g[(g["id"].astype(str) == person) & (g["period"].astype(str) == period)]
        for key in ("grade", "grade_label", "place", "group_size", "group"):
            out[key] = row[key].iloc[0] if len(row) and key in row else None
    if result.payouts is not None:
        p = result.payouts[result.payouts["id"].astype(str) == person]
        periods = p["period"].astype(str)
        pay_period = _pay_period(period, list(periods))
        out["pay_period"] = pay_period
        row = p[periods == pay_period]
        for column in [*pay_columns(policy, result.payouts), "payout"]:
            out[column] = row[column].iloc[0] if len(row) else None
    return {k: (None if f.is_missing(v) else v) for k, v in out.items()}


def _grade_text(o: dict[str, Any]) -> str:
    if o.get("grade") is None:
        return f.MISSING
    return f"{o['grade']} {o.get('grade_label') or ''}".strip()


def _place_text(o: dict[str, Any]) -> str:
    if o.get("place") is None:
        return f.MISSING
    text = f"{f.integer(o['place'])} of {f.integer(o.get('group_size'))}"
    return text + (f" in {o['group']}" if o.get("group") else "")


def _status_text(o: dict[str, Any]) -> str:
    status = o.get("status")
    if status is None:
        return f.MISSING
    return status.replace("_", " ") + (f" ({o['reason']})" if o.get("reason") else "")


def before_after(before: Result, after: Result, policy: Policy, person: str,
                 period: str) -> pd.DataFrame:
    """The person's outcome before and after, one row per item, formatted for reading.

    Returns
    -------
    DataFrame
        Columns ``item`` (status, score, grade, place in the group, each pay component, payout:
        the policy's labels), ``before``, ``after``, ``change`` (signed, for score and money;
        empty when equal) and ``changed`` (bool). Rows without a value on either side are left
        out (a scheme without grades has no grade row).
    """
    b, a = outcome(before, policy, person, period), outcome(after, policy, person, period)
    decimals = f.score_decimals(policy)
    currency, unit = policy.currency, policy.pay.unit if policy.pay is not None else 0.01
    rows: list[tuple[str, str, str, str]] = [("status", _status_text(b), _status_text(a), "")]

    def numeric(item: str, key: str, show: Any, delta: Any) -> None:
        x, y = b.get(key), a.get(key)
        if x is None and y is None:
            return
        change = delta(y - x) if x is not None and y is not None and x != y else ""
        rows.append((item, show(x), show(y), change))

    numeric("score", "score", lambda v: f.score(v, decimals), lambda d: f.signed_score(d, decimals))
    if "grade" in b or "grade" in a:
        rows.append(("grade", _grade_text(b), _grade_text(a), ""))
        rows.append(("place in group", _place_text(b), _place_text(a), ""))
    if before.payouts is not None or after.payouts is not None:
        pay = {**pay_columns(policy, before.payouts), **pay_columns(policy, after.payouts)}
        for column, label in pay.items():
            numeric(label, column, lambda v: f.money(v, currency, unit),
                    lambda d: f.signed_money(d, currency, unit))
        numeric("payout", "payout", lambda v: f.money(v, currency, unit),
                lambda d: f.signed_money(d, currency, unit))
    table = pd.DataFrame(rows, columns=["item", "before", "after", "change"])
    table["changed"] = table["before"] != table["after"]
    keep = (table["before"] != f.MISSING) | (table["after"] != f.MISSING)
    return table[keep].reset_index(drop=True)


def _readable(line: str) -> str:
    """A statement line without its trailing policy path, missing values as ``—``."""
    return _PATH.sub("", f.no_na(line)).rstrip()


def statement_changes(before: str, after: str) -> list[tuple[str, str]]:
    """The statement lines that differ, as (before, after) pairs: an empty side for a line only
    one statement has. Missing values read ``—``; the policy paths that end lines
    (``[kpis.x.rule]``, for HR) and blank lines are left out.
    """
    old = [_readable(line) for line in before.splitlines() if line.strip()]
    new = [_readable(line) for line in after.splitlines() if line.strip()]
    pairs: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        left, right = old[i1:i2], new[j1:j2]
        for k in range(max(len(left), len(right))):
            pairs.append((left[k].strip() if k < len(left) else "",
                          right[k].strip() if k < len(right) else ""))
    return pairs


def _text(v: Any) -> str:
    return f.MISSING if f.is_missing(v) else str(v)


def moved_view(others: pd.DataFrame, policy: Policy, after: Result | None = None) -> pd.DataFrame:
    """``calib.analysis.moves.moves`` rows in words: person, period, group, move, grade, score and
    payout as ``before → after`` (one value when equal), money with its currency.

    ``after`` (the run after the change) gives each row's quota group, where it has one.
    """
    decimals = f.score_decimals(policy)
    currency, unit = policy.currency, policy.pay.unit if policy.pay is not None else 0.01

    def pair(x: Any, y: Any, show: Any) -> str:
        sx, sy = show(x), show(y)
        return sx if sx == sy else f"{sx} → {sy}"

    rows = []
    groups: dict[tuple[str, str], str] = {}
    if after is not None and after.grades is not None and "group" in after.grades:
        g = after.grades
        groups = dict(zip(zip(g["id"].astype(str), g["period"].astype(str), strict=True),
                          g["group"].astype(str), strict=True))
    paid = "payout_after" in others and not (others["payout_before"].isna().all()
                                              and others["payout_after"].isna().all())
    for r in others.itertuples(index=False):
        row = {"person": str(r.id), "period": str(r.period),
               "group": groups.get((str(r.id), str(r.period)), f.MISSING),
               "move": ARROWS.get(str(r.move), str(r.move)),
               "grade": pair(r.grade_before, r.grade_after, _text),
               "score": pair(r.score_before, r.score_after, lambda v: f.score(v, decimals))}
        if paid:
            row["payout"] = pair(r.payout_before, r.payout_after, lambda v: f.money(v, currency, unit))
            row["pay change"] = f.signed_money(r.payout_change, currency, unit)
        rows.append(row)
    columns = ["person", "period", "group", "move", "grade", "score"] + (
        ["payout", "pay change"] if paid else [])
    return pd.DataFrame(rows, columns=columns)
