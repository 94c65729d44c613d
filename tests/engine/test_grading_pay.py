"""Grading and pay stages (SCHEMES.md R11, R13, R21–R29, R33): properties through the whole engine,
policy errors with their paths, the numbers people type, worked examples, and the CLI's files.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calib
from calib.cli import main
from calib.errors import CalibError, DataError, PolicyError
from calib.policy.load import validate_policy

DATA = Path(__file__).resolve().parents[1] / "fixtures"
GOLDEN = DATA / "grade_pay.yaml"
DATASETS = Path(__file__).resolve().parents[2] / "datasets"
POLICY = calib.load_policy(GOLDEN)
GRADES = POLICY.grading.scale.names()  # A+, A, B, C, C-
PERIODS = ["2025-01", "2025-02", "2025-03"]
POOL_CENTS = 1_000_000  # the golden pool: 10,000.00
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def variant(change, policy: calib.Policy = POLICY) -> calib.Policy:
    """The policy with ``change(d)`` applied to its plain data, validated again."""
    data = copy.deepcopy(policy.to_dict())
    change(data)
    return validate_policy(data)


def refused(change, policy: calib.Policy = POLICY) -> list[tuple[str, str]]:
    """(path, message) of every issue when ``change`` makes the policy invalid."""
    with pytest.raises(PolicyError) as exc:
        variant(change, policy)
    return [(i.path, i.message) for i in exc.value.issues]


def golden_data() -> dict[str, pd.DataFrame]:
    """The golden tables as DataFrames (10 people, January and February)."""
    return {"people": pd.read_csv(DATA / "grade_pay" / "people.csv"),
            "records": pd.read_csv(DATA / "grade_pay" / "records.csv")}


def cents(values: pd.Series) -> np.ndarray:
    """Money column → whole cents (the engine's amounts are exact to the cent)."""
    return np.round(values.to_numpy(dtype=float) * 100).astype(np.int64)


# --- generated rosters ---------------------------------------------------------------------------

ROW = st.tuples(
    st.sampled_from([True, True, True, False]),  # has a records row this period
    st.integers(40, 200).map(lambda x: x / 2),  # score 20–100 in halves: many ties
    st.integers(0, 31),  # days present
    st.sampled_from([False] * 9 + [True]),  # probation → not rated
    st.sampled_from([False] * 14 + [True]),  # data leak → lowest grade
)


@st.composite
def rosters(draw, max_people: int = 60) -> dict[str, pd.DataFrame]:
    """≤ 60 people in 1–6 teams (a few team leads) over 1–3 months, every month with someone rated."""
    n = draw(st.integers(1, max_people))
    n_groups = draw(st.integers(1, 6))
    periods = PERIODS[:draw(st.integers(1, 3))]
    teams = draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n))
    leads = draw(st.lists(st.sampled_from(["staff"] * 7 + ["lead"]), min_size=n, max_size=n))
    cells = draw(st.lists(ROW, min_size=n * len(periods), max_size=n * len(periods)))
    records = []
    for i in range(n):
        rows = cells[i * len(periods):(i + 1) * len(periods)]
        for k, (present, score, days, probation, leak) in enumerate(rows):
            if present or (k == 0 and not any(r[0] for r in rows)):
                records.append({"employee_id": f"P{i:02d}", "period": periods[k], "points": score,
                                "days_present": days, "probation": probation, "leak": leak})
    rec = pd.DataFrame(records)
    for period in rec["period"].unique():  # a pool needs somebody to pay
        here = rec["period"] == period
        if rec.loc[here, "probation"].all():
            rec.loc[rec.index[here][0], "probation"] = False
    people = pd.DataFrame({"employee_id": [f"P{i:02d}" for i in range(n)],
                           "team": [f"t{t}" for t in teams], "position": leads})
    return {"people": people, "records": rec}


OPEN = variant(lambda d: d["pay"]["pool"].update(cap=None))
"""The golden policy without the pool cap: any month with somebody rated can take the pool."""


def staff_grades(result: calib.Result) -> pd.DataFrame:
    """Rows graded by the forced distribution, with the grade's index (0 = A+)."""
    g = result.grades[result.grades["rule"] == "staff"].copy()
    g["index"] = g["grade"].astype(str).map(GRADES.index)
    return g


