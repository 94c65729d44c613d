"""The finance app's pieces (``./dev app finance``, notebook 04): the budget as people type it,
the solver, the Monte Carlo with its envelopes, the sensitivity, the export, and the panel and
app driven from code (errors in place, nothing stale left beside them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import calib
from calib.lab import finance_report as rep
from calib.lab.finance_app import ERROR_CLASS, FinanceApp, FinancePanel

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
GAS = DATASETS / "gas_cs"


@pytest.fixture(scope="module")
def gas() -> calib.Scenario:
    policy = calib.load_policy(GAS / "policy.yaml")
    return calib.Scenario(policy, calib.load_data(GAS, policy))


@pytest.fixture
def app(tmp_path: Path, monkeypatch) -> FinanceApp:
    monkeypatch.setenv("HOME", str(tmp_path))
    return FinanceApp(DATASETS, scheme="gas_cs")


# --- the budget typed -------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [("139,000", 139000.0), ("139000.50", 139000.5),
                                         ("139 000", 139000.0), ("¥139,000", 139000.0),
                                         ("139,000.00 CNY", 139000.0), ("1,234,567.8", 1234567.8),
                                         ("139，000", 139000.0)])
def test_money_as_people_type_it(text: str, value: float) -> None:
    assert rep.parse_money(text, "CNY") == value


@pytest.mark.parametrize("text, says", [("", "no budget typed"), ("abc", "not an amount"),
                                        ("12.000,5", "not an amount"), ("1,23", "not an amount"),
                                        ("-5", "negative"), ("0", "pays nothing")])
def test_a_bad_budget_is_refused_with_its_fix(text: str, says: str) -> None:
    with pytest.raises(calib.CalibError, match=says) as info:
        rep.parse_money(text, "CNY")
    assert "Fix:" in str(info.value)


def test_scenarios_are_bounded() -> None:
    assert rep.scenarios(200) == 200
    for bad in (5, 10**6, "x", None):
        with pytest.raises(calib.CalibError, match="Fix: type a whole number"):
            rep.scenarios(bad)


# --- the solver -------------------------------------------------------------------------------
def test_money_parameters_are_the_pay_sections_amounts_and_coefficients(gas) -> None:
    options = rep.money_parameters(gas.policy)
    paths = [p for _, p in options]
    roles = {p.path: p.role for p in gas.policy.params()}
    assert paths and all(p.startswith("pay.") and roles[p] in ("money", "factor") for p in paths)
    assert "pay.components.bonus.coefficients.B" in paths
    assert options[0][0].startswith("等级奖金 · coefficients.A+ (now 1.2, from 1 to 1.5)")
    # the default moves the payout most: most people are graded B
    assert rep.default_parameter(gas) == "pay.components.bonus.coefficients.B"


def test_solve_meets_the_budget_within_one_step_of_the_parameter(gas) -> None:
    budget = 139_000.0
    tuned, report = rep.solve(gas, budget, "pay.components.bonus.coefficients.B")
    horizon = rep.horizon(gas.result)
    assert horizon.periods == 24 and horizon.per_year == 12
    assert report["budget"] == budget * 24 and report["was"] == 1.0
    value = report["value"]
    assert tuned.get("pay.components.bonus.coefficients.B") == value
    assert report["gap"] == round(report["total"] - report["budget"], 2)
    # no value a step away (the 6 decimals the value is given to) comes closer to the budget
    near = [gas.with_params({"pay.components.bonus.coefficients.B": value + d}).total_payout()
            for d in (-1e-6, 1e-6)]
    assert min(near) - 0.005 <= report["budget"] <= max(near) + 0.005
    assert abs(report["gap"]) <= max(abs(t - report["budget"]) for t in near)
    lines = rep.solve_lines(gas.policy, report, "B")
    assert lines[0].startswith("Set B to 1.00") and "(was 1)" in lines[0]
    assert "3,336,000.00 CNY" in lines[1] and "139,000.00 CNY per pay period" in lines[1]
    assert lines[2].startswith("gap to the budget ") and " CNY (was −5,408.74 CNY)" in lines[2]


def test_a_budget_out_of_reach_says_both_ends_and_the_fix(gas) -> None:
    with pytest.raises(calib.CalibError, match=r"cannot be met.*Fix: pick another parameter"):
        rep.solve(gas, 10.0, "pay.components.bonus.coefficients.A+")


# --- the Monte Carlo --------------------------------------------------------------------------
def test_simulate_gives_the_year_and_each_envelope(gas) -> None:
    year = rep.horizon(gas.result).year(139_000.0)
    sim = rep.monte_carlo(gas.policy, gas.result, 40, year)
    figures = rep.year_figures(sim, year).set_index("figure")["value"]
    assert figures["budget for the year"] == "1,668,000.00 CNY"
    assert figures["chance of overspending the budget"].endswith("%")
    assert figures["P50 (a typical year)"].endswith(" CNY")
    table = rep.envelope_figures(sim)
    assert table is not None and list(table.columns) == ["branch", "P50", "P90", "P95", "budget",
                                                         "chance over", "note"]
    assert "城东分公司" in set(table["branch"]) and table["budget"].str.endswith(" CNY").all()
    assert table["chance over"].str.endswith("%").all()
    again = rep.monte_carlo(gas.policy, gas.result, 40, year)  # seeded: the same figures
    assert np.array_equal(sim.totals, again.totals)


def test_paid_figures_and_sensitivity_are_worded(gas) -> None:
    paid = rep.paid_figures(gas.result, None)
    assert "per pay component" in paid and any(k.startswith("per branch against") for k in paid)
    sens = rep.sensitivity_table(gas, limit=3)
    shown = rep.sensitivity_shown(gas.policy, sens)
    assert len(shown) == 3 and shown["payout change at +5 %"].str.endswith("CNY").all()
    svg = rep.tornado_svg(gas.policy, sens)
    assert svg.lstrip().startswith("<svg") and "Sensitivity" in svg


# --- the export -------------------------------------------------------------------------------
def test_export_writes_a_policy_that_loads_back_and_refuses_the_examples_files(gas, tmp_path) -> None:
    tuned = gas.policy.with_params({"pay.components.bonus.coefficients.B": 1.004})
    path = rep.export(tuned, tmp_path / "out" / "gas_tuned.yaml", [DATASETS], like=GAS / "policy.yaml")
    assert path.is_file() and calib.load_policy(path) == tuned
    assert "coefficients" in path.read_text(encoding="utf-8")
    assert not list(path.parent.glob(".*partial"))
    before = (GAS / "policy.yaml").read_bytes()
    for bad, says in [(GAS / "policy.yaml", "example's own files"), (tmp_path / "x.txt", "not a YAML"),
                      ("", "no file typed"), (tmp_path, "not a YAML")]:
        with pytest.raises(calib.CalibError, match=says):
            rep.export(tuned, bad, [DATASETS])
    assert (GAS / "policy.yaml").read_bytes() == before


# --- the panel and the app, driven from code --------------------------------------------------
def test_app_opens_with_the_default_budget_and_solves(app: FinanceApp) -> None:
    panel = app.panel
    assert isinstance(panel, FinancePanel) and app.error is None
    assert "opened in" in app.status.value and "gas_cs: " in app.status.value
    assert panel.budget.value == "139,000.00"
    assert "3,336,000.00 CNY over the history's 24 pay periods" in panel.budget_note.value
    panel.budget.value = "140000"  # shown again as people read it
    assert panel.budget.value == "140,000.00"
    report = panel.solve()
    assert report is not None and report["budget"] == 140_000 * 24
    assert "calib-finance-solved" in panel.solve_out.value and "gap to the budget" in panel.solve_out.value
    panel.parameter.value = "pay.components.bonus.coefficients.C"  # the answer is out of date
    assert panel.report is None and panel.solved is None and "press Solve" in panel.solve_out.value


def test_a_bad_budget_is_refused_in_place(app: FinanceApp) -> None:
    panel = app.panel
    assert panel.solve() is not None
    panel.budget.value = "12.000,5"
    assert ERROR_CLASS in panel.budget_note.value and "Fix:" in panel.budget_note.value
    assert panel.solve() is None and panel.solve_out.value == ""  # no old answer left beside it
    assert "not an amount of money" in panel.error
    assert panel.simulate() is None and panel.sim is None


def test_panel_simulates_with_envelopes_and_exports(app: FinanceApp, tmp_path: Path) -> None:
    panel = app.panel
    panel.scenarios.value = 40
    sim = panel.simulate()
    assert sim is not None and sim.n == 40 and panel.error is None
    out = panel.sim_out.value
    assert "chance of overspending the budget" in out and "城东分公司" in out and "chance over" in out
    assert "under the scheme as written" in out
    assert panel.export() is None and "Solve first" in panel.export_out.value
    panel.solve()
    assert "under the scheme as solved" in (panel.simulate() and panel.sim_out.value)
    assert str(tmp_path) in panel.path.value  # under the home (the test's HOME)
    path = panel.export()
    assert path is not None and path.is_file() and str(path) in panel.export_out.value
    assert calib.load_policy(path) == panel.solved
    panel.path.value = str(GAS / "policy.yaml")
    assert panel.export() is None and ERROR_CLASS in panel.export_out.value


def test_panel_sensitivity_is_a_static_svg(app: FinanceApp) -> None:
    sens = app.panel.sensitivity()
    assert sens is not None and len(sens) <= 8
    assert "<svg" in app.panel.sens_out.value and "payout change at +5 %" in app.panel.sens_out.value


def test_a_scheme_that_cannot_be_opened_is_said_in_place(app: FinanceApp, tmp_path: Path) -> None:
    assert app.load(tmp_path) is None and app.panel is None
    assert "no policy.yaml" in app.error and ERROR_CLASS in app.body.children[0].value
    app.scheme.value = "support_team"
    assert app.panel is not None and app.error is None and "support_team: " in app.status.value
