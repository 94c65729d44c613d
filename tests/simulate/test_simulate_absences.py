"""Monte Carlo absences and part months (calib.simulate): each person misses months at their
historical rate, a rated month carries the proration share of the historical month its score came
from, roll-ups follow from their months, a history without absences draws as before, and the
result depends on the seed alone.

The bounds on simulated rates are five standard deviations of the binomial share plus the 16-bit
rounding of the rate (1/65,536): each person-month is an independent draw, so a simulated share
over S months has sd √(p(1 − p)/S); with some forty people a five-sigma miss has a probability
near 10⁻⁵ (and the draws are seeded: a test either always passes or always fails).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

import calib
import calib.simulate.model
from calib.policy.load import validate_policy
from calib.simulate.draw import _draw, _Workspace
from calib.simulate.model import _fit
from calib.simulate.monte_carlo import simulate

DATA = Path(__file__).resolve().parents[1] / "fixtures"
DATASETS = Path(__file__).resolve().parents[2] / "datasets"
GOLDEN = calib.load_policy(DATA / "grade_pay.yaml")
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
SIGMAS = 5.0
ROUNDING = 1 / 65_536


def policy(proration: bool = True, on: str = "period", max_not_rated: int | None = 2
           ) -> calib.Policy:
    """The golden scheme with an absence flag (a month absent is not rated), with or without its
    proration by days present; ``on="year"`` pays on the year roll-up (grading stays monthly).
    """
    data = copy.deepcopy(GOLDEN.to_dict())
    data["inputs"]["records"]["columns"]["absent"] = {"type": "bool"}
    data["eligibility"]["not_rated"].append(
        {"when": {"column": "absent", "eq": True}, "reason": "absence"})
    if not proration:
        data["eligibility"].pop("proration")
    if on == "year":
        data["rollups"] = {"year": {"to": "year", "max_not_rated": max_not_rated}}
        data["pay"]["on"] = "year"
    return validate_policy(data)


def history(n: int = 40, teams: int = 4, seed: int = 0, absent: bool = True, part: bool = True
            ) -> dict[str, pd.DataFrame]:
    """``n`` people in ``teams`` teams (one lead each) over the 12 months of 2025, built like
    ``test_simulate.roster``: points vary month to month, about a fifth join (their first month
    is probation) and a fifth leave during the year. With ``absent`` a third of the staff never
    miss a month and the others miss each month with their own probability (5–40 %); with
    ``part`` about a quarter of the months have 5 to 30 days present (else 31: whole months).
    """
    rng = np.random.default_rng(seed)
    ids = [f"P{i:03d}" for i in range(n)]
    team = [f"t{i % teams}" for i in range(n)]
    position = ["lead" if i < teams else "staff" for i in range(n)]
    people = pd.DataFrame({"employee_id": ids, "team": team, "position": position})
    level = rng.integers(120, 200, n) / 2
    miss = np.where(rng.random(n) < 1 / 3, 0.0, rng.uniform(0.05, 0.4, n)) if absent else np.zeros(n)
    rows = []
    for i, pid in enumerate(ids):
        first = int(rng.integers(1, 4)) if i >= teams and rng.random() < 0.2 else 0
        last = int(rng.integers(8, 12)) if i >= teams and rng.random() < 0.2 else 11
        for mth in range(first, last + 1):
            days = int(rng.integers(5, 31)) if part and rng.random() < 0.25 else 31
            rows.append({"employee_id": pid, "period": MONTHS[mth],
                         "points": round(float(np.clip(level[i] + rng.normal(0, 4), 40, 100)), 1),
                         "days_present": days, "probation": mth == first > 0,
                         "absent": bool(rng.random() < miss[i]) and not mth == first > 0,
                         "leak": bool(rng.random() < 0.01)})
    return {"people": people, "records": pd.DataFrame(rows)}


def historical_rates(result: calib.Result) -> pd.Series:
    """Each current person's months not rated / months present, computed from the scores table:
    a joiner's months before their first rated month left out; the population's where none is
    left.
    """
    s = result.scores[["id", "period", "status"]].astype(str)
    s["rated"] = s["status"] == "rated"
    s["month"] = s["period"].map({p: i for i, p in enumerate(MONTHS)})
    first = s.groupby("id")["month"].transform("min")
    first_rated = s["month"].where(s["rated"]).groupby(s["id"]).transform("min").fillna(99)
    present = s[~((first > 0) & (s["month"] < first_rated))]
    population = 1 - present["rated"].mean()
    rate = 1 - present.groupby("id")["rated"].mean()
    current = s.loc[s["month"] == s["month"].max(), "id"]
    return rate.reindex(current).fillna(population)


def draws(m, c: int, blocks: int, seed: int = 0):
    """``blocks`` draws of ``c`` scenarios from the model ``m``, one random stream each."""
    for ss in np.random.SeedSequence(seed).spawn(blocks):
        yield _draw(m, np.random.default_rng(ss), c, _Workspace())


def fit(pol: calib.Policy, result: calib.Result, **kw):
    """The fitted model with a fixed headcount (no leavers, no joiners), seed 0."""
    args = {"noise": None, "group_effects": True, "joiners": False, "group_by": None} | kw
    return _fit(pol, result, 12, args["noise"], args["group_effects"], args["joiners"],
                args["group_by"], np.random.default_rng(0))


class TestAbsences:
    def test_each_person_misses_months_at_their_historical_rate(self):
        """Over 24,000 simulated months each, every person's share of months not rated is their
        history's (within five binomial sd and the 16-bit rounding)."""
        pol = policy()
        result = calib.run(pol, history())
        m = fit(pol, result)
        expected = historical_rates(result)
        assert list(m.ids) == list(expected.index)
        assert np.allclose(m.params["not_rated_rates"].to_numpy(), expected.to_numpy())
        missed = np.zeros(m.n_slots)
        months = 0
        for d in draws(m, 40, 50):
            missed += (~d.rated["period"]).sum(axis=0)
            months += len(d.rated["period"])
        share = missed / months
        p = expected.to_numpy()
        bound = SIGMAS * np.sqrt(p * (1 - p) / months) + ROUNDING
        assert (np.abs(share - p) <= bound).all(), np.abs(share - p) / bound
        assert (share[p == 0] == 0).all()  # never absent: never drawn absent
        assert 0.05 < p.max() and (p == 0).sum() > 5  # the history has both kinds

    def test_joiners_miss_months_at_the_population_rate(self):
        """A joiner slot, once past probation and while present, is not rated at the population's
        rate (the months outside its window aside)."""
        pol = policy()
        result = calib.run(pol, history(n=60, seed=3))
        m = fit(pol, result, joiners=True)
        assert m.n_slots > m.n_current
        rate = m.params["not_rated_rate"]
        assert np.allclose(m.params["not_rated_rates"].to_numpy()[:3],
                           historical_rates(result).to_numpy()[:3])
        assert (m.cut[m.n_current:] == round(rate * 65_536)).all()
        assert 0.05 < rate < 0.3

    def test_a_year_is_rated_as_its_months_say(self):
        """Paid on the year with ``max_not_rated: 2`` and graded monthly: the year's score is the
        mean of its rated months (to the engine's 9 decimals), and it is rated when at most 2 of
        its 12 months are not."""
        pol = policy(on="year")
        result = calib.run(pol, history(seed=1))
        m = fit(pol, result)
        missed_years = 0
        for d in draws(m, 20, 3):
            missed_years += int((~d.rated["year"]).sum())
            months = d.scores["period"].reshape(20, 12, -1)
            rated = d.rated["period"].reshape(20, 12, -1)
            count = rated.sum(axis=1)
            with np.errstate(invalid="ignore"):
                mean = np.round(np.where(rated, months, 0).sum(axis=1) / count, 9)
            assert np.array_equal(d.rated["year"], (count > 0) & (12 - count <= 2))
            ok = d.rated["year"]
            assert np.allclose(d.scores["year"][ok], mean[ok], rtol=0, atol=2e-9)
        assert missed_years > 0

    @pytest.mark.parametrize("max_not_rated", [0, 2])
    def test_a_year_alone_is_rated_with_the_binomial_probability(self, max_not_rated):
        """Graded and paid on the year only (its mean drawn without the months): each person's
        year is rated with probability P(Binomial(12, p) ≤ max_not_rated), p their rate."""
        data = copy.deepcopy(policy(on="year", max_not_rated=max_not_rated).to_dict())
        data["grading"]["on"] = "year"
        data["grading"].pop("streaks")
        pol = validate_policy(data)
        result = calib.run(pol, history(seed=2))
        m = fit(pol, result)
        assert "period" not in m.pops
        rated = np.zeros(m.n_slots)
        n = 0
        for d in draws(m, 64, 40):
            rated += d.rated["year"].sum(axis=0)
            n += len(d.rated["year"])
        p = m.cut / 65_536
        q = binom.cdf(max_not_rated, 12, p)
        bound = SIGMAS * np.sqrt(q * (1 - q) / n) + 1e-12
        assert (np.abs(rated / n - q) <= bound).all()
        assert q.min() < 0.7  # someone is often not rated


