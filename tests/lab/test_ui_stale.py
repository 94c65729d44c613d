"""No panel shows a stale result: an input that fails shows its error in the result's place and
the old result goes (or is clearly marked out of date); a good input again brings it back.

Also: every chart widget calib makes draws offline (Vega bundled, no CDN).
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pytest

import calib
from calib.lab import charts, ui
from calib.lab.whatif import ERROR_CLASS, STALE_MARK, WhatIf

GAS = Path(__file__).resolve().parents[2] / "datasets" / "gas_cs"
THRESHOLD = "grading.scale.grades[1].min"


@pytest.fixture(scope="module")
def gas_policy() -> calib.Policy:
    """The gas_cs example policy."""
    return calib.load_policy(GAS / "policy.yaml")


@pytest.fixture
def panel(gas_policy: calib.Policy) -> WhatIf:
    """The what-if panel on GS0013, June 2025, with a first good result on screen."""
    p = WhatIf(gas_policy, GAS)
    p.person.value, p.period.value = "GS0013", "2025-06"
    _field(p, "complaints").value = 3
    assert p.recalculate() is not None
    assert "This person" in p.result.value and STALE_MARK not in p.result.value
    return p


def _field(panel: WhatIf, column: str):
    return next(b for b in panel.fields.children if b.column == column)


@pytest.mark.parametrize("bad", [-5.0, float("nan"), 1e20], ids=["negative", "empty", "huge"])
def test_what_if_error_replaces_the_result_and_recovers(panel: WhatIf, bad: float) -> None:
    """A refused input (negative count, empty cell) or one calib cannot store (1e20 in an int
    column raised a bare ValueError in the widget callback) shows the error where the result
    was; none of the old result stays. A good value again brings a fresh result back."""
    old = panel.result.value
    _field(panel, "satisfied").value = bad
    assert panel.recalculate() is None
    shown = panel.result.value
    assert ERROR_CLASS in shown and "Not applied" in shown and "fix the input" in shown
    assert "This person" not in shown and "Statement after the change" not in shown
    assert panel.after is None and panel.error
    assert "Not applied" in panel.message.value and "changed:" not in panel.message.value
    _field(panel, "satisfied").value = 0
    assert panel.recalculate() is not None
    assert ERROR_CLASS not in panel.result.value and panel.error is None
    assert "This person" in panel.result.value and panel.result.value != old
    assert "changed: satisfied → 0, complaints → 3" in panel.message.value


def test_what_if_a_refusal_names_the_column_and_the_fix(panel: WhatIf) -> None:
    """The error shown is calib's own message: the column and what to do."""
    _field(panel, "satisfied").value = -5
    panel.recalculate()
    assert "satisfied" in panel.result.value and "minimum 0" in panel.result.value
    assert "Fix" in panel.result.value


def test_what_if_editing_an_input_marks_the_result_out_of_date(panel: WhatIf) -> None:
    """After a result, editing any input greys it under an "Out of date" banner until
    Recalculate; a new person or period clears it."""
    shown = panel.result.value
    _field(panel, "errors").value = 2
    marked = panel.result.value
    assert STALE_MARK in marked and "Out of date" in marked and shown in marked
    assert panel.message.value == ""
    _field(panel, "errors").value = 1  # a second edit does not stack banners
    assert panel.result.value == marked
    assert panel.recalculate() is not None
    assert STALE_MARK not in panel.result.value
    _field(panel, "errors").value = 3
    assert STALE_MARK in panel.result.value
    panel.period.value = "2025-05"
    assert STALE_MARK not in panel.result.value and "This person" not in panel.result.value
    assert panel.message.value == "" and panel.after is None


def test_what_if_editing_after_an_error_marks_the_error_out_of_date(panel: WhatIf) -> None:
    """The error answered the previous inputs: edited, it is marked out of date too."""
    _field(panel, "satisfied").value = -5
    panel.recalculate()
    _field(panel, "satisfied").value = 1
    assert STALE_MARK in panel.result.value and ERROR_CLASS in panel.result.value


