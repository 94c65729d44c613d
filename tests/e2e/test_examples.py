"""Every example scheme runs end to end on its data, and its worked examples come out as by hand."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import examples

import calib

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
SCHEMES = sorted(p.parent.name for p in DATASETS.glob("*/policy.yaml"))


@cache
def example(name: str) -> tuple[calib.Policy, calib.Dataset, calib.Result]:
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    data = calib.load_data(DATASETS / name, policy)
    return policy, data, calib.run(policy, data)


def score(name: str, person: str, period: str) -> float:
    scores = example(name)[2].scores
    row = scores[(scores["id"] == person) & (scores["period"] == period)]
    assert len(row) == 1, f"{name}: no single row for {person} {period}"
    assert row["status"].item() == "rated", row["reason"].item()
    return float(row["score"].item())


def test_all_eight_schemes_ship() -> None:
    """The eight schemes of SCHEMES.md part B are in datasets/."""
    assert SCHEMES == sorted(["logistics_cs", "gas_cs", "ecommerce_cs", "property_cs",
                              "support_team", "call_centre", "ethics_diligence", "safety"])


@pytest.mark.parametrize("name", examples())
class TestEveryScheme:
    def test_round_trip(self, name: str) -> None:
        """load(dump(p)) == p, in YAML, JSON and the full dict form."""
        policy = example(name)[0]
        assert calib.parse_policy(calib.dump_policy(policy)) == policy
        assert calib.parse_policy(calib.dump_policy(policy, "json"), fmt="json") == policy
        assert calib.Policy.model_validate(policy.to_dict()) == policy

    def test_every_record_row_accounted_for(self, name: str) -> None:
        """Each records row is in the scores once: rated with a score, or not rated with a reason."""
        _, data, result = example(name)
        scores = result.scores
        assert len(scores) == len(data.tables["records"])
        rated = scores["status"] == "rated"
        assert scores.loc[rated, "score"].notna().all()
        assert scores.loc[~rated, "reason"].notna().all()
        assert scores.loc[~rated, "score"].isna().all()
        assert rated.mean() > 0.8

    def test_history_is_24_months(self, name: str) -> None:
        """The data covers 24 periods for 150–400 people in 5–15 groups."""
        policy, data, result = example(name)
        assert result.scores["period"].nunique() == 24
        assert 150 <= data.tables["people"][policy.inputs.id].nunique() <= 400

    def test_stage_tables_align(self, name: str) -> None:
        """Measures, KPI points and sections have one row per records row, same ids and periods."""
        _, _, result = example(name)
        keys = result.scores[["id", "period"]]
        for table in (result.measures, result.kpi_points, result.sections):
            pd.testing.assert_frame_equal(table[["id", "period"]], keys)

    def test_rollups_cover_everyone(self, name: str) -> None:
        """Each roll-up has a row for every person in every roll-up period they have records in."""
        _, _, result = example(name)
        for table in result.rollups.values():
            assert not table.duplicated(["id", "period"]).any()
            assert set(table["id"]) == set(result.scores["id"])
            rated = table["status"] == "rated"
            assert table.loc[rated, "score"].notna().all()

    def test_params_paths_resolve(self, name: str) -> None:
        """Every tunable path reads back its value, and setting it to itself changes nothing."""
        policy = example(name)[0]
        params = policy.params()
        assert params
        for p in params[:40]:
            assert policy.get(p.path) == p.value
        first = params[0]
        assert policy.with_params({first.path: first.value}) == policy


class TestWorkedExamples:
    """SCHEMES.md part B, on the people planted in the example data (see the data cards)."""

    def test_logistics_complaint_rate_started_steps(self) -> None:
        """B1: complaint rate 3.1% with a 2% limit: 1.1 pp over = 3 started 0.5 pp steps → −6."""
        assert score("logistics_cs", "LG0007", "2024-06") == 94.0

    def test_logistics_exactly_one_step(self) -> None:
        """2.5% is exactly one 0.5 pp step over 2% (not 1.0000000000000002 steps) → −2."""
        assert score("logistics_cs", "LG0012", "2024-06") == 98.0

    def test_logistics_on_the_limit(self) -> None:
        """Exactly 2% is within the limit: no deduction."""
        assert score("logistics_cs", "LG0019", "2025-03") == 100.0

    def test_gas_supervisor_two_raters(self) -> None:
        """B2: a supervisor rated 93 by the branch and 98 by HQ scores (93 + 98) / 2 = 95.5."""
        assert score("gas_cs", "GS0001", "2025-06") == 95.5
        assert score("gas_cs", "GS0012", "2025-06") == 91.5

    def test_ecommerce_weighted_part(self) -> None:
        """B3: 0.35·80 + 0.20·100 + 0.10·60 + 0.05·80 + 0.05·80 = 62."""
        sections = example("ecommerce_cs")[2].sections
        row = sections[(sections["id"] == "EC0009") & (sections["period"] == "2024-05")]
        weighted = [c for c in sections.columns if c not in ("id", "period")]
        assert 62.0 in row[weighted].to_numpy().ravel().tolist()
        assert score("ecommerce_cs", "EC0009", "2024-05") == 83.0

    def test_property_base_100(self) -> None:
        """B4: 100 − 10 − 5 − 5 = 80."""
        assert score("property_cs", "PC0005", "2024-09") == 80.0

    def test_property_approval_flags(self) -> None:
        """+8 and −20 (at or beyond +5 / −10: 以上 includes the number) need written approval."""
        adj = example("property_cs")[2].adjustments
        mine = adj[(adj["employee_id"] == "PC0006")]
        flagged = mine.loc[mine["needs_approval"], "points"].tolist()
        assert 8 in flagged and -20 in flagged

    def test_property_group_average_capped(self) -> None:
        """收费组 2025-02: everyone +8 pushes the average above 102, so additions are scaled."""
        caps = example("property_cs")[2].group_caps
        row = caps[(caps["group"] == "收费组") & (caps["period"] == "2025-02")]
        assert len(row) == 1
        assert row["mean_after"].item() <= 102.0 + 1e-9
        assert 0.0 <= row["scale"].item() < 1.0

    def test_support_qc_multiplier(self) -> None:
        """B5: QC 65% → 1 − (0.70 − 0.65) × 5 = 0.75; QC 84% → 1 + (0.84 − 0.80) × 5 = 1.20."""
        points = example("support_team")[2].kpi_points
        mine = points[points["id"] == "ST0003"].set_index("period")
        qc = [c for c in mine.columns if c != "id" and "qc" in c.lower()]
        assert qc, "support_team has a QC multiplier KPI"
        assert mine.loc["2024-04", qc[0]] == 0.75
        assert mine.loc["2024-05", qc[0]] == 1.2

    def test_support_score_is_qc_adjusted_workload(self) -> None:
        """The member score is workload × QC multiplier: 804 × 0.75 = 603; 804 × 1.2 = 964.8."""
        assert score("support_team", "ST0003", "2024-04") == 603.0
        assert score("support_team", "ST0003", "2024-05") == pytest.approx(964.8, abs=1e-9)

    def test_call_centre_team_lead(self) -> None:
        """R19: lead = mean(99.2, 88, 99, 91) × 1.2 = 94.3 × 1.2 = 113.16."""
        assert score("call_centre", "CC0001", "2025-02") == pytest.approx(113.16, abs=1e-9)

    def test_ethics_annual_20_30_50(self) -> None:
        """R20: ED0004's 2024: 20% weekly checks + 30% monthly (80) + 50% year end = 89.5."""
        annual = example("ethics_diligence")[2].rollups["year"]
        row = annual[(annual["id"] == "ED0004") & (annual["period"] == "2024")]
        assert row["score"].item() == pytest.approx(89.5, abs=1e-9)

    def test_ethics_commendation_after_scoring(self) -> None:
        """R17: 80 + 5 commendation points = 85."""
        assert score("ethics_diligence", "ED0004", "2025-03") == 85.0

    def test_safety_vetoes(self) -> None:
        """R13: a fatal accident zeroes the score; a data leak keeps it but caps the grade."""
        assert score("safety", "SF0040", "2024-08") == 100.0
        assert score("safety", "SF0030", "2025-04") == 60.0
        assert score("safety", "SF0010", "2025-07") == 0.0
        scores = example("safety")[2].scores
        leak = scores[(scores["id"] == "SF0020") & (scores["period"] == "2024-11")]
        assert leak["score"].item() == 100.0
        assert bool(leak["lowest_grade"].item())