class TestForcedDistributionProperties:
    """R24 quotas and ranks on generated teams, through calib.run."""

    @FAST
    @given(rosters())
    def test_quotas_add_up_and_stay_within_one(self, data):
        """Per month and team: Σ quotas = team size, each quota within one of size × ratio."""
        result = calib.run(OPEN, data)
        q = result.quotas
        if q is None:  # only team leads were graded
            assert staff_grades(result).empty
            return
        ratios = POLICY.grading.rules["staff"].forced.ratios
        for (_, _), part in q.groupby(["period", "group"], observed=True):
            size = part["size"].iloc[0]
            assert part["quota"].sum() == size
            for grade, quota in zip(part["grade"], part["quota"], strict=True):
                exact = size * ratios.get(grade, 0.0)
                assert abs(quota - exact) < 1
                assert math.floor(exact + 1e-9) <= quota <= math.ceil(exact - 1e-9)
        sizes = staff_grades(result).groupby(["period", "group"], observed=True).size()
        table = q.drop_duplicates(["period", "group"]).set_index(["period", "group"])["size"]
        assert sizes.sort_index().tolist() == table.sort_index().tolist()

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rosters(), st.sampled_from(["webster", "dhondt"]))
    def test_divisor_methods_add_up(self, data, method):
        """Webster and D'Hondt quotas also add up to each team's size, and counts equal them."""
        policy = variant(lambda d: d["grading"]["rules"]["staff"]["forced"].update(method=method), OPEN)
        q = calib.run(policy, data).quotas
        if q is not None:
            assert q.groupby(["period", "group"], observed=True).apply(
                lambda part: part["quota"].sum() == part["size"].iloc[0]).all()
            assert (q["count"] == q["quota"]).all()

    @FAST
    @given(rosters())
    def test_counts_equal_quotas_with_order_rule(self, data):
        """With ties broken by order, every team gets exactly its quotas (flex 0)."""
        q = calib.run(OPEN, data).quotas
        q = q if q is not None else pd.DataFrame(columns=["count", "quota", "flex"])
        assert (q["count"] == q["quota"]).all()
        assert (q["flex"] == 0).all()

    @FAST
    @given(rosters(), st.sampled_from(["order", "share_better"]))
    def test_higher_score_never_worse_grade(self, data, rule):
        """In a team and month, a higher score never gets a worse grade; equal scores may differ
        only under 'order'.
        """
        policy = variant(lambda d: d["grading"]["rules"]["staff"]["forced"]["ties"].update(rule=rule),
                         OPEN)
        g = staff_grades(calib.run(policy, data))
        for _, part in g.groupby(["period", "group"], observed=True):
            score, index = part["score"].to_numpy(), part["index"].to_numpy()
            higher = score[:, None] > score[None, :]
            assert not (higher & (index[:, None] > index[None, :])).any()
            if rule == "share_better":
                same = score[:, None] == score[None, :]
                assert not (same & (index[:, None] != index[None, :])).any()

    @FAST
    @given(rosters())
    def test_vetoed_rows_are_lowest_and_outside_the_quotas(self, data):
        """R13: a leak gives C- with rule 'veto' and the row is counted in no quota group."""
        result = calib.run(OPEN, data)
        g = result.grades
        vetoed = g[g["vetoed"]]
        assert (vetoed["grade"] == "C-").all()
        assert (vetoed["rule"] == "veto").all()
        assert vetoed["group"].isna().all()
        rated = data["records"].merge(data["people"], on="employee_id")
        rated = rated[~rated["probation"] & ~rated["leak"] & (rated["position"] == "staff")]
        q = result.quotas
        assert (0 if q is None else q.drop_duplicates(["period", "group"])["size"].sum()) == len(rated)


