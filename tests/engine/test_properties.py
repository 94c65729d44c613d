"""Properties that hold for every valid policy and input, checked with hypothesis."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    make_rule,
    policies,
    policy_dict,
    step_deductions,
    tier_tables,
    typed,
    weights_summing_to,
)

import calib
from calib.engine.score import _combine
from calib.errors import PolicyError
from calib.kernels.dispatch import score_values
from calib.policy.base import parse_number
from calib.policy.load import validate_policy
from calib.policy.scoring import Section

points_in = st.floats(min_value=-50, max_value=150, allow_nan=False)


@st.composite
def weighted_case(draw, allow_missing: bool):
    """A weighted section of 1–6 items, a range [lo, hi] and points inside it (some missing)."""
    n = draw(st.integers(1, 6))
    weights = draw(weights_summing_to(n))
    lo = draw(points_in)
    hi = draw(st.floats(min_value=lo, max_value=lo + 200, allow_nan=False))
    rows = draw(st.integers(1, 8))
    value = st.floats(min_value=lo, max_value=hi, allow_nan=False)
    if allow_missing:
        value = st.one_of(value, st.just(math.nan))
    parts = [np.array(draw(st.lists(value, min_size=rows, max_size=rows))) for _ in range(n)]
    sec = Section(combine="weighted", weights={f"k{i}": w for i, w in enumerate(weights)})
    return sec, parts, lo, hi


def inside(out: np.ndarray, lo: float, hi: float) -> bool:
    """Every present value within [lo, hi] up to the engine's 1e-9 rounding."""
    ok = out[~np.isnan(out)]
    return bool(np.all((ok >= lo - 1e-9 * max(1, abs(lo))) & (ok <= hi + 1e-9 * max(1, abs(hi)))))


@given(weighted_case(allow_missing=False))
def test_weighted_section_stays_in_points_range(case):
    """Weights adding up to 100 over points in [lo, hi] give a section score in [lo, hi]."""
    sec, parts, lo, hi = case
    out = _combine(sec, parts, len(parts[0]))
    assert not np.isnan(out).any()
    assert inside(out, lo, hi)


@given(weighted_case(allow_missing=True))
def test_exclusion_reweighting_stays_in_range(case):
    """With excluded (NaN) items re-weighted, the section stays in [lo, hi]; all excluded → NaN."""
    sec, parts, lo, hi = case
    out = _combine(sec, parts, len(parts[0]))
    w = np.array(list(sec.weights.values()))
    present_weight = (~np.isnan(np.column_stack(parts))) @ w
    assert np.array_equal(np.isnan(out), present_weight == 0)
    assert inside(out, lo, hi)


@settings(max_examples=30)
@given(st.data())
def test_engine_total_stays_in_range_with_exclusions(data):
    """Run end to end: linear KPIs clipped to [0, 100], some cells empty → scores in [0, 100];
    a row is not rated exactly when no item with a weight above 0 is present.
    """
    n = data.draw(st.integers(2, 4))
    names = [f"k{i}" for i in range(n)]
    weights = dict(zip(names, data.draw(weights_summing_to(n)), strict=True))
    rule = {"kind": "linear", "slope": 1, "min": 0, "max": 100}
    policy_data = policy_dict({k: rule for k in names}, weights)
    for k in names:
        policy_data["inputs"]["records"]["columns"][k]["required"] = False
    policy = validate_policy(policy_data)
    rows = data.draw(st.integers(1, 6))
    cell = st.one_of(st.floats(-100, 300, allow_nan=False), st.just(math.nan))
    frame = pd.DataFrame({"employee_id": [f"E{i}" for i in range(rows)],
                          "period": ["2025-03"] * rows,
                          **{k: data.draw(st.lists(cell, min_size=rows, max_size=rows))
                             for k in names}})
    result = calib.run(policy, frame)
    assert len(result.scores) == rows
    rated = result.scores[result.scores["status"] == "rated"]
    assert inside(rated["score"].to_numpy(dtype=float), 0, 100)
    present_weight = frame[names].notna().to_numpy() @ np.array(list(weights.values()))
    assert (result.scores["status"].to_numpy() == "not_rated").tolist() == (
        present_weight == 0).tolist()


