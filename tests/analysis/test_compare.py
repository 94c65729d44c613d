"""Policy diff, the impact of a policy change, and the appeal re-run comparison (R37)."""

from __future__ import annotations

import shutil
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

import calib
from calib.analysis.compare import compare_results, diff_policies, impact, read_results
from calib.cli import main
from calib.errors import CalibError, DataError, PolicyError
from calib.io.report import results_table

DATA = Path(__file__).resolve().parents[1] / "fixtures"
VARIANTS = DATA / "compare"
DATASETS = Path(__file__).resolve().parents[2] / "datasets"
EXAMPLES = {d.name: calib.load_policy(d / "policy.yaml") for d in sorted(DATASETS.iterdir())
            if (d / "policy.yaml").exists()}
GAS_RATIOS = {"A+": {"A+": "0.2", "A": "0.3", "B": "0.5"}, "A": {"A+": "0.1", "A": "0.3", "B": "0.6"}}


@st.composite
def tuned(draw):
    """An example policy, one of its tunable paths and a new value inside the path's range."""
    name = draw(st.sampled_from(sorted(EXAMPLES)))
    policy = EXAMPLES[name]
    param = draw(st.sampled_from(policy.params()))
    span = max(1.0, abs(param.value))
    lo = param.min if param.min is not None else param.value - span
    hi = param.max if param.max is not None else param.value + span
    value = draw(st.floats(lo, hi, exclude_min=param.min_exclusive, exclude_max=param.max_exclusive)
                 .map(lambda v: round(v, 4)).filter(lambda v: v != param.value))
    try:
        return policy, param.path, value, policy.with_params({param.path: value})
    except PolicyError:
        reject()  # the value breaks another rule of the policy (bands out of order, ratios not 1)


class TestDiffPolicies:
    @pytest.mark.parametrize("name", sorted(EXAMPLES))
    def test_policy_against_itself_is_empty(self, name) -> None:
        """Every example diffed with itself has no row."""
        assert diff_policies(EXAMPLES[name], EXAMPLES[name]).empty

    @settings(max_examples=150)
    @given(tuned())
    def test_one_changed_path_is_exactly_that_row(self, case) -> None:
        """Changing one tunable number gives one row, at its params() path, old → new."""
        policy, path, value, changed = case
        diff = diff_policies(policy, changed)
        assert diff.to_dict("records") == [
            {"path": path, "old": policy.get(path), "new": value, "change": "changed"}]
        assert diff_policies(changed, changed).empty

    def test_added_removed_and_changed(self) -> None:
        """Version and description set, a band appended, weights moved, a roll-up dropped."""
        diff = diff_policies(calib.load_policy(DATA / "mini.yaml"),
                             calib.load_policy(VARIANTS / "mini_v2.yaml"))
        assert list(diff.itertuples(index=False, name=None)) == [
            ("description", None, "response bands extended; quarter roll-up dropped", "added"),
            ("version", None, "2", "added"),
            ("kpis.response.rule.bands[3].at", None, 70, "added"),
            ("kpis.response.rule.bands[3].points", None, 40, "added"),
            ("sections.sales.weights.conversion", 50, 55, "changed"),
            ("sections.sales.weights.response", 35, 30, "changed"),
            ("rollups.quarter.to", "quarter", None, "removed"),
            ("rollups.quarter.parts[0].source", "score", None, "removed"),
            ("rollups.quarter.parts[0].weight", 100, None, "removed"),
        ]

    def test_variant_file_is_the_one_threshold(self) -> None:
        """The gas_cs variant differs from the example only in its version and the A+ minimum."""
        diff = diff_policies(EXAMPLES["gas_cs"], calib.load_policy(VARIANTS / "gas_cs_a_plus_93.yaml"))
        assert list(diff.itertuples(index=False, name=None)) == [
            ("version", "2025.1", "2025.2", "changed"),
            ("grading.scale.grades[0].min", 95, 93, "changed"),
        ]


