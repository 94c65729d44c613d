"""Every person's statement for the review meetings (`calib explain --all`): a page each, the
workbook of every line, the index; the caps, floors and overrides they name; safe file names.
"""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

import calib
from calib._util.outputs import verify_run
from calib.cli import main
from calib.engine.explain import explain
from calib.engine.statement_text import TEXT, language
from calib.engine.statements import INDEX, WORKBOOK, Written, page_names, write_statements
from calib.io.report import results_table

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
PAYOUT = re.compile(r'class="num payout" data-period="([^"]+)">([^<]+)<')


@cache
def result(name: str) -> calib.Result:
    return calib.run(calib.load_policy(DATASETS / name / "policy.yaml"), str(DATASETS / name))


@cache
def written(name: str, folder: Path) -> Written:
    return write_statements(result(name), folder / name, ["test"])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("statements")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gas_cs", "support_team"])
def test_a_page_per_person_and_every_payout_to_the_cent(name: str, folder: Path) -> None:
    """One page per person of the results; each page holds every one of the person's payouts,
    equal to results.csv's to the cent; the index links every page; the manifest is whole.
    """
    w = written(name, folder)
    out = folder / name
    results = results_table(result(name))
    ids = sorted(results["id"].astype(str).unique())
    assert sorted(w.pages) == ids and w.people == len(ids) == len(set(w.pages.values()))
    assert w.statements == len(results)
    pages = sorted(p.name for p in out.glob("*.html") if p.name != INDEX)
    assert pages == sorted(w.pages.values())
    index = (out / INDEX).read_text(encoding="utf-8")
    assert all(f'href="{page}"' in index for page in pages)
    expected = results.dropna(subset=["payout"])
    seen = 0
    for pid, rows in expected.groupby(expected["id"].astype(str)):
        text = (out / w.pages[pid]).read_text(encoding="utf-8")
        on_page = {period: float(value.replace(",", "")) for period, value in PAYOUT.findall(text)}
        for period, payout in zip(rows["period"].astype(str), rows["payout"], strict=True):
            assert round(on_page[period] * 100) == round(payout * 100), (pid, period)
            seen += 1
    assert seen == len(expected) > 0
    assert verify_run(out) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gas_cs", "support_team"])
def test_workbook_has_a_row_per_line(name: str, folder: Path) -> None:
    """statements.xlsx opens with openpyxl: the header, then one row per statement line."""
    from openpyxl import load_workbook

    w = written(name, folder)
    book = load_workbook(folder / name / WORKBOOK, read_only=True)
    sheet = book["statements"]
    rows = sheet.iter_rows(values_only=True)
    assert next(rows) == ("id", "period", "section", "item", "value", "rule", "policy path")
    count = sum(1 for _ in rows)
    book.close()
    assert count == w.lines > w.statements


def test_component_cap_that_bites_is_named() -> None:
    """support_team's bonus is capped at 500 (pay.components.workload_bonus.max): the statement
    says so with the amount before the cap, and the payout is the capped one.
    """
    res = result("support_team")
    bounds = res.arrays["bounds"]()["workload_bonus"]
    row = next(i for i, path in enumerate(bounds.which)
               if path == "pay.components.workload_bonus.max")
    pid, period = res.payouts["id"].iloc[row], res.payouts["period"].iloc[row]
    statement = explain(res, pid, period)
    text = statement.to_text()
    before = bounds.before[row]
    assert before > 500
    assert (f"capped at 500 (pay.components.workload_bonus.max); before the cap {before:,.2f}"
            in text)
    assert statement.data["pay"]["payout"] == pytest.approx(500.0)
    floors = [x for x in statement.data["limits"] if x["path"].endswith(".min")]
    assert floors == []


def test_component_floor_and_score_cap_are_named() -> None:
    """gas_cs's frontline floor share (75%) and property_cs's group-average score cap."""
    res = result("gas_cs")
    bounds = res.arrays["bounds"]()["performance"]
    row = next(i for i, path in enumerate(bounds.which) if path)
    statement = explain(res, res.payouts["id"].iloc[row], res.payouts["period"].iloc[row])
    limit = next(x for x in statement.data["limits"] if x["what"] == "月度绩效工资")
    assert limit["kind"] == "floor" and limit["at"] == pytest.approx(0.75)
    assert limit["path"].startswith("pay.components.performance.floors.")
    prop = result("property_cs")
    capped = prop.scores[prop.scores["capped"].astype(bool)].iloc[0]
    data = explain(prop, capped["id"], capped["period"]).to_dict()
    assert any(x["what"] == "score" and x["path"].startswith("scorecards.") for x in data["limits"])


def test_bounds_change_no_amount() -> None:
    """The amount before a cap, capped, is the component's amount (to the cent)."""
    res = result("support_team")
    bounds = res.arrays["bounds"]()["workload_bonus"]
    paid = res.payouts["workload_bonus"].to_numpy()
    capped = bounds.before.clip(0, 500).round(2)
    rated = (res.payouts["status"] == "rated").to_numpy()
    assert (abs(capped[rated] - paid[rated]) <= 0.01 + 1e-9).all()  # rounding half up