def test_what_if_no_edit_before_a_result_marks_nothing(gas_policy: calib.Policy) -> None:
    """Before any result the prompt stays as it is when an input is edited."""
    p = WhatIf(gas_policy, GAS)
    p.person.value, p.period.value = "GS0013", "2025-06"
    prompt = p.result.value
    _field(p, "complaints").value = 1
    assert p.result.value == prompt and STALE_MARK not in prompt


def test_param_panel_any_error_is_shown_and_the_scenario_kept(monkeypatch, gas) -> None:
    """An error other than calib's own (here a TypeError from the re-run) is shown in the
    panel, the slider goes back and the scenario stays: the charts keep matching the sliders."""
    dash = ui.Dashboard(gas, roles=["threshold"], under=["grading."])
    specs = {name: c.spec for name, c in dash.charts.items()}

    def broken(self, changes):
        raise TypeError("boom")

    monkeypatch.setattr(calib.Scenario, "with_params", broken)
    assert not dash.set({THRESHOLD: 87.5})
    assert "Not applied" in dash.panel.message.value and "TypeError" in dash.panel.message.value
    assert dash.scenario is gas and dash.panel.sliders[THRESHOLD].value == 90.0
    assert {name: c.spec for name, c in dash.charts.items()} == specs


def test_dashboard_redraw_failure_goes_back_to_what_is_shown(monkeypatch, gas) -> None:
    """When the charts or tables cannot be drawn for new numbers, the panel goes back to the
    previous numbers (sliders, scenario, charts and tables) and says why; the next good move
    works."""
    dash = ui.Dashboard(gas, roles=["threshold"], under=["grading."])
    counts, specs = dash.counts.value, {name: c.spec for name, c in dash.charts.items()}
    real = ui.grade_counts

    def fails_for_new(scenario, start=None):
        if scenario is not gas:
            raise ZeroDivisionError("no rows")
        return real(scenario, start)

    monkeypatch.setattr(ui, "grade_counts", fails_for_new)
    assert not dash.set({THRESHOLD: 87.5})
    assert "ZeroDivisionError" in dash.panel.message.value
    assert dash.scenario is gas and dash.panel.sliders[THRESHOLD].value == 90.0
    assert dash.counts.value == counts
    assert {name: c.spec for name, c in dash.charts.items()} == specs
    monkeypatch.setattr(ui, "grade_counts", real)
    assert dash.set({THRESHOLD: 87.5}) and dash.panel.message.value == ""
    assert dash.counts.value != counts


def test_chart_widgets_are_offline() -> None:
    """``charts.widget`` and the dashboards' charts carry the Vega bundle (no CDN import), and
    a chart displayed as is goes through the offline ``jupyter`` renderer."""
    before = alt.renderers.active
    try:
        chart = charts.widget(alt.Chart(alt.Data(values=[{"x": 1}])).mark_point().encode(x="x:Q"))
        assert isinstance(chart, alt.JupyterChart)
        assert alt.JupyterChart._is_offline
        assert "esm.sh" not in chart._esm and "https://" not in chart._esm.split("\n", 5)[0]
        assert alt.renderers.active == "jupyter" and alt.renderers.options.get("offline") is True
    finally:
        alt.renderers.enable(before)


def test_dashboard_charts_are_offline(gas) -> None:
    """The dashboard's JupyterCharts import nothing from a CDN."""
    dash = ui.Dashboard(gas, roles=["threshold"], under=["grading."])
    assert all("esm.sh" not in c._esm for c in dash.charts.values())


def test_notebooks_draw_charts_only_offline() -> None:
    """Every notebook that shows a chart enables offline rendering and never makes a plain
    ``alt.JupyterChart`` (which loads vega-embed from a CDN)."""
    import nbformat

    for path in sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb")):
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                           if c.cell_type == "code")
        assert "alt.JupyterChart(" not in source, path.name
        assert "renderers.enable" not in source or "offline=True" in source, path.name
        if "charts." in source or "alt.Chart" in source:
            assert "charts.enable_offline()" in source or "ui.Dashboard" in source, path.name
