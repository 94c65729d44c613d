"""The overrides stage (issue 20, items 1–2): final values after grading, pay recomputed from
them to the cent, every override listed with its computed value, and quotas re-checked.

Expected figures are computed by hand from tests/fixtures/grade_pay.yaml (2025-01): pay is
750 × score% + 1000 × grade coefficient + a 10,000.00 pool shared by coefficient × score.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import calib
from calib.analysis.compare import compare_results
from calib.cli import main
from calib.io.report import results_table

DATA = Path(__file__).parents[1] / "fixtures"
POLICY = calib.load_policy(DATA / "grade_pay.yaml")
BALANCE = calib.Policy.model_validate({**POLICY.to_dict(), "calibration": {"quotas": "balance"}})
FOLDER = DATA / "grade_pay"
COEF = {"A+": 1.2, "A": 1.1, "B": 1.0, "C": 0.8, "C-": 0.5}


def override(**kw: str) -> dict[str, str]:
    row = {"id": "", "period": "2025-01", "field": "grade", "value": "", "reason": "evidence",
           "note": "", "by": "HR committee", "at": "2025-02-10"}
    return row | kw


def pay_row(result: calib.Result, person: str, period: str = "2025-01") -> pd.Series:
    p = result.payouts
    return p[(p["id"] == person) & (p["period"] == period)].iloc[0]


def grade_of(result: calib.Result, person: str, period: str = "2025-01") -> str:
    g = result.grades
    return g.loc[(g["id"] == person) & (g["period"] == period), "grade"].iloc[0]


def hamilton_cents(total: Decimal, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """The pool shared by weight to the cent by largest remainder (no cap bites here)."""
    cents = total * 100
    s = sum(weights.values())
    exact = {k: cents * w / s for k, w in weights.items()}
    floor = {k: v.to_integral_value(ROUND_FLOOR) for k, v in exact.items()}
    left = int(cents - sum(floor.values()))
    for k in sorted(exact, key=lambda k: floor[k] - exact[k])[:left]:
        floor[k] += 1
    return {k: v / 100 for k, v in floor.items()}


def test_no_overrides_leaves_the_run_as_it_was() -> None:
    plain = calib.run(POLICY, FOLDER)
    empty = calib.run(POLICY, FOLDER, overrides=pd.DataFrame(columns=list(override())))
    assert empty.overrides is None and empty.quota_check is None
    pd.testing.assert_frame_equal(results_table(plain), results_table(empty))
    assert "overridden" not in results_table(plain)


def test_grade_override_repays_grade_and_pool_from_the_final_grade() -> None:
    result = calib.run(POLICY, FOLDER, overrides=[override(id="E2", value="B")])
    assert grade_of(result, "E2") == "B"
    row = pay_row(result, "E2")
    assert row["bonus"] == 1000.00  # B's coefficient 1.0, was A's 1.1
    assert row["computed_payout"] == 3116.81 and bool(row["overridden"])
    # the pool is shared again with E2 weighted 1.0 × 92.5 instead of 1.1 × 92.5
    weights = {"E1": Decimal("1.2") * 99, "E2": Decimal("92.5"), "E3": Decimal(88),
               "E4": Decimal(30), "E5": Decimal("0.5") * 70, "L1": Decimal("1.2") * 95,
               "W1": Decimal("1.2") * 90, "W2": Decimal("1.1") * 85, "W3": Decimal(80)}
    expected = hamilton_cents(Decimal(10000), weights)
    month = result.payouts[result.payouts["period"] == "2025-01"]
    assert Decimal(str(round(month["pool"].sum(), 2))) == Decimal("10000.00")
    for person, share in expected.items():
        assert Decimal(str(pay_row(result, person)["pool"])) == share, person
    assert Decimal(str(row["payout"])) == Decimal("693.75") + 1000 + expected["E2"]
    assert result.overrides[["id", "field", "computed", "final"]].values.tolist() == [
        ["E2", "grade", "A", "B"]]
    assert result.overrides["effect"].tolist() == ["pay, the pool and the flags follow the final grade"]


def test_quota_breach_reported_and_the_fewest_moves_proposed() -> None:
    # east's staff (E1–E4) hold A+ 1, A 1, B 2 by quota; E2 A → B leaves A short by one
    result = calib.run(BALANCE, FOLDER, overrides=[override(id="E2", value="B")])
    b = result.quota_check.breaches
    assert b[["group", "grade", "target", "final", "off_by"]].values.tolist() == [
        ["east", "A", 1, 0, -1], ["east", "B", 2, 3, 1]]
    p = result.quota_check.proposals
    # the best-placed B who was not overridden moves up: E3 (place 3), not E4 (place 4)
    assert p[["id", "place", "from_grade", "to_grade"]].values.tolist() == [["E3", 3, "B", "A"]]
    assert grade_of(result, "E3") == "B"  # proposed, not applied
    accepted = calib.run(BALANCE, FOLDER, overrides=[
        override(id="E2", value="B"), override(id="E3", value="A", reason="quota")])
    assert accepted.quota_check.breaches.empty and accepted.quota_check.proposals.empty


def test_report_mode_lists_breaches_without_proposals() -> None:
    result = calib.run(POLICY, FOLDER, overrides=[override(id="E2", value="B")])
    assert len(result.quota_check.breaches) == 2 and result.quota_check.proposals is None


def test_score_override_regrades_by_thresholds_but_not_by_quota() -> None:
    result = calib.run(POLICY, FOLDER, overrides=[
        override(id="L1", field="score", value="89"),  # the lead: thresholds, 85 ≤ 89 < 90 → B
        override(id="E4", field="score", value="95")])  # staff: graded by quota place, stays B
    assert grade_of(result, "L1") == "B" and grade_of(result, "E4") == "B"
    assert pay_row(result, "L1")["performance"] == 667.50  # 750 × 89 %
    assert pay_row(result, "L1")["bonus"] == 1000.00
    assert pay_row(result, "E4")["performance"] == 712.50  # 750 × 95 %
    table = results_table(result)
    l1 = table[(table["id"] == "L1") & (table["period"] == "2025-01")].iloc[0]
    assert (l1["computed_score"], l1["score"], l1["computed_grade"], l1["grade"]) == (
        95.0, 89.0, "A+", "B")
    assert result.quota_check.breaches.empty  # no quota group moved


def test_component_and_payout_overrides_to_the_cent() -> None:
    result = calib.run(POLICY, FOLDER, overrides=[
        override(id="E1", field="bonus", value="1500.00", reason="error"),
        override(id="W3", field="payout", value="2000", reason="appeal")])
    e1 = pay_row(result, "E1")
    assert (e1["bonus"], e1["payout"]) == (1500.00, 742.50 + 1500.00 + 1544.76)
    w3 = pay_row(result, "W3")
    assert (w3["computed_payout"], w3["payout"]) == (2640.24, 2000.00)
    plain = calib.run(POLICY, FOLDER)
    assert result.payout_total() == plain.payout_total() + Decimal("300.00") - Decimal("640.24")


def test_fields_as_hr_writes_them() -> None:
    """Grade in capitals, 等级, a component by its label (等级奖金 is bonus)."""
    result = calib.run(POLICY, FOLDER, overrides=[
        override(id="E2", field="Grade", value="B"),
        override(id="E1", field="等级奖金", value="1500.00", reason="error"),
        override(id="W3", field="等级", value="A")])
    assert sorted(result.overrides["field"]) == ["bonus", "grade", "grade"]
    assert pay_row(result, "E1")["bonus"] == 1500.00 and grade_of(result, "W3") == "A"


def test_amounts_typed_with_thousands_separators() -> None:
    result = calib.run(POLICY, FOLDER, overrides=[
        override(id="W3", field="payout", value="2,000.50", reason="appeal")])
    assert pay_row(result, "W3")["payout"] == 2000.50
    with pytest.raises(calib.DataError, match="not between thousands"):
        calib.run(POLICY, FOLDER, overrides=[
            override(id="W3", field="payout", value="2000,5", reason="appeal")])


def test_statement_words_and_changes_say_overridden_by_whom() -> None:
    result = calib.run(POLICY, FOLDER, overrides=[override(id="E2", value="B", note="late file")])
    table = results_table(result)
    e2 = table[(table["id"] == "E2") & (table["period"] == "2025-01")].iloc[0]
    assert bool(e2["overridden"])
    assert e2["override"] == ("grade: A → B, evidence (new evidence of performance), by HR "
                              "committee at 2025-02-10; late file")
    changes = compare_results(results_table(calib.run(POLICY, FOLDER)), table)
    assert changes.loc[changes["id"] == "E2", "why"].iloc[0].startswith("overridden: grade: A → B")


def test_every_bad_override_is_named_at_once() -> None:
    rows = [override(id="NOPE", value="A"),
            override(id="E1", period="2024-12", value="A"),
            override(id="E1", value="S"),
            override(id="E3", value="A", reason="friendly"),
            override(id="E2", field="bonus", value="10.005"),
            override(id="W4", value="A"),
            override(id="E4", field="holiday", value="1"),
            override(id="E5", value="A"), override(id="E5", value="B")]
    with pytest.raises(calib.DataError) as err:
        calib.run(POLICY, FOLDER, overrides=rows)
    problems = err.value.problems
    said = dict(zip(problems["row"], problems["problem"], strict=True))
    assert set(said) == set(range(1, 10)) - {8}
    assert "no person 'NOPE'" in said[1]
    assert "no graded row for period '2024-12'" in said[2]
    assert "fix" in problems and "2025-01, 2025-02" in problems.loc[problems["row"] == 2, "fix"].iloc[0]
    assert "not in the scale" in said[3]
    assert "reason code 'friendly'" in said[4]
    assert "not a whole number of the pay unit" in said[5]
    assert "not rated" in said[6]
    assert "'holiday' cannot be overridden" in said[7]
    assert "overridden twice (rows 8 and 9)" in said[9]


def test_overrides_read_from_a_csv_with_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "overrides.csv"
    path.write_text("id,period,field,value,reason,by\nE2,2025-01,grade,B,evidence,王经理\n"
                    "E9,2025-01,grade,B,evidence,王经理\n", encoding="utf-8-sig")
    with pytest.raises(calib.DataError) as err:
        calib.run(POLICY, FOLDER, overrides=path)
    assert err.value.problems["row"].tolist() == [3]  # the header is line 1
    path.write_text("id,period,field,value,reason\nE2,2025-01,grade,B,evidence\n")
    with pytest.raises(calib.DataError, match="'by' is missing"):
        calib.run(POLICY, FOLDER, overrides=path)


def test_cli_run_with_overrides_writes_the_session_tables(tmp_path: Path, capsys) -> None:
    path = tmp_path / "overrides.csv"
    pd.DataFrame([override(id="E2", value="B")]).to_csv(path, index=False)
    out = tmp_path / "run"
    assert main(["run", "--policy", str(DATA / "grade_pay.yaml"), "--data", str(FOLDER),
                 "--out", str(out), "--overrides", str(path)]) == 0
    said = capsys.readouterr().out
    assert "overrides applied: 1" in said and "quotas broken by the overrides: 1 group" in said
    assert (out / "overrides.csv").exists() and (out / "quota_breaches.csv").exists()
    results = pd.read_csv(out / "results.csv", encoding="utf-8-sig")
    assert {"computed_grade", "computed_payout", "overridden", "override"} <= set(results)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["E1", "E2", "E3", "E4", "W1", "W2", "W3"]),
                          st.sampled_from(["2025-01", "2025-02"]),
                          st.sampled_from(list(COEF))), max_size=5,
                unique_by=lambda t: (t[0], t[1])))
def test_any_grade_overrides_keep_the_pool_exact_and_balancing_closes_every_breach(
        picks: list[tuple[str, str, str]]) -> None:
    rows = [override(id=i, period=p, value=g) for i, p, g in picks]
    result = calib.run(BALANCE, FOLDER, overrides=rows or pd.DataFrame(columns=list(override())))
    if not rows:
        return
    for period, month in result.payouts.groupby("period"):
        assert Decimal(str(round(month["pool"].sum(), 2))) == Decimal("10000.00"), period
    for i, p, g in picks:
        assert grade_of(result, i, p) == g
    proposals = result.quota_check.proposals
    accepted = rows + [override(id=r.id, period=r.period, value=r.to_grade, reason="quota")
                       for r in proposals.itertuples()]
    again = calib.run(BALANCE, FOLDER, overrides=accepted)
    stuck = (result.quota_check.breaches["note"] != "").any()
    assert again.quota_check.breaches.empty or stuck
    computed = calib.run(BALANCE, FOLDER).grades
    assert again.grades["computed_grade"].astype(object).fillna("").tolist() == \
        computed["grade"].astype(object).fillna("").tolist()


def test_override_files_are_read_as_the_data_is(tmp_path: Path) -> None:
    """A GBK CSV from a Chinese Excel is read; bytes that are neither UTF-8 nor GBK are refused
    by line; a workbook's hidden overrides sheet is refused, not read silently."""
    text = "id,period,field,value,reason,note,by\nE2,2025-01,grade,B,evidence,补交材料,王经理\n"
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(text.encode("gb18030"))
    result = calib.run(POLICY, FOLDER, overrides=gbk)
    assert result.overrides["by"].tolist() == ["王经理"]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,period,field,value,reason,by\nE2,2025-01,grade,B,evidence,\xff\xfe\xfd\n")
    with pytest.raises(calib.DataError, match="neither UTF-8 nor GBK"):
        calib.run(POLICY, FOLDER, overrides=bad)
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "overrides"
    sheet.append(["id", "period", "field", "value", "reason", "by"])
    sheet.append(["E2", "2025-01", "grade", "B", "evidence", "HR"])
    sheet.sheet_state = "hidden"
    book.create_sheet("notes")
    book.save(tmp_path / "o.xlsx")
    with pytest.raises(calib.DataError, match="hidden"):
        calib.run(POLICY, FOLDER, overrides=tmp_path / "o.xlsx")
    sheet.sheet_state = "visible"
    book.save(tmp_path / "o.xlsx")
    assert calib.run(POLICY, FOLDER, overrides=tmp_path / "o.xlsx").overrides["final"].tolist() == ["B"]


