"""Monte Carlo of next year's payouts (calib.simulate.monte_carlo): reproducible with a seed, exact on a
noise-free history, the vectorised grading and pay equal to the engine's one scenario at a time,
and runs on the example schemes.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calib
from calib.policy.load import validate_policy
from calib.simulate.monte_carlo import Simulation, simulate

DATA = Path(__file__).resolve().parents[1] / "fixtures"
DATASETS = Path(__file__).resolve().parents[2] / "datasets"
GOLDEN = calib.load_policy(DATA / "grade_pay.yaml")
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def variant(change, policy: calib.Policy = GOLDEN) -> calib.Policy:
    """The policy with ``change(d)`` applied to its plain data, validated again."""
    data = copy.deepcopy(policy.to_dict())
    change(data)
    return validate_policy(data)


def roster(n: int = 40, teams: int = 4, seed: int = 0, constant: bool = False,
           months: int = 12) -> dict[str, pd.DataFrame]:
    """``n`` people in ``teams`` teams (one lead each) over ``months`` months of 2025.

    With ``constant`` every person's months are identical (points in halves, so ties within a
    team are common); otherwise points vary month to month and people join and leave.
    """
    rng = np.random.default_rng(seed)
    ids = [f"P{i:03d}" for i in range(n)]
    team = [f"t{i % teams}" for i in range(n)]
    position = ["lead" if i < teams else "staff" for i in range(n)]
    people = pd.DataFrame({"employee_id": ids, "team": team, "position": position})
    level = rng.integers(120, 200, n) / 2
    rows = []
    for i, pid in enumerate(ids):
        first, last = 0, months - 1
        if not constant and i >= teams:
            first = int(rng.integers(0, 4)) if rng.random() < 0.2 else 0
            last = int(rng.integers(months - 4, months)) if rng.random() < 0.2 else months - 1
        for mth in range(first, last + 1):
            pts = level[i] if constant else float(np.clip(level[i] + rng.normal(0, 4), 40, 100))
            rows.append({"employee_id": pid, "period": MONTHS[mth], "points": round(pts, 1),
                         "days_present": 31, "probation": (not constant) and mth == first > 0,
                         "leak": i == teams + 3 if constant else rng.random() < 0.01})
    return {"people": people, "records": pd.DataFrame(rows)}


def yearly(data: dict) -> None:
    """Grade and pay on the year roll-up instead of the month."""
    data["rollups"] = {"year": {"to": "year"}}
    data["grading"]["on"] = "year"
    data["grading"].pop("streaks", None)
    data["pay"]["on"] = "year"


NOISE_FREE = {"noise": 0, "group_effects": False, "joiners": False, "progress": False}


def test_same_seed_same_totals_other_seed_other_totals():
    policy = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")
    result = calib.run(policy, DATASETS / "gas_cs")
    a = simulate(policy, result, n=200, seed=7, progress=False)
    b = simulate(policy, result, n=200, seed=7, progress=False)
    c = simulate(policy, result, n=200, seed=8, progress=False)
    assert np.array_equal(a.totals, b.totals)
    assert a.grade_probabilities.equals(b.grade_probabilities)
    assert not np.array_equal(a.totals, c.totals)
    assert a.totals.std() > 0


def test_result_does_not_depend_on_batch_progress_or_threads():
    policy = calib.load_policy(DATASETS / "safety" / "policy.yaml")
    result = calib.run(policy, DATASETS / "safety")
    a = simulate(policy, result, n=150, seed=3, batch=7, progress=False, workers=1)
    b = simulate(policy, result, n=150, seed=3, batch=500, progress=True, workers=3)
    assert np.array_equal(a.totals, b.totals)
    assert a.grade_probabilities.equals(b.grade_probabilities)


@pytest.mark.parametrize("change", [None, yearly], ids=["monthly", "yearly"])
def test_noise_free_mean_equals_the_deterministic_run_to_the_cent(change):
    policy = GOLDEN if change is None else variant(change)
    data = roster(constant=True)
    result = calib.run(policy, data)
    sim = simulate(policy, result, n=40, seed=1, **NOISE_FREE)
    expected = round(float(result.payouts["payout"].sum()), 2)
    assert round(sim.mean, 2) == expected
    assert np.all(np.round(sim.totals, 2) == expected)  # every scenario is the history itself
    assert sim.history_total == expected
    # and every person's grade is the deterministic one, with probability 1
    grades = result.grades.dropna(subset=["grade"]).groupby("id", observed=True)["grade"].first()
    top = sim.grade_probabilities.idxmax(axis=1)
    assert (sim.grade_probabilities.max(axis=1) == 1).all()
    assert top.to_dict() == grades.astype(str).to_dict()


def gas_constant() -> dict[str, pd.DataFrame]:
    """gas_cs with every person's last rated month repeated for the 12 months of 2024."""
    people = pd.read_csv(DATASETS / "gas_cs" / "people.csv", dtype=str)
    records = pd.read_csv(DATASETS / "gas_cs" / "records.csv", dtype=str)
    ratings = pd.read_csv(DATASETS / "gas_cs" / "ratings.csv", dtype=str)
    ok = (records["probation"] == "False") & (records["absent"] == "False")
    last = records[ok].groupby("employee_id").tail(1)
    periods = [f"2024-{m:02d}" for m in range(1, 13)]
    rec = pd.concat([last.assign(period=p, days_present="31") for p in periods])
    keys = last[["employee_id", "period"]]
    rat = ratings.merge(keys, on=["employee_id", "period"])
    rat = pd.concat([rat.assign(period=p) for p in periods])
    people = people[people["employee_id"].isin(last["employee_id"])]
    return {"people": people, "records": rec, "ratings": rat}