class TestPartMonths:
    def test_each_rated_month_carries_a_share_of_the_same_historical_month(self):
        """Without noise and group effects a rated month is exactly one historical rated month:
        its (score, share) pair is one of the person's historical pairs, and each person's mean
        share is their history's (within five sd of the historical shares)."""
        pol = policy()
        result = calib.run(pol, history())
        m = fit(pol, result, noise=0, group_effects=False)
        s = result.scores.assign(id=result.scores["id"].astype(str))
        s = s[s["status"] == "rated"]
        pairs = {pid: set(zip(g["score"], g["proration"], strict=True))
                 for pid, g in s.groupby("id")}
        shares = s.groupby("id")["proration"].agg(["mean", "std", "count"])
        total = np.zeros(m.n_slots)
        counted = np.zeros(m.n_slots)
        for d in draws(m, 40, 20):
            share, score, rated = d.share["period"], d.scores["period"], d.rated["period"]
            assert share.shape == score.shape and share.dtype == np.float64
            for j, pid in enumerate(m.ids):
                drawn = set(zip(score[rated[:, j], j], np.round(share[rated[:, j], j], 9),
                                strict=True))
                assert drawn <= pairs[pid], pid
            total += np.where(rated, share, 0).sum(axis=0)
            counted += rated.sum(axis=0)
        mean = total / counted
        h = shares.reindex(m.ids)
        bound = SIGMAS * h["std"].fillna(0).to_numpy() / np.sqrt(counted) + 1e-12
        assert (np.abs(mean - h["mean"].to_numpy()) <= bound).all()
        assert (h["mean"] < 1).sum() > 10  # part months in the history
        assert ((mean > 0) & (mean <= 1)).all()

    def test_no_share_without_proration_or_on_a_roll_up(self):
        """``share`` is None when the policy has no proration, and for a roll-up population."""
        result = calib.run(policy(), history())
        m = fit(policy(proration=False), result)
        d = next(draws(m, 4, 1))
        assert d.share == {"period": None}
        pol = policy(on="year")
        d = next(draws(fit(pol, calib.run(pol, history())), 4, 1))
        assert d.share["year"] is None and d.share["period"] is not None


