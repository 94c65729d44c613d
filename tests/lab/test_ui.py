"""The widget panels: sliders built from parameter paths, re-runs through Scenario.with_params."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calib
from calib.analysis.moves import move_counts, moves
from calib.lab import ui
from calib.policy.paths import Param
from calib.scenario import Scenario

DATASETS = Path(__file__).resolve().parents[2] / "datasets"

THRESHOLD = "grading.scale.grades[1].min"


def test_one_slider_per_param_of_the_chosen_roles(gas: calib.Scenario) -> None:
    """The panel has a slider for every number of the roles asked, bounded by the policy's ranges."""
    roles = {"threshold", "weight"}
    panel = ui.ParamPanel(gas, roles=roles)
    wanted = [p for p in gas.policy.params() if p.role in roles]
    assert list(panel.sliders) == [p.path for p in wanted]
    for p in wanted:
        slider = panel.sliders[p.path]
        assert slider.value == pytest.approx(p.value)
        if p.min is not None:
            assert slider.min == pytest.approx(p.min)
        if p.max is not None:
            assert slider.max == pytest.approx(p.max)
        assert not slider.continuous_update
    grade = panel.sliders[THRESHOLD]
    assert (grade.min, grade.max) == (85.0, 95.0)
    assert "A 良好" in grade.description
    weight = panel.sliders["sections.staff_sheet.weights.satisfaction"]
    assert "回访满意率" in weight.description


def test_paths_and_prefixes_choose_the_sliders(gas: calib.Scenario) -> None:
    """``paths`` keeps the order given; ``under``/``exclude`` filter by prefix; unknown paths fail."""
    panel = ui.ParamPanel(gas, paths=[THRESHOLD, "grading.scale.grades[0].min"])
    assert list(panel.sliders) == [THRESHOLD, "grading.scale.grades[0].min"]
    panel = ui.ParamPanel(gas, roles=ui.SCORING_ROLES, exclude=["pay."])
    assert panel.sliders and not any(p.startswith("pay.") for p in panel.sliders)
    panel = ui.ParamPanel(gas, roles=["ratio"], under=["grading."])
    assert panel.sliders and all(p.startswith("grading.rules") for p in panel.sliders)
    with pytest.raises(calib.CalibError, match=r"no\.such"):
        ui.ParamPanel(gas, paths=["no.such"])


def test_default_ranges_by_role() -> None:
    """Without a declared range: ratios 0–1 by 0.01, weights 0–100, other numbers ±50 %."""
    assert ui.slider_range(Param("r", 0.3, "ratio", None, None)) == (0.0, 1.0, 0.01)
    lo, hi, _ = ui.slider_range(Param("w", 30.0, "weight", None, None))
    assert (lo, hi) == (0.0, 100.0)
    lo, hi, _ = ui.slider_range(Param("p", 80.0, "points", None, None))
    assert (lo, hi) == (40.0, 120.0)
    lo, hi, step = ui.slider_range(Param("t", 0.0, "threshold", None, None))
    assert lo < 0 < hi and step > 0
    lo, hi, step = ui.slider_range(Param("s", 2.0, "points", 0.0, None, min_exclusive=True))
    assert lo == pytest.approx(step) and hi > 2.0


def test_moving_a_slider_reruns_the_scenario(gas: calib.Scenario) -> None:
    """A slider change makes a new scenario, calls on_change, and the tables and timing update."""
    seen = []
    dash = ui.Dashboard(gas, roles=["threshold"], under=["grading."])
    dash.panel.on_change = lambda sc: (seen.append(sc), dash._update(sc))
    before_counts = dash.counts.value
    dash.panel.sliders[THRESHOLD].value = 88.0
    assert dash.panel.error is None
    assert dash.scenario is not gas and dash.scenario.policy.get(THRESHOLD) == 88
    assert seen == [dash.scenario]
    assert dash.counts.value != before_counts
    counts = ui.grade_counts(dash.scenario, gas)
    assert counts.loc["A 良好", "change"] > 0
    assert "payout total (CNY)" in counts.index
    assert "ms" in dash.panel.status.value and "1 changed" in dash.panel.status.value
    assert dash.scenario.seconds > 0
    assert "up" in dash.movers.value and "GS" in dash.movers.value
    changes = dash.panel.changes()
    assert changes["path"].tolist() == [THRESHOLD]


def test_invalid_value_is_shown_and_the_scenario_kept(gas: calib.Scenario) -> None:
    """A threshold at the grade above's minimum is refused in the panel; nothing is raised."""
    panel = ui.ParamPanel(gas, roles=["threshold"], under=["grading."])
    panel.sliders[THRESHOLD].value = 88.0
    good = panel.scenario
    panel.sliders[THRESHOLD].value = 95.0  # A+ starts at 95: bands would overlap
    assert panel.scenario is good
    assert panel.sliders[THRESHOLD].value == 88.0
    assert "grading.scale" in panel.message.value and "overlap" in panel.message.value
    assert "overlap" in panel.error
    assert panel.set({THRESHOLD: 87.0})
    assert panel.message.value == "" and panel.error is None


