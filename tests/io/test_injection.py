"""No formula ever comes from text (issue 18, deliverable 3), and report.xlsx scales (deliverable 7).

Every workbook writer is given hostile text (ids, teams, labels, grade labels, the policy's title
and name, reasons) and the written file must hold no formula and the text verbatim; CSV files
follow the OWASP rule; a table longer than a worksheet is split (the limit monkeypatched small).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import calib
import calib._util.xlsx
from calib._util.xlsx import (
    MONEY,
    Table,
    csv_cell,
    csv_safe,
    csv_unsafe,
    put,
    sheet_parts,
    write_csv,
    write_tables,
)
from calib.analysis.compare import diff_policies, diff_to_excel, impact, read_results
from calib.io.report import write_report
from calib.io.workbooks import write_signoff, write_template

DATA = Path(__file__).resolve().parents[1] / "fixtures"
HOSTILE = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)"]


def cells(path: Path) -> list:
    """Every cell of a workbook, after checking that no sheet's XML holds a formula element."""
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name), name
    book = openpyxl.load_workbook(path)
    return [c for ws in book for row in ws.iter_rows() for c in row]


def assert_text(path: Path, *texts: str) -> None:
    """No cell is a formula and every text is some cell's value (or part of it) verbatim."""
    every = cells(path)
    assert [c.coordinate for c in every if c.data_type == "f"] == []
    values = [c.value for c in every if isinstance(c.value, str)]
    for text in texts:
        assert any(text in v for v in values), text


def hostile_policy(text: str, grade_label: str, reason: str) -> calib.Policy:
    """grade_pay with a hostile title, grade label and not-rated reason."""
    source = (DATA / "grade_pay.yaml").read_text(encoding="utf-8")
    source = source.replace("title: 等级与薪酬 (golden)", f"title: {json.dumps(text)}")
    source = source.replace("{name: A, label: 良好, min: 90}",
                            f"{{name: A, label: {json.dumps(grade_label)}, min: 90}}")
    source = source.replace("reason: probation,", f"reason: {json.dumps(reason)},")
    return calib.parse_policy(source)