@given(step_deductions(), st.lists(st.floats(-1e5, 1e5, allow_nan=False), min_size=1, max_size=20))
def test_step_deduction_never_below_floor(raw, values):
    """A step deduction never gives less than its floor, nor more than its full points."""
    rule = make_rule(raw)
    out = score_values(np.array(values), rule)
    if rule.floor is not None:
        assert (out >= rule.floor).all()
    assert (out <= rule.points + 1e-9).all()


@given(st.data())
def test_monotone_tier_table_is_monotone(data):
    """Better points for better bands: with bound lower a higher value never scores fewer points,
    with bound upper a higher value never scores more.
    """
    raw = data.draw(tier_tables(monotone=True))
    rule = make_rule(raw)
    values = np.sort(np.array(data.draw(st.lists(typed, min_size=2, max_size=30))))
    edges = np.array([b["at"] for b in raw["bands"]])
    values = np.sort(np.concatenate([values, edges]))
    out = score_values(values, rule)
    steps = np.diff(out)
    assert (steps >= 0).all() if raw["bound"] == "lower" else (steps <= 0).all()


@given(st.decimals(min_value=-10_000, max_value=10_000, places=3))
def test_parse_number_percent_and_permille(d):
    """'x%' parses to the float nearest x/100 and 'x‰' to x/1000, as if the ratio had been typed."""
    assert parse_number(f"{d}%") == float(d / Decimal(100))
    assert parse_number(f"{d}‰") == float(d / Decimal(1000))
    assert parse_number(f" {d} ") == float(d)


@pytest.mark.parametrize(("text", "value"), [
    ("2.5%", 0.025), ("2‰", 0.002), ("0.92", 0.92), ("92%", 0.92),
    ("250_000", 250000.0), (" 75% ", 0.75), ("-0.5%", -0.005), ("0.5%", 0.005), ("100%", 1.0),
])
def test_parse_number_examples(text, value):
    """The strings HR types: '2.5%' == 0.025, '2‰' == 0.002, '250_000' == 250000, ..."""
    assert parse_number(text) == value


def test_parse_number_leaves_other_values():
    """Non-numbers are returned as they are for pydantic to report; numbers pass through."""
    assert parse_number("12a") == "12a"
    assert parse_number(0.3) == 0.3
    assert parse_number(None) is None


@given(policies())
def test_policy_round_trip_yaml_and_json(policy):
    """parse_policy(dump_policy(p)) == p in YAML and in JSON."""
    assert calib.parse_policy(calib.dump_policy(policy)) == policy
    assert calib.parse_policy(calib.dump_policy(policy, "json"), fmt="json") == policy


@given(policies())
def test_with_params_of_current_values_is_identity(policy):
    """Setting every tunable number to its own value gives back an equal policy."""
    assert policy.with_params({p.path: p.value for p in policy.params()}) == policy


@given(st.floats(min_value=0.9, max_value=100, exclude_min=True, allow_nan=False))
def test_with_params_outside_declared_range_refused(mini_policy, value):
    """A value above the range declared under 'ranges' ([0.6, 0.9]) is refused, naming the path."""
    path = "kpis.conversion.rule.bands[0].at"
    with pytest.raises(PolicyError) as exc:
        mini_policy.with_params({path: value})
    assert [(i.path, i.message) for i in exc.value.issues] == [
        (path, f"{value} is outside the range [0.6, 0.9] declared for it under 'ranges'")]


@given(st.floats(min_value=-1e12, max_value=0, allow_nan=False, allow_infinity=False))
def test_with_params_outside_rule_constraint_refused(value):
    """A step of 0 or less is refused by with_params with the rule's own constraint message."""
    rule = {"kind": "step", "direction": "max", "threshold": 0.02, "step": 0.005, "deduct": 2,
            "points": 10}
    policy = validate_policy(policy_dict({"k": rule}))
    with pytest.raises(PolicyError) as exc:
        policy.with_params({"kpis.k.rule.step": value})
    assert [(i.path, i.message) for i in exc.value.issues] == [
        ("kpis.k.rule.step", f"Input should be greater than 0; got {value!r}")]


@given(st.data())
def test_params_bounds_admit_current_value(data):
    """Every param's current value lies inside the bounds params() reports for it."""
    policy = data.draw(policies())
    for p in policy.params():
        if p.min is not None:
            assert p.value > p.min if p.min_exclusive else p.value >= p.min
        if p.max is not None:
            assert p.value < p.max if p.max_exclusive else p.value <= p.max