def test_noise_free_cascade_scheme_reproduces_the_deterministic_total():
    policy = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")
    result = calib.run(policy, gas_constant())
    sim = simulate(policy, result, n=20, seed=2, **NOISE_FREE)
    assert round(sim.mean, 2) == round(float(result.payouts["payout"].sum()), 2)


def test_grade_probabilities_sum_to_one_and_p_over_is_monotone():
    policy = calib.load_policy(DATASETS / "ecommerce_cs" / "policy.yaml")
    result = calib.run(policy, DATASETS / "ecommerce_cs")
    sim = simulate(policy, result, n=300, seed=5, progress=False, budget=1_000_000)
    probs = sim.grade_probabilities
    assert list(probs.columns) == policy.grading.scale.names()
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert ((probs >= 0) & (probs <= 1)).all().all()
    assert set(probs.index) <= set(result.scores["id"].astype(str))
    budgets = np.linspace(sim.totals.min() - 1, sim.totals.max() + 1, 50)
    p = [sim.p_over(b) for b in budgets]
    assert p[0] == 1.0 and p[-1] == 0.0
    assert all(x >= y for x, y in itertools.pairwise(p))
    q = sim.quantiles()
    assert list(q.index) == ["P50", "P90", "P95"]
    assert q["P50"] <= q["P90"] <= q["P95"]
    text = sim.summary()
    assert "P95" in text and "Budget 1,000,000.00" in text


GOLDEN_VARIANTS = {
    "golden": None,
    "small_pool": lambda d: d["grading"]["rules"]["staff"]["forced"].update(
        small_groups={"max_size": 8, "rule": "pool"}),
    "small_thresholds": lambda d: d["grading"]["rules"]["staff"]["forced"].update(
        small_groups={"max_size": 8, "rule": "thresholds"}),
    "share_better_webster": lambda d: d["grading"]["rules"]["staff"]["forced"].update(
        ties={"rule": "share_better"}, method="webster"),
    "yearly": yearly,
}


