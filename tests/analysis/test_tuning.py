"""calib.analysis.tuning: the tuning change notebook 06 starts from, computed in calib."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA

import calib
from calib.analysis.tuning import suggest_tuning
from calib.policy.paths import Param, split_path

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
EXAMPLES = sorted(p.parent.name for p in DATASETS.glob("*/policy.yaml"))


def example(name: str) -> calib.Policy:
    return calib.load_policy(DATASETS / name / "policy.yaml")


def in_range(p: Param, value: float) -> bool:
    low = p.min is None or (value > p.min if p.min_exclusive else value >= p.min)
    high = p.max is None or (value < p.max if p.max_exclusive else value <= p.max)
    return low and high


def ratio_rows(policy: calib.Policy) -> dict[tuple, float]:
    """Sum of each row of grading ratios (a forced rule's, a cascade's row per leader grade)."""
    rows: dict[tuple, float] = {}
    for p in policy.params():
        if p.role == "ratio" and p.path.startswith("grading.rules."):
            key = tuple(split_path(p.path)[:-1])
            rows[key] = rows.get(key, 0.0) + p.value
    return rows


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_gets_a_valid_change(name: str) -> None:
    """The change validates, moves every value it names, keeps each inside its range and every
    ratio row at 100 %; the reason names it.
    """
    policy = example(name)
    tuning = suggest_tuning(policy)
    assert tuning, tuning.reason  # every example has a grade minimum, a ratio or a pay amount
    params = {p.path: p for p in policy.params()}
    tuned = policy.with_params(tuning)
    for path, value in tuning.items():
        assert value != params[path].value and in_range(params[path], value), (path, value)
        assert tuned.get(path) == value
    assert all(abs(total - 1) < 1e-9 for total in ratio_rows(tuned).values())
    assert tuning.reason and "nothing" not in tuning.reason


class TestWhatIsSuggested:
    """The order of preference: the best grade's minimum, a ratio move, a pay amount."""

    def test_the_best_grades_minimum_one_point_higher(self) -> None:
        """gas_cs: A+ from 95 to 96 (its range is 90–100)."""
        tuning = suggest_tuning(example("gas_cs"))
        assert dict(tuning) == {"grading.scale.grades[0].min": 96.0}
        assert tuning.reason == "the minimum score of grade A+ one point higher: 95 → 96"

    def test_one_point_lower_at_the_top_of_its_range(self) -> None:
        """At 100, the top of its range, A+'s minimum goes down to 99."""
        policy = example("gas_cs").with_params({"grading.scale.grades[0].min": 100})
        assert dict(suggest_tuning(policy)) == {"grading.scale.grades[0].min": 99.0}

    def test_five_points_between_the_first_two_ratios(self) -> None:
        """ecommerce_cs grades by a forced distribution only: 优秀 15 % → 10 %, 良好 35 % → 40 %."""
        tuning = suggest_tuning(example("ecommerce_cs"))
        ratios = "grading.rules.shops.forced.ratios."
        assert dict(tuning) == {ratios + "优秀": 0.1, ratios + "良好": 0.4}
        assert tuning.reason == ("5 percentage points moved from 优秀 (15% → 10%) to 良好 (35% → "
                                 "40%) in grading.rules.shops.forced.ratios")

    def test_less_than_five_points_when_the_range_is_short(self) -> None:
        """优秀 at 8 % may give 3 points (its minimum is 5 %); the row still adds up to 100 %."""
        ratios = "grading.rules.shops.forced.ratios."
        policy = example("ecommerce_cs").with_params({ratios + "优秀": 0.08, ratios + "良好": 0.42})
        assert dict(suggest_tuning(policy)) == {ratios + "优秀": 0.05, ratios + "良好": 0.45}

    def test_the_next_pair_when_the_first_has_no_room(self) -> None:
        """优秀 at its minimum (5 %): 良好 gives 5 points to 合格 instead."""
        ratios = "grading.rules.shops.forced.ratios."
        policy = example("ecommerce_cs").with_params({ratios + "优秀": 0.05, ratios + "良好": 0.45})
        assert dict(suggest_tuning(policy)) == {ratios + "良好": 0.4, ratios + "合格": 0.45}

    def test_a_pay_amount_without_grades(self) -> None:
        """support_team has no grades: its first pay amount with a range 5 % higher, the bonus's
        cap 500 → 525 (the benchmark bonus is the people's column, tuned in the data).
        """
        tuning = suggest_tuning(example("support_team"))
        assert dict(tuning) == {"pay.components.workload_bonus.max": 525.0}

    def test_a_pay_amount_at_the_top_of_its_range_goes_down(self) -> None:
        """At 800, the top of its range, the bonus's cap goes 5 % down, to 760."""
        path = "pay.components.workload_bonus.max"
        policy = example("support_team").with_params({path: 800})
        assert dict(suggest_tuning(policy)) == {path: 760.0}

    def test_nothing_to_tune(self) -> None:
        """A scheme without grades or pay gets no change, and the reason says why."""
        tuning = suggest_tuning(calib.load_policy(DATA / "mini.yaml"))
        assert dict(tuning) == {}
        assert tuning.reason == ("nothing to tune: the scheme has no grade minimum, grade ratio "
                                 "or pay amount with room to move inside its range")
