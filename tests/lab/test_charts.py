"""calib.lab.charts: every chart of every example is a valid, offline, small, labelled Vega-Lite spec."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

alt = pytest.importorskip("altair")

from conftest import examples  # noqa: E402

import calib  # noqa: E402
from calib.errors import CalibError  # noqa: E402
from calib.lab import charts  # noqa: E402

ROOT = Path(__file__).resolve().parents[2] / "datasets"
EXAMPLES = sorted(p.parent.name for p in ROOT.glob("*/policy.yaml"))
GRADED = ["call_centre", "ecommerce_cs", "ethics_diligence", "gas_cs", "logistics_cs", "safety"]


@pytest.fixture(scope="module")
def results() -> dict[str, calib.Result]:
    out = {}
    for name in EXAMPLES:
        policy = calib.load_policy(ROOT / name / "policy.yaml")
        out[name] = calib.run(policy, ROOT / name)
    return out


def _walk(node, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from _walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


def _marks(spec: dict) -> set[str]:
    out = set()
    for k, v in _walk(spec):
        if k == "mark":
            out.add(v if isinstance(v, str) else v["type"])
    return out


def _channels(spec: dict) -> set[str]:
    return {c for k, v in _walk(spec) if k == "encoding" for c in v}


def check(chart, marks: set[str], channels: set[str], max_rows: int = 1000) -> dict:
    """Validates (to_dict), schema v5/v6, offline (inline data, no URL), small data, marks/channels."""
    assert isinstance(chart, alt.Chart | alt.LayerChart)
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    assert re.search(r"vega-lite/v[56][.\d]*\.json$", spec["$schema"])
    body = json.dumps({k: v for k, v in spec.items() if k != "$schema"}, ensure_ascii=False)
    assert "http://" not in body and "https://" not in body
    assert not any(k == "url" for k, _ in _walk(spec))
    datasets = spec.get("datasets", {})
    assert datasets, "data must be inline"
    assert 0 < sum(len(v) for v in datasets.values()) <= max_rows
    assert marks <= _marks(spec), _marks(spec)
    assert channels <= _channels(spec), _channels(spec)
    return spec


def text(spec: dict) -> str:
    return json.dumps(spec, ensure_ascii=False)


@pytest.mark.parametrize("name", examples())
def test_score_and_payout_charts_on_every_example(results, name):
    r = results[name]
    thresholds = r.policy.grading is not None and r.policy.grading.scale.has_thresholds()
    marks = {"bar", "rule", "text"} if thresholds else {"bar"}
    spec = check(charts.score_distribution(r), marks, {"x", "x2", "y"})
    if thresholds:
        grades = r.policy.grading.scale.grades
        assert all(f"≥ {g.min:g}" in text(spec) for g in grades[:-1])
    check(charts.score_distribution(r, on=None), {"bar"}, {"x", "y"})
    check(charts.payout_distribution(r, per="period"), {"bar"}, {"x", "y", "color"})
    if charts._default_budget(r.policy) is None:
        check(charts.payout_distribution(r), {"bar"}, {"x", "x2", "y"})
    check(charts.group_heatmap(r), {"rect"}, {"x", "y", "color"})


@pytest.mark.parametrize("name", GRADED)
def test_grade_charts_on_every_graded_example(results, name):
    r = results[name]
    scale = r.policy.grading.scale.grades
    spec = check(charts.grade_distribution(r), {"bar", "text"}, {"x", "y", "color"})
    shown = [g.name if not g.label or g.label == g.name else f"{g.name} {g.label}" for g in scale]
    x_sorts = [v["x"]["sort"] for k, v in _walk(spec) if k == "encoding" and "sort" in v.get("x", {})]
    assert shown in x_sorts  # the policy's grade order, explicitly
    assert all(g.label is None or g.label in text(spec) for g in scale)
    spec = check(charts.moved(r, r), {"circle", "line"}, {"x", "y", "color", "size"})
    values = next(iter(v for v in spec["datasets"].values() if "move" in v[0]))
    assert {row["move"] for row in values} == {"same"}


def test_gas_cs_labels_in_chinese(results):
    r = results["gas_cs"]
    for chart in (charts.score_distribution(r), charts.grade_distribution(r)):
        body = text(chart.to_dict())
        assert "优秀" in body and "A+ 优秀" in body and "燃气分公司客服中心员工月度考核" in body
    spec = check(charts.group_heatmap(r, by="team"), {"rect"}, {"x", "y", "color"})
    assert "班组" in text(spec)  # the people column's label
    spec = check(charts.group_heatmap(r), {"rect"}, {"x", "y", "color"})
    assert "分公司客服主管" in text(spec)  # threshold-graded supervisors named by their scorecard
    spec = check(charts.group_heatmap(r, by="branch", value="优秀"), {"rect"}, {"color"})
    assert all(0 <= row["value"] <= 1 for rows in spec["datasets"].values() for row in rows)


def test_grade_targets(results):
    ec = results["ecommerce_cs"]  # one forced rule: its ratios are the targets
    spec = check(charts.grade_distribution(ec), {"bar", "tick"}, {"x", "y"})
    rows = next(v for v in spec["datasets"].values() if "target" in v[0])
    assert {r["grade"]: r["target"] for r in rows} == {"优秀": 0.15, "良好": 0.35, "合格": 0.4, "待改进": 0.1}
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    gas = results["gas_cs"]  # two rules: no default target; a given one by name or label
    assert "tick" not in _marks(charts.grade_distribution(gas).to_dict())
    spec = charts.grade_distribution(gas, target={"优秀": 0.1, "A": 0.3, "B": 0.6}).to_dict()
    assert "tick" in _marks(spec)
    with pytest.raises(CalibError, match="not in the scale"):
        charts.grade_distribution(gas, target={"Z": 1.0})
    spec = check(charts.grade_distribution(gas, period="2024-03"), {"bar"}, {"x"})
    assert "graded rows" in text(spec)


def test_payout_budget(results):
    ed = results["ethics_diligence"]  # a shared pool: its amount is the budget, per period
    spec = check(charts.payout_distribution(ed), {"bar", "rule", "text"}, {"x", "y", "color"})
    assert "Budget 200,000" in text(spec)
    gas = results["gas_cs"]
    total = gas.payouts.groupby("period")["payout"].sum()
    spec = check(charts.payout_distribution(gas, budget=float(total.median())), {"bar", "rule"}, {"y"})
    rows = next(v for v in spec["datasets"].values() if "over" in v[0])
    assert len(rows) == 24 and any(r["over"] for r in rows) and not all(r["over"] for r in rows)
    with pytest.raises(CalibError, match="per='period'"):
        charts.payout_distribution(gas, budget=1.0, per="row")


def test_moved_after_a_threshold_change(results):
    r = results["gas_cs"]
    p2 = r.policy.with_params({"grading.scale.grades[0].min": 93, "grading.scale.grades[2].min": 86})
    r2 = calib.run(p2, ROOT / "gas_cs")
    spec = check(charts.moved(r, r2), {"circle"}, {"x", "y", "color", "size", "tooltip"})
    rows = [row for v in spec["datasets"].values() for row in v if "move" in row]
    assert {"up", "down", "same"} <= {row["move"] for row in rows}
    assert any(row["move"] == "up" and row["grade_after"] == "A+ 优秀" for row in rows)
    assert sum(row["count"] for row in rows) == len(r.grades.merge(r2.grades, on=["id", "period"]).dropna(
        subset=["score_x", "score_y"]))
    # plain grades tables work too; the order then comes from the grades' mean scores
    spec = check(charts.moved(r.grades, r2.grades[["id", "period", "score", "grade"]]), {"circle"}, {"color"})
    assert "up" in text(spec)


def test_monte_carlo_and_fan():
    rng = np.random.default_rng(1)
    totals = rng.normal(1_000_000, 50_000, 20_000)  # raw draws never reach the spec: binned
    spec = check(charts.monte_carlo(totals, budget=1_050_000, currency="CNY"),
                 {"bar", "rule", "text"}, {"x", "x2", "y"}, max_rows=100)
    body = text(spec)
    assert all(p in body for p in ("P50", "P90", "P95", "Budget 1,050,000", "P(total > budget)"))
    check(charts.monte_carlo(pd.Series(totals[:500]), quantiles=(0.05, 0.5)), {"bar", "rule"}, {"x"})
    periods = [f"2025-{m:02d}" for m in range(1, 13)]
    base = np.linspace(100, 120, 12)
    frame = pd.DataFrame({"period": periods, "p5": base - 10, "p50": base, "p95": base + 10})
    spec = check(charts.fan(frame, budget=115), {"area", "line", "rule"}, {"x", "y", "y2"})
    assert any(v.get("x", {}).get("sort") == periods for k, v in _walk(spec) if k == "encoding")
    wide = frame.assign(p25=base - 4, p75=base + 4).set_index("period")
    spec = check(charts.fan(wide), {"area", "line"}, {"y2"})
    areas = [v for k, v in _walk(spec) if k == "mark" and isinstance(v, dict) and v["type"] == "area"]
    assert len(areas) == 2
    with pytest.raises(CalibError, match="fan needs"):
        charts.fan(frame[["period", "p50"]])


def test_tornado(results):
    table = pd.DataFrame({"parameter": ["a", "kpis.satisfaction.weight", "grading.scale.grades[0].min"],
                          "low": [-1.0, -50.0, -20.0], "high": [2.0, 60.0, 5.0]})
    spec = check(charts.tornado(table, policy=results["gas_cs"].policy), {"bar", "rule"}, {"x", "x2", "y"})
    order = next(v["y"]["sort"] for k, v in _walk(spec) if k == "encoding" and "sort" in v.get("y", {}))
    assert order == ["回访满意率 · kpis.satisfaction.weight", "A+ 优秀 · grading.scale.grades[0].min", "a"]
    spec = charts.tornado(table.assign(label=["甲", "乙", "丙"]), top=2).to_dict()
    order = next(v["y"]["sort"] for k, v in _walk(spec) if k == "encoding" and "sort" in v.get("y", {}))
    assert order == ["乙", "丙"]
    with pytest.raises(CalibError, match="missing: high"):
        charts.tornado(table.drop(columns="high"))


def test_errors_name_the_choices(results):
    with pytest.raises(CalibError, match="period, quarter, year"):
        charts.score_distribution(results["gas_cs"], on="month")
    with pytest.raises(CalibError, match="team"):
        charts.group_heatmap(results["gas_cs"], by="nope")
    with pytest.raises(CalibError, match="no grading"):
        charts.grade_distribution(results["property_cs"])
    with pytest.raises(CalibError, match=r"\.png, \.svg"):
        charts.save(charts.monte_carlo([1.0, 2.0]), "chart.gif")


def test_save_png_and_svg_offline(results, tmp_path):
    png = charts.save(charts.grade_distribution(results["gas_cs"]), tmp_path / "grades.png", scale=1)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    svg = charts.save(charts.score_distribution(results["safety"]), tmp_path / "out" / "scores.svg")
    body = svg.read_text(encoding="utf-8")
    assert body.lstrip().startswith("<svg") and "A+ 优秀" in body  # text kept as text in the SVG


def test_enable_offline():
    before = alt.renderers.active
    try:
        charts.enable_offline()
        assert alt.renderers.active == "jupyter" and alt.renderers.options.get("offline") is True
    finally:
        alt.renderers.enable(before)


def test_histogram_bins_put_a_score_on_an_edge_in_the_bin_it_starts() -> None:
    """Bins are [start, end): a score of exactly 85 or 92.5 is counted in the bin that starts
    there (so the bar lines up with the threshold drawn at 85); the top score is counted; every
    finite score once; NaN left out."""
    scores = np.array([60.0, 84.99, 85.0, 85.0, 92.5, 99.9, 100.0, np.nan])
    data = charts._histogram(scores, bins=40)
    step = float(data["end"].iloc[0] - data["start"].iloc[0])
    assert step == 1.0
    row = data.set_index("start")["count"]
    assert row[85.0] == 2 and row[84.0] == 1 and row[92.0] == 1 and row[100.0] == 1
    assert data["count"].sum() == 7
    rng = np.random.default_rng(3)
    for _ in range(50):  # the same counts as np.histogram over the same edges
        v = np.round(rng.normal(85, 8, int(rng.integers(1, 2000))), int(rng.integers(0, 3)))
        d = charts._histogram(v)
        edges = np.r_[d["start"].to_numpy(), d["end"].to_numpy()[-1]]
        assert (d["count"].to_numpy() == np.histogram(v, bins=edges)[0]).all()
        assert d["count"].sum() == len(v)


def test_scores_per_period_and_not_rated_reasons_count_every_row() -> None:
    """Notebook 01's charts: the per-period mean and band of the rated scores, and the rows not
    rated stacked by reason, adding up to the rows of the scores table."""
    fixtures = Path(__file__).parents[1] / "fixtures"
    result = calib.run(calib.load_policy(fixtures / "grade_pay.yaml"), fixtures / "grade_pay")
    data = charts.scores_per_period_data(result)
    # 2025-01 rates 9 of 10 rows (W4 on probation): mean of the points typed by hand
    jan = data.set_index("period").loc["2025-01"]
    assert jan["rated"] == 9
    assert jan["mean"] == pytest.approx(round((95 + 99 + 92.5 + 88 + 30 + 70 + 90 + 85 + 80) / 9, 2))
    assert jan["p10"] <= jan["mean"] <= jan["p90"]
    reasons = charts.not_rated_reasons_data(result)
    assert reasons.to_dict("records") == [{"period": "2025-01", "reason": "probation", "rows": 1}]
    assert int(data["rated"].sum() + reasons["rows"].sum()) == len(result.scores)
    assert _marks(charts.scores_per_period(result).to_dict()) == {"area", "line"}
    assert _marks(charts.not_rated_reasons(result).to_dict()) == {"bar"}
