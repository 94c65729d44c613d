"""Conformance of the Monte Carlo's batched grading with the engine's, method by method.

For every grading method (thresholds; forced distribution with each apportionment, tie rule,
tie column and small-group rule; cascade), on hypothesis-generated teams, scores full of exact
ties and quota boundaries, people not rated and vetoes, the grades of scenario rows × people
computed at once (``calib.simulate.grade``) equal the engine's ``grade`` on each row, row for
row. The engine is the reference: a cascade's team without a graded leader is not graded, as in
the Monte Carlo's reference loop (``calib.simulate.blocks._loop_grading``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import calib
from calib.engine.grading import grade
from calib.policy.load import validate_policy
from calib.simulate.blocks import _loop_grading
from calib.simulate.grade import _grade_plan, _grade_rows
from calib.simulate.pay import _slot_population

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOLDEN = calib.load_policy(FIXTURES / "grade_pay.yaml")
GRADES = GOLDEN.grading.scale.names()
SCORES = st.sampled_from([60.0, 80.0, 85.0, 89.99, 90.0, 92.5, 95.0, 100.0]) | st.decimals(
    50, 100, places=1).map(float)


@st.composite
def ratios(draw) -> dict[str, float]:
    """Shares of the grades in whole percent, adding up to 100 % (some 0)."""
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=len(GRADES) - 1,
                                max_size=len(GRADES) - 1)))
    parts = np.diff([0, *cuts, 100])
    return {g: int(p) / 100 for g, p in zip(GRADES, parts, strict=True)}


@st.composite
def settings_of(draw) -> dict:
    """What forced distributions and cascades share: rounding, ties, small groups."""
    ties: dict = {"rule": draw(st.sampled_from(["order", "share_better"]))}
    if draw(st.booleans()):
        ties["by"] = [{"column": "seniority", "order": draw(st.sampled_from(["asc", "desc"]))}]
    return {"method": draw(st.sampled_from(["hamilton", "webster", "dhondt"])), "ties": ties,
            "small_groups": {"max_size": draw(st.integers(1, 8)),
                             "rule": draw(st.sampled_from(["round", "thresholds", "pool"]))}}


@st.composite
def policies(draw) -> calib.Policy:
    """The golden scheme (leads by thresholds) with the staff graded by thresholds, a forced
    distribution within teams (or everyone) or a cascade from their leader's grade.
    """
    data = copy.deepcopy(GOLDEN.to_dict())
    data["inputs"]["people"]["columns"].update(seniority={"type": "float"},
                                               leader={"type": "text"})
    method = draw(st.sampled_from(["thresholds", "forced", "cascade"]))
    staff: dict = {"scorecards": ["staff"], "method": method}
    if method == "forced":
        staff["forced"] = {"by": draw(st.sampled_from([[], ["team"]])), "ratios": draw(ratios()),
                           **draw(settings_of())}
    elif method == "cascade":
        staff["cascade"] = {"leaders": "lead", "team": "team", "leader": "leader",
                            "ratios": {g: draw(ratios()) for g in GRADES},
                            **draw(settings_of())}
    data["grading"]["rules"]["staff"] = staff
    return validate_policy(data)


@st.composite
def teams(draw) -> dict:
    """Leads (one per team) and staff; scenario rows of scores, rated and vetoes."""
    n_teams = draw(st.integers(1, 4))
    n = draw(st.integers(n_teams, 30))
    rows = draw(st.integers(1, 5))
    team = np.array([f"t{i % n_teams}" for i in range(n)], dtype=object)
    lead = np.arange(n) < n_teams
    ids = np.array([f"P{i:03d}" for i in range(n)], dtype=object)

    def matrix(strategy):
        return np.array(draw(st.lists(strategy, min_size=rows * n, max_size=rows * n))
                        ).reshape(rows, n)

    return {
        "team": team, "position": np.where(lead, "lead", "staff").astype(object), "ids": ids,
        "leader": np.array([f"P{i % n_teams:03d}" for i in range(n)], dtype=object),
        "seniority": np.array(draw(st.lists(st.sampled_from([1.0, 2.0, 3.5]), min_size=n,
                                            max_size=n))),
        "card": np.where(lead, 0, 1),
        "score": matrix(SCORES),
        "rated": matrix(st.booleans() | st.just(True)),
        "veto": matrix(st.just(False) | st.just(False) | st.just(True)) & ~lead,
    }


@settings(max_examples=200, deadline=None)
@given(policies(), teams())
def test_batched_grading_equals_the_engine_row_for_row(policy, t) -> None:
    """The grades of every scenario row at once equal the engine's, one row at a time."""
    n = len(t["ids"])
    columns = {k: t[k] for k in ("team", "position", "leader", "seniority")}
    m = SimpleNamespace(policy=policy, n_slots=n, card=t["card"], ids=t["ids"],
                        column=lambda name: columns[name])
    grading = _loop_grading(policy.grading)
    score, rated, veto = t["score"], t["rated"], t["veto"]
    batched = _grade_rows(m, _grade_plan(m, grading), score, rated, veto).astype(np.int64)
    cards = list(policy.scorecards)
    for r in range(len(score)):
        pop = _slot_population(m, score[r].copy(), rated[r].copy(), veto[r].copy())
        engine = np.asarray(grade(pop, grading, cards).grade, dtype=np.int64)
        assert np.array_equal(batched[r], engine), (r, score[r], rated[r], veto[r])