def _hamilton(n: int, ratios: dict[str, str]) -> dict[str, int]:
    """Largest remainder by hand, in exact fractions; equal remainders go to the better grade."""
    exact = {g: Fraction(r) * n for g, r in ratios.items()}
    seats = {g: int(q) for g, q in exact.items()}
    order = sorted(exact, key=lambda g: -(exact[g] - seats[g]))  # stable: better grade first
    for g in order[: n - sum(seats.values())]:
        seats[g] += 1
    return seats


def _grades_by_place(quotas: dict[str, int]) -> list[str]:
    return [g for g, q in quotas.items() for _ in range(q)]


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def gas_impact():
    """gas_cs with A+ from 93 instead of 95, measured on the example's 24 months."""
    return impact(EXAMPLES["gas_cs"], calib.load_policy(VARIANTS / "gas_cs_a_plus_93.yaml"),
                  DATASETS / "gas_cs")


@pytest.fixture(scope="module")
def gas_data():
    """The gas_cs tables, read by hand with pandas, with each rated row's supervisor score."""
    folder = DATASETS / "gas_cs"
    people = pd.read_csv(folder / "people.csv", dtype={"supervisor_id": str})
    records = pd.read_csv(folder / "records.csv")
    rated = records[~records["probation"] & ~records["absent"]].merge(people, on="employee_id")
    ratings = pd.read_csv(folder / "ratings.csv")
    mean = ratings.groupby(["employee_id", "period"])["score"].mean().rename("sup_score")
    return rated.merge(mean.reset_index(), on=["employee_id", "period"], how="left")