def test_a_months_score_rolls_the_year_up_again() -> None:
    """Grades on the year (the mean of the months): a month's final score rolls the year up
    again and the year is graded from it; pay on the year follows."""
    doc = POLICY.to_dict()
    doc["rollups"] = {"year": {"to": "year"}}
    doc["grading"] = {**doc["grading"], "on": "year", "streaks": {},
                      "rules": {"all": {"method": "thresholds"}}}
    doc["pay"] = {**doc["pay"], "on": "year", "pool": None}
    doc["pay"] = {k: v for k, v in doc["pay"].items() if v is not None}
    doc["eligibility"] = {**doc["eligibility"], "proration": None}
    doc["eligibility"] = {k: v for k, v in doc["eligibility"].items() if v is not None}
    policy = calib.Policy.model_validate(doc)
    plain = calib.run(policy, FOLDER)
    g = plain.grades.astype({"id": str, "period": str}).set_index("id")
    assert (g.loc["W3", "score"], g.loc["W3", "grade"]) == (81.0, "C")  # (80 + 82) / 2
    # W3's January typed 80 → 98: the year is (98 + 82) / 2 = 90 → A
    result = calib.run(policy, FOLDER, overrides=[override(id="W3", field="score", value="98")])
    g2 = result.grades.astype({"id": str, "period": str}).set_index("id")
    assert (g2.loc["W3", "score"], g2.loc["W3", "computed_grade"], g2.loc["W3", "grade"]) == (
        90.0, "C", "A")
    p = result.payouts.astype({"id": str}).set_index("id")
    assert p.loc["W3", "bonus"] == 1100.00 and p.loc["W3", "computed_payout"] != p.loc["W3", "payout"]
    assert "rolled up again" in result.overrides["effect"].iloc[0]
    table = results_table(result)
    month = table[(table["id"] == "W3") & (table["period"] == "2025-01")].iloc[0]
    assert bool(month["overridden"]) and month["override"].startswith("score: 80.0 → 98.0")
