"""The columns a policy groups people by: one answer for every view that needs a default group.

``group_columns`` is what the grading groups people within (the quota groups); ``grouping_columns``
every column the policy groups by at all, most telling first; ``default_group`` the one column to
total, chart or compare by when nobody names one.
"""

from __future__ import annotations

from collections.abc import Iterable

from calib.policy.model import Policy


def group_columns(policy: Policy) -> list[str]:
    """The columns the policy grades people within: the first forced distribution's ``by`` (the
    first forced rule that groups), else the first cascade's team column, else the bonus pool's
    ``by``; empty when it grades and pays everyone together.
    """
    rules = list(policy.grading.rules.values()) if policy.grading is not None else []
    for rule in rules:
        if rule.forced is not None and rule.forced.by:
            return list(rule.forced.by)
    for rule in rules:
        if rule.cascade is not None:
            return [rule.cascade.team]
    pool = policy.pay.pool if policy.pay is not None else None
    return [pool.by] if pool is not None and pool.by else []


def grouping_columns(policy: Policy) -> list[str]:
    """Every column the policy groups people by, each once: ``group_columns`` first, then the
    other forced distributions' ``by`` and cascades' teams, the ranking's ``by``, the pool's
    ``by``, pay components' ``mean_by`` and ``floor_by``, and scorecards' group-average ``by``.
    """
    out = group_columns(policy)
    grading = policy.grading
    if grading is not None:
        for rule in grading.rules.values():
            out += rule.forced.by if rule.forced is not None else []
            out += [rule.cascade.team] if rule.cascade is not None else []
        out += grading.ranking.by if grading.ranking is not None else []
    if policy.pay is not None:
        out += [policy.pay.pool.by] if policy.pay.pool is not None and policy.pay.pool.by else []
        for comp in policy.pay.components.values():
            out += [c for c in (getattr(comp, "mean_by", None), getattr(comp, "floor_by", None)) if c]
    for card in policy.scorecards.values():
        if card.adjustments is not None and card.adjustments.group_average is not None:
            out.append(card.adjustments.group_average.by)
    return list(dict.fromkeys(out))


def people_text_columns(policy: Policy) -> list[str]:
    """The people table's text and label columns, in the policy's order (what people are
    usually grouped by when the policy itself groups nobody: department, team, branch).
    """
    people = policy.inputs.people
    columns = people.columns if people is not None else {}
    return [name for name, spec in columns.items() if spec.type in ("text", "label")]


def default_group(policy: Policy, columns: Iterable[str]) -> str | None:
    """The column to group people by when none is named, among ``columns`` (those at hand):
    the first of ``grouping_columns``, else the first of ``people_text_columns``; None when
    none is at hand.
    """
    have = set(columns)
    return next((c for c in (*grouping_columns(policy), *people_text_columns(policy))
                 if c in have), None)
