"""The policy workbook: every example converts YAML → workbook → policy without loss, a workbook
written by hand runs, and every problem is named at its sheet, row and column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

import calib
from calib.cli import main
from calib.errors import PolicyError
from calib.policy.hashing import policy_sha256
from calib.policy.workbook import blank_policy, policy_to_workbook, workbook_to_policy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(ROOT.glob("datasets/*/policy.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_every_example_round_trips(path: Path, tmp_path: Path) -> None:
    """YAML → workbook → policy gives an equal policy with the same sha256."""
    policy = calib.load_policy(path)
    out = policy_to_workbook(policy, tmp_path / "policy.xlsx")
    back = workbook_to_policy(out)
    assert back == policy
    assert policy_sha256(back) == policy_sha256(policy)
    assert calib.load_policy(out) == policy  # load_policy reads .xlsx too


def test_sheets_hr_recognises(tmp_path: Path) -> None:
    """gas_cs's workbook has its tables as sheets, one row per KPI, band, weight and grade."""
    out = policy_to_workbook(calib.load_policy(ROOT / "datasets/gas_cs/policy.yaml"),
                             tmp_path / "gas.xlsx")
    book = load_workbook(out)
    for title in ("scheme", "inputs", "KPIs", "bands", "weights", "grades", "grade tables",
                  "pay components", "ranges", "notes"):
        assert title in book.sheetnames
    kpis = list(book["KPIs"].iter_rows(values_only=True))
    assert kpis[0][:3] == ("kpi", "label", "measure")
    assert [r[0] for r in kpis[1:]] == ["satisfaction", "on_time", "complaints", "errors",
                                        "conduct", "supervisor_rating"]
    weights = list(book["weights"].iter_rows(values_only=True))
    assert weights[0] == ("section", "item", "weight")
    assert ("staff_sheet", "satisfaction", 30) in weights


def test_parts_no_table_holds_go_to_more(tmp_path: Path) -> None:
    """A null (no floor for a deduction worth points) is kept as YAML in the more sheet."""
    policy = calib.load_policy(ROOT / "datasets/safety/policy.yaml")
    book = load_workbook(policy_to_workbook(policy, tmp_path / "s.xlsx"))
    rows = list(book["more"].iter_rows(min_row=2, values_only=True))
    assert ("kpis.legal_violations.rule.floor", "null\n") in rows


def test_blank_workbook_loads_and_explains(tmp_path: Path) -> None:
    """The blank workbook is a valid example with notes in Chinese and English."""
    out = policy_to_workbook(blank_policy(), tmp_path / "blank.xlsx")
    assert workbook_to_policy(out) == blank_policy()
    notes = list(load_workbook(out)["notes"].iter_rows(values_only=True))
    text = " ".join(str(v) for row in notes for v in row if v)
    assert "权重" in text and "weight" in text and "bands" in text


# --- a workbook written by hand ---------------------------------------------------------------
def _sheet(book: Workbook, title: str, rows: list[tuple]) -> None:
    ws = book.create_sheet(title)
    for row in rows:
        ws.append(row)


def hand_book() -> Workbook:
    """Two KPIs with bands, a weighted section, a thresholds scale and one pay component."""
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "scheme", [("field", "value"), ("name", "hand"), ("version", 2025.2),
                            ("calendar.frequency", "month")])
    _sheet(book, "tables", [("table", "period"), ("records", "period")])
    _sheet(book, "inputs", [("table", "column", "type", "min"),
                            ("records", "period", "text", None), ("records", "sales", "float", 0),
                            ("records", "errors", "int", 0), ("people", "base", "float", 0)])
    _sheet(book, "KPIs", [("kpi", "label", "column", "rule.kind", "rule.bound", "rule.otherwise"),
                          ("sales", "销售额", "sales", "tiers", "lower", 0),
                          ("errors", "差错", "errors", "tiers", "upper", 0)])
    _sheet(book, "bands", [("kpi", "at", "points"), ("sales", "1,000", 100), ("sales", 500, 60),
                           ("errors", 0, 100), ("errors", 2, 50)])
    _sheet(book, "sections", [("section", "combine"), ("total", "weighted")])
    _sheet(book, "weights", [("section", "item", "weight"), ("total", "sales", 60),
                             ("total", "errors", 40)])
    _sheet(book, "scorecards", [("scorecard", "root"), ("staff", "total")])
    _sheet(book, "grading rules", [("rule", "scorecards[0]", "method"),
                                   ("all", "staff", "thresholds")])
    _sheet(book, "grades", [("name", "label", "min"), ("A", "优秀", 80), ("B", "合格", None)])
    _sheet(book, "pay components", [("component", "kind", "base.column"),
                                    ("bonus", "grade_coefficient", "base")])
    _sheet(book, "grade tables", [("component", "grade", "coefficient"), ("bonus", "A", "150%"),
                                  ("bonus", "B", 1)])
    return book


