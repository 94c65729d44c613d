"""Conformance of the pay component registry (``calib.engine.components``).

Every pay type of the policy is registered; each kind declares what its batched form needs; and,
for every type the Monte Carlo computes from the simulated score or grade, its batched form
over scenarios × people (``calib.simulate.pay``) equals the engine's own ``component_units``
on each scenario row, row for row, to the cent (hypothesis-generated components, people,
scores and grades, with the numbers people type: 2.5 %, 0.92, 1.07 and scores on the edges).
"""

from __future__ import annotations

import typing
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from test_lateness_grace import one_month, with_grace

import calib
from calib.engine.components import REGISTRY, PayContext, kind_of
from calib.engine.grading import Population
from calib.engine.payout import component_units
from calib.policy import pay as P
from calib.simulate.pay import _component_plan, _pay_rows, _PayPlan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
POLICY = calib.load_policy(FIXTURES / "grade_pay.yaml")
GRADES = POLICY.grading.scale.names()
COMPONENT = TypeAdapter(P.PayComponent)
LEVELS = ["初级", "中级", "高级"]

money = st.sampled_from([0.0, 0.01, 0.5, 2.5, 50.0, 199.99, 300.0, 693.745, 750.0, 1000.0,
                         12_345.67]) | st.decimals(0, 20_000, places=2).map(float)
factor = st.sampled_from([0.0, 0.5, 0.8, 0.92, 1.0, 1.07, 1.2]) | st.decimals(0, 3, places=3).map(
    float)
share = st.sampled_from([0.0, 0.025, 0.5, 0.75, 0.92, 0.95, 1.0])
threshold = st.sampled_from([60.0, 80.0, 85.0, 89.99, 90.0, 92.5, 95.0, 100.0]) | st.decimals(
    40, 110, places=2).map(float)


def bases():
    """A money base: a constant, a people column, or an amount per level."""
    return st.one_of(
        money.map(lambda a: {"amount": a}),
        st.just({"column": "base"}),
        st.lists(money, min_size=3, max_size=3).map(
            lambda a: {"by": "level", "amounts": dict(zip(LEVELS, a, strict=True))}))


def common(draw) -> dict:
    """What every component may have: deduct, prorate, a condition on a people column."""
    out = {"deduct": draw(st.booleans())}
    if draw(st.booleans()):
        out["when"] = {"column": "level", "eq": draw(st.sampled_from(LEVELS))}
    return out


@st.composite
def components(draw):
    """A valid component of a type the Monte Carlo computes from the score, grade or person."""
    kind = draw(st.sampled_from(["fixed", "score_percent", "score_bands", "grade_coefficient",
                                 "points_below", "award", "per_unit", "workload"]))
    spec = {"kind": kind, **common(draw)}
    if kind == "fixed":
        spec["base"] = draw(bases())
    elif kind == "score_percent":
        spec["base"] = draw(bases())
        spec["max_percent"] = draw(st.none() | threshold)
    elif kind == "score_bands":
        mins = sorted(draw(st.lists(threshold, min_size=1, max_size=4, unique=True)), reverse=True)
        spec["base"] = draw(bases())
        spec["bands"] = [{"min": m, "share": draw(share)} for m in mins]
        spec["otherwise"] = draw(share)
    elif kind == "grade_coefficient":
        spec["base"] = draw(bases())
        spec["coefficients"] = {g: draw(factor) for g in GRADES if draw(st.booleans())} or {
            GRADES[0]: 1.2}
    elif kind == "points_below":
        spec["threshold"] = draw(threshold)
        spec["rate"] = draw(factor | money)
    elif kind == "award":
        spec["amount"] = draw(money)
        spec["score_above"] = draw(st.none() | threshold)
    elif kind == "per_unit":  # per unit of a people column: the same every period
        spec.update(column="base", rate=draw(factor), max=draw(st.none() | money))
    else:  # workload of people columns (R30), per period or per day × a people column of days
        spec.update(workload="done", benchmark=draw(bases()), rate=draw(factor),
                    benchmark_bonus=draw(money | bases()),
                    multiplier=draw(st.none() | st.just("factor")),
                    extra=draw(st.sampled_from([[], ["base"]])))
        bounds = sorted(draw(st.lists(money, max_size=2)))
        spec.update(dict(zip(draw(st.sampled_from([("min", "max"), ("max",), ("min",)])), bounds,
                             strict=False)))
        if draw(st.booleans()):
            spec.update(per="day", days="days")
    return COMPONENT.validate_python(spec)


