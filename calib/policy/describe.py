"""Plain-language descriptions of rules and measures, for statements and sign-off sheets."""

from __future__ import annotations

from calib.policy import measures as M
from calib.policy import rules as R


def _num(x: float) -> str:
    return f"{x:g}"


def describe_rule(rule: object) -> str:
    """What a scoring rule does, in one line (numbers as in the policy)."""
    if isinstance(rule, R.TierTable):
        op = ("≥" if rule.inclusive else ">") if rule.bound == "lower" else (
            "≤" if rule.inclusive else "<")
        bands = "; ".join(f"{op} {_num(b.at)} → {_num(b.points)}" for b in rule.bands)
        return f"tiers: {bands}; otherwise {_num(rule.otherwise)}"
    if isinstance(rule, R.StepDeduction):
        side = "above" if rule.direction == "max" else "below"
        floor = "no floor" if rule.floor is None else f"floor {_num(rule.floor)}"
        return (f"{_num(rule.points)} points, −{_num(rule.deduct)} per {rule.partial} step of "
                f"{_num(rule.step)} {side} {_num(rule.threshold)}, {floor}")
    if isinstance(rule, R.PerIncident):
        floor = "no floor" if rule.floor is None else f"floor {_num(rule.floor)}"
        free = f" after {rule.free} free" if rule.free else ""
        return f"{_num(rule.points)} points, −{_num(rule.each)} per incident{free}, {floor}"
    if isinstance(rule, R.LabelPoints):
        return "labels: " + ", ".join(f"{k} → {_num(v)}" for k, v in rule.points.items())
    if isinstance(rule, R.Linear):
        cap = "".join([f", at least {_num(rule.min)}" if rule.min is not None else "",
                       f", at most {_num(rule.max)}" if rule.max is not None else ""])
        return f"{_num(rule.intercept)} + {_num(rule.slope)} × value{cap}"
    if isinstance(rule, R.Piecewise):
        knots = ", ".join(f"({_num(k.x)}, {_num(k.y)})" for k in rule.knots)
        return (f"piecewise through {knots}; slope {_num(rule.slope_below or 0)} below, "
                f"{_num(rule.slope_above or 0)} above")
    return type(rule).__name__


def describe_measure(m: object) -> str:
    """How a measure is computed, as a formula over column names."""
    if isinstance(m, M.RatioMeasure):
        where = f" over {m.table}" if m.table else (f" over the {m.group_by}" if m.group_by else "")
        scale = f" × {_num(m.scale)}" if m.scale != 1 else ""
        return f"Σ({' + '.join(m.numerator)}) / Σ({' + '.join(m.denominator)}){where}{scale}"
    if isinstance(m, M.TargetMeasure):
        target = m.target or _num(m.target_value or 0)
        return f"{m.actual} / {target}" if m.direction == "higher" else f"{target} / {m.actual}"
    if isinstance(m, M.AggregateMeasure):
        cols = " + ".join(m.columns_) or "rows"
        return f"{m.how} of {cols}" + (f" in {m.table}" if m.table else "")
    if isinstance(m, M.SlaMeasure):
        limits = ", ".join(f"{k} ≤ {_num(v)} {m.unit}" for k, v in m.limits.items())
        return f"requests answered on time / requests in {m.table} ({limits})"
    if isinstance(m, M.RatingMeasure):
        return "weighted mean of raters: " + ", ".join(f"{k} {_num(v)}"
                                                       for k, v in m.weights.items())
    if isinstance(m, M.ChecklistMeasure):
        return "Σ points of items met: " + ", ".join(f"{k} {_num(v)}" for k, v in m.items.items())
    if isinstance(m, M.ColumnMeasure):
        return m.column
    return type(m).__name__
