"""Monte Carlo of next year's payouts: how much the scheme may cost, and who may get which grade.

``simulate(policy, data_or_result)`` runs the policy deterministically once (or takes a ``Result``),
learns from its *rated period scores* how each person's score moves, and draws ``n`` scenarios of
the next ``months`` periods. Each scenario is graded and paid by the policy's own rules, vectorised
across scenarios (arrays of scenarios × people, a few scenarios at a time so the temporaries stay
in the CPU cache).

The model, per scenario:

- **People.** Next year starts with everyone who has a records row in the last period of the
  history ("current" people), with the attributes (group columns, pay bases, scorecard) of that
  last row.
- **Scores.** Each month a person's score is one of their own historical rated period scores,
  drawn with replacement (a bootstrap of their months; each month equally likely, up to a
  relative n/65,536 for a history of n months: the draw uses 16 random bits, the same bits
  that decide whether the month is rated, below), plus a **group effect** and **noise**:

  - group effects (``group_effects=True``): each historical group-period gets its mean deviation
    of the members' scores from their own means (γ), centred within the group; the bootstrap then
    draws from the scores with γ taken out, and every scenario-month adds one γ of the group's own
    history, drawn with replacement and shared by all the group's members (a good or bad month for
    a whole team). Groups are the columns of ``group_by``; by default the first forced rule's
    ``by`` columns, else a cascade's team column, else the pool's ``by`` column, else none (one
    company-wide effect per month);
  - noise (``noise=None``): normal, with the smoothed-bootstrap bandwidth of the residual spread,
    1.06 × σ × n^(−1/5) (σ: the pooled within-person standard deviation of the scores, after group
    effects; n: the median number of months per person), so a simulated score is not always
    exactly a past one; ``noise=`` a number sets the standard deviation in score points, 0 for
    none. A simulated month is clipped to the historical range of rated scores. Each normal
    draw is one of the standard normal's 65,536 quantiles, picked by 16 random bits (scaled to
    variance exactly 1; the tails stop at ±4.32 sd): five times faster than a ziggurat draw,
    and for totals of thousands of people the same distribution.

  With ``noise=0`` and ``group_effects=False`` every month is exactly a past score, so on a
  history where each person's months are identical (and none missed) the simulation reproduces
  the deterministic run to the cent.
- **Absences.** Each month a person is not rated with their historical rate: months not
  rated / months present in the history, a joiner's probation months before their first rated
  month left out (a joiner, and a current person with no month left, have the population's
  rate). One draw of 16 random bits u per person-month decides both: u below the person's cut
  (rate × 65,536, rounded) is a month not rated, any other u picks one of the person's rated
  months, each equally likely. That is the joint bootstrap of the person's months (not rated
  as often as in their history; the score, veto and share of a rated month from one and the
  same historical month) with the months not rated kept out of the pool, where their scores
  would be missing: the score bootstrap stays over the rated months, and a joiner's rate is
  exactly the population's rather than that of a sample of months. Months are independent: a
  long absence in the history raises the person's rate, it is not replayed as a run of
  months. A history with no month missed draws exactly as before (the same bits pick the
  same months).
- **Part months.** When the policy prorates (``eligibility.proration``), each rated month
  carries the share of the historical month its score was drawn from (the engine's proration
  of that row: days present, or hire and leave dates), so a person who often worked part
  months keeps doing so, with the scores those months had; joiners' and people without
  rated history draw it with their sampled scores. A roll-up is not prorated (as in the
  engine).
- **Turnover** (``joiners=True``; ``False`` keeps the headcount fixed: no leavers, no joiners).
  A person leaves after each month with the historical monthly leaving rate (people whose last
  row is before the last period / person-months before it). Joiners arrive as a Poisson process
  at the historical hiring rate per head (people whose first row is after the first period /
  person-months after it) × the current headcount; each copies the attributes of a current person
  drawn at random (a fixed list of joiner slots drawn once from the seed; each scenario activates
  a random subset of them) and draws its scores from 48 scores sampled once from everyone's rated
  scores under its scorecard. A joiner is not rated for the historical median number of months
  that joiners spent not rated before their first rated month (probation), then misses months
  at the population's rate. A leaver's last month and a joiner's first count whole unless
  their bootstrapped month was a part month.
- **Roll-ups.** When the policy grades or pays a roll-up (``on: year`` / ``quarter``), the
  simulated roll-up score is the mean of the rated bootstrapped months in it (rounded to 9
  decimals, as the engine does). Parts of a roll-up read from other tables (weekly checks, a
  year-end evaluation) are held at the person's historical mean of that part, with their
  weights. A roll-up is not rated when none of its months is rated, or when its months on
  record but not rated (absences, a joiner's probation) exceed ``max_not_rated``.

Grading per scenario follows the policy: vetoes (a bootstrapped month that was vetoed keeps its
lowest-grade veto; a roll-up is vetoed when any of its rated months is), thresholds
(``calib.engine.grading.thresholds``), forced distribution within groups (rank per scenario row,
quotas by ``calib.kernels.apportion.apportion``, the small-group rule, the tie rule; equal scores
are ordered by the tie columns' values on the person's last row, then by id) and cascades (R25:
the leader's simulated grade in the same scenario-period picks the team's ratio row; a team
whose leader has left or is not graded is not graded, whatever ``no_leader_grade`` says).

Pay per scenario, by the pay component registry (``calib.engine.components``): a component
that reads only the simulated score, the grade or the person's attributes (``fixed``,
``score_percent``, ``score_bands``, ``grade_coefficient``, ``points_below``, an ``award`` by
``score_above`` or to everyone rated, ``per_unit`` of a people column) is computed from the
simulated score and grade by its kind's batched form, which is the engine's kernel, rounded to
the policy's unit per component as the engine does, prorated on part months by the engine's
``component_units``, summed and clipped to the pay's [min, max]. A component that reads what the
simulation does not draw (events, a period's KPI values, ranks, other people's rows, or a
condition on a period's column) is each person's **historical mean amount per paid period**
(rounded to the unit; a joiner has the mean of the person it copies), named in
``Simulation.notes`` with the reason. Streak amounts (R21) on scores or grades are raised by the
engine's own ``streak_flags`` on the simulated months (a streak begins within the simulated
year); on ranks they are a historical mean. A bonus pool pays out exactly its amount in every
period and pool group with someone rated: its total is fixed by construction (reported as
``Simulation.pool_total``); when the pay is clipped to [min, max] the clip applies to the other
components. Awards by rank (R26) are paid on the simulated ranks (the engine's ``ranks`` over
each scenario-month) when the ranking's demotions and tie columns are the person's; demotions
counted from a period's column are not drawn, and such awards are a historical mean. Merit
raises (R35) of the simulated grades are priced by the engine's merit rule
(``Simulation.merit_totals``, apart from the payout totals).
``Simulation.notes`` lists what applied to the policy at hand.

Reproducibility: the scenarios are drawn in blocks, each with its own random stream spawned from
``seed``, and the blocks run on ``workers`` threads (numpy releases the GIL in its array loops)
or on a cluster (``client``: Dask, or any executor); the result depends only on the seed and the
inputs, not on ``batch``, ``progress``, ``workers`` or ``client``.
``method="loop"`` is the slow reference: the same draws, then each scenario graded by
``calib.engine.grading.grade`` and paid by ``calib.engine.payout.component_amount`` one scenario-period at a
time (used by the tests and the benchmark).

The parts: ``calib.simulate.model`` fits the model, ``calib.simulate.draw`` draws a block of
scenarios, ``calib.simulate.grade`` and ``calib.simulate.pay`` grade and pay its rows,
``calib.simulate.blocks`` puts one block together (vectorised or the reference loop), and
``calib.simulate.run`` runs the blocks on local threads or a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calib.data.read import Dataset
from calib.engine.grading import method_of
from calib.engine.result import Result
from calib.errors import SimulationError
from calib.kernels.money import units_to_float
from calib.policy.budgets import Budgets
from calib.policy.model import Policy
from calib.simulate.blocks import _loop_grading, _Plans
from calib.simulate.grade import _grade_plan
from calib.simulate.groups import _groups
from calib.simulate.model import _ROLLUP_MONTHS, _fit, _Model
from calib.simulate.pay import _pay_plan
from calib.simulate.run import _Job, _run

_BLOCK_ELEMENTS = 400_000
"""Target month values per block: small enough for the temporaries to stay in cache."""

@dataclass
class Simulation:
    """The outcome of ``simulate``: per-scenario totals, grade probabilities and what was assumed.

    - ``totals``: total payout of each scenario over the simulated year (currency, exact to the
      unit);
    - ``grade_probabilities``: one row per current person (id) who is graded in at least one
      scenario, one column per grade: the share of their graded scenario-periods with that grade
      (each row sums to 1);
    - ``pool_total``: mean pool paid per scenario (fixed by construction), or None;
    - ``history_total``: what the deterministic run paid over the last ``months`` periods (the
      last pay periods) of the history, for comparison;
    - ``params``: the fitted model (noise sd, leaving and hiring rates, probation months, the
      population's rate of months not rated and each current person's, …);
    - ``notes``: what is and is not simulated for this policy.

    The other fields record how it was run: ``policy``, ``n`` (scenarios), ``seed``, ``months``,
    ``people`` (current people), ``unit`` (the pay unit), ``budget``, and per scenario
    ``headcount`` (people paid at least once), ``joiners`` and ``leavers``; ``merit_totals``
    the merit raises (R35) per scenario, when the policy has a merit matrix.
    """

    policy: Policy
    n: int
    seed: int
    months: int
    people: int
    unit: float
    totals: np.ndarray
    grade_probabilities: pd.DataFrame
    pool_total: float | None = None
    history_total: float | None = None
    budget: float | None = None
    headcount: np.ndarray | None = None
    joiners: np.ndarray | None = None
    leavers: np.ndarray | None = None
    merit_totals: np.ndarray | None = None
    """Per scenario, the merit raises (R35) the simulated grades give (currency; not in
    ``totals``: next year's raises, not this year's pay), or None without a merit matrix."""
    totals_by: str | None = None
    """The column the totals are also given per group of (``simulate(totals_by=...)``)."""
    group_names: list[str] = field(default_factory=list)
    """The groups of ``totals_by`` among the simulated people, in the columns' order."""
    group_totals: np.ndarray | None = None
    """(scenarios, groups): each scenario's total payout per group of ``totals_by`` (currency,
    exact to the unit; each row adds up to ``totals``), or None."""
    params: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def mean(self) -> float:
        """Mean total payout over the scenarios."""
        return float(np.mean(self.totals)) if len(self.totals) else float("nan")

    def quantiles(self, q: tuple[float, ...] = (0.5, 0.9, 0.95)) -> pd.Series:
        """Quantiles of the total payout (P50, P90, P95 by default), linear interpolation.

        Parameters
        ----------
        q : tuple of float, optional
            The quantiles wanted, between 0 and 1 (default ``(0.5, 0.9, 0.95)``).

        Returns
        -------
        Series
            The totals at those quantiles, indexed ``P50``, ``P90``, … and named
            ``total payout`` (NaN when there are no scenarios).

        Examples
        --------
        >>> sim.quantiles().index.tolist()
        ['P50', 'P90', 'P95']
        >>> sim.quantiles((0.05, 0.5)).index.tolist()
        ['P5', 'P50']
        """
        values = np.quantile(self.totals, q) if len(self.totals) else np.full(len(q), np.nan)
        return pd.Series(values, index=[f"P{100 * x:g}" for x in q], name="total payout")

    def p_over(self, budget: float) -> float:
        """Probability that the total payout exceeds ``budget`` (share of scenarios strictly above).

        Parameters
        ----------
        budget : float
            The budget, in the policy's currency.

        Returns
        -------
        float
            The share of scenarios whose total is above ``budget``, between 0 and 1 (NaN when
            there are no scenarios).

        Examples
        --------
        >>> 0.0 <= sim.p_over(1_800_000) <= 1.0
        True
        """
        return float(np.mean(self.totals > budget)) if len(self.totals) else float("nan")

    def envelopes(self, budgets: Budgets | Mapping[str, float] | None = None,
                  per: str | None = None, q: tuple[float, ...] = (0.5, 0.9, 0.95)
                  ) -> pd.DataFrame:
        """The chance of overspending each envelope: per group of ``totals_by``, the quantiles
        of the group's simulated total, its mean, its budget for the simulated span and the
        share of scenarios strictly above it.

        Parameters
        ----------
        budgets : Budgets or mapping, optional
            Each group's budget (group → amount), or a ``Budgets``; default: the policy's
            ``budgets`` (whose ``by`` must be ``totals_by``).
        per : str, optional
            What one amount covers, ``"year"`` or ``"period"`` (default: the ``Budgets``'
            ``per``, else ``"year"``). The budget read against a scenario is the amount × the
            years (or pay periods) the ``months`` simulated span.
        q : tuple of float, optional
            The quantiles (default P50, P90, P95).

        Returns
        -------
        DataFrame
            Indexed by group (the simulated groups, then budgets naming a group nobody is in):
            ``P50``, ``P90``, ``P95``, ``mean``, ``budget``, ``p_over`` (NaN without a budget)
            and ``note`` (``no budget``, ``nobody in this group``); ``attrs`` hold ``per`` and
            ``span``.

        Raises
        ------
        SimulationError
            Without totals per group, without budgets, or with budgets per another column.

        Examples
        --------
        >>> sim = simulate(policy, result, n=200, seed=1, totals_by="branch", progress=False)
        >>> sim.envelopes({"北区": 1_200_000}).columns.tolist()  # doctest: +SKIP
        ['P50', 'P90', 'P95', 'mean', 'budget', 'p_over', 'note']
        """
        from calib.simulate.envelopes import envelope_risk

        return envelope_risk(self, budgets, per, q)

    def summary(self) -> str:
        """A few lines for finance: expected cost, percentiles, the budget risk and the caveats.

        Returns
        -------
        str
            The summary text, one fact a line, ending with ``notes`` (what is not simulated).

        Examples
        --------
        >>> print(sim.summary())  # doctest: +SKIP
        Monte Carlo of next year's payouts under ecommerce_cs 2025.1: 1,000 scenarios ...
        """
        cur = self.policy.currency
        q = self.quantiles()
        lines = [
            f"Monte Carlo of next year's payouts under {self.policy.name}"
            f"{' ' + self.policy.version if self.policy.version else ''}: {self.n:,} scenarios "
            f"of {self.months} periods, seed {self.seed}, {self.people:,} current people.",
            f"Total payout: mean {self.mean:,.2f} {cur}; P50 {q['P50']:,.2f}, "
            f"P90 {q['P90']:,.2f}, P95 {q['P95']:,.2f} "
            f"(min {np.min(self.totals):,.2f}, max {np.max(self.totals):,.2f}).",
        ]
        if self.history_total is not None:
            lines.append(f"Paid over the last {self.months} periods of the history: "
                         f"{self.history_total:,.2f} {cur}.")
        if self.budget is not None:
            lines.append(f"Budget {self.budget:,.2f} {cur}: exceeded in "
                         f"{100 * self.p_over(self.budget):.1f}% of scenarios.")
        if self.pool_total is not None:
            lines.append(f"Bonus pool paid per scenario: {self.pool_total:,.2f} {cur} "
                         "(fixed by the policy, included in the totals).")
        if self.merit_totals is not None and len(self.merit_totals):
            p50, p95 = np.percentile(self.merit_totals, [50, 95])
            lines.append(f"Merit raises (R35) the simulated grades give: P50 {p50:,.2f} {cur}, "
                         f"P95 {p95:,.2f} {cur} (next year's raises, not in the totals).")
        if self.headcount is not None and len(self.headcount):
            assert self.joiners is not None and self.leavers is not None, (
                "``simulate`` sets the headcount, joiners and leavers together")
            lines.append(f"People paid at least once: mean {np.mean(self.headcount):,.1f}; "
                         f"joiners {np.mean(self.joiners):,.1f}, leavers "
                         f"{np.mean(self.leavers):,.1f} per scenario.")
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