@st.composite
def people(draw, comp):
    """Slots (people) with their attributes, and scenario rows of scores, rated and grades: the
    scores include every edge of the component (a band's minimum, a threshold) exactly.
    """
    n = draw(st.integers(1, 12))
    rows = draw(st.integers(1, 6))
    edges = [b.min for b in getattr(comp, "bands", [])] + [
        v for v in (getattr(comp, "threshold", None), getattr(comp, "score_above", None),
                    getattr(comp, "max_percent", None)) if v is not None]
    score = st.sampled_from(edges or [90.0]) | st.decimals(0, 120, places=3).map(float)
    return {
        "base": np.array(draw(st.lists(money, min_size=n, max_size=n))),
        "done": np.array(draw(st.lists(st.decimals(0, 2000, places=1).map(float), min_size=n,
                                       max_size=n))),
        "days": np.array(draw(st.lists(st.integers(0, 31), min_size=n, max_size=n)), dtype=float),
        "factor": np.array(draw(st.lists(factor, min_size=n, max_size=n))),
        "level": np.array(draw(st.lists(st.sampled_from(LEVELS), min_size=n, max_size=n)),
                          dtype=object),
        "score": np.array(draw(st.lists(score, min_size=rows * n, max_size=rows * n))).reshape(
            rows, n),
        "rated": np.array(draw(st.lists(st.booleans(), min_size=rows * n,
                                        max_size=rows * n))).reshape(rows, n),
        "grades": np.array(draw(st.lists(st.integers(-1, len(GRADES) - 1), min_size=rows * n,
                                         max_size=rows * n)), dtype=np.int8).reshape(rows, n),
    }


def _policy(comp) -> calib.Policy:
    pay = POLICY.pay.model_copy(update={"components": {"x": comp}, "min": None, "max": None,
                                        "pool": None, "merit": None})
    return POLICY.model_copy(update={"pay": pay})


def _population(cols: dict, score: np.ndarray, rated: np.ndarray) -> Population:
    n = len(score)
    return Population(person=np.arange(n), period=np.zeros(n, dtype=np.int64),
                      period_label=np.array(["next"] * n, dtype=object), score=score,
                      rated=rated, card=np.zeros(n, dtype=np.int64),
                      lowest=np.zeros(n, dtype=bool), ids=np.arange(n).astype(str),
                      column=lambda name: cols[name], row_numbers=np.arange(n))


def test_every_pay_type_of_the_policy_is_registered() -> None:
    """The policy's union of pay types and the registry name the same classes."""
    union = typing.get_args(typing.get_args(P.PayComponent)[0])
    assert set(union) == set(REGISTRY)
    for spec, kind in REGISTRY.items():
        assert kind.spec is spec


@pytest.mark.parametrize("spec", sorted(REGISTRY, key=lambda t: t.__name__),
                         ids=lambda t: t.__name__)
def test_each_kind_declares_what_its_batched_form_needs(spec) -> None:
    """A score-read kind has steps or a formula (prepare and into); only a kind read through
    the grade alone gives amounts per grade; a row-wise type reads no other rows.
    """
    kind = REGISTRY[spec]
    assert (kind.prepare is None) == (kind.into is None)
    assert not (kind.steps is not None and kind.into is not None)
    assert kind.amount.__doc__ and kind.amount.__module__.startswith("calib.engine.components.")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_reads_agree_with_the_policy_model(data) -> None:
    """What a kind says it reads agrees with the policy class's ``reads_grades`` and
    ``row_wise`` (which the live re-runs key their caches on).
    """
    comp = data.draw(components())
    reads = kind_of(comp).reads(comp)
    assert reads.grade == comp.reads_grades
    if comp.row_wise:
        assert not (reads.other_rows or reads.rank)


@settings(max_examples=250, deadline=None)
@given(st.data())
def test_batched_form_equals_the_engine_row_for_row(data) -> None:
    """The Monte Carlo's batched form of a component over scenario rows × people, and the
    engine's ``component_units`` on each row: the same units, to the cent.
    """
    comp = data.draw(components())
    cols = data.draw(people(comp))
    policy = _policy(comp)
    score, rated, grades = cols["score"], cols["rated"], cols["grades"]
    rows, n = score.shape
    grades = np.where(rated, grades, -1).astype(np.int8)
    m = SimpleNamespace(policy=policy, n_slots=n, card=np.zeros(n, dtype=np.int64),
                        ids=np.arange(n).astype(str), column=lambda name: cols[name])
    form, planned = _component_plan(m, "x", comp, lambda column: column in cols)
    assert form != "history", "a component of the person's columns and score is simulated"
    const = planned if form == "constant" else np.zeros(n, dtype=np.int64)
    parts = [] if form == "constant" else [planned]
    plan = _PayPlan(policy.pay.unit, policy.pay.rounding, const, parts, {}, None, None, None,
                    None, 0)
    batched = _pay_rows(plan, score.copy(), rated, grades).copy()
    nobody = np.zeros(n, dtype=bool)
    for r in range(rows):
        pop = _population(cols, score[r].copy(), rated[r].copy())
        ctx = PayContext(SimpleNamespace(policy=policy), pop, None, grades[r].copy(), {})
        engine = np.where(rated[r], component_units(ctx, "x", comp, None, nobody), 0)
        assert np.array_equal(batched[r], engine), (form, comp, r)


