"""Engine side of grading (SCHEMES.md R13, R23–R25): thresholds, forced distribution in groups,
cascaded quotas, grades given by the data, and the veto that caps a grade at the lowest.

Grading works on a ``Population``: the rows to grade (period scores, or a roll-up's rows) with
their score, scorecard, person and a way to read group columns. Rules run in dependency order
(a cascade after the rule that grades its leaders), each through its method in ``REGISTRY``:
one module per method (``thresholds``, ``forced``, ``cascade``, ``given``), each declaring its
kernel and its batched form (``calib.engine.grading.method``), which the Monte Carlo reads.
"""

from __future__ import annotations

import functools

import numpy as np

from calib._util.memo import json_key, remember
from calib.engine.grading import cascade, forced, given
from calib.engine.grading import thresholds as by_scale
from calib.engine.grading.core import (
    GradeDetails,
    Grades,
    Population,
    QuotaGroups,
    column_codes,
    group_codes,
    thresholds,
)
from calib.engine.grading.method import Form, GradingMethod
from calib.policy.grading import Grading, GradingRule

__all__ = ["REGISTRY", "Form", "GradeDetails", "Grades", "GradingMethod", "Population",
           "QuotaGroups", "column_codes", "grade", "group_codes", "method_of", "rule_order",
           "thresholds"]

REGISTRY: dict[str, GradingMethod] = {m.METHOD.name: m.METHOD for m in (
    by_scale, forced, cascade, given)}


def method_of(rule: GradingRule) -> GradingMethod:
    """The registered method of a grading rule."""
    try:
        return REGISTRY[rule.method]
    except KeyError:
        raise TypeError(f"no grading method registered as {rule.method!r}; add its module to "
                        "calib.engine.grading.REGISTRY") from None


def _rule_rows(pop: Population, cards: list[int], card_index: dict[str, int]) -> np.ndarray:
    """The rated rows, not capped at the lowest grade by a veto, on one of ``cards``."""
    if set(cards) == set(card_index.values()):
        return np.flatnonzero(pop.rated & ~pop.lowest)
    return np.flatnonzero(pop.rated & np.isin(pop.card, cards) & ~pop.lowest)


def rule_order(grading: Grading) -> list[str]:
    """Rules in the order they must run: a rule reading a scorecard's grades (a cascade, its
    leaders') after the rule grading that scorecard.
    """
    done: list[str] = []
    pending = list(grading.rules)
    while pending:
        for name in pending:
            rule = grading.rules[name]
            after = method_of(rule).after(rule)
            if after is None:
                done.append(name)
                pending.remove(name)
                break
            before = [n for n, r in grading.rules.items() if after in r.scorecards]
            if all(b in done for b in before):
                done.append(name)
                pending.remove(name)
                break
        else:  # pragma: no cover - the policy's reference checks refuse such cycles
            raise ValueError("grading rules depend on each other in a circle")
    return done


def grade(pop: Population, grading: Grading, card_names: list[str]) -> Grades:
    """Grade every rated row of ``pop`` under ``grading``; a veto caps a grade at the lowest."""
    key = ("grade", json_key(grading), tuple(card_names), pop.key)
    return remember(pop.memo, key, lambda: _grade(pop, grading, card_names))


def _grade(pop: Population, grading: Grading, card_names: list[str]) -> Grades:
    n = pop.n
    out = Grades(n)
    card_index = {c: i for i, c in enumerate(card_names)}
    scale = grading.scale
    vetoed = pop.rated & pop.lowest
    out.grade[vetoed] = len(scale.grades) - 1
    out.later(lambda d: d.rule.set(vetoed, "veto"))
    for name in rule_order(grading):
        rule = grading.rules[name]
        cards = [card_index[c] for c in rule.scorecards] if rule.scorecards else list(
            card_index.values())
        rows = remember(pop.memo, ("rule rows", tuple(cards), pop.status_key),
                        functools.partial(_rule_rows, pop, cards, card_index))
        method_of(rule).kernel(pop, rows, rule, name, scale, card_index, out)
    return out
