"""The what-if app's pieces: numbers as people read them, the form's fields, before/after, the
statement lines that changed, and the app (scheme picker, progress, errors in place) driven
from code."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calib
from calib.analysis.moves import moves
from calib.lab import whatif_format as f
from calib.lab import whatif_report as rep
from calib.lab.whatif_app import OTHER, STEPS, WhatIfApp, in_app, open_scheme, schemes

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
GAS = DATASETS / "gas_cs"


@pytest.fixture(scope="module")
def gas() -> calib.Policy:
    return calib.load_policy(GAS / "policy.yaml")


# --- numbers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("missing", [None, np.nan, pd.NA, pd.NaT, float("nan")])
def test_missing_reads_as_a_dash(missing) -> None:
    for show in (f.integer, f.number, f.money, f.percent, f.score, f.value, f.signed_money):
        assert show(missing) == "—"


def test_numbers_as_people_read_them() -> None:
    assert f.integer(10.0) == "10" and f.integer(np.int64(4480)) == "4,480"
    assert f.number(10.0) == "10" and f.number(0.883721) == "0.88" and f.number(1234.5) == "1,234.50"
    assert f.money(1234.5, "CNY") == "1,234.50 CNY" and f.money(1234.5, "CNY", unit=1.0) == "1,234 CNY"
    assert f.signed_money(-35.5, "CNY") == "−35.50 CNY" and f.signed_money(100, "CNY") == "+100.00 CNY"
    assert f.percent(0.883721) == "88.4%" and f.percent(0.2) == "20%"
    assert f.score(61) == "61.00" and f.score(68.571428, 1) == "68.6"
    assert f.signed_score(-39) == "−39.00" and f.signed_score(0) == "0.00"
    assert f.value(True, "bool") == "yes" and f.value(3.0, "int") == "3" and f.value("优秀") == "优秀"
    assert f.no_na("left: <NA>, hired: NaT, x: nan") == "left: —, hired: —, x: —"
    assert f.no_na("nano banana") == "nano banana"


def test_score_precision_is_the_policys_else_two(gas) -> None:
    assert f.score_decimals(gas) == 2


# --- the form and the report ----------------------------------------------------------------
def test_policy_inputs_and_field_kinds(gas) -> None:
    """A supervisor is scored on ratings (another table): only eligibility columns are theirs;
    a staff member's KPI columns follow them. Each field's kind follows the column's type."""
    assert rep.policy_inputs(gas, "supervisor") == ["probation", "absent", "days_present"]
    assert rep.policy_inputs(gas, "staff")[2:5] == ["days_present", "satisfied", "surveyed"]
    assert rep.policy_inputs(gas, None) == ["probation", "absent", "days_present"]
    spec = rep.field_spec(gas, "conduct")
    assert (spec.kind, spec.label, spec.options) == ("choice", "工作表现", ("优秀", "良好", "一般", "较差"))
    assert rep.field_spec(gas, "days_present").label == "出勤天数 (天)"
    assert rep.field_spec(gas, "absent").kind == "bool" and rep.field_spec(gas, "errors").kind == "int"
    records = pd.DataFrame({"period": ["2025-01", "2025-02", "2025-01"]})
    assert rep.field_spec(gas, "period", records).options == ("2025-01", "2025-02")


def test_statement_changes_pairs_the_lines_that_differ() -> None:
    before = "title\n  errors: 0   [kpis.errors.rule]\n  left: <NA>\nscore: 90\n"
    after = "title\n  errors: 2   [kpis.errors.rule]\n  left: <NA>\nscore: 70\nnote\n"
    assert rep.statement_changes(before, after) == [("errors: 0", "errors: 2"), ("score: 90", "score: 70"),
                                                    ("", "note")]
    assert rep.statement_changes(before, before) == []


def test_before_after_and_moved_view(gas) -> None:
    """GS0013 in 2025-06 with no satisfied customers and 3 complaints: the before/after table and
    who else moved (from ``moves``) in words."""
    data = calib.load_data(GAS, gas)
    before = calib.run(gas, data)
    tables = {k: t.copy() for k, t in data.tables.items()}
    rec = tables["records"]
    row = rec.index[(rec["employee_id"].astype(str) == "GS0013") & (rec["period"].astype(str) == "2025-06")]
    rec.loc[row, ["satisfied", "complaints"]] = [0, 3]
    after = calib.run(gas, tables)
    table = rep.before_after(before, after, gas, "GS0013", "2025-06").set_index("item")
    assert list(table.index) == ["status", "score", "grade", "place in group", "月度绩效工资", "等级奖金",
                                 "payout"]
    assert table.loc["score", "change"] == "−39.00" and table.loc["status", "change"] == ""
    o = rep.outcome(before, gas, "GS0013", "2025-06")
    assert (o["grade"], o["place"], o["group_size"], o["pay_period"]) == ("A+", 1, 7, "2025-06")
    moved = moves(before, after)
    view = rep.moved_view(moved[moved["id"] != "GS0013"], gas, after)
    assert view.to_dict("records") == [
        {"person": "GS0017", "period": "2025-06", "group": "城东营业厅二组 (leader GS0012)",
         "move": "↑ up", "grade": "B → A", "score": "94.04", "payout": "770.00 CNY → 820.00 CNY",
         "pay change": "+50.00 CNY"},
        {"person": "GS0019", "period": "2025-06", "group": "城东营业厅二组 (leader GS0012)",
         "move": "↑ up", "grade": "A → A+", "score": "97.50", "payout": "835.00 CNY → 885.00 CNY",
         "pay change": "+50.00 CNY"}]