def _history_total(result: Result, policy: Policy, months: int) -> float | None:
    """What the deterministic run paid over its last pay periods covering ``months``."""
    if result.payouts is None or policy.pay is None:
        return None
    pay = result.payouts
    per = 1 if policy.pay.on == "period" else _ROLLUP_MONTHS.get(
        (policy.calendar.frequency, policy.rollups[policy.pay.on].to), 12)
    periods = sorted(pay["period"].astype(str).unique())
    last = periods[-max(1, months // per):]
    return float(pay.loc[pay["period"].astype(str).isin(last), "payout"].sum().round(2))


def _absence_note(m: _Model) -> str:
    """What the notes say of the months not rated."""
    p = m.params
    if m.cut is None:
        return ("absences: nobody present missed a month in the history (a joiner's probation "
                "aside): everyone present is rated every month")
    rates = p["not_rated_rates"]
    limits = sorted({f"{pop.on} {pop.max_not_rated}" for pop in m.pops.values()
                     if pop.max_not_rated is not None})
    return (f"absences: each person misses months at their historical rate (months not rated / "
            f"months present, a joiner's probation left out; population {p['not_rated_rate']:.2%},"
            f" used for joiners; {int((rates > 0).sum())} of {len(rates)} current people "
            "missed at least one)" + (f"; a roll-up with more months not rated than its "
                                      f"max_not_rated ({', '.join(limits)}) is not rated"
                                      if limits else ""))


def _notes(m: _Model, plans: _Plans) -> list[str]:
    """What is and is not simulated for this policy."""
    notes = list(m.notes)
    p = m.params
    notes.append(f"scores: each person's rated months bootstrapped; noise sd {p['noise_sd']:.3g} "
                 f"points; clipped to [{m.lo:g}, {m.hi:g}]")
    if m.turnover:
        notes.append(f"turnover: leaving rate {p['leave_rate']:.2%} a month, hiring "
                     f"{m.hire_lambda:.2f} a month; joiners not rated for {m.probation} months")
    else:
        notes.append("headcount fixed: no leavers, no joiners")
    notes.append(_absence_note(m))
    if m.share_flat is not None and "period" in m.pops:
        notes.append("part months: each rated month carries the proration share of the historical "
                     "month its score is drawn from (mean share of the history's rated months "
                     f"{p['proration_mean']:.3f}) and prorates the components with prorate: true "
                     "as a run does; roll-ups are not prorated")
    elif m.share_flat is not None:
        notes.append("part months: not drawn, the policy grades and pays roll-ups (not prorated)")
    grading = m.policy.grading
    if grading is not None:
        kinds = sorted({r.method for r in grading.rules.values()})
        notes.append(f"grades by {', '.join(kinds)} on '{grading.on}' (tie columns: the "
                     "person's last value)" + (
                         "; ranks (R26) simulated" if plans.pay is not None and plans.pay.ranked
                         else "; ranks (R26) not simulated" if grading.ranking is not None
                         else "")
                     + ("; streak flags (R21) on ranks not simulated"
                        if grading.streaks_read_ranks and plans.pay is not None
                        and plans.pay.streaks is None else ""))
        if any(method_of(r).form == "cascade" for r in grading.rules.values()):
            notes.append("cascade: the leader's simulated grade picks the team's ratios; a team "
                         "whose leader is gone is not graded")
    if plans.pay is not None:
        if plans.pay.streaks is not None:
            notes.append("streak amounts (R21): raised by the policy's streaks on the simulated "
                         "months (a streak begins within the simulated year)")
        for name, why in sorted(plans.pay.not_drawn.items()):
            notes.append(f"{name}: each person's historical mean amount per paid period ({why}: "
                         "not drawn)")
        if plans.pay.pool_units is not None:
            notes.append("bonus pool: paid out exactly in each period and pool group with someone "
                         "rated" + ("; the pay's min/max clip the other components only"
                                    if plans.pay.lo is not None or plans.pay.hi is not None
                                    else ""))
        if plans.pay.merit is not None:
            notes.append("merit raises (R35): grade × compa-ratio band of each simulated graded "
                         "period, by the engine's merit rule, in merit_totals (not in the totals)")
        elif m.policy.pay is not None and m.policy.pay.merit is not None:
            notes.append("merit matrix (R35) not simulated: pay and grading are on different "
                         "periods, so the engine raises nobody either")
    else:
        notes.append("the policy has no pay section: totals are 0")
    return notes


def simulate(policy: Policy, data_or_result: Result | Dataset | pd.DataFrame | dict | str,
             n: int = 1000, seed: int = 0, noise: float | None = None, months: int = 12,
             group_effects: bool = True, joiners: bool = True, budget: float | None = None,
             batch: int = 500, progress: bool = True, group_by: list[str] | None = None,
             method: str = "vectorised", workers: int | None = None, client: object = None,
             totals_by: str | None = None) -> Simulation:
    """Simulate ``n`` scenarios of the next ``months`` periods under ``policy``.

    ``data_or_result`` is a ``Result`` of ``calib.run`` (its scores are the history; grading and
    pay follow ``policy``, which may be a changed copy of the result's policy) or anything
    ``calib.run`` accepts. ``noise``: sd of the added normal noise in score points (None: from
    the residual spread; 0: none). ``group_effects``: add shared group-month effects, groups by
    ``group_by`` (default: the policy's forced groups). ``joiners``: simulate leavers and
    joiners (False: fixed headcount). ``budget``: kept for ``summary()`` and ``p_over``.
    ``batch``: scenarios per progress step (does not change the result). ``method``:
    ``"vectorised"`` or ``"loop"`` (the slow reference, same draws). ``workers``: threads that
    draw blocks of scenarios in parallel (default: the CPU count; numpy releases the GIL in its
    array loops); the result does not depend on it. See the module docstring for the model.

    ``client``: run the blocks of scenarios on a cluster instead of local threads, for more
    scenarios or people than one machine handles in time. A ``distributed.Client`` (Dask; the
    fitted model and plans are scattered to every worker once, several blocks go in each task),
    or any executor whose ``submit(fn, *args)`` returns futures with ``.result()``, such as a
    ``concurrent.futures.ProcessPoolExecutor`` (the model then goes with each task). The
    result is identical to the local run with the same seed: each block has its own random
    stream. ``workers`` is then the number of tasks the cluster runs at once (default: its
    threads); twice as many are kept in flight, so the memory stays bounded. The progress bar
    moves as tasks come back. Dask is optional: ``pip install calib[cluster]``.

    Parameters
    ----------
    policy : Policy
        The scheme next year runs under.
    data_or_result : Result, Dataset, DataFrame, dict or str
        A ``Result`` of ``calib.run`` (its scores are the history), or data ``calib.run`` accepts.
    n : int, optional
        How many scenarios (default 1000).
    seed : int, optional
        Seed of the random draws (default 0): the same seed gives the same result, whatever
        ``workers``, ``batch`` or ``client``.
    noise : float, optional
        Sd of the added normal noise, in score points (None: from the residual spread; 0: none).
    months : int, optional
        How many periods to simulate (default 12).
    group_effects : bool, optional
        Add shared group-month effects (default True).
    joiners : bool, optional
        Simulate leavers and joiners (default True; False: fixed headcount).
    budget : float, optional
        A budget kept for ``summary()``.
    batch : int, optional
        Scenarios per progress step (default 500; does not change the result).
    progress : bool, optional
        Show a progress bar (default True).
    group_by : list of str, optional
        The columns of the groups that share effects (default: the policy's forced groups).
    method : str, optional
        ``"vectorised"`` (the default) or ``"loop"`` (the slow reference, same draws).
    workers : int, optional
        Threads (or, with ``client``, tasks in flight) drawing blocks of scenarios.
    client : object, optional
        A ``distributed.Client`` or an executor with ``submit``, to run on a cluster.
    totals_by : str, optional
        A column of groups (branch, department): also total each scenario's pay per group, in
        ``Simulation.group_totals`` (for ``Simulation.envelopes``). A bonus pool must be shared
        per that column (or a finer one), else SimulationError. Default: the policy's
        ``budgets.by`` when the pool allows it (else a note says why there are none), or none.

    Returns
    -------
    Simulation
        Per-scenario totals, grade probabilities per person, the fitted model and the notes.

    Raises
    ------
    SimulationError
        If ``n`` or ``months`` is below 1, ``method`` is unknown, ``months`` is not a whole
        number of the roll-up graded or paid on, the result has no frame, or nobody is rated in
        the history.
    DataError
        If ``data_or_result`` is data that does not fit the policy.

    Examples
    --------
    >>> from calib.simulate import simulate
    >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    >>> result = calib.run(policy, "datasets/ecommerce_cs")
    >>> sim = simulate(policy, result, n=200, seed=1, budget=1_800_000, progress=False)
    >>> sim.totals.shape
    (200,)
    >>> sim.quantiles().index.tolist()
    ['P50', 'P90', 'P95']
    """
    from tqdm.auto import tqdm

    from calib.engine.pipeline import run

    if n < 1 or months < 1:
        raise SimulationError("n and months must be at least 1")
    if method not in ("vectorised", "loop"):
        raise SimulationError("method is 'vectorised' or 'loop'")
    result = data_or_result if isinstance(data_or_result, Result) else run(policy, data_or_result)
    build_ss, run_ss = np.random.SeedSequence(seed).spawn(2)
    m = _fit(policy, result, months, noise, group_effects, joiners, group_by,
             np.random.default_rng(build_ss))
    K = len(policy.grading.scale.grades) if policy.grading is not None else 0
    plans = _Plans(policy.grading.on if policy.grading else None,
                   policy.pay.on if policy.pay else None,
                   _grade_plan(m, policy.grading) if policy.grading else None,
                   _pay_plan(m, result, policy.pay) if policy.pay else None, K)
    if method == "loop" and policy.grading is not None:
        plans.loop_grading = _loop_grading(policy.grading)
    skipped = None
    if totals_by is not None and plans.pay is not None:
        plans.groups = _groups(m, plans.pay, totals_by)
    elif policy.budgets is not None and plans.pay is not None:  # by default: a note, not an error
        try:
            plans.groups, totals_by = _groups(m, plans.pay, policy.budgets.by), policy.budgets.by
        except SimulationError as exc:
            skipped = f"{exc} (no totals per group)"
    block = max(1, min(64, _BLOCK_ELEMENTS // max(1, months * m.n_slots)))
    job = _Job(m, plans, method, n, block, run_ss.spawn(-(-n // block)))
    with tqdm(total=n, desc="simulate", unit="scenario", disable=not progress) as bar:
        tally = _run(job, client, workers, bar, batch)
    totals, counts, paid, pool = tally.totals, tally.counts, tally.paid, tally.pool
    unit = policy.pay.unit if policy.pay else 0.01
    names = policy.grading.scale.names() if policy.grading is not None else []  # K of them
    probs = pd.DataFrame(columns=names, dtype=float)
    if K:
        table = counts.reshape(m.n_current, K).astype(np.float64)
        seen = table.sum(axis=1) > 0
        probs = pd.DataFrame(table[seen] / table[seen].sum(axis=1, keepdims=True),
                             index=pd.Index(m.ids[:m.n_current][seen], name="id"),
                             columns=names)
    pool_total = None
    if plans.pay is not None and plans.pay.pool_units is not None:
        pool_total = float(units_to_float(np.array([pool.mean()]), unit)[0])
    sim = Simulation(policy=policy, n=n, seed=seed, months=months, people=m.n_current,
                     unit=unit, totals=units_to_float(totals, unit), grade_probabilities=probs,
                     pool_total=pool_total, history_total=_history_total(result, policy, months),
                     budget=budget, headcount=paid, joiners=tally.joined, leavers=tally.left,
                     merit_totals=(units_to_float(tally.merit, unit) if plans.pay is not None
                                   and plans.pay.merit is not None else None),
                     params=m.params, notes=[*_notes(m, plans), *([skipped] if skipped else [])])
    if plans.groups is not None:
        sim.totals_by, sim.group_names = totals_by, plans.groups.names
        sim.group_totals = units_to_float(tally.groups, unit)
        assert (tally.groups.sum(axis=1) == totals).all(), "the groups add up to each total"
    return sim