def test_results_are_deterministic() -> None:
    """Two runs of the same policy on the same data give identical score tables."""
    name = "logistics_cs"
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    a = calib.run(policy, DATASETS / name).scores
    b = calib.run(policy, DATASETS / name).scores
    pd.testing.assert_frame_equal(a, b)
    assert np.array_equal(a["score"].to_numpy(), b["score"].to_numpy(), equal_nan=True)


def payout(name: str, person: str, period: str) -> float:
    pay = example(name)[2].payouts
    row = pay[(pay["id"] == person) & (pay["period"] == period)]
    assert len(row) == 1, f"{name}: no single payout row for {person} {period}"
    return float(row["payout"].item())


@pytest.mark.parametrize("name", examples())
class TestEverySchemePays:
    def test_payout_is_the_sum_of_its_parts_to_the_cent(self, name: str) -> None:
        """payout = Σ components (deductions shown negative) + pool + one-offs, in whole cents."""
        policy, _, result = example(name)
        pay = result.payouts
        parts = [c for c in [*policy.pay.components, "pool", "streaks"] if c in pay]
        cents = np.round(pay[parts].to_numpy() * 100).astype(np.int64)
        total = np.round(pay["payout"].to_numpy() * 100).astype(np.int64)
        clipped = pay["clipped"].to_numpy()
        paid = (pay["status"] != "not_rated").to_numpy()
        assert np.array_equal(cents.sum(axis=1)[paid & ~clipped],
                              total[paid & ~clipped])
        assert np.allclose(pay["payout"].to_numpy() * 100, total, atol=1e-6)

    def test_every_paid_row_is_accounted_for(self, name: str) -> None:
        """Each row of the paid population is in the payouts; not-rated rows are paid nothing."""
        policy, _, result = example(name)
        pay = result.payouts
        expected = result.scores if policy.pay.on == "period" else result.rollups[policy.pay.on]
        assert len(pay) == len(expected)
        assert (pay.loc[pay["status"] == "not_rated", "payout"] == 0).all()

    def test_higher_score_never_worse_grade_in_group(self, name: str) -> None:
        """Within a quota group and period, a higher score never has a worse grade."""
        policy, _, result = example(name)
        if result.grades is None:
            pytest.skip("this scheme has no grades")
        order = {g: i for i, g in enumerate(policy.grading.scale.names())}
        g = result.grades.dropna(subset=["grade"])
        g = g[~g["vetoed"]].assign(rank=lambda d: d["grade"].astype(str).map(order))
        for _, part in g.groupby(["period", "group"], observed=True, dropna=False):
            blocks = part.groupby(part["score"].round(9), sort=True)["rank"].agg(["min", "max"])
            blocks = blocks.iloc[::-1]  # highest score first
            best_so_far_worst = blocks["max"].cummax().shift(fill_value=0)
            assert (blocks["min"] >= best_so_far_worst).all()


