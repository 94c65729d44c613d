"""The calibration session (issue 20, items 4 and 9): its functions, its panel and notebook 07.

Hand-checked figures are from tests/fixtures/grade_pay.yaml (see tests/engine/test_overrides.py):
in 2025-01 east's staff E1–E4 hold A+ 1, A 1, B 2 by quota (E5 is vetoed to C-), west's W1–W3
A+ 1, A 1, B 1; in 2025-02 east's five A+ 1, A 2, B 2, west's four A+ 1, A 1, B 2. The lead L1
is graded by thresholds. Pay: 750 × score% + 1000 × grade coefficient + a 10,000.00 pool.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

import calib
from calib.cycle.ledger import CycleError, Ledger
from calib.cycle.overrides import current_overrides
from calib.lab import session as s
from calib.lab.session_panel import SessionPanel

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
POLICY = calib.load_policy(FIXTURES / "grade_pay.yaml")
DATA = calib.load_data(FIXTURES / "grade_pay", POLICY)
BASE = calib.run(POLICY, DATA)
# E2 A → B (east), W3 B → A+ (west), both in 2025-01
PENDING = [s.override_row("E2", "2025-01", "grade", "B", "evidence", by="王经理", at="2025-02-10"),
           s.override_row("W3", "2025-01", "grade", "A+", "appeal", by="李主任", at="2025-02-10")]
AFTER = s.rerun(POLICY, DATA, PENDING)


# --- numbers -----------------------------------------------------------------------------------
def test_numbers_read_as_people_read_them() -> None:
    assert s.count(12.0) == "12" and s.count(1234567) == "1,234,567" and s.count(float("nan")) == ""
    assert s.money(1234567.5, "CNY") == "1,234,567.50 CNY"
    assert s.money(Decimal("-100"), "CNY", signed=True) == "-100.00 CNY"
    assert s.money(Decimal("100"), "CNY", signed=True) == "+100.00 CNY"
    assert s.score(87.5) == "87.50" and s.score(None) == "" and s.percent(0.125) == "12.5%"


# --- the population ----------------------------------------------------------------------------
def test_filter_columns_are_the_period_and_the_text_columns() -> None:
    assert s.filter_columns(POLICY, DATA) == ["period", "team", "position"]


def test_pick_filters_by_any_text_column_and_the_period() -> None:
    west = s.pick(BASE.grades, POLICY, DATA, {"team": "west", "period": "2025-01"})
    assert west["id"].astype(str).tolist() == ["W1", "W2", "W3", "W4"]
    assert (west["team"] == "west").all() and west.index.isin(BASE.grades.index).all()
    leads = s.pick(BASE.grades, POLICY, DATA, {"position": ["lead"]})
    assert leads["id"].astype(str).tolist() == ["L1", "L1"]
    assert len(s.pick(BASE.grades, POLICY, DATA, {"team": ""})) == len(BASE.grades)  # '' = everyone
    assert s.choices(west, "team") == ["west"]
    with pytest.raises(calib.CalibError, match="cannot pick a population by 'branch'"):
        s.pick(BASE.grades, POLICY, DATA, {"branch": "x"})


# --- grades against the targets ------------------------------------------------------------------
def test_grade_distribution_sums_quotas_and_counts_over_periods() -> None:
    d = s.grade_distribution(AFTER).set_index(["rule", "group", "grade"])
    # east: quotas A+ 1+1, A 1+2, B 2+2; E2's A became B in January
    assert d.loc[("staff", "east", "A+")].tolist() == [2, 2, 2]
    assert d.loc[("staff", "east", "A")].tolist() == [3, 3, 2]
    assert d.loc[("staff", "east", "B")].tolist() == [4, 4, 5]
    # west: W3's B became A+ in January
    assert d.loc[("staff", "west", "A+")].tolist() == [2, 2, 3]
    assert d.loc[("staff", "west", "B")].tolist() == [3, 3, 2]
    lead = d.loc[("leads", s.NO_QUOTA, "A+")]
    assert pd.isna(lead["target"]) and lead["final"] == 1  # graded by thresholds: no target


def test_grade_distribution_of_a_population() -> None:
    jan_west = s.pick(AFTER.grades, POLICY, DATA, {"team": "west", "period": "2025-01"})
    d = s.grade_distribution(AFTER, jan_west)
    assert d[["grade", "target", "final"]].values.tolist() == [
        ["A+", 1, 2], ["A", 1, 1], ["B", 1, 0], ["C", 0, 0], ["C-", 0, 0]]


def test_leniency_flags_a_group_over_its_top_target() -> None:
    lenient = s.leniency(s.grade_distribution(AFTER), POLICY, threshold=0.10).set_index("group")
    west, east = lenient.loc["west"], lenient.loc["east"]
    # west: A+/A target 4 of 7, final 5 of 7: 1/7 = 14.3 points over, more than 10
    assert (west["size"], west["target_top"], west["final_top"]) == (7, 4, 5)
    assert west["excess"] == pytest.approx(1 / 7) and bool(west["lenient"])
    # east: target 5 of 9, final 4 of 9: under its target
    assert east["excess"] == pytest.approx(-1 / 9) and not bool(east["lenient"])
    assert not s.leniency(s.grade_distribution(AFTER), POLICY, threshold=0.15)["lenient"].any()
    assert s.top_grades(POLICY) == ["A+", "A"] and s.top_grades(POLICY, ["A+"]) == ["A+"]
    with pytest.raises(calib.CalibError, match="not grades of the scale"):
        s.top_grades(POLICY, ["S"])


# --- the 9-box -----------------------------------------------------------------------------------
def test_axis_table_and_options() -> None:
    table = s.axis_table(BASE, POLICY, DATA)
    assert len(table) == 19  # 20 rows, W4 not rated in January
    assert s.axis_options(BASE, POLICY, DATA) == ["score", "grade", "points", "team", "position"]


def test_nine_box_on_given_cuts_counts_and_lists_people() -> None:
    jan = s.pick(s.axis_table(BASE, POLICY, DATA), POLICY, DATA, {"period": "2025-01"})
    box = s.nine_box(jan, "score", "grade", POLICY, x_cuts=[85, 95])
    assert box.counts.columns.tolist() == ["< 85.00", "85.00–95.00", "≥ 95.00"]
    assert box.counts.index.tolist() == ["A+", "A", "B", "C-"]  # best first; no C in January
    assert box.counts.values.tolist() == [[0, 1, 2],  # W1 90 | L1 95, E1 99
                                          [0, 2, 0],  # E2 92.5, W2 85
                                          [2, 1, 0],  # E4 30, W3 80 | E3 88
                                          [1, 0, 0]]  # E5 70 (vetoed)
    assert box.people("A+", "≥ 95.00")["id"].tolist() == ["E1", "L1"]  # highest first
    assert box.people("B", "< 85.00")[["id", "score"]].values.tolist() == [["W3", 80.0], ["E4", 30.0]]
    assert box.people("C", "< 85.00").empty


def test_numeric_axes_cut_at_tertiles() -> None:
    jan = s.pick(s.axis_table(BASE, POLICY, DATA), POLICY, DATA, {"period": "2025-01"})
    axis = s.cut_axis(jan, "score", POLICY)
    # sorted: 30 70 80 | 85 88 90 | 92.5 95 99; tertiles 80 + 2/3 × 5 and 90 + 1/3 × 2.5
    assert axis.cuts == pytest.approx([250 / 3, 272.5 / 3])
    assert axis.bins == ["< 83.33", "83.33–90.83", "≥ 90.83"]
    assert axis.of_row.value_counts().tolist() == [3, 3, 3]


def test_text_axes_in_the_declared_order() -> None:
    gas = calib.load_policy(ROOT / "datasets" / "gas_cs" / "policy.yaml")
    table = pd.DataFrame({"id": list("abcde"), "conduct": ["良好", "较差", "优秀", "良好", None]})
    axis = s.cut_axis(table, "conduct", gas)
    assert axis.bins == ["较差", "良好", "优秀"]  # declared 优秀, 良好, 一般, 较差: low to high, present
    assert axis.of_row.tolist() == ["良好", "较差", "优秀", "良好", None]
    with pytest.raises(calib.CalibError, match="not an axis"):
        s.cut_axis(table, "potential", gas)


# --- pending overrides and their cost ------------------------------------------------------------
def test_cost_change_of_the_pending_overrides() -> None:
    cost = s.cost_change(BASE, AFTER)
    # E2's bonus 1,100 → 1,000, W3's 1,000 → 1,200; the pool stays 10,000.00
    assert (cost.before, cost.after, cost.change) == (
        Decimal("50250.90"), Decimal("50350.90"), Decimal("100.00"))
    assert s.cost_change(BASE, s.rerun(POLICY, DATA, [])).change == 0


def test_overrides_table_and_balance_switch() -> None:
    table = s.overrides_table(PENDING)
    assert table.columns.tolist() == list(s.COLUMNS) and table["value"].tolist() == ["B", "A+"]
    on = s.with_balance(POLICY, True)
    assert on.cycle.quotas == "balance" and s.with_balance(on, False).cycle.quotas == "report"
    result = s.rerun(on, DATA, PENDING[:1])
    assert result.quota_check.proposals["id"].tolist() == ["E3"]  # test_overrides' hand check
    with pytest.raises(calib.DataError, match="not in the scale"):
        s.rerun(POLICY, DATA, [s.override_row("E2", "2025-01", "grade", "S", "evidence", by="x")])


# --- diagnostics ---------------------------------------------------------------------------------
def test_override_steps_say_up_down_same() -> None:
    with_score = [*PENDING, s.override_row("E1", "2025-02", "score", "98", "error", by="王经理")]
    steps = s.override_steps(s.rerun(POLICY, DATA, with_score), POLICY)
    assert steps[["id", "group", "computed_grade", "final_grade", "steps", "direction"]].values.tolist() == [
        ["E2", "east", "A", "B", -1, "down"], ["W3", "west", "B", "A+", 2, "up"],
        ["E1", "east", "A+", "A+", 0, "same"]]  # a score override on a quota row keeps its grade
    assert s.override_steps(BASE, POLICY).empty


def test_override_summary_per_decision_maker_and_group() -> None:
    who = s.override_summary(AFTER, POLICY, DATA, "by").set_index("by")
    assert who.loc["王经理", ["overrides", "up", "down", "same", "net_steps"]].tolist() == [1, 0, 1, 0, -1]
    assert who.loc["李主任", ["overrides", "up", "net_steps"]].tolist() == [1, 1, 2]
    teams = s.override_summary(AFTER, POLICY, DATA, "team").set_index("team")
    # graded rows: east E1–E5 and L1 in both months (12), west W1–W3 and W4 in February (7)
    assert teams["rows"].to_dict() == {"east": 12, "west": 7}
    assert teams["rate"].to_dict() == pytest.approx({"east": 1 / 12, "west": 1 / 7})
    groups = s.override_summary(AFTER, POLICY, DATA, "group").set_index("group")
    assert groups.loc["west", ["overrides", "rows"]].tolist() == [1, 7]
    jan_west = s.pick(AFTER.grades, POLICY, DATA, {"team": "west", "period": "2025-01"})
    inside = s.override_summary(AFTER, POLICY, DATA, "team", jan_west)
    assert inside[["team", "overrides", "rows"]].values.tolist() == [["west", 1, 3]]


def test_distribution_and_pay_before_and_after() -> None:
    d = s.distribution_change(AFTER).set_index("grade")
    assert d.loc["A+"].tolist() == [5, 6, 1] and d.loc["A"].tolist() == [6, 5, -1]
    assert d["change"].sum() == 0
    pay = s.pay_change(AFTER, POLICY, DATA, "team").set_index("team")
    assert pay["change"].to_dict() == {"east": Decimal("-274.39"), "west": Decimal("374.39")}
    assert sum(pay["change"]) == s.cost_change(BASE, AFTER).change
    assert pay.loc["east", "before"] + pay.loc["west", "before"] == Decimal("50250.90")


# --- saving ------------------------------------------------------------------------------------
def test_save_to_cycle_appends_to_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "2025H1.sqlite"
    with pytest.raises(CycleError, match="there is no cycle record"):
        s.save_to_cycle(path, PENDING, POLICY)
    seqs = s.save_to_cycle(path, PENDING, POLICY, by="HR", create=True)
    assert len(seqs) == 2
    with Ledger.open(path) as ledger:
        kept = current_overrides(ledger)
        assert ledger.meta()["cycle"] == "2025H1" and not ledger.verify_chain()
    assert kept[["id", "value", "reason", "by"]].values.tolist() == [
        ["E2", "B", "evidence", "王经理"], ["W3", "A+", "appeal", "李主任"]]
    bad = [s.override_row("E2", "2025-01", "grade", "A", "friendly", by="x")]
    with pytest.raises(CycleError, match="reason code 'friendly'"):
        s.save_to_cycle(path, bad, POLICY)


# --- the panel, driven as a person would ---------------------------------------------------------
def _buttons(panel: SessionPanel) -> list:
    return [c for c in panel.grid.children if "calib-box" in c._dom_classes]


def test_panel_propose_shows_breaches_and_cost_then_balance_and_save(tmp_path: Path) -> None:
    panel = SessionPanel(POLICY, FIXTURES / "grade_pay")
    assert panel.period.value == "2025-02" and panel.where() == {"period": "2025-02"}
    panel.set_population("team", "east", "2025-01")
    assert panel.person.options == ("E1", "E2", "E3", "E4", "E5", "L1")
    assert "Grades against target" in panel.distribution.value
    panel.x.value, panel.y.value = "score", "grade"
    # scores 30 70 | 88 92.5 | 95 99 (tertiles 82 and 93.33): A+ E1, L1 high; A E2 mid; B E3 mid,
    # E4 low; C- E5 low
    buttons = _buttons(panel)
    assert sorted(int(b.description) for b in buttons if b.description != "0") == [1, 1, 1, 1, 2]
    top = next(b for b in buttons if b.tooltip.startswith("A+ × ≥ 93.33"))
    assert top.description == "2"
    top.click()
    assert "A+ × ≥ 93.33: 2 person-periods" in panel.box_people.value
    assert "E1" in panel.box_people.value and "99.00" in panel.box_people.value
    assert "L1" in panel.box_people.value and "E2" not in panel.box_people.value
    # the form: E2's grade A → B
    panel.person.value, panel.person_period.value, panel.field.value = "E2", "2025-01", "grade"
    panel.new_value.value, panel.reason.value, panel.by.value = "B", "evidence", "王经理"
    panel.propose_button.click()
    assert len(panel.pending) == 1 and "proposed" in panel.message.value
    assert "Quota breaches (2)" in panel.status.value and "<b>-100.00 CNY</b>" in panel.status.value
    assert "50,250.90 CNY" in panel.status.value
    assert "Diagnostics of the session" in panel.diagnostics.value
    assert panel.accept_button.disabled  # report mode: no proposals
    panel.balance.value = True
    assert "E3" in panel.status.value and not panel.accept_button.disabled
    panel.accept_button.click()
    assert [r["id"] for r in panel.pending] == ["E2", "E3"] and panel.pending[1]["reason"] == "quota"
    assert "Quota breaches (0)" in panel.status.value and "<b>+0.00 CNY</b>" in panel.status.value
    # a refused override is shown and not added
    panel.new_value.value, panel.person.value = "S", "E4"
    panel.person_period.value = "2025-01"
    panel.propose_button.click()
    assert "Not proposed" in panel.message.value and "not in the scale" in panel.message.value
    assert len(panel.pending) == 2
    # remove the balancing move: the breach is back
    remove = panel.pending_box.children[1].children[0]
    remove.click()
    assert [r["id"] for r in panel.pending] == ["E2"] and "Quota breaches (2)" in panel.status.value
    # save
    panel.save(tmp_path / "missing.sqlite")
    assert "Not saved" in panel.saved.value and "calib cycle init" in panel.saved.value
    assert panel.save(tmp_path / "c.sqlite", create=True) and "1 override saved" in panel.saved.value


def test_panel_needs_who_decides_and_says_when_a_scheme_has_no_grades() -> None:
    panel = SessionPanel(POLICY, FIXTURES / "grade_pay")
    assert not panel.propose("E2", "2025-01", "grade", "B", "evidence", by="")
    assert "give who decides" in panel.message.value and not panel.pending
    property_cs = calib.load_policy(ROOT / "datasets" / "property_cs" / "policy.yaml")
    empty = SessionPanel(property_cs, ROOT / "datasets" / "property_cs")
    assert "gives no grades" in empty.widget.value


@pytest.mark.slow
def test_panel_on_gas_cs_a_leaders_grade_breaks_the_team_quota() -> None:
    """gas_cs grades staff by a cascade on their supervisor's grade: raising GS0001 (A in
    2025-12) to A+ raises the team's A+ quota from 1 to 2, and the team's grades, kept, break it."""
    gas = ROOT / "datasets" / "gas_cs"
    panel = SessionPanel(calib.load_policy(gas / "policy.yaml"), gas)
    assert panel.y.value == "conduct" and panel.nine_box().counts.sum().sum() > 150
    started = time.perf_counter()
    assert panel.propose("GS0001", "2025-12", "grade", "A+", "evidence", by="分公司经理")
    took = time.perf_counter() - started
    breaches = panel.result.quota_check.breaches
    assert breaches[["group", "grade", "target", "final"]].values.tolist() == [
        ["城东营业厅一组 (leader GS0001)", "A+", 2, 1], ["城东营业厅一组 (leader GS0001)", "B", 5, 6]]
    assert "城东营业厅一组 (leader GS0001)" in panel.status.value and "+100.00 CNY" in panel.status.value
    assert took < 3, took  # one override re-run with the views redrawn


@pytest.mark.slow
def test_notebook_07_runs_headless_on_gas_cs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = ROOT / "notebooks" / "07_calibration_session.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert 'SCHEME = "gas_cs"' in nb.cells[1].source
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