def test_pay_on_a_rollup_is_found_for_the_month() -> None:
    assert rep._pay_period("2025-06", ["2025"]) == "2025"
    assert rep._pay_period("2025-06", ["2025-Q1", "2025-Q2"]) == "2025-Q2"
    assert rep._pay_period("2025-06", ["2025-06"]) == "2025-06"
    assert rep._pay_period("2025-06", []) is None


# --- the app ---------------------------------------------------------------------------------
def test_schemes_lists_every_bundled_example_with_its_title() -> None:
    found = schemes(DATASETS)
    assert {"gas_cs", "ecommerce_cs", "safety"} <= set(found) and "_gen" not in found
    assert found["gas_cs"] == "燃气分公司客服中心员工月度考核"
    assert schemes(DATASETS / "nowhere") == {}


def test_open_scheme_says_each_step_before_it() -> None:
    said: list[tuple[int, str]] = []
    opened = open_scheme(GAS, lambda i, step: said.append((i, step)))
    assert said == [(0, STEPS[0]), (1, STEPS[1]), (2, STEPS[2])]
    assert opened.name == "gas_cs" and set(opened.seconds) == set(STEPS[:3])
    assert len(opened.result.scores) == 4480


def test_the_app_opens_picks_and_asks_what_if() -> None:
    """Opened on gas_cs; a pick of another scheme replaces the panel (the progress label walked
    through every step); back to gas_cs, GS0013's what-if moves two others."""
    app = WhatIfApp(DATASETS, scheme="gas_cs")
    assert app.what_if is not None and app.error is None
    assert "gas_cs" in app.status.value and "4,480 person-periods, 4,263 rated" in app.status.value
    assert app.body.children == (app.what_if.widget,)
    seen: list[str] = []
    app.status.observe(lambda change: seen.append(change["new"]), names="value")
    app.scheme.value = "ecommerce_cs"
    assert [s for s in seen if "loading ecommerce_cs" in s] == [
        f"<span style='color:#555'>loading ecommerce_cs: {step}…</span>" for step in STEPS]
    assert app.what_if.policy.name == "ecommerce_cs" and app.progress.layout.visibility == "hidden"
    app.scheme.value = "gas_cs"
    panel = app.what_if
    panel.person.value, panel.period.value = "GS0013", "2025-06"
    panel.set_inputs({"satisfied": 0, "complaints": 3})
    assert panel.recalculate() is not None
    assert "Who else moved</b> (2)" in panel.result.value


def test_a_folder_typed_in_and_errors_in_place(tmp_path: Path) -> None:
    """(a folder…) shows the folder box; a folder without a policy, or with data the policy
    refuses, is said in a red box in the panel's place (the old panel goes)."""
    app = WhatIfApp(DATASETS, scheme="gas_cs")
    app.scheme.value = OTHER
    assert app.folder.layout.display == "" and app.what_if is not None
    assert app.load(tmp_path) is None and "has no policy.yaml" in app.body.children[0].value
    assert app.what_if is None and "Could not open" in app.status.value
    broken = tmp_path / "broken"
    shutil.copytree(GAS, broken)
    records = (broken / "records.csv").read_text(encoding="utf-8").splitlines()
    head = records[0].split(",")
    cells = records[1].split(",")
    cells[head.index("complaints")] = "-4"
    (broken / "records.csv").write_text("\n".join([records[0], ",".join(cells), *records[2:]]) + "\n",
                                        encoding="utf-8")
    app.folder.value = str(broken)
    assert app.load(app.folder.value) is None
    shown = app.body.children[0].value
    assert "This scheme cannot be opened" in shown and "complaints: below the minimum 0" in shown
    assert "Fix:" in shown and "Traceback" not in shown
    assert app.load(GAS) is not None and app.error is None


def test_not_in_an_app_here(monkeypatch) -> None:
    assert not in_app()
    monkeypatch.setenv("VOILA_REQUEST_URL", "http://127.0.0.1:8866/")
    assert in_app()
