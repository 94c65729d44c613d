"""Scoring rules (R5–R12): one common test over every rule type, then the numbers HR types."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from strategies import NUMERIC_RULES, label_rules, make_rule, policy_dict, values_for

from calib.errors import PolicyError
from calib.kernels.dispatch import score_value_scalar, score_values
from calib.kernels.labels import label_points, label_points_scalar
from calib.policy.load import validate_policy


def both(rule, value: float) -> float:
    """Points of one value by the vectorised kernel, checked against the scalar reference."""
    vec = float(score_values(np.array([value]), rule)[0])
    ref = score_value_scalar(value, rule)
    assert vec == ref or (math.isnan(vec) and math.isnan(ref)), (value, vec, ref)
    return vec


def same(a: np.ndarray, b: list[float]) -> bool:
    """Elementwise equal up to float noise (1e-12 relative), NaN exactly where the other has NaN."""
    b = np.asarray(b, dtype=np.float64)
    close = np.isclose(a, b, rtol=1e-12, atol=1e-12)
    return bool(np.all(close | (np.isnan(a) & np.isnan(b))))


# --- the common test ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [*NUMERIC_RULES, "labels"])
@given(data=st.data())
def test_kernel_equals_scalar_reference(kind, data):
    """For every rule type the vectorised kernel gives the scalar reference's points, NaN included."""
    if kind == "labels":
        raw = data.draw(label_rules())
        rule = make_rule(raw)
        known = list(raw["points"])
        pool = st.one_of(st.sampled_from(known), st.sampled_from(known).map(lambda s: f"  {s} "),
                         st.sampled_from(["unknown", "", "  ", "好"]), st.none())
        values = data.draw(st.lists(pool, min_size=1, max_size=30))
        out, unknown = label_points(pd.Series(values, dtype=object), rule)
        ref = [label_points_scalar(v, rule) for v in values]
        assert same(out, ref)
        assert list(unknown) == [math.isnan(r) for r in ref]
        return
    raw = data.draw(NUMERIC_RULES[kind])
    rule = make_rule(raw)
    values = data.draw(values_for(raw))
    out = score_values(np.array(values, dtype=np.float64), rule)
    assert same(out, [score_value_scalar(v, rule) for v in values])
    assert np.isnan(out[np.isnan(values)]).all()


