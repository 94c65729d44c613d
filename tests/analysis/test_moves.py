"""Who moved grade: one table (``calib.analysis.moves``) that every view of a change reads."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import calib
from calib.analysis import moves as M
from calib.analysis.calibrate import sensitivity
from calib.analysis.compare import compare_results, impact
from calib.analysis.moves import COLUMNS, MOVES, SAME, grade_order, move_counts, moves
from calib.errors import CalibError
from calib.io.report import results_table
from calib.lab import charts, ui
from calib.lab.whatif import WhatIf
from calib.policy.load import validate_policy

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
SAFETY = calib.load_policy(DATASETS / "safety" / "policy.yaml")
SCALE = SAFETY.grading.scale.names()  # A+, A, B, C, C-
MIRROR = {"up": "down", "down": "up", "new": "gone", "gone": "new"}


def grades(rows: list[tuple]) -> pd.DataFrame:
    """A grades table from (id, period, score, grade[, payout]) tuples."""
    cols = ["id", "period", "score", "grade", "payout"][:len(rows[0])] if rows else \
        ["id", "period", "score", "grade"]
    return pd.DataFrame(rows, columns=cols)


def people(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The (id, period, move) of a moves table, sorted."""
    return sorted(zip(table["id"], table["period"], table["move"], strict=True))


def with_top_grade(policy: calib.Policy) -> calib.Policy:
    """``policy`` with a grade S above A+ (min 99), paid as A+."""
    data = policy.to_dict()
    data["grading"]["scale"]["grades"].insert(0, {"name": "S", "label": "卓越", "min": 99.0})
    coefficients = data["pay"]["components"]["performance"]["coefficients"]
    data["pay"]["components"]["performance"]["coefficients"] = {"S": coefficients["A+"],
                                                                 **coefficients}
    return validate_policy(data)


class TestTable:
    """The table itself, on hand-made grades tables."""

    def test_each_direction_in_the_scales_order(self) -> None:
        """A+ → A is down, B → A up, C kept is not listed, not graded → B new, A → not graded
        gone, and a row only before (gone) comes after the after side's rows."""
        before = grades([("1", "p", 96, "A+"), ("2", "p", 86, "B"), ("3", "p", 81, "C"),
                         ("4", "p", np.nan, None), ("5", "p", 91, "A"), ("6", "p", 92, "A")])
        after = grades([("1", "p", 94, "A"), ("2", "p", 91, "A"), ("3", "p", 80, "C"),
                        ("4", "p", 86, "B"), ("5", "p", np.nan, None)])
        table = moves(before, after, SAFETY)
        assert list(table.columns) == COLUMNS
        assert list(zip(table["id"], table["move"], strict=True)) == [
            ("1", "down"), ("2", "up"), ("4", "new"), ("5", "gone"), ("6", "gone")]
        assert table["score_change"].tolist()[:2] == [-2.0, 5.0]
        assert move_counts(table) == {"up": 1, "down": 1, "new": 1, "gone": 2}

    def test_everyone_lists_the_kept_grades_as_same(self) -> None:
        """With ``everyone`` each row of either side is listed once, ``same`` where kept."""
        before = grades([("1", "p", 96, "A+"), ("2", "p", 86, "B")])
        after = grades([("1", "p", 96, "A+"), ("2", "p", 91, "A"), ("3", "p", 70, "C-")])
        table = moves(before, after, SAFETY, everyone=True)
        assert people(table) == [("1", "p", SAME), ("2", "p", "up"), ("3", "p", "new")]
        assert move_counts(table) == {"up": 1, "down": 0, "new": 1, "gone": 0, SAME: 1}

    def test_payouts_are_compared_in_cents(self) -> None:
        """0.1 + 0.2 paid before and 0.3 after is no change, not 5.55e-17; a row paid on one
        side only has no change."""
        before = grades([("1", "p", 96, "A+", 0.1 + 0.2), ("2", "p", 86, "B", 100.0)])
        after = grades([("1", "p", 94, "A", 0.3), ("2", "p", 91, "A", np.nan)])
        table = moves(before, after, SAFETY)
        assert table["payout_change"].iloc[0] == 0.0 and np.isnan(table["payout_change"].iloc[1])
        assert table["payout_before"].tolist() == [0.3, 100.0]

    def test_without_a_policy_grades_are_ordered_by_their_mean_score(self) -> None:
        """X (mean 90) is better than Y (mean 60): Y → X is up."""
        before = grades([("1", "p", 60, "Y"), ("2", "p", 90, "X")])
        after = grades([("1", "p", 61, "X"), ("2", "p", 90, "X")])
        assert people(moves(before, after)) == [("1", "p", "up")]

    def test_a_grade_no_scale_knows_still_moves(self) -> None:
        """A grade outside the scale ranks after it: A → Z is down, and Z kept is not a move."""
        before = grades([("1", "p", 91, "A"), ("2", "p", 50, "Z")])
        after = grades([("1", "p", 50, "Z"), ("2", "p", 50, "Z")])
        assert people(moves(before, after, SAFETY)) == [("1", "p", "down")]

    def test_a_table_is_checked(self) -> None:
        """A missing column and a repeated (id, period) are refused with what to fix."""
        with pytest.raises(CalibError) as e:
            moves(grades([("1", "p", 1.0, "A")]).drop(columns="score"), grades([("1", "p", 1.0, "A")]))
        assert e.value.args[0] == "a grades table needs columns id, period, score, grade; missing: score"
        twice = grades([("1", "p", 1.0, "A"), ("1", "p", 2.0, "B")])
        with pytest.raises(CalibError) as e:
            moves(twice, twice, SAFETY)
        assert e.value.args[0] == ("a grades table holds id 1 in period p more than once: give one "
                                   "row per id and period")
        with pytest.raises(CalibError, match="not list"):
            moves([], [])


