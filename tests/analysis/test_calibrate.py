"""Live scenarios, solvers and sensitivity: checked against full runs and brute force."""

from __future__ import annotations

import copy
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

import calib
from calib.analysis.calibrate import (
    CalibrationError,
    fit_weights,
    sensitivity,
    solve_budget,
    solve_thresholds,
)
from calib.scenario import Scenario

DATA = Path(__file__).resolve().parents[1] / "fixtures"
DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def small_policy() -> calib.Policy:
    """mini.yaml with a three-grade threshold scale and pay 1000 × grade coefficient."""
    data = yaml.safe_load((DATA / "mini.yaml").read_text(encoding="utf-8"))
    data["grading"] = {"scale": {"grades": [{"name": "A", "min": 90}, {"name": "B", "min": 70},
                                            {"name": "C"}]},
                       "rules": {"all": {"method": "thresholds"}}}
    data["pay"] = {"components": {"bonus": {"kind": "grade_coefficient",
                                            "base": {"amount": 1000},
                                            "coefficients": {"A": 1.5, "B": 1.0, "C": 0.5}}}}
    data["ranges"] = {}
    return calib.Policy.model_validate(data)


def small_data(n: int = 40, seed: int = 3) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"E{i:03d}" for i in range(n)]
    people = pd.DataFrame({"employee_id": ids, "department": rng.choice(["A", "B"], n),
                           "position": "staff"})
    inquiries = rng.integers(50, 150, n)
    records = pd.DataFrame({
        "employee_id": ids, "period": "2025-01", "inquiries": inquiries,
        "orders": (inquiries * rng.uniform(0.4, 0.9, n)).astype(int),
        "response_seconds": rng.integers(20, 70, n), "late_arrivals": rng.integers(0, 4, n),
        "attitude": rng.choice(["优秀", "良好", "一般", "较差"], n), "probation": False})
    return {"people": people, "records": records}


class TestScenario:
    @pytest.mark.parametrize("name", ["gas_cs", "ecommerce_cs", "logistics_cs", "property_cs"])
    def test_live_rerun_equals_a_full_run(self, name: str) -> None:
        """After a change, the scenario's tables equal a fresh run of the changed policy."""
        policy = calib.load_policy(DATASETS / name / "policy.yaml")
        scenario = Scenario(policy, DATASETS / name)
        params = [p for p in policy.params() if p.role in ("points", "money", "factor")][:3]
        for p in params:
            moved = scenario.with_params({p.path: p.value + (1 if p.role != "factor" else 0.1)})
            fresh = calib.run(moved.policy, DATASETS / name)
            pd.testing.assert_frame_equal(moved.result.scores, fresh.scores)
            pd.testing.assert_frame_equal(moved.result.kpi_points, fresh.kpi_points)
            if fresh.payouts is not None:
                pd.testing.assert_frame_equal(moved.result.payouts, fresh.payouts)
        assert scenario.seconds > 0

    def test_bad_change_is_a_policy_error(self) -> None:
        """A slider cannot produce an invalid policy: the change is refused with its path."""
        scenario = Scenario(small_policy(), small_data())
        with pytest.raises(calib.PolicyError, match=r"grading.scale"):
            scenario.with_params({"grading.scale.grades[1].min": 95})