class TestPayProperties:
    """R22 and R33 on generated rosters: the pool is paid to the cent, proration is monotone."""

    @FAST
    @given(rosters(), st.data())
    def test_pool_paid_out_exactly_within_caps(self, data, draw):
        """Σ pool = 10,000.00 in every month to the cent; no share above the cap; none unrated."""
        rec = data["records"]
        fewest = int(rec[~rec["probation"]].groupby("period").size().min())
        cap = draw.draw(st.one_of(st.none(), st.integers(-(-POOL_CENTS // fewest), POOL_CENTS)))
        policy = variant(lambda d: d["pay"]["pool"].update(
            cap=None if cap is None else {"amount": cap / 100}))
        p = calib.run(policy, data).payouts
        pool = pd.Series(cents(p["pool"]), index=p.index)
        assert pool.groupby(p["period"].astype(str)).sum().eq(POOL_CENTS).all()
        assert (pool[p["status"] != "rated"] == 0).all()
        if cap is not None:
            assert pool.max() <= cap

    @FAST
    @given(rosters(max_people=20), st.data())
    def test_more_days_never_less_pay(self, data, draw):
        """R22: raising one row's days present never lowers its payout (pool and grades unchanged)."""
        rec = data["records"]
        i = draw.draw(st.integers(0, len(rec) - 1))
        more = rec.assign(days_present=rec["days_present"])
        more.loc[rec.index[i], "days_present"] = draw.draw(st.integers(rec["days_present"].iloc[i], 31))
        before = calib.run(OPEN, data).payouts
        after = calib.run(OPEN, {"people": data["people"], "records": more}).payouts
        assert after["payout"].iloc[i] >= before["payout"].iloc[i]
        assert (cents(after["pool"]) == cents(before["pool"])).all()

    @FAST
    @given(rosters())
    def test_every_records_row_has_a_payout_row(self, data):
        """Every (id, period) of records is in payouts once, with a status; the unrated get 0."""
        rec = data["records"]
        p = calib.run(OPEN, data).payouts
        assert len(p) == len(rec)
        assert sorted(zip(p["id"].astype(str), p["period"].astype(str), strict=True)) == sorted(
            zip(rec["employee_id"], rec["period"], strict=True))
        assert set(p["status"].astype(str)) <= {"rated", "not_rated", "prorated"}
        merged = p.astype({"id": str, "period": str}).merge(
            rec, left_on=["id", "period"], right_on=["employee_id", "period"])
        assert (merged["status"].astype(str) == np.where(merged["probation"], "not_rated",
                                                         "rated")).all()
        assert (merged.loc[merged["probation"], "payout"] == 0).all()


# --- bad policies -------------------------------------------------------------------------------

GAS = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")


class TestPolicyErrors:
    """Bad grading and pay sections are refused with the path and a message HR can act on."""

    def test_ratios_not_adding_up(self):
        """20% + 30% + 40% = 90% is refused, naming the total and each ratio."""
        ratios = {"A+": "20%", "A": "30%", "B": "40%"}
        assert refused(lambda d: d["grading"]["rules"]["staff"]["forced"].update(ratios=ratios)) == [
            ("grading.rules.staff.forced", "the ratios add up to 90%, not 100% (A+ 0.2, A 0.3, B 0.4)")]

    def test_cascade_row_not_adding_up(self):
        """A cascade row of 10% + 30% + 50% names its leader grade."""
        row = {"A+": "10%", "A": "30%", "B": "50%"}
        assert refused(lambda d: d["grading"]["rules"]["teams"]["cascade"]["ratios"].update(A=row),
                       GAS) == [("grading.rules.teams.cascade",
                                 "the ratios for leader grade 'A' add up to 90%, not 100% "
                                 "(A+ 0.1, A 0.3, B 0.5)")]

    def test_ratio_for_undefined_grade(self):
        """A ratio for grade D, which the scale does not define, lists the defined grades."""
        ratios = {"A+": "20%", "A": "30%", "B": "40%", "D": "10%"}
        assert refused(lambda d: d["grading"]["rules"]["staff"]["forced"].update(ratios=ratios)) == [
            ("grading.rules.staff.forced.ratios.D",
             "grade 'D' is not defined in grading.scale; defined: A+, A, B, C, C-")]

    def test_cascade_row_missing_for_a_leader_grade(self):
        """gas_cs without the C- row: a C- supervisor's team would have no ratios."""
        assert refused(lambda d: d["grading"]["rules"]["teams"]["cascade"]["ratios"].pop("C-"),
                       GAS) == [("grading.rules.teams.cascade.ratios",
                                 "a ratio row is missing for leader grade(s) C-; every grade a "
                                 "leader can get needs a row")]

    @pytest.mark.parametrize(("typed", "message"), [
        ("-5", "the pool amount must not be negative; got -5"),
        ("x", "Input should be a valid number, unable to parse string as a number; got 'x'"),
        ("'-1,000'", "the pool amount must not be negative; got -1000"),
        (".nan", "nan is not a number calib can use (NaN and infinity are refused); write the "
                 "intended number"),
    ])
    def test_pool_amount_not_a_money_amount(self, typed, message):
        """A pool of -5, 'x', '-1,000' or YAML .nan is refused at pay.pool.amount with its line."""
        text = GOLDEN.read_text(encoding="utf-8")
        assert "    amount: 10000\n" in text
        line = text[:text.index("    amount: 10000\n")].count("\n") + 1
        with pytest.raises(PolicyError) as exc:
            calib.parse_policy(text.replace("    amount: 10000\n", f"    amount: {typed}\n"))
        assert [(i.path, i.message, i.line) for i in exc.value.issues] == [
            ("pay.pool.amount", message, line)]

    @pytest.mark.parametrize("b_min", [90, 92])
    def test_grade_scale_minimums_must_decrease(self, b_min):
        """B at 90 (= A's minimum) or 92 (above it) overlaps A's band."""
        assert refused(lambda d: d["grading"]["scale"]["grades"][2].update(min=b_min)) == [
            ("grading.scale", f"score bands overlap: grade 'B' has min {b_min}, not below 'A' (90); "
             "minimums must strictly decrease")]

    def test_pay_score_bands_must_decrease(self):
        """Two pay bands both starting at 95 overlap."""
        bands = {"kind": "score_bands", "base": {"amount": 500},
                 "bands": [{"min": 95, "share": "95%"}, {"min": 95, "share": "90%"}]}
        assert refused(lambda d: d["pay"]["components"].update(perf=bands)) == [
            ("pay.components.perf", "score bands overlap: band 1 has min 95, not below 95; list the "
             "bands from the highest score down")]

    def test_scorecard_graded_by_two_rules(self):
        """A second rule for the staff scorecard names both rules."""
        rule = {"scorecards": ["staff"], "method": "thresholds"}
        assert refused(lambda d: d["grading"]["rules"].update(again=rule)) == [
            ("grading.rules.again.scorecards", "scorecard 'staff' is graded by both 'staff' and "
             "'again'; give each scorecard one rule")]

    @pytest.mark.parametrize("section", ["grading", "pay"])
    def test_on_names_a_missing_rollup(self, section):
        """``on: annual`` without an 'annual' roll-up lists the roll-ups there are (none)."""
        assert refused(lambda d: d[section].update(on="annual")) == [
            (f"{section}.on", "'annual' is neither 'period' nor a roll-up; roll-ups: none")]

    def test_unknown_component_kind(self):
        """kind 'bonus' is refused and the known kinds are listed."""
        assert refused(lambda d: d["pay"]["components"].update(
            perf={"kind": "bonus", "base": {"amount": 500}})) == [
            ("pay.components.perf", "unknown kind 'bonus'; expected one of 'fixed', 'score_percent', "
             "'score_bands', 'grade_coefficient', 'per_unit', 'points_below', 'lateness', "
             "'workload', 'piece_rate', 'commission', 'award', 'team_mean'")]

    def test_golden_round_trips(self):
        """The golden policy survives YAML dump and parse unchanged."""
        assert calib.parse_policy(calib.dump_policy(POLICY)) == POLICY


# --- the numbers people type --------------------------------------------------------------------

@pytest.fixture(scope="module")
def result() -> calib.Result:
    """The golden run (from the CSV files)."""
    return calib.run(POLICY, DATA / "grade_pay")


class TestTypedNumbers:
    """Thresholds, percentages and cents exactly as typed (golden data, January and February)."""

    def test_threshold_inclusive(self, result):
        """R23: lead L1 with 95 → A+ (January), 94.99 → A (February)."""
        g = result.grades.astype({"id": str, "period": str}).set_index(["id", "period"])
        assert g.loc[("L1", "2025-01"), "grade"] == "A+"
        assert g.loc[("L1", "2025-02"), "grade"] == "A"
        assert g.loc[("L1", "2025-02"), "grade_label"] == "良好"

    def test_score_percent(self, result):
        """R11: E2 scored 92.5 → 750 × 92.5% = 693.75; L1's 94.99 → 712.425 → 712.43 (half up)."""
        p = result.payouts.astype({"id": str, "period": str}).set_index(["id", "period"])
        assert p.loc[("E2", "2025-01"), "performance"] == 693.75
        assert p.loc[("L1", "2025-02"), "performance"] == 712.43

    def test_proration_in_payout(self, result):
        """R22: W2 present 20 of 31 days, grade A: 750·85%·20/31 = 411.29, 1000·1.1·20/31 = 709.68."""
        p = result.payouts.astype({"id": str, "period": str}).set_index(["id", "period"])
        row = p.loc[("W2", "2025-01")]
        assert (row["performance"], row["bonus"]) == (411.29, 709.68)
        assert row["payout"] == round(411.29 + 709.68 + row["pool"], 2)

    @pytest.mark.parametrize(("rounding", "expected"), [
        ("half_up", 500.01), ("half_even", 500.0), ("down", 500.0)])
    def test_half_cent(self, rounding, expected):
        """Bonus base 1000.01 × C- 0.5 = 500.005 (float 500.00499…): half_up 500.01, else 500.00."""
        def change(d):
            d["pay"]["rounding"] = rounding
            d["pay"]["components"]["bonus"]["base"]["amount"] = 1000.01

        p = calib.run(variant(change), golden_data()).payouts
        vetoed = p[(p["id"] == "E5") & (p["period"] == "2025-01")]
        assert vetoed["grade"].astype(str).item() == "C-"
        assert vetoed["bonus"].item() == expected

    def test_pool_of_a_million_over_three(self):
        """1,000,000.00 over 3 equal leads (90, A) = 333,333.34 + 333,333.33 + 333,333.33."""
        policy = variant(lambda d: d["pay"]["pool"].update(amount="1,000,000.00", cap=None))
        people = pd.DataFrame({"employee_id": ["L1", "L2", "L3"], "team": "east", "position": "lead"})
        records = pd.DataFrame({"employee_id": ["L1", "L2", "L3"], "period": "2025-01",
                                "points": 90.0, "days_present": 31, "probation": False,
                                "leak": False})
        pool = calib.run(policy, {"people": people, "records": records}).payouts["pool"]
        assert pool.tolist() == [333_333.34, 333_333.33, 333_333.33]
        assert cents(pool).sum() == 100_000_000

    def test_whole_yuan(self):
        """unit 1: 693.75 → 694, 712.425 → 712; every amount whole; each month's pool is 10,000."""
        p = calib.run(variant(lambda d: d["pay"].update(unit=1)), golden_data()).payouts
        rows = p.astype({"id": str, "period": str}).set_index(["id", "period"])
        assert rows.loc[("E2", "2025-01"), "performance"] == 694
        assert rows.loc[("L1", "2025-02"), "performance"] == 712
        money = p[["performance", "bonus", "pool", "payout"]].to_numpy()
        assert (money == np.round(money)).all()
        assert p.groupby(p["period"].astype(str))["pool"].sum().tolist() == [10000, 10000]

    def test_pool_that_caps_cannot_hold_is_a_calib_error(self):
        """3 people capped at 3,000.00 cannot take a 10,000.00 pool: a CalibError naming the month."""
        data = golden_data()
        data["records"] = data["records"][data["records"]["employee_id"].isin(["E1", "E2", "E3"])
                                          & (data["records"]["period"] == "2025-01")]
        with pytest.raises(CalibError, match="2025-01"):
            calib.run(POLICY, data)

    def test_month_with_nobody_rated_keeps_its_pool(self):
        """Everybody on probation in February: January still shares exactly 10,000.00, February 0."""
        data = golden_data()
        data["records"] = data["records"].assign(probation=data["records"]["period"] == "2025-02")
        p = calib.run(POLICY, data).payouts
        assert p.groupby(p["period"].astype(str))["pool"].sum().round(2).tolist() == [10000.0, 0.0]

    @pytest.mark.parametrize("cap", [None, {"amount": 3000}])
    def test_nobody_rated_at_all(self, cap):
        """Everybody on probation: every payout is 0, with or without a cap (no ValueError)."""
        data = golden_data()
        data["records"] = data["records"].assign(probation=True)
        p = calib.run(variant(lambda d: d["pay"]["pool"].update(cap=cap)), data).payouts
        assert (p["payout"] == 0).all() and (p["status"] == "not_rated").all()


# --- worked examples ----------------------------------------------------------------------------

def gas_person(pid: str, team: str, position: str, supervisor: str | None) -> dict:
    """A gas_cs people row."""
    return {"employee_id": pid, "branch": "城东分公司", "team": team, "position": position,
            "supervisor_id": supervisor, "gender": "女", "hired": "2020-01-01", "left": None,
            "perf_pay_base": 300, "base_bonus": 500}


def gas_record(pid: str, complaints: int = 0, errors: int = 0, probation: bool = False) -> dict:
    """A gas_cs records row scoring 100 − 3·complaints − 1.5·errors (weights 15, 15)."""
    return {"employee_id": pid, "period": "2025-01", "probation": probation, "absent": False,
            "days_present": 31, "surveyed": 10, "satisfied": 10, "work_orders": 10,
            "closed_on_time": 10, "complaints": complaints, "errors": errors, "conduct": "优秀"}


def gas_data(s2_probation: bool = False) -> dict[str, pd.DataFrame]:
    """Supervisor S1 (93, 98) over team 一组 of 10, S2 (90, 92) over 二组 of 7; distinct scores."""
    people = [gas_person("S1", "一组", "客服主管", None), gas_person("S2", "二组", "客服主管", None)]
    people += [gas_person(f"T{i}", "一组", "客服专员", "S1") for i in range(10)]
    people += [gas_person(f"U{i}", "二组", "客服专员", "S2") for i in range(7)]
    records = [gas_record("S1"), gas_record("S2", probation=s2_probation)]
    records += [gas_record(f"T{i}", i // 2, i % 2) for i in range(10)]
    records += [gas_record(f"U{i}", i // 2, i % 2) for i in range(7)]
    ratings = pd.DataFrame({"employee_id": ["S1", "S1", "S2", "S2"], "period": "2025-01",
                            "rater": ["分公司", "总部"] * 2, "rater_name": ["经理", "客服部"] * 2,
                            "score": [93, 98, 90, 92]})
    return {"people": pd.DataFrame(people), "records": pd.DataFrame(records), "ratings": ratings}


def property_data(late: list[tuple[str, int]], complaints: int = 0) -> dict[str, pd.DataFrame]:
    """One property_cs 专员 (base 300) in March 2025 with the late arrivals given (id, minutes)."""
    people = pd.DataFrame({"employee_id": ["P1"], "department": "管家组", "position": "专员",
                           "post_level": "初级", "gender": "女", "hired": "2020-01-01", "left": None,
                           "perf_pay_base": 300})
    records = pd.DataFrame({"employee_id": ["P1"], "period": "2025-03", "probation": False,
                            "absent": False, "days_present": 31, "failed_checks": 0,
                            "complaints": complaints, "late_cases": len(late),
                            "late_minutes": sum(m for _, m in late), "short_late_cases": 0,
                            "short_late_minutes": 0, "discipline_violations": 0,
                            "inspection_deduction": 0})
    arrivals = pd.DataFrame({"employee_id": [p for p, _ in late],
                             "date": [f"2025-03-{d + 3:02d}" for d in range(len(late))],
                             "minutes": [m for _, m in late]})
    adjustments = pd.DataFrame({"employee_id": pd.Series([], dtype=str),
                                "date": pd.Series([], dtype=str), "points": pd.Series([], dtype=int),
                                "reason": pd.Series([], dtype=str),
                                "approved": pd.Series([], dtype=bool),
                                "confirmed_by": pd.Series([], dtype=str)})
    return {"people": people, "records": records, "late_arrivals": arrivals,
            "adjustments": adjustments}


class TestWorkedExamples:
    """SCHEMES.md B2 and B4, computed by hand."""

    def test_b2_cascaded_quotas(self):
        """B2: S1 (93+98)/2 = 95.5 → A+ → team of 10: 2 A+, 3 A, 5 B; S2 91 → A → 7 × 10/30/60% =
        0.7/2.1/4.2 → largest remainder 1 A+, 2 A, 4 B; members take grades by rank.
        """
        result = calib.run(GAS, gas_data())
        g = result.grades.astype({"id": str}).set_index("id")
        assert (g.loc["S1", "score"], g.loc["S1", "grade"]) == (95.5, "A+")
        assert (g.loc["S2", "score"], g.loc["S2", "grade"]) == (91.0, "A")
        assert g.loc[[f"T{i}" for i in range(10)], "grade"].astype(str).tolist() == \
            ["A+"] * 2 + ["A"] * 3 + ["B"] * 5
        assert g.loc[[f"U{i}" for i in range(7)], "grade"].astype(str).tolist() == \
            ["A+"] + ["A"] * 2 + ["B"] * 4
        q = result.quotas[result.quotas["quota"] > 0]
        assert list(zip(q["leader_grade"], q["grade"], q["exact"].round(6), q["quota"],
                        strict=True)) == [
            ("A+", "A+", 2.0, 2), ("A+", "A", 3.0, 3), ("A+", "B", 5.0, 5),
            ("A", "A+", 0.7, 1), ("A", "A", 2.1, 2), ("A", "B", 4.2, 4)]

    def test_leader_without_grade_names_the_rows(self):
        """no_leader_grade: error and S2 on probation: a DataError names U0–U6's records rows."""
        policy = variant(lambda d: d["grading"]["rules"]["teams"]["cascade"].update(
            no_leader_grade="error"), GAS)
        with pytest.raises(DataError) as exc:
            calib.run(policy, gas_data(s2_probation=True))
        table = exc.value.problems
        assert [tuple(r) for r in table[["table", "row", "id", "column", "problem", "value"]]
                .itertuples(index=False)] == [
            ("records", 12 + i, f"U{i}", "supervisor_id", "the leader has no grade in this period",
             "S2") for i in range(7)]
        assert table["fix"].iloc[0] == ("grade the leader (scorecard 'supervisor') in that period, "
                                        "or set no_leader_grade: not_graded")

    def test_b4_property_pay(self):
        """B4: base 300, 4 complaints → score 80, 2 late cases of 6 min → 300 − 12 − 2·(85 − 80) = 278."""
        p = calib.run(calib.load_policy(DATASETS / "property_cs" / "policy.yaml"),
                      property_data([("P1", 6), ("P1", 6)], complaints=4)).payouts.iloc[0]
        assert (p["score"], p["performance"], p["lateness"], p["below_85"], p["payout"]) == (
            80.0, 300.0, -12.0, -10.0, 278.0)

    @pytest.mark.parametrize(("cases", "payout"), [(3, 300.0), (4, 284.0)])
    def test_b4_grace(self, cases, payout):
        """R29 grace: 3 cases of 4 min (12 ≤ 15) are forgiven → 300; 4 cases are not → 300 − 16 = 284."""
        p = calib.run(calib.load_policy(DATASETS / "property_cs" / "policy.yaml"),
                      property_data([("P1", 4)] * cases)).payouts.iloc[0]
        assert (p["score"], p["payout"]) == (100.0, payout)


# --- veto and streaks ---------------------------------------------------------------------------

class TestVeto:
    """R13: a lowest-grade veto on the golden data."""

    def test_vetoed_row_is_lowest_and_not_counted(self):
        """E5 leaked in January: C- by 'veto', no group; east is ranked as 4 (E1–E4): 1/1/2/0."""
        result = calib.run(POLICY, DATA / "grade_pay")
        g = result.grades.astype({"id": str, "period": str}).set_index(["id", "period"])
        e5 = g.loc[("E5", "2025-01")]
        assert (e5["grade"], e5["rule"], e5["vetoed"]) == ("C-", "veto", True)
        assert pd.isna(e5["group"]) and pd.isna(e5["place"])
        q = result.quotas[(result.quotas["period"] == "2025-01") & (result.quotas["group"] == "east")]
        assert q["size"].iloc[0] == 4
        assert q["quota"].tolist() == [1, 1, 2, 0, 0]
        assert g.loc[("E4", "2025-01"), "grade"] == "B"  # 30 points, but the 4th of 4: B (40% of 4 = 2)


class TestStreaks:
    """R21: two consecutive months below 35 raise one exit-review flag."""

    @staticmethod
    def run(points: dict[str, dict[str, float]]) -> pd.DataFrame:
        """Flags for staff in one team with the given points per month."""
        ids = sorted(points)
        people = pd.DataFrame({"employee_id": ids, "team": "east", "position": "staff"})
        records = pd.DataFrame([{"employee_id": i, "period": m, "points": v, "days_present": 31,
                                 "probation": False, "leak": False}
                                for i in ids for m, v in points[i].items()])
        return calib.run(OPEN, {"people": people, "records": records}).flags

    def test_two_in_a_row_flag_once(self):
        """Golden E4: 30 in January, 34.5 in February → one flag in February listing both."""
        flags = calib.run(POLICY, DATA / "grade_pay").flags
        assert flags.to_dict("records") == [
            {"id": "E4", "flag": "exit_review", "label": "连续两月低于35分", "period": "2025-02",
             "periods": "2025-01, 2025-02", "amount": None}]

    def test_three_in_a_row_still_one_flag(self):
        """30, 20, 10 over three months: one run, one flag, raised in February."""
        flags = self.run({"A": {"2025-01": 30, "2025-02": 20, "2025-03": 10},
                          "B": {"2025-01": 90, "2025-02": 90, "2025-03": 90}})
        assert flags[["id", "period", "periods"]].values.tolist() == [
            ["A", "2025-02", "2025-01, 2025-02"]]

    def test_gap_month_breaks_the_run(self):
        """A: 30 in January, no row in February, 30 in March → no flag (March follows no month)."""
        flags = self.run({"A": {"2025-01": 30, "2025-03": 30},
                          "B": {"2025-01": 90, "2025-02": 90, "2025-03": 90}})
        assert flags.empty

    def test_gap_month_for_everybody_breaks_the_run(self):
        """Nobody has February: January and March are still not consecutive."""
        flags = self.run({"A": {"2025-01": 30, "2025-03": 30}, "B": {"2025-01": 90, "2025-03": 90}})
        assert flags.empty

    def test_score_at_35_breaks_the_run(self):
        """30, 35, 30: 35 is not below 35, so no two months in a row."""
        flags = self.run({"A": {"2025-01": 30, "2025-02": 35, "2025-03": 30}})
        assert flags.empty


# --- the CLI's files ----------------------------------------------------------------------------

SHEETS = ["results", "KPI points", "group summaries", "grade distribution", "flags", "payouts",
          "exceptions"]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    """The output folder of one `calib run` on the golden data."""
    folder = tmp_path_factory.mktemp("out")
    assert main(["run", "--policy", str(GOLDEN), "--data", str(DATA / "grade_pay"),
                 "--out", str(folder)]) == 0
    return folder


def sheet(out: Path, name: str) -> pd.DataFrame:
    """One sheet of report.xlsx as a DataFrame."""
    return pd.read_excel(out / "report.xlsx", sheet_name=name, dtype={"period": str})


class TestCliFiles:
    """`calib run` on the golden data writes results.csv and report.xlsx for HR."""

    def test_results_csv_has_grade_and_payout(self, out, result):
        """One row per records row with grade and payout (the run's, to the cent); W4 on probation:
        no grade, payout 0.
        """
        results = pd.read_csv(out / "results.csv", dtype={"period": str})
        assert len(results) == 20
        assert {"grade", "grade_label", "payout"} <= set(results.columns)
        assert cents(results["payout"]).sum() == cents(result.payouts["payout"]).sum()
        rows = results.set_index(["id", "period"])
        assert (rows.loc[("E2", "2025-01"), "grade"], rows.loc[("E2", "2025-01"), "grade_label"]) == (
            "A", "良好")
        assert rows.loc[("W4", "2025-01"), "payout"] == 0
        assert pd.isna(rows.loc[("W4", "2025-01"), "grade"])

    def test_report_sheets_frozen(self, out):
        """report.xlsx has the seven sheets in this order, each with its header row frozen."""
        book = openpyxl.load_workbook(out / "report.xlsx")
        assert [name for name in book.sheetnames if name in SHEETS] == SHEETS
        assert all(book[name].freeze_panes == "A2" for name in book.sheetnames)

    @pytest.mark.parametrize(("sheet", "columns"), [
        ("payouts", ["performance", "bonus", "pool", "payout"]),
        ("results", ["payout"]),
        ("group summaries", ["payout total"]),
    ])
    def test_money_is_numbers_formatted_as_money(self, out, sheet, columns):
        """Money cells hold numbers (not text) with a money number format."""
        ws = openpyxl.load_workbook(out / "report.xlsx")[sheet]
        header = [c.value for c in ws[1]]
        for name in columns:
            cells = [row[header.index(name)] for row in ws.iter_rows(min_row=2)]
            assert cells
            for cell in cells:
                assert cell.data_type == "n" and isinstance(cell.value, int | float), (name, cell)
                assert cell.number_format == "#,##0.00", (name, cell.number_format)

    def test_exceptions_list_probation_and_veto(self, out):
        """The exceptions sheet names W4 (probation) and E5 (vetoed: 泄露客户资料)."""
        ex = sheet(out, "exceptions")
        assert ex[["id", "period", "exception", "detail"]].values.tolist() == [
            ["W4", "2025-01", "not rated", "probation"], ["E5", "2025-01", "vetoed", "泄露客户资料"]]

    def test_group_summary_keeps_vetoed_rows_apart(self, out):
        """January '(thresholds)' holds only lead L1 (95, A+); vetoed E5 is not a threshold grade."""
        gs = sheet(out, "group summaries").set_index(["period", "group"])
        assert gs.loc[("2025-01", "(thresholds)"), "size"] == 1
        assert gs.loc[("2025-01", "(thresholds)"), "count C-"] == 0

    def test_group_summary_columns_in_scale_order(self, out):
        """Count and quota columns follow the scale (A+, A, B, C, C-), not the alphabet."""
        header = list(sheet(out, "group summaries").columns)
        assert [c for c in header if c.startswith("count ")] == [f"count {g}" for g in GRADES]
        assert [c for c in header if c.startswith("quota ")] == [f"quota {g}" for g in GRADES]

    def test_scores_are_numbers(self, out):
        """Scores on the results sheet are numbers with two decimals: 94.99 stays 94.99."""
        ws = openpyxl.load_workbook(out / "report.xlsx")["results"]
        header = [c.value for c in ws[1]]
        values = {(r[0].value, r[1].value): r[header.index("score")] for r in ws.iter_rows(min_row=2)}
        cell = values[("L1", "2025-02")]
        assert (cell.value, cell.number_format) == (94.99, "0.00")


def test_missing_scores_pay_as_zero_exactly_as_nan_to_num():
    """A score-based component reads a missing score as 0 (a fast path for sliders); an
    infinite score still converts as ``np.nan_to_num`` does, so nothing changes but the time."""
    from calib.engine.components.context import scores_or_zero as _scores_or_zero

    for score in (np.array([92.0, np.nan, 0.0, -0.0, 107.5, np.nan]),
                  np.array([np.inf, np.nan, 60.0, -np.inf]), np.array([]), np.array([np.nan])):
        got, want = _scores_or_zero(score), np.nan_to_num(score)
        assert got.dtype == want.dtype and np.array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))