@pytest.mark.parametrize("name", list(GOLDEN_VARIANTS))
def test_vectorised_equals_the_engine_one_scenario_at_a_time(name):
    change = GOLDEN_VARIANTS[name]
    policy = GOLDEN if change is None else variant(change)
    result = calib.run(policy, roster(n=30, teams=3, seed=11))
    kw = {"n": 12, "seed": 4, "progress": False}
    if name == "share_better_webster":
        kw["noise"] = 0  # many exact ties on quota boundaries
    fast = simulate(policy, result, **kw)
    slow = simulate(policy, result, method="loop", **kw)
    assert np.array_equal(fast.totals, slow.totals)
    assert fast.grade_probabilities.equals(slow.grade_probabilities)


@pytest.mark.parametrize("name", ["gas_cs", "ecommerce_cs", "ethics_diligence", "property_cs", "safety"])
def test_vectorised_equals_the_loop_on_example_schemes(name):
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    result = calib.run(policy, DATASETS / name)
    fast = simulate(policy, result, n=6, seed=9, progress=False)
    slow = simulate(policy, result, n=6, seed=9, progress=False, method="loop")
    assert np.array_equal(fast.totals, slow.totals)
    assert fast.grade_probabilities.equals(slow.grade_probabilities)


@pytest.mark.parametrize("name", sorted(p.name for p in DATASETS.iterdir()
                                        if (p / "policy.yaml").exists()))
def test_runs_on_every_example_scheme(name):
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    sim = simulate(policy, DATASETS / name, n=100, seed=0, progress=False)
    assert isinstance(sim, Simulation)
    assert len(sim.totals) == 100 and np.isfinite(sim.totals).all() and sim.totals.min() > 0
    assert sim.history_total is not None and sim.history_total > 0
    # the simulated year costs about what the last year did (same scheme, same people)
    assert 0.7 < sim.mean / sim.history_total < 1.5
    assert sim.notes and "P50" in sim.summary()


def test_pool_total_is_fixed_by_construction():
    policy = calib.load_policy(DATASETS / "ethics_diligence" / "policy.yaml")
    sim = simulate(policy, DATASETS / "ethics_diligence", n=50, seed=0, progress=False)
    assert sim.pool_total == 200_000.0
    assert (sim.totals >= 200_000.0).all()


def test_turnover_and_noise_settings():
    policy = GOLDEN
    result = calib.run(policy, roster(n=60, teams=4, seed=2))
    fixed = simulate(policy, result, n=50, seed=0, progress=False, joiners=False)
    moving = simulate(policy, result, n=50, seed=0, progress=False)
    assert (fixed.joiners == 0).all() and (fixed.leavers == 0).all()
    assert moving.params["leave_rate"] > 0 and moving.params["hire_rate"] > 0
    assert moving.joiners.sum() > 0 and moving.leavers.sum() > 0
    quiet = simulate(policy, result, n=200, seed=0, progress=False, noise=0, group_effects=False,
                     joiners=False)
    loud = simulate(policy, result, n=200, seed=0, progress=False, noise=10, group_effects=False,
                    joiners=False)
    assert quiet.params["noise_sd"] == 0 and loud.params["noise_sd"] == 10
    assert loud.totals.std() > quiet.totals.std()


def test_bad_arguments():
    with pytest.raises(ValueError, match="months"):
        simulate(GOLDEN, roster(n=10, teams=2), n=0, progress=False)
    with pytest.raises(ValueError, match="method"):
        simulate(GOLDEN, roster(n=10, teams=2), n=5, method="fast", progress=False)
    yearly_policy = variant(yearly)
    with pytest.raises(ValueError, match="whole number"):
        simulate(yearly_policy, roster(n=10, teams=2), n=5, months=18, progress=False)


def test_notes_name_each_component_not_drawn_and_why():
    """call_centre: the award by rank, the award on a period's complaints, the capped piece
    rate and the lead's team mean of it are historical means, each named with what the
    simulation does not draw."""
    policy = calib.load_policy(DATASETS / "call_centre" / "policy.yaml")
    notes = simulate(policy, DATASETS / "call_centre", n=5, seed=0, progress=False).notes
    means = {n.split(":")[0]: n for n in notes if "historical mean amount" in n}
    assert set(means) == {"outstanding", "no_complaints", "piece_rate", "lead_pay"}
    assert "ranks (R26)" in means["outstanding"]
    assert "other people's rows" in means["lead_pay"]
    assert "complaints of each period" in means["no_complaints"]
    assert any("ranks (R26) not simulated" in n for n in notes)