BAD = [
    ("tiers overlap (lower)",
     {"kind": "tiers", "bound": "lower", "bands": [{"at": 0.5, "points": 60}, {"at": 0.65, "points": 80}]},
     "kpis.k.rule", "bands overlap: with bound 'lower' the bands' 'at' values must be strictly "
     "decreasing, but band 1 has at=0.65 after at=0.5"),
    ("tiers overlap (upper, equal bounds)",
     {"kind": "tiers", "bound": "upper", "bands": [{"at": 30, "points": 100}, {"at": 30, "points": 80}]},
     "kpis.k.rule", "bands overlap: with bound 'upper' the bands' 'at' values must be strictly "
     "increasing, but band 1 has at=30.0 after at=30.0"),
    ("tiers without bands",
     {"kind": "tiers", "bound": "upper", "bands": []},
     "kpis.k.rule.bands", "List should have at least 1 item after validation, not 0"),
    ("step of zero",
     {"kind": "step", "direction": "max", "threshold": 0.02, "step": 0, "deduct": 2, "points": 10},
     "kpis.k.rule.step", "Input should be greater than 0; got 0"),
    ("negative step",
     {"kind": "step", "direction": "max", "threshold": 0.02, "step": "-0.5%", "deduct": 2,
      "points": 10},
     "kpis.k.rule.step", "Input should be greater than 0; got -0.005"),
    ("negative deduction",
     {"kind": "step", "direction": "min", "threshold": 0.9, "step": 0.01, "deduct": -2, "points": 10},
     "kpis.k.rule.deduct", "Input should be greater than or equal to 0; got -2"),
    ("unknown partial mode",
     {"kind": "step", "direction": "min", "threshold": 0.9, "step": 0.01, "deduct": 2, "points": 10,
      "partial": "half"},
     "kpis.k.rule.partial", "Input should be 'started', 'proportional' or 'completed'; got 'half'"),
    ("step floor above points",
     {"kind": "step", "direction": "max", "threshold": 0.02, "step": 0.005, "deduct": 2,
      "points": 10, "floor": 12},
     "kpis.k.rule", "floor (12.0) is above the item's points (10.0); the floor is the lowest the "
     "item can fall to, so it must be at most the points"),
    ("step floor equal to points",
     {"kind": "step", "direction": "max", "threshold": 0.02, "step": 0.005, "deduct": 2,
      "points": 10, "floor": 10},
     "kpis.k.rule", "floor (10.0) equals the item's points, so this rule can never deduct anything; "
     "for a pure deduction (points 0) set 'floor' to a negative number or to null (no floor)"),
    ("incident floor above points",
     {"kind": "per_incident", "each": 2, "points": 30, "floor": 31},
     "kpis.k.rule", "floor (31.0) is above the item's points (30.0); the floor is the lowest the "
     "item can fall to, so it must be at most the points"),
    ("incident floor equal to points",
     {"kind": "per_incident", "each": 5, "points": 0, "floor": 0},
     "kpis.k.rule", "floor (0.0) equals the item's points, so this rule can never deduct anything; "
     "for a pure deduction (points 0) set 'floor' to a negative number or to null (no floor)"),
    ("negative incident cost",
     {"kind": "per_incident", "each": -2, "points": 30},
     "kpis.k.rule.each", "Input should be greater than or equal to 0; got -2"),
    ("negative free incidents",
     {"kind": "per_incident", "each": 2, "points": 30, "free": -1},
     "kpis.k.rule.free", "Input should be greater than or equal to 0; got -1"),
    ("labels without labels",
     {"kind": "labels", "points": {}},
     "kpis.k.rule.points", "Dictionary should have at least 1 item after validation, not 0"),
    ("linear min above max",
     {"kind": "linear", "slope": 100, "min": 120, "max": 0},
     "kpis.k.rule", "min (120.0) is above max (0.0)"),
    ("knots not increasing",
     {"kind": "piecewise", "knots": [{"x": 0.8, "y": 1}, {"x": 0.7, "y": 1}]},
     "kpis.k.rule", "knots' x values must be strictly increasing, got [0.8, 0.7]"),
    ("repeated knot",
     {"kind": "piecewise", "knots": [{"x": "70%", "y": 1}, {"x": 0.7, "y": 1}]},
     "kpis.k.rule", "knots' x values must be strictly increasing, got [0.7, 0.7]"),
    ("unknown kind",
     {"kind": "bands", "bound": "lower"},
     "kpis.k.rule", "unknown kind 'bands'; expected one of 'tiers', 'step', 'per_incident', "
     "'labels', 'linear', 'piecewise'"),
]


