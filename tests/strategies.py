"""Hypothesis strategies for calib: scoring rules with valid random parameters, values, policies.

Every rule strategy draws the plain data HR would type (a dict) and builds the pydantic model from
it, so the model's own validators decide what is valid; the strategies only draw valid parameters.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st
from pydantic import TypeAdapter

from calib.policy.load import validate_policy
from calib.policy.rules import ScoringRule

RULE = TypeAdapter(ScoringRule)

# Numbers of the size HR types: percentages, seconds, money; rounded to 4 places like a sheet.
finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
typed = st.decimals(min_value=-1000, max_value=1000, places=4).map(float)
positive = st.decimals(min_value="0.0001", max_value=100, places=4).map(float)
points = st.integers(min_value=-20, max_value=120).map(float)


def make_rule(data: dict[str, Any]):
    """A validated scoring rule from its plain data."""
    return RULE.validate_python(data)


@st.composite
def tier_tables(draw, bound: str | None = None, monotone: bool = False) -> dict[str, Any]:
    """R5/R7 tier table: 1–6 bands in the order the bound needs, either direction, (in)exclusive.

    ``monotone`` makes the points better for better bands (the shape every real table has).
    """
    bound = bound or draw(st.sampled_from(["lower", "upper"]))
    ats = sorted(draw(st.lists(typed, min_size=1, max_size=6, unique=True)))
    if bound == "lower":
        ats = ats[::-1]
    pts = draw(st.lists(points, min_size=len(ats) + 1, max_size=len(ats) + 1))
    if monotone:
        pts = sorted(pts, reverse=True)
    return {"kind": "tiers", "bound": bound, "inclusive": draw(st.booleans()),
            "bands": [{"at": a, "points": p} for a, p in zip(ats, pts[:-1], strict=True)],
            "otherwise": pts[-1]}


@st.composite
def step_deductions(draw) -> dict[str, Any]:
    """R6 step deduction: either direction, all three partial modes, with or without a floor."""
    full = draw(st.integers(min_value=0, max_value=100).map(float))
    floor = draw(st.one_of(st.none(), st.integers(min_value=-50, max_value=int(full) - 1)
                           .map(float)))
    return {"kind": "step", "direction": draw(st.sampled_from(["max", "min"])),
            "threshold": draw(typed), "step": draw(positive),
            "deduct": draw(st.decimals(min_value=0, max_value=20, places=2).map(float)),
            "partial": draw(st.sampled_from(["started", "proportional", "completed"])),
            "points": full, "floor": floor}


@st.composite
def per_incidents(draw) -> dict[str, Any]:
    """R8 per-incident deduction with free incidents, with or without a floor."""
    full = draw(st.integers(min_value=0, max_value=100).map(float))
    floor = draw(st.one_of(st.none(), st.integers(min_value=-50, max_value=int(full) - 1)
                           .map(float)))
    return {"kind": "per_incident", "each": draw(st.integers(0, 10).map(float)), "points": full,
            "free": draw(st.integers(0, 3)), "floor": floor}


LABELS = ["优秀", "良好", "一般", "较差", "excellent", "good", "fair", "poor"]


@st.composite
def label_rules(draw) -> dict[str, Any]:
    """R9 ordinal labels → points (Chinese or English labels)."""
    names = draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=5, unique=True))
    return {"kind": "labels", "points": {n: draw(points) for n in names}}


@st.composite
def linears(draw) -> dict[str, Any]:
    """R11 linear points, capped or not."""
    lo = draw(st.one_of(st.none(), points))
    hi = draw(st.one_of(st.none(), points))
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    out = {"kind": "linear", "slope": draw(typed), "intercept": draw(typed)}
    out.update({k: v for k, v in (("min", lo), ("max", hi)) if v is not None})
    return out


@st.composite
def piecewises(draw) -> dict[str, Any]:
    """R12 piecewise-linear curve: strictly increasing knots, optional end slopes and clips."""
    xs = sorted(draw(st.lists(typed, min_size=1, max_size=5, unique=True)))
    out: dict[str, Any] = {"kind": "piecewise",
                           "knots": [{"x": x, "y": draw(typed)} for x in xs]}
    for key in ("slope_below", "slope_above"):
        slope = draw(st.one_of(st.none(), st.decimals(-10, 10, places=2).map(float)))
        if slope is not None:
            out[key] = slope
    return out


NUMERIC_RULES = {
    "tiers": tier_tables(monotone=True),  # a table whose points run against its bound is refused
    "step": step_deductions(),
    "per_incident": per_incidents(),
    "linear": linears(),
    "piecewise": piecewises(),
}


def bounds_of(rule: dict[str, Any]) -> list[float]:
    """The numbers of a rule where a value changes treatment: band bounds, threshold, knots."""
    kind = rule["kind"]
    if kind == "tiers":
        return [b["at"] for b in rule["bands"]]
    if kind == "step":
        t, s = rule["threshold"], rule["step"]
        return [t + k * s for k in range(-3, 4)]
    if kind == "per_incident":
        return [float(rule["free"]), float(rule["free"] + 1)]
    if kind == "piecewise":
        return [k["x"] for k in rule["knots"]]
    return [0.0]


@st.composite
def values_for(draw, rule: dict[str, Any], size: int = 30) -> list[float]:
    """Inputs for a rule: random numbers, NaN, and values exactly on (or a hair off) its bounds."""
    on = bounds_of(rule)
    near = st.sampled_from(on).flatmap(
        lambda b: st.sampled_from([b, math.nextafter(b, math.inf), math.nextafter(b, -math.inf),
                                   b + 1e-12, b - 1e-12]))
    if rule["kind"] == "per_incident":
        pool = st.one_of(st.integers(0, 60).map(float), st.just(math.nan))
    else:
        pool = st.one_of(finite, typed, near, st.just(math.nan))
    return draw(st.lists(pool, min_size=1, max_size=size))


# --- policies ------------------------------------------------------------------------------------

def policy_dict(kpis: dict[str, dict[str, Any]], weights: dict[str, float] | None = None,
                total_weight: float = 100.0) -> dict[str, Any]:
    """A small valid policy whose KPIs each read a float records column of their own name."""
    columns = {"period": {"type": "text"}, **{k: {"type": "float"} for k in kpis}}
    data: dict[str, Any] = {
        "name": "generated",
        "inputs": {"records": {"period": "period", "columns": columns}},
        "kpis": {k: {"column": k, "rule": rule} for k, rule in kpis.items()},
        "scorecards": {"staff": {"root": "total"}},
    }
    if weights is None:
        data["sections"] = {"total": {"combine": "sum", "items": list(kpis)}}
    else:
        data["sections"] = {"total": {"combine": "weighted", "weights": weights,
                                      "total_weight": total_weight}}
    return data


@st.composite
def weights_summing_to(draw, n: int, total: int = 100) -> list[float]:
    """``n`` whole-number weights (each ≥ 0, at least one > 0) adding up to ``total``."""
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=n - 1, max_size=n - 1)))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    return [float(p) for p in parts]


any_rule = st.one_of(*NUMERIC_RULES.values(), label_rules())


@st.composite
def policies(draw):
    """A valid policy: 1–4 KPIs with random rules in a weighted (or sum) section."""
    n = draw(st.integers(1, 4))
    rules = [draw(st.one_of(*NUMERIC_RULES.values())) for _ in range(n)]
    names = [f"k{i}" for i in range(n)]
    weighted = draw(st.booleans())
    weights = dict(zip(names, draw(weights_summing_to(n)), strict=True)) if weighted else None
    data = policy_dict(dict(zip(names, rules, strict=True)), weights)
    data["title"] = draw(st.sampled_from(["电商客服", "Logistics CS", None]))
    if data["title"] is None:
        del data["title"]
    return validate_policy(data)