@pytest.fixture
def hostile_data(tmp_path: Path) -> Path:
    """grade_pay's data with hostile ids (E2, E3) and a hostile team (west)."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("people.csv", "records.csv"):
        frame = pd.read_csv(DATA / "grade_pay" / name, dtype=str, keep_default_na=False)
        frame["employee_id"] = frame["employee_id"].replace({"E2": HOSTILE[0], "E3": HOSTILE[3]})
        if "team" in frame:
            frame["team"] = frame["team"].replace({"west": HOSTILE[1]})
        frame.to_csv(folder / name, index=False)
    return folder


POLICY_ARGS = ("=1+1", "@SUM(A1)", "+cmd|' /C calc'!A0")


def test_put_keeps_text(tmp_path: Path) -> None:
    """``put`` stores every hostile text as an inline string; numbers keep their format."""
    book = openpyxl.Workbook()
    for row, text in enumerate(HOSTILE, start=1):
        put(book.active, row, 1, text)
    put(book.active, 1, 2, 12.5, MONEY)
    put(book.active, 2, 2, "ctl\x01x")
    book.save(tmp_path / "p.xlsx")
    assert_text(tmp_path / "p.xlsx", *HOSTILE, "ctl\ufffdx")
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    assert (ws["B1"].value, ws["B1"].number_format) == (12.5, MONEY)


def test_write_tables_text_numbers_formats(tmp_path: Path) -> None:
    """Hostile text stays text, numbers numbers with their format, booleans and dates typed."""
    frame = pd.DataFrame({"id": HOSTILE, "pay": [1.5, -5.0, np.nan, np.inf, 1e20],
                          "ok": [True, False, True, False, True],
                          "day": pd.date_range("2025-01-01", periods=5),
                          "mixed": [1, "=1", None, 2.5, "x"]})
    write_tables(tmp_path / "t.xlsx", {"t": Table(frame, {"pay": MONEY})})
    assert_text(tmp_path / "t.xlsx", *HOSTILE, "=1")
    back = pd.read_excel(tmp_path / "t.xlsx")
    assert back["id"].tolist() == HOSTILE
    assert back["pay"].tolist()[:2] == [1.5, -5.0] and back["pay"].isna().tolist()[2:4] == [True, True]
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["t"]
    assert ws["B2"].number_format == MONEY and ws["C2"].value is True
    assert ws["D2"].number_format == calib._util.xlsx.DATE and ws.freeze_panes == "A2"


def test_report(hostile_data: Path, tmp_path: Path) -> None:
    """report.xlsx: ids, teams, title, grade label and reason as text on every sheet."""
    policy = hostile_policy(*POLICY_ARGS)
    result = calib.run(policy, str(hostile_data))
    write_report(result, tmp_path / "report.xlsx")
    assert_text(tmp_path / "report.xlsx", HOSTILE[0], HOSTILE[1], HOSTILE[3], *POLICY_ARGS)


def test_signoff_and_template(hostile_data: Path, tmp_path: Path) -> None:
    """The sign-off (cover, parameters, calibration figures) and the input template."""
    policy = hostile_policy(*POLICY_ARGS)
    write_signoff(policy, tmp_path / "s.xlsx", data=str(hostile_data), group_by="team")
    assert_text(tmp_path / "s.xlsx", HOSTILE[1], *POLICY_ARGS)
    write_template(policy, tmp_path / "t.xlsx")
    assert_text(tmp_path / "t.xlsx", POLICY_ARGS[0])


def test_statement(hostile_data: Path, tmp_path: Path) -> None:
    """explain's statement workbook of a person with a hostile id."""
    result = calib.run(hostile_policy(*POLICY_ARGS), str(hostile_data))
    result.explain(HOSTILE[0], "2025-01").to_excel(tmp_path / "e.xlsx")
    assert_text(tmp_path / "e.xlsx", HOSTILE[0])


def test_diff_and_impact(hostile_data: Path, tmp_path: Path) -> None:
    """The policy diff (title and label changed to hostile text) and the impact workbook."""
    old = calib.load_policy(DATA / "grade_pay.yaml")
    new = hostile_policy(*POLICY_ARGS)
    diff_to_excel(diff_policies(old, new), tmp_path / "d.xlsx")
    assert_text(tmp_path / "d.xlsx", *POLICY_ARGS[:2])
    impact(old, new, str(hostile_data), by="team").to_excel(tmp_path / "i.xlsx")
    assert_text(tmp_path / "i.xlsx", HOSTILE[1])


@pytest.mark.parametrize(("value", "safe"), [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("'quoted", "''quoted"), ("-5.00", "-5.00"), ("+3", "+3"),
    ("1e5", "1e5"), ("plain", "plain"), ("", ""), (-5.0, -5.0), (None, None),
])
def test_csv_cell(value: object, safe: object) -> None:
    """The OWASP rule: a quote before formula-like text and before a quote; numbers untouched."""
    assert csv_cell(value) == safe


def test_csv_round_trip(tmp_path: Path) -> None:
    """write_csv neutralises, csv_unsafe undoes it exactly; numbers stay numbers in the file."""
    frame = pd.DataFrame({"id": [*HOSTILE, "'q", "ok"], "amount": [-5.0, 1, 2, 3, 4, 5, 6],
                          "cat": pd.Categorical(["=x"] * 7)})
    write_csv(frame, tmp_path / "f.csv")
    raw = (tmp_path / "f.csv").read_text(encoding="utf-8")
    assert "\n'@SUM(A1),4.0,'=x\n" in raw and "-5.0" in raw
    back = csv_unsafe(pd.read_csv(tmp_path / "f.csv", dtype={"id": str}))
    assert back["id"].tolist() == frame["id"].tolist()
    assert back["cat"].tolist() == ["=x"] * 7 and back["amount"].tolist() == frame["amount"].tolist()
    assert csv_safe(frame[["amount"]]) is not None