def test_ratios_that_do_not_add_up_are_refused(gas: calib.Scenario) -> None:
    """A cascade share that breaks its row's 100 % is refused with the rule's path."""
    panel = ui.ParamPanel(gas, roles=["ratio"], under=["grading."])
    path = next(iter(panel.sliders))
    assert not panel.set({path: 0.9})
    assert "cascade" in panel.message.value and panel.scenario is gas


def test_dashboard_chart_spec_changes(gas: calib.Scenario) -> None:
    """The JupyterCharts get a new spec after a change; Back to start restores the scenario."""
    dash = ui.Dashboard(gas, roles=["threshold"], under=["grading."])
    assert set(dash.charts) == {"scores", "grades"}
    scores, grades = dash.charts["scores"].spec, dash.charts["grades"].spec
    assert dash.set({THRESHOLD: 87.5})
    assert dash.charts["scores"].spec != scores
    assert dash.charts["grades"].spec != grades
    dash.panel.reset_button.click()
    assert dash.scenario is gas and dash.panel.sliders[THRESHOLD].value == 90.0
    assert dash.charts["grades"].spec == grades


def test_dashboard_redraws_only_the_charts_whose_inputs_moved(gas: calib.Scenario) -> None:
    """A pay slider redraws no chart (the very same specs stay); a grading slider redraws the
    score chart (its threshold lines) and the grade chart, equal to charts drawn afresh."""
    pay = next(p.path for p in gas.policy.params() if p.path.startswith("pay."))
    dash = ui.Dashboard(gas, paths=[pay, THRESHOLD])
    scores, grades = dash.charts["scores"].spec, dash.charts["grades"].spec
    assert dash.set({pay: gas.policy.get(pay) * 1.1})
    assert dash.scenario.total_payout() != gas.total_payout()
    assert dash.charts["scores"].spec is scores and dash.charts["grades"].spec is grades
    assert dash.set({THRESHOLD: 87.5})
    fresh = ui.Dashboard(dash.scenario, paths=[pay, THRESHOLD])
    assert dash.charts["scores"].spec == fresh.charts["scores"].spec != scores
    assert dash.charts["grades"].spec == fresh.charts["grades"].spec != grades


def test_dashboard_applies_a_solved_policy(gas: calib.Scenario) -> None:
    """``apply`` moves the sliders to another policy's numbers (a solver's answer)."""
    from calib.analysis.calibrate import solve_thresholds

    dash = ui.Dashboard(gas, roles=["threshold"], under=["grading.scale"])
    solved, _ = solve_thresholds(gas, ui.suggest_target(gas.policy))
    assert dash.apply(solved)
    for path, slider in dash.panel.sliders.items():
        assert slider.value == pytest.approx(solved.get(path))
        assert dash.scenario.policy.get(path) == solved.get(path)


def test_forced_distribution_helpers(shops: calib.Scenario) -> None:
    """Forced ratios are the suggested target; quotas come per group for one period."""
    assert ui.suggest_target(shops.policy) == {"优秀": 0.15, "良好": 0.35, "合格": 0.4, "待改进": 0.1}
    overview = ui.grading_overview(shops.policy)
    assert overview.loc["shops", "method"] == "forced distribution"
    quotas = ui.quota_table(shops.result)
    assert list(quotas.columns) == ["优秀", "良好", "合格", "待改进"]
    assert (quotas.sum(axis=1) == quotas.index.get_level_values("size")).all()
    dash = ui.Dashboard(shops, roles=["ratio"])
    assert len(dash.panel.sliders) == 4


def test_suggested_bell_adds_up(gas: calib.Scenario) -> None:
    """The default target for a threshold scale is a bell that sums to 1."""
    target = ui.suggest_target(gas.policy)
    assert list(target) == gas.policy.grading.scale.names()
    assert sum(target.values()) == pytest.approx(1.0)


def test_who_moved_lists_the_largest_score_changes_of_moves(gas: calib.Scenario) -> None:
    """The dashboard's "who moved" table is the top of ``moves`` (same rows, same words) with the
    policy's grade names shown, and its counts are ``move_counts`` of all of them."""
    moved = gas.with_params({THRESHOLD: 88.0})
    every = moves(gas, moved)
    table, counts = ui.moved_table(gas, moved, top=10**6)
    assert counts == move_counts(every) and sum(counts.values()) == len(every) == len(table)
    assert sorted(zip(table["id"], table["period"], table["move"], strict=True)) == \
        sorted(zip(every["id"], every["period"], every["move"], strict=True))
    shown = dict(ui._grade_names(gas.policy)).values()
    assert (set(table["grade_before"]) | set(table["grade_after"])) - {None} <= set(shown)