class TestImpact:
    @pytest.mark.parametrize("name", sorted(EXAMPLES))
    def test_policy_against_itself_has_no_impact(self, name) -> None:
        """Same policy twice: nobody moves, not a cent changes, the distribution is the same."""
        im = impact(EXAMPLES[name], EXAMPLES[name], DATASETS / name)
        assert im.parameters.empty and im.grade_changes.empty and im.quotas.empty
        assert im.total_delta == 0 and (im.payouts["delta"] == 0).all()
        assert im.total_before == im.total_after > 0
        assert (im.distribution["before"] == im.distribution["after"]).all()
        text = im.to_text()
        assert text.startswith("no parameter changes\n")
        assert ("nobody changes grade; payout" if im.after.grades is not None else "payout") in text
        assert "(+0.00, +0.00%)" in text

    @settings(max_examples=25)
    @given(tuned())
    def test_totals_add_up_for_any_change(self, case) -> None:
        """For any one-number change: the total delta is the sum of row deltas, to the cent, and
        the distribution changes by exactly the recorded moves."""
        policy, _, _, changed = case
        name = policy.name
        try:
            im = impact(policy, changed, DATASETS / name)
        except DataError:
            reject()  # the data breaks the changed policy (as loading it under that policy would)
        row_sum = sum((Decimal(str(d)) for d in im.payouts["delta"]), Decimal(0))
        assert im.total_delta == row_sum == im.total_after - im.total_before
        group_sum = sum((Decimal(str(d)) for d in im.groups["delta"]), Decimal(0))
        assert group_sum == im.total_delta
        moves = im.grade_changes["move"].value_counts()
        net = moves.get("new", 0) - moves.get("gone", 0)
        assert im.distribution["change"].sum() == net

    def test_supervisors_between_93_and_95_move_to_a_plus(self, gas_impact, gas_data) -> None:
        """Supervisors score the mean of branch and HQ ratings (R18); exactly those rated with
        93 <= mean < 95 move A → A+, and no supervisor moves otherwise."""
        sup = gas_data[gas_data["position"] == "客服主管"]
        band = sup[(sup["sup_score"] >= 93) & (sup["sup_score"] < 95)]
        moved = gas_impact.grade_changes[gas_impact.grade_changes["group"] == "supervisors"]
        assert len(band) == 15
        assert set(zip(moved["id"], moved["period"], strict=True)) == set(
            zip(band["employee_id"], band["period"], strict=True))
        assert (moved["grade_before"] == "A").all() and (moved["grade_after"] == "A+").all()
        assert (moved["score_before"] == moved["score_after"]).all()

    def test_their_teams_take_the_a_plus_ratios(self, gas_impact, gas_data) -> None:
        """Each team under a moved supervisor takes the A+ row (20/30/50) instead of the A row
        (10/30/60), by largest remainder; members take grades by rank, so the ones whose place
        falls in another grade move, and nobody in any other team moves. A team of 13:
        1.3/3.9/7.8 → 1/4/8 before, 2.6/3.9/6.5 → 3/4/6 after: places 2, 3 move A → A+, places
        6, 7 move B → A (4 moves)."""
        assert _hamilton(13, GAS_RATIOS["A"]) == {"A+": 1, "A": 4, "B": 8}
        assert _hamilton(13, GAS_RATIOS["A+"]) == {"A+": 3, "A": 4, "B": 6}
        sup = gas_data[gas_data["position"] == "客服主管"]
        band = sup[(sup["sup_score"] >= 93) & (sup["sup_score"] < 95)]
        changes = gas_impact.grade_changes
        staff_moves = changes[changes["group"] != "supervisors"]
        expected_moves = 0
        for leader, period in zip(band["employee_id"], band["period"], strict=True):
            team = gas_data[(gas_data["supervisor_id"] == leader) & (gas_data["period"] == period)]
            n = len(team)
            before = _grades_by_place(_hamilton(n, GAS_RATIOS["A"]))
            after = _grades_by_place(_hamilton(n, GAS_RATIOS["A+"]))
            moves = sum(b != a for b, a in zip(before, after, strict=True))
            mine = staff_moves[staff_moves["id"].isin(team["employee_id"]) &
                               (staff_moves["period"] == period)]
            assert len(mine) == moves, (leader, period, n)
            graded = gas_impact.after.grades
            got = graded[graded["id"].isin(team["employee_id"]) & (graded["period"] == period)]
            assert got["grade"].astype(str).value_counts().to_dict() == {
                g: q for g, q in _hamilton(n, GAS_RATIOS["A+"]).items() if q}
            expected_moves += moves
        assert len(staff_moves) == expected_moves == 52
        assert (staff_moves["move"] == "up").all()
        assert len(changes) == 67 and changes["id"].nunique() == 37

    def test_quota_changes_name_the_teams(self, gas_impact) -> None:
        """Only the A+, A and B quotas of teams whose leader went A → A+ change."""
        q = gas_impact.quotas
        assert set(q["leader_grade_before"]) == {"A"} and set(q["leader_grade_after"]) == {"A+"}
        assert set(q["grade"]) <= {"A+", "A", "B"}
        net = q.groupby(["period", "group"])[["quota_before", "quota_after"]].sum()
        assert (net["quota_before"] == net["quota_after"]).all()

    def test_cost_delta_by_hand_to_the_cent(self, gas_impact, gas_data) -> None:
        """Scores do not move, so only the grade bonus changes: per moved row,
        round(base_bonus × coefficient × days_present / days of month) after minus before
        (A+ 1.2, A 1.1, B 1.0); the total is that sum, exactly, and the sum of row deltas."""
        coef = {"A+": Decimal("1.2"), "A": Decimal("1.1"), "B": Decimal("1.0")}
        rows = gas_impact.grade_changes.merge(
            gas_data, left_on=["id", "period"], right_on=["employee_id", "period"])
        total = Decimal(0)
        for r in rows.itertuples(index=False):
            share = Decimal(int(r.days_present)) / Decimal(pd.Period(r.period).days_in_month)
            base = Decimal(int(r.base_bonus)) * share
            total += _cents(base * coef[r.grade_after]) - _cents(base * coef[r.grade_before])
        assert len(rows) == 67
        assert gas_impact.total_delta == total == Decimal("3905.95")
        deltas = gas_impact.payout_changes()
        assert sum(Decimal(str(d)) for d in deltas["delta"]) == total
        assert set(zip(deltas["id"], deltas["period"], strict=True)) == set(
            zip(rows["id"], rows["period"], strict=True))

    def test_text_for_hr(self, gas_impact) -> None:
        """The summary names the parameter, the moves, the totals and the labels from the policy."""
        text = gas_impact.to_text()
        assert "grading.scale.grades[0].min: 95 → 93" in text
        assert ("67 grade changes (37 people, 11 periods): 67 up, 0 down; payout total "
                f"{gas_impact.total_before:,.2f} → {gas_impact.total_after:,.2f} (+3,905.95, +0.12%)"
                in text)
        assert "A+ 优秀: 283 (6.7%) → 324 (7.6%)" in text

    def test_group_by_people_column(self, gas_impact) -> None:
        """by='branch' groups by the people table's column; the groups add up to the total."""
        im = impact(EXAMPLES["gas_cs"], calib.load_policy(VARIANTS / "gas_cs_a_plus_93.yaml"),
                    DATASETS / "gas_cs", by="branch")
        branches = pd.read_csv(DATASETS / "gas_cs" / "people.csv")["branch"]
        assert set(im.groups["group"]) == set(branches)
        assert set(im.groups.loc[im.groups["up"] > 0, "group"]) == {"城东分公司", "城西分公司",
                                                                    "城南分公司", "城北分公司"}
        assert sum(Decimal(str(d)) for d in im.groups["delta"]) == gas_impact.total_delta
        assert im.groups["up"].sum() == 67

    def test_unknown_group_column_is_refused(self) -> None:
        """A column the people table lacks is named, with the columns it has."""
        with pytest.raises(CalibError) as e:
            impact(EXAMPLES["gas_cs"], EXAMPLES["gas_cs"], DATASETS / "gas_cs", by="department")
        assert e.value.args[0].startswith(
            "cannot group by 'department': it is not a column of the people table; use 'group' "
            "(the quota group) or one of: branch, team, position, supervisor_id,")

    def test_workbook(self, gas_impact, tmp_path) -> None:
        """Sheets in order, headers frozen, money as #,##0.00 numbers, shares as percentages."""
        path = tmp_path / "impact.xlsx"
        gas_impact.to_excel(path)
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames == ["parameters", "grade changes", "payout changes", "groups",
                                 "distribution", "quota changes"]
        assert all(ws.freeze_panes == "A2" for ws in wb)
        pay = wb["payout changes"]
        assert [c.value for c in pay[1]] == ["id", "period", "group", "before", "after", "delta"]
        assert pay.max_row == 68
        delta = pay.cell(row=2, column=6)
        assert isinstance(delta.value, int | float) and delta.number_format == "#,##0.00"
        assert wb["distribution"].cell(row=2, column=5).number_format == "0.0%"
        assert wb["parameters"].cell(row=3, column=2).value == 95