@pytest.mark.parametrize("spec", [
    {"kind": "lateness", "table": "late"},
    {"kind": "lateness", "table": "late", "grace": {"max_cases": 3, "max_total": 15, "combine": "or"}},
    {"kind": "workload", "benchmark_bonus": 500, "benchmark": {"amount": 100}, "workload": "done"},
    {"kind": "workload", "benchmark_bonus": {"column": "base"}, "benchmark": {"amount": 18},
     "per": "day", "days": "days_present", "workload": "base"},
    {"kind": "piece_rate", "rates": {"pieces": 2.5}},
    {"kind": "commission", "output": "sales", "base": {"amount": 1000},
     "tiers": [{"above": 410000, "rate": 0.0025}]},
    {"kind": "per_unit", "column": "tickets", "rate": 0.2},
    {"kind": "award", "amount": 300, "top": 3},
    {"kind": "team_mean", "team": "level", "members": ["staff"], "of": "score", "factor": 1.2},
    {"kind": "fixed", "base": {"amount": 50}, "when": {"column": "late_count", "eq": 0}},
], ids=lambda s: s["kind"])
def test_what_the_simulation_does_not_draw_is_the_historical_mean(spec) -> None:
    """A component reading period values, events, ranks or other rows (or a condition on a
    period's column) has no batched form from the score: the Monte Carlo uses the person's
    historical mean, and says so.
    """
    comp = COMPONENT.validate_python(spec)
    n = 3
    cols = {"base": np.ones(n), "level": np.array(LEVELS, dtype=object)}
    m = SimpleNamespace(policy=_policy(comp), n_slots=n, card=np.zeros(n, dtype=np.int64),
                        ids=np.arange(n).astype(str), column=lambda name: cols[name])
    form, planned = _component_plan(m, "x", comp, lambda column: column in cols)
    assert (form, planned) == ("history", None)
    why = kind_of(comp).not_drawn(comp, lambda column: column in cols)
    assert (why is None) == (spec["kind"] == "fixed")  # the fixed part: for its condition


@st.composite
def graces(draw) -> dict:
    """A valid grace as people type it: one limit, or both with ``combine`` (R29, 3 cases /
    15 minutes and their neighbours).
    """
    out = {"under": draw(st.sampled_from([5, 3, "5"]))}
    limits = draw(st.sampled_from(["cases", "total", "both"]))
    if limits in ("cases", "both"):
        out["max_cases"] = draw(st.sampled_from([0, 2, 3, 4]))
    if limits in ("total", "both"):
        out["max_total"] = draw(st.sampled_from([0, 12, 14, 15, 16, "15"]))
    if limits == "both":
        out["combine"] = draw(st.sampled_from(["and", "or"]))
    return out


def _late_by_hand(grace: dict, minutes: list[int]) -> float:
    """The R29 deduction of one month, read from the grace as written (rate 1, at most 30)."""
    short = [m for m in minutes if m < float(grace["under"])]
    few = len(short) <= grace["max_cases"] if "max_cases" in grace else None
    brief = sum(short) <= float(grace["max_total"]) if "max_total" in grace else None
    tests = [t for t in (few, brief) if t is not None]
    forgiven = any(tests) if grace.get("combine") == "or" else all(tests)
    return min(sum(minutes) - (sum(short) if forgiven else 0), 30)


@settings(max_examples=60, deadline=None)
@given(graces(), st.lists(st.lists(st.integers(1, 12), max_size=6), min_size=1, max_size=4))
def test_lateness_grace_equals_its_reading_by_hand(grace, months) -> None:
    """The lateness component with any grace (one limit, or both joined by ``and`` / ``or``)
    deducts per person what the rule as written gives, to the yuan.
    """
    policy = with_grace(**grace)
    data = [one_month(minutes) for minutes in months]
    tables = {name: pd.concat([d[name].assign(employee_id=f"P{i}") if name != "adjustments"
                               else d[name] for i, d in enumerate(data)], ignore_index=True)
              for name in data[0]}
    payouts = calib.run(policy, tables).payouts.set_index("id")
    for i, minutes in enumerate(months):
        assert -payouts.loc[f"P{i}", "lateness"] == _late_by_hand(grace, minutes), (grace, minutes)