@pytest.mark.parametrize("name", ["gas_cs", "ecommerce_cs", "safety", "call_centre"])
def test_redrawn_charts_equal_charts_drawn_afresh(name, monkeypatch) -> None:
    """A redraw swaps the new data into the last spec; after KPI, threshold and ratio moves
    every chart's spec is exactly the one a fresh dashboard draws (datasets, names, title)."""
    patched = []
    real = ui._SpecPatch.with_data
    monkeypatch.setattr(ui._SpecPatch, "with_data",
                        lambda self, *a: patched.append(1) or real(self, *a))
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    dash = ui.Dashboard(Scenario(policy, DATASETS / name))
    params = [p for p in policy.params() if p.role in ("threshold", "points", "ratio")][:6]
    moved = 0
    for p in params:
        value = p.value + (5 if p.role == "points" else 0.05 if p.role == "ratio" else 0.5)
        if p.max is not None and value > p.max:
            value = p.value - (value - p.value)
        if not dash.set({p.path: value}):
            continue
        fresh = ui.Dashboard(dash.scenario)
        for chart in dash.charts:
            assert dash.charts[chart].spec == fresh.charts[chart].spec, (p.path, chart)
        moved += 1
    assert moved and patched


def test_tables_are_written_as_pandas_writes_them() -> None:
    """The dashboard's HTML tables are exactly ``to_html(border=0, na_rep="")`` with floats as
    1,234.5: floats and ints, missing cells, text that needs escaping, an index with a name."""
    frame = pd.DataFrame({"now": [1217.0, 0.125, np.nan, 1764936.05], "count": [3, 0, 12, 7],
                          "move": ["↑ up", "<b> & co", None, "x"],
                          "grade": pd.Categorical(["优秀", "A", "B", "A"])},
                         index=pd.Index(["优秀", "良好", "a<b", "payout total (CNY)"], name="grade"))
    fmt = lambda v: f"{v:,.2f}".rstrip("0").rstrip(".")  # noqa: E731
    for table in (frame, frame.reset_index(drop=True), frame.iloc[:0], frame.iloc[:, :0]):
        assert ui._table_html(table) == table.to_html(border=0, na_rep="", float_format=fmt)


def test_grade_counts_add_up_and_movers_come_largest_change_first(gas: calib.Scenario) -> None:
    """Counts per grade with their shares (of the graded rows, one decimal), the payout total as
    the last row and the change between the two sides; the movers ordered by the size of their
    score change, then by the score after, at most ``top`` of them."""
    moved = gas.with_params({THRESHOLD: 88.0})
    counts = ui.grade_counts(moved, gas)
    grades = counts.iloc[:-1]
    for side, sc in (("start", gas), ("now", moved)):
        assert grades[side].sum() == len(sc.result.grades.dropna(subset=["grade"]))
        assert grades[f"{side} %"].tolist() == pytest.approx(
            (grades[side] / grades[side].sum() * 100).round(1).tolist())
        assert counts[side].iloc[-1] == sc.total_payout()
    assert counts["change"].tolist() == (counts["now"] - counts["start"]).tolist()
    assert np.isnan(counts["now %"].iloc[-1])
    table, summary = ui.moved_table(gas, moved, top=5)
    assert len(table) == min(5, sum(summary.values()))
    size = table["score_change"].abs().tolist()
    assert size == sorted(size, reverse=True)
    assert (table["score_change"] == (table["score_after"] - table["score_before"]).round(2)).all()


def test_chart_rows_are_written_as_altair_writes_them() -> None:
    """A redraw writes its frames' rows itself, exactly as Altair would inline them (so the
    dataset names match): numbers as Python numbers, missing and infinite values as null,
    text, flags and categories; anything else is left to Altair."""
    import json

    from altair.utils.data import to_values

    frame = pd.DataFrame({"start": [60.0, 62.5, np.nan, np.inf], "count": [3, 0, 12, 7],
                          "grade": pd.Series(["优秀", None, "B", "A"], dtype="str"),
                          "target": [True, False, True, False],
                          "display": pd.Categorical(["A 良好", None, "B", "A 良好"])})
    assert json.dumps(ui._records(frame)) == json.dumps(to_values(frame)["values"])
    assert ui._records(frame.iloc[:0]) == to_values(frame.iloc[:0])["values"]
    assert ui._records(pd.DataFrame({"when": pd.to_datetime(["2025-01-31"])})) is None