BEFORE = {
    "monthly": (61407070.29, [936823.4, 1054448.01, 1067550.3]),
    "yearly": (2617595.95, [39592.86, 45860.24, 42159.81]),
    "monthly, whole months prorated": (61407070.29, [936823.4, 1054448.01, 1067550.3]),
}
"""Totals (the sum over 60 scenarios, seed 3, and the first three) the simulation gave before it
drew absences and shares (commit 30c4ed3), on ``history(n=50, teams=5, seed=4)`` without
absences or part months."""


class TestReproducible:
    @pytest.mark.parametrize("case", list(BEFORE))
    def test_a_history_without_absences_draws_as_before(self, case):
        """No month missed and no part month: the same seed gives the totals the simulation gave
        before it drew absences and shares, to the cent."""
        pol = policy(proration=case.endswith("prorated"), on="year" if case == "yearly" else "period")
        result = calib.run(pol, history(n=50, teams=5, seed=4, absent=False, part=False))
        sim = simulate(pol, result, n=60, seed=3, progress=False)
        assert sim.params["not_rated_rate"] == 0
        total, first = BEFORE[case]
        assert round(float(sim.totals.sum()), 2) == total
        assert np.round(sim.totals[:3], 2).tolist() == first

    @pytest.mark.parametrize("on", ["period", "year"])
    def test_result_does_not_depend_on_batch_or_workers(self, on):
        """With absences and part months, batch and threads do not change the result."""
        pol = policy(on=on)
        result = calib.run(pol, history(n=60, seed=5))
        a = simulate(pol, result, n=90, seed=3, batch=7, progress=False, workers=1)
        b = simulate(pol, result, n=90, seed=3, batch=500, progress=False, workers=3)
        assert a.totals.tobytes() == b.totals.tobytes()
        assert a.grade_probabilities.equals(b.grade_probabilities)

    @pytest.mark.parametrize("on", ["period", "year"])
    def test_vectorised_equals_the_engine_one_scenario_at_a_time(self, on):
        """The vectorised grading and pay of months missed equal the reference loop's."""
        pol = policy(on=on)
        result = calib.run(pol, history(n=30, teams=3, seed=6))
        fast = simulate(pol, result, n=8, seed=4, progress=False)
        slow = simulate(pol, result, n=8, seed=4, progress=False, method="loop")
        assert np.array_equal(fast.totals, slow.totals)
        assert fast.grade_probabilities.equals(slow.grade_probabilities)