class TestWorkedPay:
    """Grades and pay of SCHEMES.md part B on the planted people (see the data cards)."""

    def test_gas_cascaded_quotas(self) -> None:
        """B2: 10 under an A+ supervisor → 2 A+, 3 A, 5 B; 7 under an A supervisor: 0.7/2.1/4.2
        → largest remainder → 1 A+, 2 A, 4 B."""
        q = example("gas_cs")[2].quotas
        june = q[q["period"] == "2025-06"]
        first = june[june["group"].str.contains("GS0001")].set_index("grade")["count"]
        second = june[june["group"].str.contains("GS0012")].set_index("grade")["count"]
        assert (first["A+"], first["A"], first["B"]) == (2, 3, 5)
        assert (second["A+"], second["A"], second["B"]) == (1, 2, 4)

    def test_gas_supervisor_grade_and_pay(self) -> None:
        """95.5 ≥ 95 → A+; her pay is the data card's 1675.00."""
        g = example("gas_cs")[2].grades
        row = g[(g["id"] == "GS0001") & (g["period"] == "2025-06")]
        assert row["grade"].item() == "A+" and row["grade_label"].item() == "优秀"
        assert payout("gas_cs", "GS0001", "2025-06") == 1675.00

    def test_property_b4(self) -> None:
        """B4: 300 − 12 late minutes (2 cases of 6) − 2 × (85 − 80) = 278."""
        assert payout("property_cs", "PC0005", "2024-09") == 278.00

    def test_ecommerce_performance_pay(self) -> None:
        """R11: 750 × 83% = 622.50; with R34's fixed parts 800 + 200 + 200 and the commission
        0.5 % × 69,657.00 = 348.285 → 348.29 (our rate), no 全勤 (1 late, 1 leave day): 2170.79."""
        pay = example("ecommerce_cs")[2].payouts.set_index(["id", "period"])
        assert pay.loc[("EC0009", "2024-05"), "performance"] == 622.50
        assert payout("ecommerce_cs", "EC0009", "2024-05") == 2170.79

    def test_ecommerce_full_pay_structure(self) -> None:
        """R34 (客服工资 = 底薪 800 + 岗位 200 + 津贴 200 + 绩效工资(指标考核 + 销售额提成) + 全勤奖
        50 + 奖金). EC0124 2024-02, employed all month, 0 late and 0 leave days (全勤), score 88,
        sales 87,261.72: 800 + 200 + 200 + 750 × 88 % = 660.00 + 0.5 % × 87,261.72 = 436.3086 →
        436.31 + 50 = 2346.31. 2024-03 (first of 小红书店 twice in a row: 奖金 200; 1 late → no
        全勤; 94 → 705.00; 0.5 % × 110,857.84 = 554.29): 800 + 200 + 200 + 705 + 554.29 + 200 =
        2659.29."""
        pay = example("ecommerce_cs")[2].payouts.set_index(["id", "period"])
        feb = pay.loc[("EC0124", "2024-02")]
        parts = ["base_pay", "post_pay", "allowance", "performance", "sales_commission",
                 "full_attendance", "streaks"]
        assert feb[parts].tolist() == [800.00, 200.00, 200.00, 660.00, 436.31, 50.00, 0.00]
        assert feb["payout"] == 2346.31
        mar = pay.loc[("EC0124", "2024-03")]
        assert mar[parts].tolist() == [800.00, 200.00, 200.00, 705.00, 554.29, 0.00, 200.00]
        assert mar["payout"] == 2659.29

    def test_ecommerce_mean_monthly_pay(self) -> None:
        """The data card's means: 2108.85 a rated month (was 750 × score % + the one-off 200s
        alone: 508.04), 1943.27 over all 3,770 rows (was 468.15; the not rated are paid 0)."""
        pay = example("ecommerce_cs")[2].payouts
        assert round(float(pay.loc[pay["status"] == "rated", "payout"].mean()), 2) == 2108.85
        assert round(float(pay["payout"].mean()), 2) == 1943.27

    def test_ecommerce_automatic_resignation(self) -> None:
        """第十一条 连续两个月考核不及格 (below 60, our pass mark), 自动请辞: EC0015 33, 33 in
        2025-03/04 → flag fail_twice in 2025-04 and the dismissal outcome. 第十二条 当月绩效考核和
        实际销售额都排名最后: EC0015 is last of 天猫旗舰店 by score both months, and by sales
        (56,000.00 against the next lowest 57,410.43 in 2025-03 and 61,050.64 in 2025-04). Every
        dismissal carries the Guiding Case No. 18 caution."""
        result = example("ecommerce_cs")[2]
        o = result.outcomes
        mine = o[o["id"] == "EC0015"]
        assert sorted(zip(mine["outcome"], mine["period"], strict=True)) == [
            ("exit_low", "2025-04"), ("resign_fail_twice", "2025-04"),
            ("resign_last_both", "2025-03"), ("resign_last_both", "2025-04")]
        assert (mine["kind"] == "dismissal").all() and mine["caution"].str.contains("18").all()
        counts = o.groupby("outcome").size().to_dict()
        assert counts == {"exit_last": 7, "exit_low": 2, "extra_bonus": 4,
                          "resign_fail_twice": 179, "resign_last_both": 60}

    def test_ecommerce_exit_review_flag(self) -> None:
        """R21: 33 and 33 in 2025-03 and 2025-04, two in a row below 35 → one exit-review flag."""
        flags = example("ecommerce_cs")[2].flags
        mine = flags[(flags["id"] == "EC0015") & (flags["periods"] == "2025-03, 2025-04")]
        assert sorted(mine["flag"]) == ["exit_low", "fail_twice"]  # below 35, and below 60
        assert (mine["period"] == "2025-04").all()

    def test_call_centre_demotion(self) -> None:
        """R26: CC0004 (99) has a verified complaint and drops one place, below CC0005."""
        g = example("call_centre")[2].grades
        team = g[(g["period"] == "2025-02") & g["id"].isin(["CC0002", "CC0003", "CC0004",
                                                             "CC0005"])]
        assert team.sort_values("rank")["id"].tolist() == ["CC0002", "CC0005", "CC0004",
                                                           "CC0003"]

    def test_call_centre_lead_paid_from_the_team(self) -> None:
        """R19 in pay (客服组长的绩效考核 = 客服人员考核平均值 × 1.2), 客服九组 2025-02: the
        members' piece rate 400.00, 320.00, 420.00, 340.00 (data card) → mean 1480.00 / 4 =
        370.00 × 1.2 = 444.00 for CC0001, present 28 of 28 days (not prorated); with 100 for no
        complaints, 544.00 (it was 180.00: 80.00 piece rate on the lead's own tickets + 100).
        """
        pay = example("call_centre")[2].payouts
        row = pay[(pay["id"] == "CC0001") & (pay["period"] == "2025-02")].iloc[0]
        assert (row["piece_rate"], row["lead_pay"], row["payout"]) == (0.0, 444.00, 544.00)
        assert payout("call_centre", "CC0002", "2025-02") == 700.00  # members unchanged

    def test_call_centre_probation_takes_part_in_the_awards(self) -> None:
        """奖励的参选对象包含试用期员工: CC0014 on probation in 2025-09 (客服七组) is rated
        (103.96), ranked 2nd of the team's members after CC0141 (104.565), and takes the award
        of the top two: 1577 × 0.20 + 1110 × 0.10 = 426.40 + 200 (no 100: one complaint) =
        626.40 (0 while probation was not rated).
        """
        g = example("call_centre")[2].grades
        row = g[(g["id"] == "CC0014") & (g["period"] == "2025-09")]
        assert row["rank"].item() == 2
        assert payout("call_centre", "CC0014", "2025-09") == 626.40

    def test_ethics_pool_paid_exactly(self) -> None:
        """R33: the yearly pool of 200,000.00 is paid out to the cent."""
        pay = example("ethics_diligence")[2].payouts
        for _, year in pay.groupby("period", observed=True):
            assert round(year["pool"].sum() * 100) == 20_000_000

    def test_logistics_annual_bonus_and_raise(self) -> None:
        """R27 and R35 for LG0019's 2024 (data card: bonus 7200.00, raise 414.00)."""
        assert payout("logistics_cs", "LG0019", "2024") == 7200.00
        merit = example("logistics_cs")[2].merit
        row = merit[(merit["id"] == "LG0019") & (merit["period"] == "2024")]
        assert row["raise"].item() == 414.00

    def test_logistics_failing_year_pay_cut(self) -> None:
        """R35 with the seed's 绩效不达标的员工可能面临薪酬下调或维持不变 (our numbers: C- kept
        below 0.9 of the midpoint, −2 % in 0.9–1.1, −3 % above, floor min_raise −5 %). LG0001
        2024: annual 78.0833 < 80 → C- 不合格; bonus 12000 × 0.5 = 6000.00; compa 9680 / 9000 =
        1.0756 → −2 % × 9680 = −193.60. LG0070 2025: 69.25 → C-; 7600 / 6500 = 1.1692 → −3 % ×
        7600 = −228.00. LG0009 2024: C-, 4340 / 5000 = 0.868 → 0 % (维持不变)."""
        assert payout("logistics_cs", "LG0001", "2024") == 6000.00
        merit = example("logistics_cs")[2].merit.set_index(["id", "period"])
        assert merit.loc[("LG0001", "2024"), "raise"] == -193.60
        assert merit.loc[("LG0070", "2025"), "raise"] == -228.00
        assert merit.loc[("LG0009", "2024"), "raise"] == 0.00
        by_grade = merit.groupby("grade", observed=True)["raise_pct"].agg(["min", "max"])
        assert (by_grade.loc["C-", "min"], by_grade.loc["C-", "max"]) == (-0.03, 0.0)
        assert (by_grade.drop(index="C-")["min"] >= 0).all()  # only the failing grade is cut
        totals = merit.groupby(level="period")["raise"].sum().round(2)
        assert (totals["2024"], totals["2025"]) == (30753.10, 34990.30)

    def test_safety_veto_caps_grade(self) -> None:
        """R13: a data leak keeps the score (100) but the grade is the lowest."""
        g = example("safety")[2].grades
        row = g[(g["id"] == "SF0020") & (g["period"] == "2024-11")]
        assert row["grade"].item() == example("safety")[0].grading.scale.names()[-1]
        assert payout("safety", "SF0020", "2024-11") == 150.00

    def test_support_workload_bonus(self) -> None:
        """R30 with the daily benchmark (每日工作量基准 18 for a 组员 × days present): ST0003 is
        present 30 days in both periods, benchmark 18 × 30 = 540, workload 804 → 300 − (540 −
        804) × 1 = 564; 2024-04 × 0.75 = 423.00; 2024-05 × 1.20 = 676.80 → the 500 cap.
        """
        assert payout("support_team", "ST0003", "2024-04") == 423.00
        assert payout("support_team", "ST0003", "2024-05") == 500.00

    def test_support_part_month_meets_the_benchmark_of_its_days(self) -> None:
        """A part month (当月按照实际上班天数计算): ST0010 leaves on 2025-10-09, present 14 days
        of 2025-10 (26 Sep – 25 Oct). Tickets 37+98+53 = 188 电话, 32+53+46 = 131 在线, 3+6+5 =
        14 邮件 → workload 188 + 0.6 × 131 + 1.5 × 14 = 287.6; QC (14+17)/(19+20) = 79.5 % →
        multiplier 1; benchmark 18 × 14 = 252 → 300 − (252 − 287.6) × 1 = 335.60 (against a
        full month's 550 it was 300 − (550 − 287.6) = 37.60).
        """
        assert payout("support_team", "ST0010", "2025-10") == 335.60

    def test_support_average_against_the_seeds_300(self) -> None:
        """平均绩效 300 is a target for tuning, not a rule: the data card states the measured
        mean of the rated months (347.96) and the part months' (40 leavers' months: 365.12)
        against the full months' (347.68); this keeps the card true.
        """
        pay = example("support_team")[2].payouts
        rated = pay[pay["status"] == "rated"]
        assert round(float(rated["payout"].mean()), 2) == 347.96