@pytest.fixture
def appeal(tmp_path):
    """ecommerce_cs before and after an appeal: EC0001's June buyers corrected so her conversion
    is 75% (was 54.6%). By hand: conversion points 60 → 100, weight 35 of the 75-point part,
    so the score rises by 0.35 × 40 = 14 (52.67 → 66.67), her place in 抖音小店 in June goes from
    21 to 11 of 23 and she enters 良好 (places 5–12); the last of 良好 before, EC0158 (65.0),
    falls to place 13, 合格. Pay 750 × score%: +105.00."""
    folder = tmp_path / "ecommerce_cs"
    shutil.copytree(DATASETS / "ecommerce_cs", folder)
    policy = EXAMPLES["ecommerce_cs"]
    old = results_table(calib.run(policy, folder))
    records = pd.read_csv(folder / "records.csv", dtype=str)
    row = (records["employee_id"] == "EC0001") & (records["period"] == "2024-06")
    inquiries = int(records.loc[row, "inquiries"].iloc[0])
    records.loc[row, "buyers"] = str(int(np.ceil(0.75 * inquiries)))
    records.to_csv(folder / "records.csv", index=False)
    return old, calib.run(policy, folder), folder


class TestCompareResults:
    def test_appeal_lists_person_and_those_moved_by_quota(self, appeal) -> None:
        """The corrected person is 'input changed'; the one the forced distribution pushed out of
        良好 is 'moved by quota'; nothing else changes."""
        old, new, _ = appeal
        changes = compare_results(old, new)
        assert changes[["id", "period", "level", "grade_old", "grade_new", "why"]].to_dict("records") == [
            {"id": "EC0001", "period": "2024-06", "level": "period", "grade_old": "合格",
             "grade_new": "良好", "why": "input changed"},
            {"id": "EC0158", "period": "2024-06", "level": "period", "grade_old": "良好",
             "grade_new": "合格", "why": "moved by quota"},
        ]
        first, second = changes.iloc[0], changes.iloc[1]
        assert first["score_new"] - first["score_old"] == pytest.approx(14)
        # 750 × 14 points = 105.00 more performance pay; the rest of the month's pay (底薪, 岗位,
        # 津贴, commission …) is the same before and after
        assert first["payout_delta"] == 105.00
        assert first["payout_new"] == pytest.approx(first["payout_old"] + 105.00, abs=0.001)
        assert second["score_old"] == second["score_new"] == 65.0
        assert second["payout_delta"] == 0

    def test_quotas_of_the_shop_month_are_kept(self, appeal) -> None:
        """Forced distribution: the shop's June grade counts are the same before and after."""
        old, new, _ = appeal
        shop = new.grades[(new.grades["group"] == "抖音小店") & (new.grades["period"] == "2024-06")]
        ids = set(shop["id"].astype(str))
        was = old[old["id"].isin(ids) & (old["period"] == "2024-06")]
        assert was["grade"].value_counts().to_dict() == \
            shop["grade"].astype(str).value_counts().to_dict() == {"合格": 9, "良好": 8, "优秀": 4,
                                                                    "待改进": 2}

    def test_from_a_results_file_and_given_ids(self, appeal, tmp_path) -> None:
        """The previous run's results.csv (or its folder) reads back; ids the caller names as
        changed decide 'input changed', so a score change elsewhere is someone else's doing."""
        old, new, _ = appeal
        old.to_csv(tmp_path / "results.csv", index=False)
        by_file = compare_results(tmp_path, results_table(new), changed_ids=["EC0001"])
        pd.testing.assert_frame_equal(by_file, compare_results(old, new))
        other = compare_results(tmp_path / "results.csv", new, changed_ids=["EC0002"])
        assert list(other["why"]) == ["score moved by others' input", "moved by quota"]

    def test_same_results_no_rows(self, appeal) -> None:
        """A re-run of unchanged data lists nothing."""
        old, _, _ = appeal
        assert compare_results(old, old).empty

    def test_missing_previous_and_missing_key(self, tmp_path) -> None:
        """A previous run that is not there, or results without the key, are named."""
        with pytest.raises(CalibError) as e:
            read_results(tmp_path / "nope")
        assert e.value.args == (f"previous results not found: {tmp_path / 'nope'} does not exist; give "
                                "the --out folder of an earlier run or the results.csv it wrote",)
        with pytest.raises(CalibError) as e:
            compare_results(pd.DataFrame({"id": ["a"], "score": [1.0]}),
                            pd.DataFrame({"id": ["a"], "period": ["p"], "level": ["period"]}))
        assert e.value.args == ("the previous results have no column 'period', 'level'; "
                                "columns are: id, score",)