def with_streak_amount(when: dict, periods: int = 2, amount: float = 200.0,
                       policy: calib.Policy = GOLDEN) -> calib.Policy:
    """The policy with its one streak set to ``when`` over ``periods`` and paying ``amount``."""
    def change(d):
        d["grading"]["streaks"]["exit_review"].update(when=when, periods=periods, amount=amount)
    return variant(change, policy)


def test_streak_amounts_are_simulated_by_the_engines_streaks():
    """Two staff score 30 every month: with no noise, each completes one two-month streak below
    35 a simulated year, so every scenario pays exactly 2 × 200.00 more than without the amount
    (the same draws); the amount is no longer a historical mean."""
    data = roster(n=16, teams=2, seed=3, constant=True)
    low = data["records"]["employee_id"].isin(["P005", "P009"])
    data["records"].loc[low, "points"] = 30.0
    kw = {"n": 30, "seed": 2, "progress": False, "noise": 0, "group_effects": False,
          "joiners": False}
    paid = with_streak_amount({"score_below": 35})
    free = with_streak_amount({"score_below": 35}, amount=None)
    a = simulate(paid, calib.run(paid, data), **kw)
    b = simulate(free, calib.run(free, data), **kw)
    assert np.array_equal(np.round((a.totals - b.totals) * 100), np.full(30, 2 * 200 * 100))
    assert not any(n.startswith("streaks:") for n in a.notes)
    slow = simulate(paid, calib.run(paid, data), method="loop", **kw)
    assert np.array_equal(a.totals, slow.totals)


@pytest.mark.parametrize("when", [{"grade_in": ["C-"]}, {"score_at_least": 90}])
def test_streaks_on_grades_or_scores_equal_the_loop(when):
    """Streaks on a grade (per-element grades needed, forced distribution) or on a score, with
    people joining, leaving and missing months: the vectorised totals equal the loop's."""
    policy = with_streak_amount(when, periods=2, amount=150.0)
    result = calib.run(policy, roster(n=30, teams=3, seed=12))
    fast = simulate(policy, result, n=8, seed=6, progress=False)
    slow = simulate(policy, result, n=8, seed=6, progress=False, method="loop")
    assert np.array_equal(fast.totals, slow.totals)


def with_merit(policy: calib.Policy = GOLDEN) -> calib.Policy:
    """The policy with a merit matrix (R35) on a people column ``salary``."""
    def change(d):
        d["inputs"]["people"]["columns"]["salary"] = {"type": "float"}
        d["pay"]["merit"] = {"pay": "salary", "midpoint": {"amount": 6000}, "bands": [0.9, 1.1],
                             "rows": [{"grade": g, "raises": [0.06 - i / 100, 0.04 - i / 100,
                                                               0.025 - i / 200]}
                                      for i, g in enumerate(GOLDEN.grading.scale.names())]}
    return variant(change, policy)


def test_merit_raises_are_priced_by_the_engines_merit_rule():
    """Every month of the history the same (constant scores, nobody joins or leaves, no noise):
    each simulated month has the last month's grades, so each scenario's merit raises are 12 ×
    the engine's raises of the last month, to the cent; they are not in the payout totals."""
    policy = with_merit()
    data = roster(n=16, teams=2, seed=3, constant=True)
    data["people"]["salary"] = np.linspace(4_000, 8_000, 16).round(2)
    result = calib.run(policy, data)
    kw = {"n": 10, "seed": 1, "progress": False, "noise": 0, "group_effects": False,
          "joiners": False}
    sim = simulate(policy, result, **kw)
    month = result.merit[result.merit["period"] == MONTHS[-1]]["raise"].sum()
    assert month > 0
    assert np.array_equal(np.round(sim.merit_totals * 100), np.full(10, round(12 * month * 100)))
    plain = simulate(GOLDEN, calib.run(GOLDEN, roster(n=16, teams=2, seed=3, constant=True)), **kw)
    assert np.array_equal(sim.totals, plain.totals) and plain.merit_totals is None
    assert "Merit raises (R35)" in sim.summary()