def test_simulated_year_moves_toward_the_last_real_year(monkeypatch):
    """call_centre (absences, part months by days present): drawing the months missed brings the
    mean total from above the last real year toward it. 300 scenarios, seed 0: 1,107,512.08
    with everyone rated every month (the model before), 1,073,590.52 with absences, against
    1,078,344.24 paid in the last 12 months (2.7 % above → 0.4 % below; population rate
    2.60 %; leads paid from their team and probation months rated since issue 21)."""
    pol = calib.load_policy(DATASETS / "call_centre" / "policy.yaml")
    result = calib.run(pol, DATASETS / "call_centre")
    after = simulate(pol, result, n=300, seed=0, progress=False)
    monkeypatch.setattr(calib.simulate.model, "_cuts", lambda *a: (None, None, None))
    before = simulate(pol, result, n=300, seed=0, progress=False)  # everyone rated every month
    history_total = after.history_total
    assert before.mean > after.mean > 0.9 * history_total
    assert abs(after.mean - history_total) < 0.6 * abs(before.mean - history_total)
    assert 0.01 < after.params["not_rated_rate"] < 0.2


class TestPartMonthsArePaidProRata:
    """A rated month's share prorates the components with ``prorate: true`` exactly as the
    engine does (``component_units`` on the part months), with and without a clip.
    """

    @staticmethod
    def clipped(pol: calib.Policy, at: float) -> calib.Policy:
        data = copy.deepcopy(pol.to_dict())
        data["pay"]["max"] = at
        return validate_policy(data)

    def test_part_months_pay_less_than_whole_months_on_the_same_draws(self):
        """Proration draws nothing: with and without it the scenarios are the same months, and
        every scenario pays less with its part months prorated (the pool is unchanged)."""
        data = history(n=40, seed=8, absent=False)
        pro, whole = policy(proration=True), policy(proration=False)
        a = simulate(pro, calib.run(pro, data), n=40, seed=2, progress=False, noise=0)
        b = simulate(whole, calib.run(whole, data), n=40, seed=2, progress=False, noise=0)
        assert a.grade_probabilities.equals(b.grade_probabilities)
        assert (a.totals < b.totals).all()
        mean_share = 1 - (a.totals.mean() - 10_000 * 12) / (b.totals.mean() - 10_000 * 12)
        assert 0.01 < mean_share < 0.3  # a quarter of the months are 5–30 days of 31

    @pytest.mark.parametrize("at", [None, 1_400.0, 900.0])
    def test_vectorised_equals_the_loop_with_part_months(self, at):
        """Part months on components of the score and of the grade, summed then clipped to the
        pay's maximum (a clip that bites on some months, or on most): the loop's units."""
        pol = policy() if at is None else self.clipped(policy(), at)
        result = calib.run(pol, history(n=30, teams=3, seed=9, absent=False))
        fast = simulate(pol, result, n=10, seed=5, progress=False)
        slow = simulate(pol, result, n=10, seed=5, progress=False, method="loop")
        assert np.array_equal(fast.totals, slow.totals)