class TestScales:
    """The order of grades when the two policies' scales differ."""

    def test_a_grade_only_one_scale_has_sits_after_its_better_neighbour(self) -> None:
        """After [S, A+, A, B, C, C-] and before [A+, A, B, C, C-]: one order; and the other way
        round S still goes first."""
        top = with_top_grade(SAFETY)
        assert list(grade_order(top, SAFETY)) == ["S", *SCALE]
        assert list(grade_order(SAFETY, top)) == ["S", *SCALE]

    def test_a_new_top_grade_moves_only_those_who_reach_it(self) -> None:
        """Adding S (min 99) moves exactly the A+ rows scoring 99 or more, up; impact, the
        dashboard and the chart agree. (impact once ranked each side by its own scale: every
        unchanged A, B, C... was "down" since its position grew by one, and A+ → S was not a
        move at all; the dashboard and chart, on the after scale alone, called the reverse
        change "graded on one side"/"other".)"""
        top = with_top_grade(SAFETY)
        start = calib.Scenario(SAFETY, DATASETS / "safety")
        wider = calib.Scenario.with_policy(start, top)
        table = moves(start, wider)
        g = start.result.grades
        reach = g[(g["grade"] == "A+") & (g["score"] >= 99)]
        assert set(table["move"]) == {"up"} and len(table) == len(reach)
        assert (table["grade_after"] == "S").all()
        assert people(moves(wider, start)) == [(i, p, "down") for i, p, _ in people(table)]
        im = impact(SAFETY, top, DATASETS / "safety")
        assert people(im.grade_changes) == people(table)
        assert im.summary().startswith(f"{len(table)} grade changes")
        assert ui.moved_table(start, wider, top=10**6)[1] == move_counts(table)


class TestPaths:
    """The arrays of a slider's scenarios and the matched tables give one table."""

    @pytest.mark.parametrize("name", ["gas_cs", "ecommerce_cs", "safety", "call_centre"])
    def test_the_arrays_equal_matching_the_tables(self, name, monkeypatch) -> None:
        """A slider's "who moved", read from the grading stage's arrays, is the table matching
        the two grades and payouts tables on (id, period) gives: same rows, order and values."""
        policy = calib.load_policy(DATASETS / name / "policy.yaml")
        start = calib.Scenario(policy, DATASETS / name)
        params = [p for p in policy.params() if p.role in ("threshold", "points")][:4]
        shown = 0
        for p in params:
            try:
                moved = start.with_params({p.path: p.value + (5 if p.role == "points" else 0.05)})
            except calib.PolicyError:
                continue
            assert M._by_row(start.result, moved.result) is not None
            fast = moves(start, moved, everyone=True)
            monkeypatch.setattr(M, "_by_row", lambda *a: None)  # the general path
            slow = moves(start, moved, everyone=True)
            monkeypatch.undo()
            pd.testing.assert_frame_equal(fast, slow, obj=p.path)
            assert len(fast) == len(moved.result.grades)
            shown += int((fast["move"] != SAME).sum())
        assert shown  # some move changed somebody's grade