def test_overrides_are_shown(tmp_path: Path) -> None:
    """An override (computed → final, reason and its meaning, by whom, when) is on the page."""
    res = calib.run(calib.load_policy(DATASETS / "support_team" / "policy.yaml"),
                    str(DATASETS / "support_team"))
    pid, period = str(res.scores["id"].iloc[0]), str(res.scores["period"].iloc[0])
    res.overrides = pd.DataFrame([{"id": pid, "period": period, "field": "score",
                                   "computed": 80.0, "final": 90.0, "reason": "evidence",
                                   "note": "客户表扬信", "by": "王经理", "at": "2025-03-02 10:00"}])
    text = explain(res, pid, period).to_text()
    assert ("score overridden: computed 80 → final 90, reason evidence (new evidence of "
            "performance); 客户表扬信, by 王经理, at 2025-03-02 10:00") in text
    other = str(res.scores["id"].iloc[-1])
    assert "overrides:" not in explain(res, other, str(res.scores["period"].iloc[-1])).to_text()


def test_page_names_are_safe_and_unique() -> None:
    """Ids that escape the folder or look alike get distinct names inside it."""
    ids = ["../x", "a/b", "a_b", "a b", "张三 李", "index", ".hidden", "..", "E001", "x" * 300]
    names = page_names(ids)
    assert names["a_b"] == "a_b.html" and names["E001"] == "E001.html"
    assert len({n.casefold() for n in names.values()}) == len(ids)
    for name in names.values():
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert name.endswith(".html") and name != "index.html"
        assert len(name.encode()) < 255
    assert names["张三 李"].startswith("张三_李_")


@pytest.mark.slow
def test_odd_ids_stay_inside_the_folder(tmp_path: Path) -> None:
    """gas_cs with ids ``../x``, ``a/b``, ``a b`` and ``a_b``: every page inside --out, none lost."""
    data = tmp_path / "data"
    shutil.copytree(DATASETS / "gas_cs", data)
    swap = {"GS0001": "../x", "GS0002": "a/b", "GS0003": "a_b", "GS0004": "a b"}
    for csv in data.glob("*.csv"):
        text = csv.read_text(encoding="utf-8")
        for old, new in swap.items():
            text = text.replace(old, new)
        csv.write_text(text, encoding="utf-8")
    out = tmp_path / "box" / "out"
    res = calib.run(calib.load_policy(data / "policy.yaml"), str(data))
    w = write_statements(res, out, ["test"])
    assert set(swap.values()) <= set(w.pages)
    assert sorted(p.name for p in (tmp_path / "box").iterdir()) == ["out"]
    assert all(p.parent == out for p in out.rglob("*"))
    assert len({w.pages[i] for i in swap.values()}) == 4
    assert verify_run(out) == []


def test_chinese_headings_on_a_chinese_policy(tmp_path: Path) -> None:
    """gas_cs's labels are Chinese: so are the headings; the signature block is bilingual."""
    res = result("gas_cs")
    assert language(res.policy) == "zh"
    pid = "GS0002"  # staff (GS0001 is a supervisor, with another sheet)
    from calib.engine.statements import person_page, rows_of, statements

    mine = [s for s in statements(res) if s.data["person"]["id"] == pid]
    assert [s.data["person"]["period"] for s in mine] == [p for i, p in rows_of(res) if i == pid]
    page = person_page(pid, mine, TEXT["zh"], "zh")
    for text in ("绩效考核结果确认单", "考核期间", "指标得分", "应发金额", "被考核人 Employee",
                 "考核人 Assessor", "复核人 Reviewer", "回访满意率"):
        assert text in page
    assert "<script" not in page and "http" not in page.replace('lang="zh-CN"', "")
    english = SimpleNamespace(kpis={"csat": SimpleNamespace(label="Satisfaction")}, grading=None)
    assert language(english) == "en"  # type: ignore[arg-type]
    assert set(TEXT["en"]) == set(TEXT["zh"])


def test_cli_explain_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``calib explain --all --out DIR`` writes the folder; without --out, or with --id, it is a
    usage error (2); an --out holding the data is refused (1).
    """
    policy, data = str(DATASETS / "ethics_diligence" / "policy.yaml"), str(DATASETS / "ethics_diligence")
    out = tmp_path / "statements"
    assert main(["explain", "--policy", policy, "--data", data, "--all", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "statements of 172 people written to" in said
    assert (out / INDEX).is_file() and (out / WORKBOOK).is_file() and verify_run(out) == []
    page = next(p for p in out.glob("ED*.html"))
    assert "2024" in page.read_text(encoding="utf-8")
    assert main(["explain", "--policy", policy, "--data", data, "--all"]) == 2
    assert main(["explain", "--policy", policy, "--data", data, "--all", "--id", "ED0001",
                 "--out", str(out)]) == 2
    assert main(["explain", "--policy", policy, "--data", data]) == 2
    assert main(["explain", "--policy", policy, "--data", data, "--all", "--out", data]) == 1