def test_read_results_undoes_the_quote(tmp_path: Path) -> None:
    """results.csv as calib writes it is read back with the ids as they were."""
    write_csv(pd.DataFrame({"id": HOSTILE, "period": ["2025-01"] * 5, "score": [1.0] * 5}),
              tmp_path / "results.csv")
    assert read_results(tmp_path)["id"].tolist() == HOSTILE


def test_sheet_parts() -> None:
    """A table is split where the header and the rows would pass the limit; names stay ≤ 31."""
    assert sheet_parts("results", 4, max_rows=5) == [("results", 0, 4)]
    assert sheet_parts("results", 9, max_rows=5) == [("results", 0, 4), ("results (2)", 4, 8),
                                                     ("results (3)", 8, 9)]
    assert all(len(n) <= 31 for n, _, _ in sheet_parts("x" * 31, 10, max_rows=3))
    assert sheet_parts("results", 1_048_575) == [("results", 0, 1_048_575)]
    assert len(sheet_parts("results", 1_048_576)) == 2


def test_report_split_at_row_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Over the row limit the results are split into results, results (2), ... with every row kept
    once and each part headed; the limit is made small here (a real one needs a million rows)."""
    monkeypatch.setattr(calib._util.xlsx, "EXCEL_MAX_ROWS", 8)
    monkeypatch.setattr(calib._util.xlsx, "BLOCK_ROWS", 3)  # blocks inside a part, too
    result = calib.run(calib.load_policy(DATA / "grade_pay.yaml"), str(DATA / "grade_pay"))
    sheets = write_report(result, tmp_path / "r.xlsx")
    parts = [s for s in sheets if s.startswith("results")]
    assert parts == ["results", "results (2)", "results (3)"]
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    frames = [pd.read_excel(tmp_path / "r.xlsx", sheet_name=p, dtype={"period": str}) for p in parts]
    assert all(book[p].max_row <= 8 and book[p].freeze_panes == "A2" for p in parts)
    whole = pd.concat(frames, ignore_index=True)
    from calib.io.report import results_table

    expected = results_table(result)
    assert whole[["id", "period"]].values.tolist() == expected[["id", "period"]].values.tolist()


def test_cli_run_with_small_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI finishes (exit 0) when a sheet passes the limit, report.xlsx and results.csv whole."""
    from calib.cli import main

    monkeypatch.setattr(calib._util.xlsx, "EXCEL_MAX_ROWS", 6)
    out = tmp_path / "out"
    assert main(["run", "--policy", str(DATA / "grade_pay.yaml"), "--data", str(DATA / "grade_pay"),
                 "--out", str(out)]) == 0
    results = pd.read_csv(out / "results.csv")
    names = openpyxl.load_workbook(out / "report.xlsx").sheetnames
    rows = sum(pd.read_excel(out / "report.xlsx", sheet_name=n).shape[0] for n in names
               if n == "results" or n.startswith("results ("))
    assert rows == len(results)


def test_illegal_characters_do_not_crash(tmp_path: Path) -> None:
    """Control characters XML cannot carry become U+FFFD instead of an error."""
    buf = io.BytesIO()
    write_tables(buf, {"t": pd.DataFrame({"a": ["x\x00y", "\x1b[31m"] * 3})})
    (tmp_path / "c.xlsx").write_bytes(buf.getvalue())
    assert_text(tmp_path / "c.xlsx", "x\ufffdy")