def test_merit_raises_vectorised_equal_the_loop():
    """With people joining, leaving and missing months: the loop's merit raises."""
    policy = with_merit()
    data = roster(n=30, teams=3, seed=12)
    data["people"]["salary"] = np.linspace(4_500, 7_500, 30).round(2)
    result = calib.run(policy, data)
    fast = simulate(policy, result, n=8, seed=6, progress=False)
    slow = simulate(policy, result, n=8, seed=6, progress=False, method="loop")
    assert np.array_equal(fast.merit_totals, slow.merit_totals) and fast.merit_totals.sum() > 0


def with_rank_award(top: int = 1, amount: float = 300.0, policy: calib.Policy = GOLDEN,
                    demote: str | None = None) -> calib.Policy:
    """The policy ranking people by team (R26) and paying ``amount`` to the ``top`` of each."""
    def change(d):
        d["grading"]["ranking"] = {"by": ["team"], **({"demote": demote} if demote else {})}
        d["pay"]["components"]["star"] = {"kind": "award", "amount": amount, "top": top}
    return variant(change, policy)


def test_awards_by_rank_are_paid_on_the_simulated_ranks():
    """Two teams, everyone rated every month: the top of each team gets 300.00 each month, so
    every scenario pays 2 × 12 × 300.00 more than the same policy without the award."""
    data = roster(n=16, teams=2, seed=3, constant=True)
    kw = {"n": 12, "seed": 2, "progress": False, "noise": 0, "group_effects": False,
          "joiners": False}
    ranked = with_rank_award()
    a = simulate(ranked, calib.run(ranked, data), **kw)
    b = simulate(GOLDEN, calib.run(GOLDEN, data), **kw)
    assert np.array_equal(np.round((a.totals - b.totals) * 100), np.full(12, 2 * 12 * 300 * 100))
    assert not any(n.startswith("star:") for n in a.notes)


@pytest.mark.parametrize("top", [1, 3])
def test_awards_by_rank_vectorised_equal_the_loop(top):
    """With noise, joiners, leavers and months missed: the engine's ranks one period at a time
    give the same awards."""
    policy = with_rank_award(top=top, amount=250.0)
    result = calib.run(policy, roster(n=30, teams=3, seed=13))
    fast = simulate(policy, result, n=8, seed=7, progress=False)
    slow = simulate(policy, result, n=8, seed=7, progress=False, method="loop")
    assert np.array_equal(fast.totals, slow.totals)


def test_awards_by_rank_with_demotions_by_period_stay_a_historical_mean():
    """Demotions counted from a period's column are not drawn: the award is each person's
    historical mean, and the notes say why."""
    policy = with_rank_award(demote="points")
    sim = simulate(policy, calib.run(policy, roster(n=16, teams=2, seed=3)), n=4, seed=1,
                   progress=False)
    assert any(n.startswith("star:") and "ranks (R26)" in n for n in sim.notes)


@pytest.mark.parametrize("rank", ["first", "last"])
def test_streaks_on_ranks_equal_the_loop(rank):
    """Streaks of being first (or last) in the team two months running, on the simulated
    ranks: the vectorised totals equal the loop's, and they are simulated, not a mean."""
    policy = with_streak_amount({"rank": rank}, periods=2, amount=120.0,
                                policy=with_rank_award(top=1, amount=0.0))
    result = calib.run(policy, roster(n=30, teams=3, seed=14))
    fast = simulate(policy, result, n=8, seed=8, progress=False)
    slow = simulate(policy, result, n=8, seed=8, progress=False, method="loop")
    assert np.array_equal(fast.totals, slow.totals)
    assert not any(n.startswith("streaks:") for n in fast.notes)