class TestThresholds:
    def test_hits_target_when_scores_are_distinct(self) -> None:
        """40 people with distinct scores: 25% A, 50% B, 25% C is met exactly (10/20/10)."""
        scenario = Scenario(small_policy(), small_data())
        scores = scenario.result.grades["score"].to_numpy()
        assume_distinct = len(np.unique(scores)) == len(scores)
        policy, report = solve_thresholds(scenario, {"A": 0.25, "B": 0.5, "C": 0.25})
        if assume_distinct:
            assert report["count"].tolist() == [10, 20, 10]
        graded = Scenario.with_policy(scenario, policy).result.grades["grade"].value_counts()
        assert graded.to_dict() == dict(zip(report["grade"], report["count"], strict=True))

    def test_no_better_split_exists(self) -> None:
        """Brute force over every pair of cut points between distinct scores finds no split
        closer to the target (sum of absolute count errors) than the solver's."""
        scenario = Scenario(small_policy(), small_data(n=25, seed=7))
        scores = np.sort(scenario.result.grades["score"].to_numpy())[::-1]
        target = {"A": 0.2, "B": 0.5, "C": 0.3}
        _, report = solve_thresholds(scenario, target)
        want = np.array([0.2, 0.5, 0.3]) * len(scores)
        solver_error = np.abs(report["count"].to_numpy() - want).sum()
        cuts = np.unique(np.r_[scores + 1, scores])
        best = min(np.abs(np.array([(scores >= a).sum(), ((scores >= b) & (scores < a)).sum(),
                                    (scores < b).sum()]) - want).sum()
                   for a, b in itertools.combinations(sorted(cuts, reverse=True), 2))
        assert solver_error <= best + 1e-9

    def test_ties_are_reported(self) -> None:
        """Equal scores on a boundary cannot be split: the report counts them."""
        scenario = Scenario(small_policy(), small_data())
        _, report = solve_thresholds(scenario, {"A": 0.3, "B": 0.4, "C": 0.3})
        assert {"target", "achieved", "ties_at_min"} <= set(report.columns)

    def test_unknown_grade_refused(self) -> None:
        """A target naming a grade the scale does not have is refused."""
        scenario = Scenario(small_policy(), small_data())
        with pytest.raises(CalibrationError, match="not in the scale: Z"):
            solve_thresholds(scenario, {"A": 0.5, "Z": 0.5})


class TestBudget:
    def test_budget_met_to_the_step(self) -> None:
        """The A coefficient that makes the total 50,000.00: the gap is below one person's
        smallest step (1000 × coefficient moves in cents)."""
        scenario = Scenario(small_policy(), small_data())
        policy, report = solve_budget(scenario, 42_000.0, "pay.components.bonus.coefficients.A",
                                      bounds=(0.0, 20.0))
        assert abs(report["gap"]) <= 0.01 * 40
        assert Scenario.with_policy(scenario, policy).total_payout() == report["total"]

    def test_unreachable_budget_refused(self) -> None:
        """A budget outside what the parameter's range can reach is refused, with the range."""
        scenario = Scenario(small_policy(), small_data())
        with pytest.raises(CalibrationError, match="cannot be met by moving"):
            solve_budget(scenario, 10.0, "pay.components.bonus.coefficients.A", bounds=(0.0, 2.0))


class TestWeights:
    def test_matches_brute_force_on_two_items(self) -> None:
        """Two weights summing to 85: the solver's Spearman is within 0.01 of the best on a
        grid of whole-number weights."""
        policy = small_policy()
        scenario = Scenario(policy, small_data(n=60, seed=11))
        points = scenario.result.kpi_points.set_index("id")[["conversion", "response"]]
        reference = (0.8 * points["conversion"].fillna(0) + 0.2 * points["response"]).rename(
            index=str) + np.random.default_rng(0).normal(0, 2, len(points))
        _, report = fit_weights(scenario, "sales", reference)
        ranks = stats.rankdata(reference.to_numpy())
        best = -1.0
        for w1 in range(0, 86):
            w = np.array([w1, 85 - w1], dtype=float)
            pts = points.to_numpy()
            present = ~np.isnan(pts)
            score = (np.where(present, pts, 0) @ w) / 100 * 85 / (present * w).sum(axis=1)
            rho = stats.spearmanr(np.nan_to_num(score), ranks).statistic
            best = max(best, rho if rho == rho else -1)
        assert report["spearman_after"] >= best - 0.01
        assert report["spearman_after"] >= report["spearman_before"] - 1e-12
        assert sum(report["weights_after"].values()) == pytest.approx(85.0)
        assert report["reference_left_out"] == 0

    def test_people_without_a_reference_value_are_left_out_and_counted(self) -> None:
        """A reference with empty values (people not ranked last year) gave NaN for Spearman's
        rho and left the weights as they were; those people are now left out of the comparison
        and counted, and the fit is the one on the others."""
        scenario = Scenario(small_policy(), small_data(n=60, seed=11))
        points = scenario.result.kpi_points.set_index("id")[["conversion", "response"]]
        reference = (0.8 * points["conversion"].fillna(0) + 0.2 * points["response"]).rename(
            index=str) + np.random.default_rng(0).normal(0, 2, len(points))
        holes = reference.copy()
        holes.iloc[:5] = np.nan
        _, report = fit_weights(scenario, "sales", holes)
        _, plain = fit_weights(scenario, "sales", reference.iloc[5:])
        assert report["reference_left_out"] == 5 and report["people"] == plain["people"]
        assert report["spearman_after"] == pytest.approx(plain["spearman_after"])
        assert report["spearman_after"] == report["spearman_after"]  # not NaN

    @pytest.mark.parametrize("bad, says", [
        (pd.DataFrame({"id": ["P1"], "score": [1.0]}), "must be a pandas Series indexed by"),
        (pd.Series(["good", "bad"], index=["P1", "P2"]), "must hold numbers"),
        (pd.Series([1.0, 2.0, 3.0], index=["P1", "P1", "P2"]), "names 1 people twice (P1)"),
    ])
    def test_a_reference_of_the_wrong_shape_is_refused(self, bad, says) -> None:
        """A table instead of a Series, text values, or a person twice: refused, saying how."""
        scenario = Scenario(small_policy(), small_data())
        with pytest.raises(CalibrationError, match=re.escape(says)):
            fit_weights(scenario, "sales", bad)