def test_fast_csv_is_pandas_csv(tmp_path: Path) -> None:
    """write_csv's vectorised writer gives the bytes of pandas' to_csv of the neutralised table:
    floats of every magnitude (Python's repr), whole numbers, NaN, infinities, -0.0, integers,
    booleans, hostile and quoted text in object, str and categorical columns."""
    rng = np.random.default_rng(7)
    n = 5_000
    floats = 10.0 ** rng.uniform(-12, 20, n) * rng.choice([-1, 1], n)
    floats[::7] = np.round(floats[::7])
    floats[::11], floats[::13], floats[:3] = np.nan, 0.0, [np.inf, -np.inf, -0.0]
    texts = np.array([*HOSTILE, "-5.00", "'q", "a,b", 'q"r', "x\ny", "x\ry", "\tt", "", "普通", " s "],
                     dtype=object)
    frame = pd.DataFrame({"f": floats, "i": rng.integers(-10**12, 10**12, n), "b": rng.random(n) < .5,
                          "t": rng.choice(np.append(texts, None), n),
                          "c": pd.Categorical(rng.choice(texts, n)),
                          "s": pd.array(rng.choice(texts, n), dtype="str")})
    for encoding in ("utf-8", "utf-8-sig"):
        write_csv(frame, tmp_path / "fast.csv", encoding=encoding)
        csv_safe(frame).to_csv(tmp_path / "slow.csv", index=False, encoding=encoding)
        assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()


def test_excel_escapes_kept_verbatim(tmp_path: Path) -> None:
    """Text such as ``_x0041_`` (which Excel would show as 'A') is written with Excel's own
    escape for the underscore, so it reads back, and shows, as typed."""
    frame = pd.DataFrame({"id": ["_x0041_", "a_x00e9_b", "E1", "E2"], "n": [1, 2, 3, 4]})
    write_tables(tmp_path / "x.xlsx", {"t": frame})
    with zipfile.ZipFile(tmp_path / "x.xlsx") as zf:
        assert b"_x005F_x0041_" in zf.read("xl/sharedStrings.xml")
    assert pd.read_excel(tmp_path / "x.xlsx")["id"].tolist() == frame["id"].tolist()


class TestCellLimit:
    """Excel opens no workbook with a cell over 32,767 characters: longer text is cut, with a
    note, in workbooks only; the CSV keeps it whole."""

    def test_long_text_cut_in_every_writer(self, tmp_path: Path) -> None:
        """Inline strings, shared strings and openpyxl cells all stay within the limit."""
        from calib._util.xlsx import CELL_LIMIT, CUT_NOTE, put, write_tables

        long = "部" * 40_000
        frame = pd.DataFrame({"id": [f"E{i}" for i in range(3)], "unique": [long + str(i) for i in
                                                                            range(3)],
                              "shared": [long] * 3})
        write_tables(tmp_path / "t.xlsx", {"t": frame})
        book = openpyxl.Workbook()
        put(book.active, 1, 1, long)
        book.save(tmp_path / "p.xlsx")
        for path in (tmp_path / "t.xlsx", tmp_path / "p.xlsx"):
            for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True):
                for value in row:
                    if isinstance(value, str) and value.startswith("部"):
                        assert len(value) == CELL_LIMIT and value.endswith(CUT_NOTE)

    def test_run_keeps_whole_text_in_csv(self, tmp_path: Path) -> None:
        """A 40,000-character team name: report.xlsx cuts it, people's text in scores is whole."""
        import shutil

        from calib.cli import main

        data = tmp_path / "d"
        shutil.copytree(DATA / "grade_pay", data)
        people = pd.read_csv(data / "people.csv", dtype=str)
        people["team"] = people["team"].where(people["team"] != "east", "东" * 40_000)
        people.to_csv(data / "people.csv", index=False)
        assert main(["run", "--policy", str(DATA / "grade_pay.yaml"), "--data", str(data),
                     "--out", str(tmp_path / "out")]) == 0
        longest = max((len(v) for ws in openpyxl.load_workbook(tmp_path / "out" / "report.xlsx")
                       for row in ws.iter_rows(values_only=True) for v in row
                       if isinstance(v, str)), default=0)
        assert longest <= 32_767
        grades = pd.read_csv(tmp_path / "out" / "grades.csv", dtype=str)
        assert grades["group"].str.len().max() == 40_000