class TestCli:
    def test_diff_without_data(self, tmp_path, capsys) -> None:
        """Parameter changes as 'path: old → new'; --out writes the parameters sheet."""
        out = tmp_path / "diff.xlsx"
        code = main(["diff", str(DATASETS / "gas_cs" / "policy.yaml"),
                     str(VARIANTS / "gas_cs_a_plus_93.yaml"), "--out", str(out)])
        assert code == 0
        assert capsys.readouterr().out.splitlines() == [
            "2 parameters changed:", "  version: 2025.1 → 2025.2",
            "  grading.scale.grades[0].min: 95 → 93", f"written to {out}"]
        assert openpyxl.load_workbook(out).sheetnames == ["parameters"]

    def test_diff_with_data(self, tmp_path, capsys) -> None:
        """With --data, the impact: moves, cost delta and distribution; --out the workbook."""
        out = tmp_path / "impact.xlsx"
        code = main(["diff", str(DATASETS / "gas_cs" / "policy.yaml"),
                     str(VARIANTS / "gas_cs_a_plus_93.yaml"), "--data", str(DATASETS / "gas_cs"),
                     "--by", "branch", "--out", str(out)])
        assert code == 0
        text = capsys.readouterr().out
        assert "67 grade changes (37 people, 11 periods): 67 up, 0 down" in text
        assert "(+3,905.95, +0.12%)" in text
        assert "groups most affected (by branch), 4 of 5 change:" in text
        assert out.exists()

    def test_diff_bad_input_exits_1(self, capsys) -> None:
        """A missing policy, missing data or an unknown group column: exit 1, a message."""
        p = str(DATASETS / "gas_cs" / "policy.yaml")
        assert main(["diff", p, "nope.yaml"]) == 1
        assert "file not found: nope.yaml" in capsys.readouterr().err
        assert main(["diff", p, p, "--data", "nope"]) == 1
        assert "'nope' does not exist" in capsys.readouterr().err
        assert main(["diff", p, p, "--data", str(DATASETS / "gas_cs"), "--by", "x"]) == 1
        assert "cannot group by 'x'" in capsys.readouterr().err

    def test_diff_usage_exits_2(self, capsys) -> None:
        """One policy instead of two is a usage error."""
        assert main(["diff", "a.yaml"]) == 2
        assert "the following arguments are required: new" in capsys.readouterr().err

    def test_run_previous_writes_changes(self, tmp_path, capsys) -> None:
        """run --previous: changes.csv and a count of input changes and quota moves; the previous
        folder may be the --out folder itself (read before it is overwritten)."""
        folder = tmp_path / "data"
        shutil.copytree(DATASETS / "ecommerce_cs", folder)
        policy = str(DATASETS / "ecommerce_cs" / "policy.yaml")
        out = tmp_path / "out"
        assert main(["run", "--policy", policy, "--data", str(folder), "--out", str(out)]) == 0
        records = pd.read_csv(folder / "records.csv", dtype=str)
        row = (records["employee_id"] == "EC0001") & (records["period"] == "2024-06")
        records.loc[row, "buyers"] = str(int(np.ceil(0.75 * int(records.loc[row, "inquiries"].iloc[0]))))
        records.to_csv(folder / "records.csv", index=False)
        capsys.readouterr()
        assert main(["run", "--policy", policy, "--data", str(folder), "--out", str(out),
                     "--previous", str(out)]) == 0
        assert (f"compared with {out}: 2 rows changed for 2 people: 1 input changed, 1 moved by "
                f"quota; written to {out / 'changes.csv'}") in capsys.readouterr().out
        changes = pd.read_csv(out / "changes.csv")
        assert list(changes["why"]) == ["input changed", "moved by quota"]

    def test_run_previous_missing_exits_1(self, tmp_path, capsys) -> None:
        """A --previous that does not exist stops the run before anything is written."""
        code = main(["run", "--policy", str(DATASETS / "ecommerce_cs" / "policy.yaml"), "--data",
                     str(DATASETS / "ecommerce_cs"), "--out", str(tmp_path / "o"), "--previous",
                     str(tmp_path / "nope")])
        assert code == 1
        assert "previous results not found" in capsys.readouterr().err
        assert not (tmp_path / "o").exists()