def test_sensitivity_table() -> None:
    """Each parameter gets a low and high payout change and the number who change grade."""
    scenario = Scenario(small_policy(), small_data())
    table = sensitivity(scenario, ["pay.components.bonus.coefficients.A",
                                   "grading.scale.grades[0].min"], rel=0.1)
    coef = table.set_index("parameter").loc["pay.components.bonus.coefficients.A"]
    assert coef["low"] < 0 < coef["high"] and coef["moved_low"] == coef["moved_high"] == 0
    grade = table.set_index("parameter").loc["grading.scale.grades[0].min"]
    assert grade["high"] <= 0 <= grade["low"]
    assert list(table.columns[:2]) == ["parameter", "value"]


def test_inputs_untouched() -> None:
    """Solvers never change the scenario they are given."""
    scenario = Scenario(small_policy(), small_data())
    before = copy.deepcopy(scenario.policy)
    solve_thresholds(scenario, {"A": 0.2, "B": 0.5, "C": 0.3})
    assert scenario.policy == before


def test_remembered_stages_match_fresh_runs() -> None:
    """Moving a forced ratio there and back: every step equals a fresh run, cache hits included."""
    policy = calib.load_policy(DATASETS / "ecommerce_cs" / "policy.yaml")
    rules = policy.grading.rules
    name = next(n for n, r in rules.items() if r.method == "forced")
    grades = list(rules[name].forced.ratios)
    a, b = (f"grading.rules.{name}.forced.ratios.{g}" for g in grades[:2])
    va, vb = policy.get(a), policy.get(b)
    scenario = Scenario(policy, DATASETS / "ecommerce_cs")
    for delta in (0.05, 0.0, 0.05):
        moved = scenario.with_params({a: round(va + delta, 6), b: round(vb - delta, 6)})
        fresh = calib.run(moved.policy, DATASETS / "ecommerce_cs")
        pd.testing.assert_frame_equal(moved.result.grades, fresh.grades)
        pd.testing.assert_frame_equal(moved.result.payouts, fresh.payouts)
        pd.testing.assert_frame_equal(moved.result.quotas, fresh.quotas)


def test_solvers_are_at_the_top_level_without_importing_scipy_up_front() -> None:
    """`calib.fit_weights` and the other solvers are the calibrate module's own; a plain
    `import calib` (the command line) does not import scipy for them."""
    import subprocess
    import sys

    import calib.analysis.calibrate as cal

    for name in ("solve_thresholds", "solve_budget", "fit_weights", "sensitivity",
                 "CalibrationError"):
        assert getattr(calib, name) is getattr(cal, name) and name in calib.__all__
    code = "import sys, calib; print('scipy.optimize' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
