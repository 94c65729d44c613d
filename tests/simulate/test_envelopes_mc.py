"""The Monte Carlo's totals per group and the chance of overspending each envelope (issue 21,
item 8): the groups of a scenario add up to its total exactly, the vectorised path equals the
reference loop (the engine one scenario-period at a time) group by group, and the envelope table
reads them against the budgets.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import calib
from calib.errors import SimulationError
from calib.simulate.monte_carlo import simulate

HERE = Path(__file__).resolve().parent
DATASETS = HERE.parents[1] / "datasets"
_spec = importlib.util.spec_from_file_location("_simulate_helpers", HERE / "test_simulate.py")
assert _spec is not None and _spec.loader is not None
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)  # roster, variant and the policy variants of test_simulate


def per_team(change=None):
    """The golden policy's pool shared per team (each team the whole amount), then ``change``."""
    def both(d):
        d["pay"]["pool"].update(by="team", split="each")
        if change is not None:
            change(d)
    return both


def cents(x: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(x) * 100).astype(np.int64)


def check(fast, slow) -> None:
    """Groups add up to the totals to the cent, and the two paths agree group by group."""
    assert fast.group_totals is not None and fast.group_totals.shape == (fast.n, len(fast.group_names))
    assert np.array_equal(cents(fast.group_totals).sum(axis=1), cents(fast.totals))
    assert fast.group_names == slow.group_names
    assert np.array_equal(fast.totals, slow.totals)
    assert np.array_equal(fast.group_totals, slow.group_totals)


VARIANTS = {
    "golden": per_team(),
    "small_pool": per_team(helpers.GOLDEN_VARIANTS["small_pool"]),
    "share_better_webster": per_team(helpers.GOLDEN_VARIANTS["share_better_webster"]),
    "yearly": per_team(helpers.yearly),
    "clipped": per_team(lambda d: d["pay"].update(min=500, max=2400)),
    "no_pool": lambda d: d["pay"].pop("pool"),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_group_totals_vectorised_equal_the_loop(name):
    policy = helpers.variant(VARIANTS[name])
    result = calib.run(policy, helpers.roster(n=30, teams=3, seed=11))
    kw = {"n": 12, "seed": 4, "progress": False, "totals_by": "team"}
    if name == "share_better_webster":
        kw["noise"] = 0
    check(simulate(policy, result, **kw), simulate(policy, result, method="loop", **kw))


@pytest.mark.parametrize("extra", ["streak_on_grade", "rank_award", "merit"])
def test_group_totals_with_streaks_ranks_and_merit_equal_the_loop(extra):
    """Streak amounts and awards by rank are corrections per element: they land in the group of
    their slot; merit raises are not pay and stay out of the groups, as out of the totals."""
    base = helpers.variant(per_team())
    policy = {"streak_on_grade": lambda: helpers.with_streak_amount(
                  {"grade_in": ["C-"]}, periods=2, amount=150.0, policy=base),
              "rank_award": lambda: helpers.with_rank_award(top=1, amount=250.0, policy=base),
              "merit": lambda: helpers.with_merit(base)}[extra]()
    data = helpers.roster(n=30, teams=3, seed=12)
    if extra == "merit":
        data["people"]["salary"] = 6000.0
    result = calib.run(policy, data)
    kw = {"n": 8, "seed": 6, "progress": False, "totals_by": "team"}
    check(simulate(policy, result, **kw), simulate(policy, result, method="loop", **kw))


@pytest.mark.parametrize(("name", "by"), [("gas_cs", None), ("safety", "unit"),
                                          ("property_cs", "department")])
def test_group_totals_on_example_schemes(name, by):
    """gas_cs totals per branch by default (its budgets' by); the others per a column given."""
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    result = calib.run(policy, DATASETS / name)
    kw = {"n": 6, "seed": 9, "progress": False, "totals_by": by}
    fast = simulate(policy, result, **kw)
    check(fast, simulate(policy, result, method="loop", **kw))
    assert fast.totals_by == (by or "branch")


def test_a_pool_shared_across_the_groups_is_refused():
    result = calib.run(helpers.GOLDEN, helpers.roster(n=30, teams=3, seed=11))
    with pytest.raises(SimulationError, match="shared as one across groups of team"):
        simulate(helpers.GOLDEN, result, n=2, seed=1, progress=False, totals_by="team")
    with pytest.raises(SimulationError, match="not a column"):
        simulate(helpers.GOLDEN, result, n=2, seed=1, progress=False, totals_by="branch")


def test_the_chance_of_overspending_each_envelope():
    policy = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")
    result = calib.run(policy, DATASETS / "gas_cs")
    sim = simulate(policy, result, n=200, seed=1, progress=False)
    table = sim.envelopes()
    amounts = policy.budgets.amounts
    assert table.columns.tolist() == ["P50", "P90", "P95", "mean", "budget", "p_over", "note"]
    assert set(table.index) == set(amounts) and table.attrs["per"] == "year"
    for branch, row in table.iterrows():
        values = sim.group_totals[:, sim.group_names.index(branch)]
        assert row["budget"] == amounts[branch]  # 12 months: a year's amount
        assert row["p_over"] == np.mean(values > amounts[branch])
        assert row["P50"] <= row["P90"] <= row["P95"]
    # in Python, per period, with a group nobody is in: half a year of monthly amounts
    half = simulate(policy, result, n=50, seed=1, months=6, progress=False)
    other = half.envelopes({"城东分公司": 30_000, "高新区分公司": 1}, per="period")
    assert other.loc["城东分公司", "budget"] == 180_000
    assert other.loc["高新区分公司", "note"] == "nobody in this group"
    assert other.loc["高新区分公司", "p_over"] == 0.0
    assert np.isnan(other.loc["城西分公司", "p_over"]) and other.loc["城西分公司", "note"] == "no budget"


def test_without_totals_per_group_the_envelopes_say_how():
    policy = calib.load_policy(DATASETS / "safety" / "policy.yaml")
    sim = simulate(policy, calib.run(policy, DATASETS / "safety"), n=2, seed=1, progress=False)
    assert sim.group_totals is None
    with pytest.raises(SimulationError, match="totals_by"):
        sim.envelopes({"x": 1})