@pytest.mark.parametrize(("rule", "path", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_parameters_refused_with_message(rule, path, message):
    """A rule with bad parameters is refused with one issue naming its path and what is wrong."""
    column_type = "label" if rule["kind"] == "labels" else "float"
    data = policy_dict({"k": rule})
    data["inputs"]["records"]["columns"]["k"] = {"type": column_type, "labels": ["a"]} \
        if column_type == "label" else {"type": "float"}
    with pytest.raises(PolicyError) as exc:
        validate_policy(data)
    assert [(i.path, i.message) for i in exc.value.issues] == [(path, message)]
    assert str(exc.value) == f"policy is invalid (1 problem):\n  - {path}: {message}"


def test_rule_model_message_without_policy():
    """Built alone, a rule's ValidationError carries the same text as the policy issue."""
    with pytest.raises(ValidationError) as exc:
        make_rule({"kind": "linear", "slope": 1, "min": 5, "max": 1})
    assert [e["msg"] for e in exc.value.errors()] == ["Value error, min (5.0) is above max (1.0)"]


# --- tier tables (R5, R7) ----------------------------------------------------------------------

CONVERSION = {"kind": "tiers", "bound": "lower",
              "bands": [{"at": "75%", "points": 100}, {"at": "65%", "points": 80},
                        {"at": "50%", "points": 60}], "otherwise": 0}


class TestTierTable:
    """R5/R7 tier tables at the values people type."""

    def test_value_on_inclusive_lower_bound(self):
        """Conversion 0.75 with ``at: 75%`` (X ≥ 75%) → 100."""
        assert both(make_rule(CONVERSION), 0.75) == 100

    def test_value_on_exclusive_lower_bound(self):
        """With ``inclusive: false`` (X > 75%) 0.75 falls to the next band (X > 65%) → 80."""
        assert both(make_rule({**CONVERSION, "inclusive": False}), 0.75) == 80

    def test_conversion_bands(self):
        """Conversion 70% → 80, 65% → 80, 64.99% → 60, 49.9% → 0 (seed 004 e-commerce sheet)."""
        rule = make_rule(CONVERSION)
        assert [both(rule, v) for v in (0.70, 0.65, 0.6499, 0.499)] == [80, 80, 60, 0]

    def test_computed_value_on_bound(self):
        """0.1 + 0.2 (= 0.30000000000000004) sits on a 0.3 bound: ≤ 0.3 holds, > 0.3 does not."""
        upper = make_rule({"kind": "tiers", "bound": "upper", "bands": [{"at": 0.3, "points": 10}]})
        strict = make_rule({"kind": "tiers", "bound": "lower", "inclusive": False,
                            "bands": [{"at": 0.3, "points": 10}], "otherwise": -1})
        assert both(upper, 0.1 + 0.2) == 10
        assert both(strict, 0.1 + 0.2) == -1

    def test_ratio_on_bound(self):
        """75 orders / 100 inquiries and 3 / 4 are exactly on a 75% bound → 100."""
        rule = make_rule(CONVERSION)
        assert both(rule, 75 / 100) == 100
        assert both(rule, 3 / 4) == 100

    def test_percent_string_bound(self):
        """``at: 2.5%`` equals the typed 0.025, and 1 / 40 is on it."""
        rule = make_rule({"kind": "tiers", "bound": "upper", "bands": [{"at": "2.5%", "points": 5}]})
        assert rule.bands[0].at == 0.025
        assert both(rule, 0.025) == 5
        assert both(rule, 1 / 40) == 5
        assert both(rule, 0.0251) == 0

    def test_payment_and_order_value(self):
        """Payment 0.92 on a ≥ 92% band → 100; order value 1.07 in [1.0, 1.1) → 60."""
        payment = make_rule({"kind": "tiers", "bound": "lower",
                             "bands": [{"at": "92%", "points": 100}, {"at": "85%", "points": 80}]})
        value = make_rule({"kind": "tiers", "bound": "lower",
                           "bands": [{"at": 1.2, "points": 100}, {"at": 1.1, "points": 80},
                                     {"at": 1.0, "points": 60}]})
        assert both(payment, 0.92) == 100
        assert both(payment, 0.93) == 100
        assert both(value, 1.07) == 60
        assert both(value, 1.1) == 80

    def test_response_time_upper_bounds(self):
        """Response T ≤ 30 → 100, 30 < T ≤ 45 → 80, 45 < T ≤ 55 → 60, T > 55 → 0."""
        rule = make_rule({"kind": "tiers", "bound": "upper",
                          "bands": [{"at": 30, "points": 100}, {"at": 45, "points": 80},
                                    {"at": 55, "points": 60}]})
        assert [both(rule, t) for t in (30, 30.5, 40, 45, 55, 55.01)] == [100, 80, 80, 80, 60, 0]

    def test_exclusive_upper_bound(self):
        """With ``inclusive: false`` T < 30 → 100, so T = 30 gives the next band (T < 45) → 80."""
        rule = make_rule({"kind": "tiers", "bound": "upper", "inclusive": False,
                          "bands": [{"at": 30, "points": 100}, {"at": 45, "points": 80}]})
        assert both(rule, 30) == 80
        assert both(rule, 29.99) == 100

    def test_complaint_deduction_brackets(self):
        """R7: 0% → 0, (0, 0.4%] → −2, (0.4%, 1%] → −4, (1%, 1.5%] → −10, > 1.5% → −10."""
        rule = make_rule({"kind": "tiers", "bound": "upper",
                          "bands": [{"at": 0, "points": 0}, {"at": "0.4%", "points": -2},
                                    {"at": "1%", "points": -4}, {"at": "1.5%", "points": -10}],
                          "otherwise": -10})
        values = (0, 0.001, 0.004, 0.0041, 0.01, 0.015, 0.2)
        assert [both(rule, v) for v in values] == [0, -2, -2, -4, -4, -10, -10]

    def test_revisit_deduction_brackets(self):
        """R7: 100% → 0, [95%, 100%) → −1, [80%, 95%) → −2, [75%, 80%) → −3, < 75% → −5."""
        rule = make_rule({"kind": "tiers", "bound": "lower",
                          "bands": [{"at": 1, "points": 0}, {"at": "95%", "points": -1},
                                    {"at": "80%", "points": -2}, {"at": "75%", "points": -3}],
                          "otherwise": -5})
        values = (1.0, 0.95, 0.9499, 0.80, 0.7999, 0.75, 0.74)
        assert [both(rule, v) for v in values] == [0, -1, -2, -2, -3, -3, -5]

    def test_sales_tiers(self):
        """Sales 250000 → 100, 149999 → 80, 10000 → 50, 9999 → 0 (seed 004)."""
        bands = [(250000, 100), (150000, 90), (100000, 80), (70000, 70), (40000, 60), (10000, 50)]
        rule = make_rule({"kind": "tiers", "bound": "lower",
                          "bands": [{"at": a, "points": p} for a, p in bands]})
        assert [both(rule, v) for v in (250000, 149999, 10000, 9999)] == [100, 80, 50, 0]


# --- step deductions (R6) ----------------------------------------------------------------------

def complaint_rule(partial: str, **extra):
    """Complaint rate ≤ 2%, −2 per 0.5 pp over, as a pure deduction (no floor)."""
    return make_rule({"kind": "step", "direction": "max", "threshold": "2%", "step": "0.5%",
                      "deduct": 2, "partial": partial, "floor": None, **extra})


class TestStepDeduction:
    """R6 step deductions, worked example of logistics_cs."""

    @pytest.mark.parametrize(("partial", "expected"),
                             [("started", -6), ("proportional", -4.4), ("completed", -4)])
    def test_complaint_rate_worked_example(self, partial, expected):
        """3.1% vs 2%: 1.1 pp over = 2.2 steps → started 3·−2 = −6, proportional −4.4, completed −4."""
        assert both(complaint_rule(partial), 0.031) == expected

    @pytest.mark.parametrize("partial", ["started", "proportional", "completed"])
    def test_exactly_on_step_boundary(self, partial):
        """3.0% is 1.0 pp over = exactly 2 steps in every mode → −4 (also as 3 / 100)."""
        assert both(complaint_rule(partial), 0.03) == -4
        assert both(complaint_rule(partial), 3 / 100) == -4

    @pytest.mark.parametrize("value", [0.02, 0.0199, 0.0, 0.01 + 0.01])
    def test_within_the_limit(self, value):
        """At or under 2% (0.01 + 0.01 included) nothing is deducted."""
        assert both(complaint_rule("started"), value) == 0

    def test_just_over_the_limit(self):
        """2.01% has started one step → −2 (proportional: 0.02 steps → −0.04)."""
        assert both(complaint_rule("started"), 0.0201) == -2
        assert both(complaint_rule("proportional"), 0.0201) == -0.04
        assert both(complaint_rule("completed"), 0.0201) == 0

    @pytest.mark.parametrize(("partial", "expected"),
                             [("started", 14), ("proportional", 15.6), ("completed", 16)])
    def test_from_full_points(self, partial, expected):
        """Item worth 20: 3.1% → 20 − 6 = 14, 20 − 4.4 = 15.6, 20 − 4 = 16."""
        assert both(complaint_rule(partial, points=20, floor=0), 0.031) == expected

    def test_floor_stops_the_deduction(self):
        """Item worth 20 with floor 0 (扣完为止): 10% is 16 steps = −32 → 0, not −12."""
        assert both(complaint_rule("started", points=20, floor=0), 0.10) == 0

    @pytest.mark.parametrize(("value", "expected"),
                             [(0.90, 10), (0.895, 8), (0.875, 4), (0.86, 2), (0.50, 2)])
    def test_minimum_direction(self, value, expected):
        """Satisfaction ≥ 90%, −2 per pp under, 10 points, floor 2: 87.5% → 3 started steps → 4."""
        rule = make_rule({"kind": "step", "direction": "min", "threshold": "90%", "step": "1%",
                          "deduct": 2, "points": 10, "floor": 2})
        assert both(rule, value) == expected

    def test_nan_stays_nan(self):
        """A missing value is not scored (NaN in, NaN out)."""
        assert math.isnan(both(complaint_rule("started"), float("nan")))

    @pytest.mark.parametrize("partial", ["started", "completed"])
    def test_whole_steps_of_a_tenth(self, partial):
        """Three whole steps of −0.1 from 0 give −0.3, not −0.30000000000000004, in both kernels."""
        rule = make_rule({"kind": "step", "direction": "max", "threshold": 0, "step": 1,
                          "deduct": 0.1, "partial": partial, "floor": None})
        assert both(rule, 3.0) == -0.3


# --- per incident (R8) -------------------------------------------------------------------------

class TestPerIncident:
    """R8 per-incident deductions with free incidents and a floor."""

    def test_spot_checks_until_used_up(self):
        """Item 30, −2 per failed check: 0 → 30, 4 → 22, 15 → 0, 20 → 0 (扣完为止)."""
        rule = make_rule({"kind": "per_incident", "each": 2, "points": 30})
        assert [both(rule, n) for n in (0, 4, 15, 20)] == [30, 22, 0, 0]

    def test_free_incidents(self):
        """Attendance 10, −2 per late arrival, first 2 free: 2 → 10, 3 → 8, 9 → 0."""
        rule = make_rule({"kind": "per_incident", "each": 2, "points": 10, "free": 2})
        assert [both(rule, n) for n in (0, 2, 3, 9)] == [10, 10, 8, 0]

    def test_floor_above_zero(self):
        """Floor 4: 10 − 2·5 = 0 stops at 4."""
        rule = make_rule({"kind": "per_incident", "each": 2, "points": 10, "floor": 4})
        assert both(rule, 5) == 4

    def test_pure_deduction_without_floor(self):
        """Each complaint −5 with no floor: 3 complaints → −15."""
        rule = make_rule({"kind": "per_incident", "each": 5, "floor": None})
        assert both(rule, 3) == -15


# --- labels (R9) -------------------------------------------------------------------------------

RATING = {"kind": "labels", "points": {"优秀": 3, "良好": 1, "一般": 0, "较差": -2}}


class TestLabels:
    """R9 ordinal labels, Chinese and English, as people type them."""

    def test_labels_with_spaces(self):
        """' 优秀 ' → 3, '良好\\t' → 1, '一般' → 0, '  较差' → −2."""
        rule = make_rule(RATING)
        values = [" 优秀 ", "良好\t", "一般", "  较差"]
        out, unknown = label_points(pd.Series(values), rule)
        assert out.tolist() == [3, 1, 0, -2]
        assert not unknown.any()
        assert [label_points_scalar(v, rule) for v in values] == [3, 1, 0, -2]

    def test_unknown_and_empty_labels_are_flagged(self):
        """'优' (a prefix), '' and None are unknown: NaN with the unknown mask set."""
        rule = make_rule(RATING)
        out, unknown = label_points(pd.Series(["优", "", None, "优秀"], dtype=object), rule)
        assert unknown.tolist() == [True, True, True, False]
        assert out[3] == 3

    def test_english_labels(self):
        """significant / some / little / none → +3 / +1 / 0 / −2."""
        rule = make_rule({"kind": "labels",
                          "points": {"significant": 3, "some": 1, "little": 0, "none": -2}})
        out, _ = label_points(pd.Series(["some", "none "]), rule)
        assert out.tolist() == [1, -2]


# --- linear (R11) and piecewise (R12) ----------------------------------------------------------

QC = {"kind": "piecewise", "knots": [{"x": "70%", "y": 1}, {"x": "80%", "y": 1}],
      "slope_below": 5, "slope_above": 5}


class TestCurves:
    """R11 capped linear and R12 piecewise-linear multipliers."""

    def test_achievement_capped_at_120(self):
        """100 × achievement capped at 120: 0.5 → 50, 1.07 → 107, 1.25 → 120."""
        rule = make_rule({"kind": "linear", "slope": 100, "max": 120})
        assert [both(rule, v) for v in (0.5, 1.07, 1.25)] == [50, 107, 120]

    def test_performance_pay(self):
        """750 × score%: score 50 → 375, score 100 → 750."""
        rule = make_rule({"kind": "linear", "slope": 7.5})
        assert [both(rule, v) for v in (50, 100)] == [375, 750]

    @pytest.mark.parametrize(("qc", "multiplier"),
                             [(0.65, 0.75), (0.84, 1.20), (0.70, 1), (0.75, 1), (0.80, 1),
                              (0.50, 0.0), (1.0, 2.0)])
    def test_qc_multiplier(self, qc, multiplier):
        """QC 65% → 1 − 0.05·5 = 0.75; 84% → 1 + 0.04·5 = 1.20; 70–80% → 1."""
        assert both(make_rule(QC), qc) == multiplier

    def test_single_knot_keeps_nan(self):
        """A one-knot curve (a constant 1 multiplier) leaves a missing value missing: NaN → NaN."""
        rule = make_rule({"kind": "piecewise", "knots": [{"x": 0.7, "y": 1}]})
        assert math.isnan(both(rule, float("nan")))
        assert both(rule, 0.2) == 1

    def test_piecewise_clip_and_flat_ends(self):
        """Without slopes the ends stay flat; ``min`` clips: knots (0, 0), (1, 10), min 2."""
        rule = make_rule({"kind": "piecewise", "knots": [{"x": 0, "y": 0}, {"x": 1, "y": 10}],
                          "min": 2})
        assert [both(rule, v) for v in (-5, 0.1, 0.5, 7)] == [2, 2, 5, 10]


def test_kept_terms_are_dropped_with_their_points():
    """A kept KPI's remembered terms live as long as its array of points (a slider's old
    points are freed each move; their terms must go with them, not pile up)."""
    import gc

    from calib._util import memo
    from calib.engine import score

    points = np.array([92.0, np.nan, 107.0])
    term, where = score._kept_term(points, 15.0)
    assert score._kept_term(points, 15.0)[0] is term  # remembered, not made again
    assert term.tolist() == [1380.0, 0.0, 1605.0] and where.tolist() == [15.0, 0.0, 15.0]
    ident = id(points)
    assert ident in memo._SLOTS
    del points, term, where
    gc.collect()
    assert ident not in memo._SLOTS


@given(st.data())
def test_sections_combine_parts_with_and_without_excluded_rows(data):
    """A weighted or summed section gives, row by row, what the rule says — an excluded item's
    weight shared among the others, an excluded item adding 0, no item at all excluded — whether
    its parts have excluded rows or not (parts without any are added unmasked)."""
    from calib.engine.score import _combine_loop
    from calib.policy.scoring import Section

    n = data.draw(st.integers(1, 12))
    k = data.draw(st.integers(1, 4))
    value = st.one_of(st.sampled_from([0.0, 2.5, 60.0, 92.0, 100.0, 107.0]), st.just(np.nan))
    parts = []
    for _ in range(k):
        whole = data.draw(st.booleans())  # a part with no excluded row
        cells = data.draw(st.lists(st.sampled_from([0.0, 2.5, 60.0, 92.0, 100.0]) if whole
                                   else value, min_size=n, max_size=n))
        parts.append(np.array(cells, dtype=np.float64))
    weights = data.draw(st.lists(st.sampled_from([5.0, 7.5, 10.0, 15.0, 20.0, 25.5]),
                                 min_size=k, max_size=k))
    names = [f"k{i}" for i in range(k)]
    weighted = Section(combine="weighted", weights=dict(zip(names, weights, strict=True)),
                       total_weight=sum(weights))
    summed = Section(combine="sum", items=names, base=data.draw(st.sampled_from([0.0, 100.0])))
    got_w = _combine_loop(weighted, parts, n)
    got_s = _combine_loop(summed, parts, n)
    # bit for bit the masked sums (every part masked, weights present summed per row)
    total, wp, any_present = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
    for p, w in zip(parts, weights, strict=True):
        ok = ~np.isnan(p)
        total, wp, any_present = total + np.where(ok, p, 0.0) * w, wp + ok * w, any_present | ok
    with np.errstate(divide="ignore", invalid="ignore"):
        masked = np.round(np.where(wp > 0, total / 100.0 * (sum(weights) / wp), np.nan), 9)
    assert np.array_equal(got_w, masked, equal_nan=True)
    # a Scenario's kept parts: their terms remembered, the same numbers on the first and the
    # next use (a KPI slider passes the same arrays again)
    kept = [True] * k
    for _ in range(2):
        assert np.array_equal(_combine_loop(weighted, parts, n, kept), got_w, equal_nan=True)
        assert np.array_equal(_combine_loop(summed, parts, n, kept), got_s, equal_nan=True)
    for row in range(n):
        present = [(p[row], w) for p, w in zip(parts, weights, strict=True) if not np.isnan(p[row])]
        wp = sum(w for _, w in present)
        want_w = (sum(v * w for v, w in present) / 100.0 * (sum(weights) / wp)) if wp > 0 else np.nan
        want_s = summed.base + sum(v for v, _ in present) if present else np.nan
        assert got_w[row] == pytest.approx(want_w, abs=1e-9, nan_ok=True)  # rounded to 1e-9
        assert got_s[row] == pytest.approx(want_s, abs=1e-9, nan_ok=True)


@pytest.mark.parametrize(("combine", "want"), [
    ("mean", [96.0, 60.0, np.nan, 51.25]),
    ("min", [92.0, 60.0, np.nan, 2.5]),
    ("product", [9200.0, 60.0, np.nan, 250.0]),
])
def test_mean_min_and_product_sections_skip_excluded_items(combine, want):
    """A mean, min or product section over what is present on each row (92 and 100; 60 alone,
    the other excluded; nothing present → excluded; 2.5 and 100): an excluded item is left out,
    not read as 0 (or 1), and a row with none present is itself excluded."""
    from calib.engine.score import _combine
    from calib.policy.scoring import Section

    a = np.array([92.0, 60.0, np.nan, 2.5])
    b = np.array([100.0, np.nan, np.nan, 100.0])
    got = _combine(Section(combine=combine, items=["a", "b"]), [a, b], 4)
    assert np.array_equal(got, np.array(want), equal_nan=True)