def test_hand_written_workbook_runs(tmp_path: Path) -> None:
    """A workbook HR made runs; numbers typed as text read as the YAML reads them (150% = 1.5,
    1,000 = 1000), a version typed as a number is its text."""
    path = tmp_path / "hand.xlsx"
    hand_book().save(path)
    policy = calib.load_policy(path)
    assert policy.version == "2025.2"
    assert policy.get("kpis.sales.rule.bands[0].at") == 1000.0
    data = {"records": pd.DataFrame({"employee_id": ["E1", "E2", "E3"],
                                     "period": ["2025-01"] * 3,
                                     "sales": [1200.0, 600.0, 100.0], "errors": [0, 1, 5]}),
            "people": pd.DataFrame({"employee_id": ["E1", "E2", "E3"], "base": [1000.0] * 3})}
    result = calib.run(policy, data)
    scores = result.scores.set_index("id")["score"]
    assert scores.to_dict() == {"E1": 100.0, "E2": 56.0, "E3": 0.0}
    pay = result.payouts.set_index("id")["payout"]
    assert pay["E1"] == 1500.0 and pay["E2"] == 1000.0


def _error(tmp_path: Path, book: Workbook) -> str:
    path = tmp_path / "bad.xlsx"
    book.save(path)
    with pytest.raises(PolicyError) as info:
        workbook_to_policy(path)
    return str(info.value)


def test_unknown_kpi_in_weights(tmp_path: Path) -> None:
    book = hand_book()
    book["weights"]["B3"] = "erors"
    message = _error(tmp_path, book)
    assert "sheet weights, row 3, column 'weight'" in message and "erors" in message


def test_weight_as_text(tmp_path: Path) -> None:
    book = hand_book()
    book["weights"]["C3"] = "forty"
    message = _error(tmp_path, book)
    assert "sheet weights, row 3, column 'weight'" in message and "forty" in message


def test_decimal_comma_refused_with_readings(tmp_path: Path) -> None:
    book = hand_book()
    book["bands"]["B3"] = "7,5"
    message = _error(tmp_path, book)
    assert "sheet bands, row 3, column 'at'" in message and "7.5" in message


def test_duplicate_kpi_row(tmp_path: Path) -> None:
    book = hand_book()
    book["KPIs"].append(("sales", "again", "sales", "tiers", "lower", 0))
    message = _error(tmp_path, book)
    assert "sheet KPIs, row 4" in message and "given twice (rows 2 and 4)" in message


def test_band_missing_its_bound(tmp_path: Path) -> None:
    book = hand_book()
    book["bands"]["B3"] = None
    message = _error(tmp_path, book)
    assert "sheet bands, row 3, column 'at'" in message and "is required" in message


def test_formula_refused(tmp_path: Path) -> None:
    book = hand_book()
    book["weights"]["C2"] = "=100-C3"
    message = _error(tmp_path, book)
    assert "sheet weights, row 2, column 'weight': a formula" in message
    assert "Paste Special > Values" in message


def test_hidden_sheet_refused(tmp_path: Path) -> None:
    book = hand_book()
    book["grade tables"].sheet_state = "hidden"
    message = _error(tmp_path, book)
    assert "sheet grade tables: the sheet is hidden" in message


def test_unknown_sheet_and_column(tmp_path: Path) -> None:
    book = hand_book()
    book["KPIs"]["G1"] = "rule.boud"
    book["KPIs"]["G2"] = "lower"
    _sheet(book, "KPI", [("kpi",), ("x",)])
    message = _error(tmp_path, book)
    assert "sheet KPI: not a sheet of a policy workbook" in message
    book.remove(book["KPI"])
    message = _error(tmp_path, book)
    assert "sheet KPIs, row 2, column 'rule.boud'" in message and "unknown key" in message


def test_text_never_becomes_a_formula(tmp_path: Path) -> None:
    """A label starting with = is kept as YAML text in more, never written as a formula."""
    policy = calib.load_policy(ROOT / "datasets/gas_cs/policy.yaml")
    data = policy.to_dict()
    data["kpis"]["errors"]["label"] = "=HYPERLINK(\"x\")"
    odd = calib.policy.Policy.model_validate(data)
    out = policy_to_workbook(odd, tmp_path / "odd.xlsx")
    book = load_workbook(out)
    assert not any(c.data_type == "f" for ws in book.worksheets for row in ws.iter_rows()
                   for c in row)
    assert workbook_to_policy(out) == odd


# --- the command line -------------------------------------------------------------------------
def test_cli_policy_workbook(tmp_path: Path, capsys) -> None:
    policy = ROOT / "datasets/gas_cs/policy.yaml"
    out = tmp_path / "gas.xlsx"
    assert main(["policy-workbook", str(policy), "--out", str(out)]) == 0
    assert main(["validate", str(out)]) == 0
    back = tmp_path / "gas.yaml"
    assert main(["policy-workbook", str(out), "--out", str(back)]) == 0
    assert calib.load_policy(back) == calib.load_policy(policy)
    assert main(["policy-workbook", "--blank", "--out", str(tmp_path / "blank.xlsx")]) == 0
    assert calib.load_policy(tmp_path / "blank.xlsx") == blank_policy()
    capsys.readouterr()
    assert main(["policy-workbook", "--out", str(tmp_path / "x.xlsx")]) == 1
    assert "give a policy to convert or --blank" in capsys.readouterr().err
    assert main(["policy-workbook", str(policy), "--out", str(tmp_path / "x.txt")]) == 1