@st.composite
def two_sides(draw) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two grades tables over some of 8 people × 2 periods: grades of the safety scale or none."""
    keys = [(f"E{i}", p) for i in range(8) for p in ("2024-01", "2024-02")]
    grade = st.sampled_from([*SCALE, None])
    sides = []
    for _ in range(2):
        present = draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys)))
        rows = [(i, p, draw(st.floats(0, 100)), draw(grade)) for i, p in present]
        sides.append(grades(rows) if rows else grades([]).astype({"score": float}))
    return sides[0], sides[1]


@given(two_sides())
def test_moves_back_are_the_mirror_and_add_up_to_the_distributions(sides) -> None:
    """B → A lists the people of A → B the other way (up ↔ down, new ↔ gone); nobody whose grade
    is the same is listed; and per grade, the count after minus before is the moves into it
    minus the moves out of it."""
    before, after = sides
    table = moves(before, after, SAFETY)
    back = moves(after, before, SAFETY)
    assert people(back) == sorted((i, p, MIRROR[m]) for i, p, m in people(table))
    kept = before.merge(after, on=["id", "period"])
    same = kept[kept["grade_x"].fillna("-") == kept["grade_y"].fillna("-")]
    assert not set(zip(same["id"], same["period"], strict=True)) & set(zip(
        table["id"], table["period"], strict=True))
    assert set(table["move"]) <= set(MOVES)
    into = Counter(table["grade_after"].dropna())
    out = Counter(table["grade_before"].dropna())
    for g in SCALE:
        change = int((after["grade"] == g).sum()) - int((before["grade"] == g).sum())
        assert change == into[g] - out[g], g


class TestEveryViewAgrees:
    """The dashboard, impact, compare_results, the chart, the what-if panel and sensitivity list
    the same people for the same two runs."""

    def test_a_policy_change(self) -> None:
        """A grade minimum 2 % lower on the gas scheme: every view reports the moves of ``moves``."""
        policy = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")
        path = "grading.scale.grades[1].min"
        start = calib.Scenario(policy, DATASETS / "gas_cs")
        moved = start.with_params({path: policy.get(path) * (1 - 0.02)})  # sensitivity's low side
        table = moves(start, moved)
        assert len(table) > 0
        expected = people(table)
        assert people(ui.moved_table(start, moved, top=10**6)[0]) == expected
        assert people(impact(policy, moved.policy, DATASETS / "gas_cs").grade_changes) == expected
        spec = charts.moved(start.result, moved.result, keep=10**6).to_dict()
        drawn = [r for v in spec["datasets"].values() for r in v if "id" in r and r["move"] != SAME]
        scored = table.dropna(subset=["score_before", "score_after"])
        assert sorted((r["id"], r["period"], r["move"]) for r in drawn) == people(scored)
        assert sensitivity(start, [path], rel=0.02)["moved_low"].iloc[0] == len(table)

    def test_an_input_change(self) -> None:
        """GS0013's satisfied customers and complaints changed in the what-if panel: the panel's
        "who else moved" (and the person), the dashboard's table, the appeal comparison's rows
        whose grade changed and ``moves`` are the same people."""
        panel = WhatIf(calib.load_policy(DATASETS / "gas_cs" / "policy.yaml"), DATASETS / "gas_cs")
        panel.person.value, panel.period.value = "GS0013", "2025-06"
        panel.set_inputs({"satisfied": 0, "complaints": 3})
        after = panel.recalculate()
        assert after is not None
        table = moves(panel.before, after)
        expected = sorted(zip(table["id"], table["period"], strict=True))
        others = panel.others_moved()
        assert sorted([*zip(others["id"], others["period"], strict=True),
                       ("GS0013", "2025-06")]) == expected
        assert people(ui.moved_table(panel.before, after, top=10**6)[0]) == people(table)
        rows = compare_results(results_table(panel.before), after)
        graded = rows[rows["grade_old"].fillna("") != rows["grade_new"].fillna("")]
        assert sorted(zip(graded["id"], graded["period"], strict=True)) == expected
