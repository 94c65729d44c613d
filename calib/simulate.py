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
  relative n/65,536 for a history of n months: the draw uses 16 random bits), plus
  a **group effect** and **noise**:

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
    none. A simulated month is clipped to the historical range of rated scores.

  With ``noise=0`` and ``group_effects=False`` every month is exactly a past score, so on a
  history where each person's months are identical the simulation reproduces the deterministic
  run to the cent.
- **Turnover** (``joiners=True``; ``False`` keeps the headcount fixed: no leavers, no joiners).
  A person leaves after each month with the historical monthly leaving rate (people whose last
  row is before the last period / person-months before it). Joiners arrive as a Poisson process
  at the historical hiring rate per head (people whose first row is after the first period /
  person-months after it) × the current headcount; each copies the attributes of a current person
  drawn at random (a fixed list of joiner slots drawn once from the seed; each scenario activates
  a random subset of them) and draws its scores from 48 scores sampled once from everyone's rated
  scores under its scorecard. A joiner is not rated for the historical median number of months
  that joiners spent not rated before their first rated month (probation). Everyone present is
  rated in every month (absences other than a joiner's probation are not simulated) and a month
  counts whole (proration 1).
- **Roll-ups.** When the policy grades or pays a roll-up (``on: year`` / ``quarter``), the
  simulated roll-up score is the mean of the bootstrapped months in it (rounded to 9 decimals, as
  the engine does). Parts of a roll-up read from other tables (weekly checks, a year-end
  evaluation) are held at the person's historical mean of that part, with their weights. A
  roll-up is not rated when a joiner's probation months exceed ``max_not_rated``.

Grading per scenario follows the policy: vetoes (a bootstrapped month that was vetoed keeps its
lowest-grade veto; a roll-up is vetoed when any of its months is), thresholds
(``calib.grading.thresholds``), forced distribution within groups (rank per scenario row,
quotas by ``calib.kernels.apportion.apportion``, the small-group rule, the tie rule; equal scores
are ordered by the tie columns' values on the person's last row, then by id) and cascades (R25:
the leader's simulated grade in the same scenario-period picks the team's ratio row; a team
whose leader has left or is not graded is not graded, whatever ``no_leader_grade`` says).

Pay per scenario: ``fixed``, ``score_percent``, ``score_bands``, ``grade_coefficient``,
``points_below`` and ``award`` by ``score_above`` are computed from the simulated score and grade,
rounded to the policy's unit per component as the engine does, summed and clipped to the pay's
[min, max]. Components that need event or records data (lateness, workload, piece rate,
commission, per unit, awards by rank, a component whose ``when`` reads a records column) and the
one-off streak amounts are each person's **historical mean amount per paid period** (rounded to
the unit; a joiner has the mean of the person it copies). A bonus pool pays out exactly its amount
in every period and pool group with someone rated: its total is fixed by construction (reported
as ``Simulation.pool_total``); when the pay is clipped to [min, max] the clip applies to the
other components. Ranks (R26), consecutive-period flags (R21) and the merit matrix (R35) are not
simulated. ``Simulation.notes`` lists what applied to the policy at hand.

Reproducibility: the scenarios are drawn in blocks, each with its own random stream spawned from
``seed``, and the blocks run on ``workers`` threads (numpy releases the GIL in its array loops);
the result depends only on the seed and the inputs, not on ``batch``, ``progress`` or
``workers``.
``method="loop"`` is the slow reference: the same draws, then each scenario graded by
``calib.grading.grade`` and paid by ``calib.payout.component_amount`` one scenario-period at a
time (used by the tests and the benchmark).
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd

from calib.conditions import holds
from calib.grading import Population, column_codes, grade, rule_order, thresholds
from calib.kernels._tolerance import tol
from calib.kernels.apportion import apportion
from calib.money import to_units, units_to_float
from calib.payout import _Context, component_amount
from calib.policy import pay as P
from calib.policy.model import Policy
from calib.result import Result

PSEUDO_HISTORY = 48
"""Scores sampled once per joiner slot (and per current person without rated history)."""

_BLOCK_ELEMENTS = 400_000
"""Target month values per block: small enough for the temporaries to stay in cache."""

_ROLLUP_MONTHS = {("month", "quarter"): 3, ("month", "year"): 12, ("quarter", "year"): 4,
                  ("week", "quarter"): 13, ("week", "year"): 52}


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
      last pay periods) of the history, for comparison (the simulation counts every present
      month whole and rated, so it runs above a history with absences and partial months);
    - ``params``: the fitted model (noise sd, leaving and hiring rates, probation months, …);
    - ``notes``: what is and is not simulated for this policy.
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
    params: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def mean(self) -> float:
        """Mean total payout over the scenarios."""
        return float(np.mean(self.totals)) if len(self.totals) else float("nan")

    def quantiles(self, q: tuple[float, ...] = (0.5, 0.9, 0.95)) -> pd.Series:
        """Quantiles of the total payout (P50, P90, P95 by default), linear interpolation."""
        values = np.quantile(self.totals, q) if len(self.totals) else np.full(len(q), np.nan)
        return pd.Series(values, index=[f"P{100 * x:g}" for x in q], name="total payout")

    def p_over(self, budget: float) -> float:
        """Probability that the total payout exceeds ``budget`` (share of scenarios strictly above)."""
        return float(np.mean(self.totals > budget)) if len(self.totals) else float("nan")

    def summary(self) -> str:
        """A few lines for finance: expected cost, percentiles, the budget risk and the caveats."""
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
        if self.headcount is not None and len(self.headcount):
            lines.append(f"People paid at least once: mean {np.mean(self.headcount):,.1f}; "
                         f"joiners {np.mean(self.joiners):,.1f}, leavers "
                         f"{np.mean(self.leavers):,.1f} per scenario.")
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The model fitted from the history


@dataclass
class _Pop:
    """A graded or paid population: the period (k = 1) or a roll-up of k periods."""

    on: str
    k: int
    periods: int
    score_weight: float = 1.0
    other_sum: np.ndarray | None = None
    other_weight: np.ndarray | None = None
    max_not_rated: int | None = None


@dataclass
class _Model:
    """Everything the block sampler, the grader and the payer need, per slot (person or joiner)."""

    policy: Policy
    months: int
    n_current: int
    n_slots: int
    ids: np.ndarray
    card: np.ndarray
    flat: np.ndarray
    veto_flat: np.ndarray | None
    offset: np.ndarray
    count: np.ndarray
    lo: float
    hi: float
    sd: float
    gamma: np.ndarray | None
    g_offset: np.ndarray | None
    g_count: np.ndarray | None
    slot_effect: np.ndarray | None
    leave_rate: float
    hire_lambda: float
    probation: int
    turnover: bool
    pops: dict[str, _Pop]
    column: object
    params: dict
    notes: list[str]


def _take(values: object, rows: np.ndarray) -> np.ndarray:
    """Values of a frame column at ``rows`` as a numpy array."""
    if isinstance(values, pd.Series):
        return values.iloc[rows].to_numpy()
    if isinstance(values, pd.Categorical):
        return np.asarray(values.take(rows), dtype=object)
    return np.asarray(values)[rows]


def _default_groups(policy: Policy) -> list[str]:
    """Group columns for group effects: forced ``by``, else a cascade's team, else pool ``by``."""
    if policy.grading is not None:
        for rule in policy.grading.rules.values():
            if rule.forced is not None and rule.forced.by:
                return list(rule.forced.by)
        for rule in policy.grading.rules.values():
            if rule.cascade is not None:
                return [rule.cascade.team]
    if policy.pay is not None and policy.pay.pool is not None and policy.pay.pool.by:
        return [policy.pay.pool.by]
    return []


def _row_groups(frame, columns: list[str]) -> np.ndarray:
    """Group code per records row from ``columns`` (0 everywhere when there are none)."""
    key = np.zeros(frame.n, dtype=np.int64)
    for col in columns:
        codes, names = column_codes(frame.column(col))
        key = key * len(names) + codes
    return pd.factorize(key)[0].astype(np.int64)


def _group_effects(y, rated, person, pcode, egroup, n_periods):
    """γ per group-period (mean deviation from the members' own means, centred per group) and the
    scores with γ taken out. Returns (adjusted scores, flat γ, offsets, counts) by group.
    """
    n_person = int(person.max(initial=0)) + 1
    w = rated.astype(float)
    yz = np.where(rated, y, 0.0)
    mu = np.bincount(person, weights=yz, minlength=n_person) / np.maximum(
        np.bincount(person, weights=w, minlength=n_person), 1)
    d = np.where(rated, y - mu[person], 0.0)
    n_groups = int(egroup.max(initial=0)) + 1
    cell = egroup * n_periods + pcode
    csum = np.bincount(cell, weights=d, minlength=n_groups * n_periods)
    ccount = np.bincount(cell, weights=w, minlength=n_groups * n_periods)
    has = ccount > 0
    gam = np.where(has, csum / np.maximum(ccount, 1), 0.0).reshape(n_groups, n_periods)
    has = has.reshape(n_groups, n_periods)
    centre = gam.sum(axis=1) / np.maximum(has.sum(axis=1), 1)
    gam = np.where(has, gam - centre[:, None], 0.0)
    adjusted = np.where(rated, y - gam.ravel()[cell], np.nan)
    counts = has.sum(axis=1)
    values = [gam[g][has[g]] if counts[g] else np.zeros(1) for g in range(n_groups)]
    count = np.maximum(counts, 1).astype(np.int64)
    offset = np.r_[0, np.cumsum(count)[:-1]].astype(np.int64)
    return adjusted, np.concatenate(values), offset, count


def _turnover(frame, pcode, n_periods, rated) -> tuple[float, float, int]:
    """Monthly leaving rate, hiring rate per head, and joiners' probation months (median)."""
    if n_periods < 2:
        return 0.0, 0.0, 0
    person = frame.person
    n_person = int(person.max(initial=0)) + 1
    first = np.full(n_person, n_periods, dtype=np.int64)
    last = np.full(n_person, -1, dtype=np.int64)
    np.minimum.at(first, person, pcode)
    np.maximum.at(last, person, pcode)
    seen = last >= 0
    leavers = int((seen & (last < n_periods - 1)).sum())
    exposure = int((pcode < n_periods - 1).sum())
    hires = seen & (first > 0)
    at_risk = int((pcode > 0).sum())
    leave = leavers / exposure if exposure else 0.0
    hire = int(hires.sum()) / at_risk if at_risk else 0.0
    first_rated = np.full(n_person, n_periods, dtype=np.int64)
    np.minimum.at(first_rated, person[rated], pcode[rated])
    waits = (first_rated - first)[hires & (first_rated < n_periods)]
    probation = int(np.round(np.median(waits))) if len(waits) else 0
    return leave, hire, probation


class _Slots:
    """Per-slot attributes: a slot's records row (its own last row, or its template's)."""

    def __init__(self, frame, rows: np.ndarray):
        self.frame, self.rows = frame, rows
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, name: str) -> np.ndarray:
        """The column ``name`` per slot."""
        if name not in self.cache:
            self.cache[name] = _take(self.frame.column(name), self.rows)
        return self.cache[name]


def _rollup_pop(policy: Policy, result: Result, name: str, slot_person: np.ndarray,
                months: int) -> _Pop:
    """A roll-up population: k months per period, and the parts other than the period scores."""
    rollup = policy.rollups[name]
    k = _ROLLUP_MONTHS.get((policy.calendar.frequency, rollup.to))
    if k is None or months % k:
        raise ValueError(f"the policy grades or pays on '{name}' ({rollup.to} of "
                         f"{policy.calendar.frequency}s); months={months} must be a whole number "
                         f"of them ({k} per {rollup.to})")
    w_score = sum(p.weight for p in rollup.parts if p.source == "score")
    others = [p for p in rollup.parts if p.source != "score"]
    other_sum = np.zeros(len(slot_person))
    other_w = np.zeros(len(slot_person))
    if others and name in result.rollups:
        table = result.rollups[name]
        rperson = result.rollup_rows[name].person
        ok = (table["status"] == "rated").to_numpy()
        n_person = int(max(rperson.max(initial=0), slot_person.max(initial=0))) + 1
        for part in others:
            values = table[f"part:{part.source}.{part.column}"].to_numpy(dtype=float)
            good = ok & ~np.isnan(values)
            s = np.bincount(rperson[good], weights=values[good], minlength=n_person)
            c = np.bincount(rperson[good], minlength=n_person)
            has = c[slot_person] > 0
            other_sum += np.where(has, part.weight * s[slot_person] / np.maximum(
                c[slot_person], 1), 0.0)
            other_w += np.where(has, part.weight, 0.0)
    return _Pop(name, k, months // k, w_score, other_sum, other_w, rollup.max_not_rated)


def _fit(policy: Policy, result: Result, months: int, noise: float | None, group_effects: bool,
         joiners: bool, group_by: list[str] | None, build_rng: np.random.Generator) -> _Model:
    """Fit the model to the history of ``result``."""
    frame = result.frame
    if frame is None:
        raise ValueError("simulate needs a Result from calib.run (with its frame)")
    scores = result.scores
    notes: list[str] = []
    y = scores["score"].to_numpy(dtype=np.float64)
    rated = (scores["status"] == "rated").to_numpy() & ~np.isnan(y)
    if not rated.any():
        raise ValueError("nobody is rated in the history: there is nothing to simulate from")
    card_row = np.asarray(scores["scorecard"].cat.codes, dtype=np.int64)
    veto_row = (scores["lowest_grade"].to_numpy(dtype=bool) & rated
                if "lowest_grade" in scores else None)
    pcode, puniq = frame.period_codes
    pcode = np.asarray(pcode, dtype=np.int64)
    n_periods = len(puniq)
    person = np.asarray(frame.person, dtype=np.int64)

    # current people, in person-code order (the engine's order for ties)
    last_rows = np.flatnonzero(pcode == n_periods - 1)
    last_rows = last_rows[np.argsort(person[last_rows], kind="stable")]
    last_card = card_row.copy()
    last_card[~rated] = -1
    fallback = np.full(int(person.max()) + 1, -1, dtype=np.int64)
    order = np.flatnonzero(last_card >= 0)
    order = order[np.argsort(pcode[order], kind="stable")]
    fallback[person[order]] = last_card[order]  # the latest rated row's card, rows in order
    cards = np.where(card_row[last_rows] >= 0, card_row[last_rows], fallback[person[last_rows]])
    keep = cards >= 0
    if (~keep).any():
        notes.append(f"{int((~keep).sum())} current people have no scorecard: left out")
    last_rows, cards = last_rows[keep], cards[keep]
    cur_person = person[last_rows]
    n_cur = len(cur_person)
    slot_of_person = np.full(int(person.max()) + 1, -1, dtype=np.int64)
    slot_of_person[cur_person] = np.arange(n_cur)

    # group effects
    if group_effects:
        cols = _default_groups(policy) if group_by is None else list(group_by)
        egroup = _row_groups(frame, cols)
        a, gamma, g_offset, g_count = _group_effects(y, rated, person, pcode, egroup, n_periods)
        slot_effect = egroup
        notes.append(f"group effects by {' × '.join(cols) if cols else 'the whole population'}"
                     f" ({len(g_count)} groups)")
    else:
        a, gamma, g_offset, g_count, slot_effect = np.where(rated, y, np.nan), None, None, None, None

    # histories: each current person's rated months, then pseudo-histories for the rest
    hist = np.flatnonzero(rated & (slot_of_person[person] >= 0))
    hist = hist[np.lexsort((pcode[hist], slot_of_person[person[hist]]))]
    count = np.bincount(slot_of_person[person[hist]], minlength=n_cur).astype(np.int64)
    pools = {c: np.flatnonzero(rated & (card_row == c)) for c in np.unique(cards)}

    leave, hire, probation = _turnover(frame, pcode, n_periods, rated)
    lam = hire * n_cur if joiners else 0.0
    n_join = math.ceil(lam * months + 6 * math.sqrt(lam * months) + 3) if lam > 0 else 0
    templates = build_rng.integers(0, n_cur, n_join) if n_join else np.zeros(0, dtype=np.int64)
    slot_rows = np.r_[last_rows, last_rows[templates]].astype(np.int64)
    slot_card = np.r_[cards, cards[templates]].astype(np.int64)
    n_slots = n_cur + n_join
    if slot_effect is not None:
        slot_effect = slot_effect[slot_rows]
    pieces, vetoes = [a[hist]], [veto_row[hist]] if veto_row is not None else []
    needs = np.flatnonzero(np.r_[count == 0, np.ones(n_join, dtype=bool)])
    for s in needs:
        pick = build_rng.choice(pools[slot_card[s]], PSEUDO_HISTORY)
        pieces.append(a[pick])
        if veto_row is not None:
            vetoes.append(veto_row[pick])
    full_count = np.r_[count, np.zeros(n_join, dtype=np.int64)]
    full_count[needs] = PSEUDO_HISTORY
    # pseudo-histories follow the real ones in slot order of ``needs``
    offset = np.zeros(n_slots, dtype=np.int64)
    real = full_count.copy()
    real[needs] = 0
    offset_real = np.r_[0, np.cumsum(real)[:-1]]
    offset[:] = offset_real
    offset[needs] = int(real.sum()) + PSEUDO_HISTORY * np.arange(len(needs))
    if len(needs) and (count == 0).any():
        notes.append(f"{int((count == 0).sum())} current people have no rated month: their "
                     "scores are drawn from everyone's under their scorecard")
    flat = np.concatenate(pieces)
    veto_flat = np.concatenate(vetoes) if veto_row is not None and veto_row.any() else None

    # noise
    ok = rated & (slot_of_person[person] >= 0)
    if noise is None:
        n_p = int(person.max()) + 1
        cnt = np.bincount(person[ok], minlength=n_p)
        mean = np.bincount(person[ok], weights=a[ok], minlength=n_p) / np.maximum(cnt, 1)
        ss = float(np.sum((a[ok] - mean[person[ok]]) ** 2))
        dof = int(np.sum(np.maximum(cnt - 1, 0)))
        sigma = math.sqrt(ss / dof) if dof else 0.0
        med = float(np.median(cnt[cnt > 0])) if (cnt > 0).any() else 1.0
        sd = 1.06 * sigma * med ** -0.2
    else:
        sd = float(noise)

    slots = _Slots(frame, slot_rows)
    ids = np.r_[np.asarray([str(v) for v in frame.ids[cur_person]], dtype=object),
                np.asarray([f"(joiner {j + 1})" for j in range(n_join)], dtype=object)]
    pops: dict[str, _Pop] = {}
    slot_person = np.r_[cur_person, cur_person[templates]].astype(np.int64)
    for on in {x.on for x in (policy.grading, policy.pay) if x is not None}:
        pops[on] = (_Pop(on, 1, months) if on == "period"
                    else _rollup_pop(policy, result, on, slot_person, months))
    params = {"noise_sd": sd, "leave_rate": leave if joiners else 0.0,
              "hire_rate": hire if joiners else 0.0, "probation_months": probation,
              "joiner_slots": n_join, "history_periods": n_periods,
              "score_range": (float(y[rated].min()), float(y[rated].max()))}
    return _Model(policy=policy, months=months, n_current=n_cur, n_slots=n_slots, ids=ids,
                  card=slot_card, flat=flat, veto_flat=veto_flat, offset=offset,
                  count=full_count, lo=float(y[rated].min()), hi=float(y[rated].max()), sd=sd,
                  gamma=gamma, g_offset=g_offset, g_count=g_count, slot_effect=slot_effect,
                  leave_rate=leave if joiners else 0.0, hire_lambda=lam, probation=probation,
                  turnover=joiners and (leave > 0 or lam > 0), pops=pops, column=slots,
                  params=params, notes=notes)


# ---------------------------------------------------------------------------------------------
# Drawing a block of scenarios


@dataclass
class _Draw:
    """One block's populations: per ``on``, score, rated and veto arrays of (c·periods, slots)."""

    c: int
    scores: dict[str, np.ndarray]
    rated: dict[str, np.ndarray]
    veto: dict[str, np.ndarray | None]
    joiners: np.ndarray
    leavers: np.ndarray


class _Workspace:
    """Arrays reused from block to block (one per thread): a fresh multi-megabyte array per block
    costs its page faults and zeroing every time, more than the arithmetic on it.
    """

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialised array of ``shape`` and ``dtype``, the same memory on every call."""
        a = self.arrays.get(name)
        if a is None or a.shape != shape or a.dtype != dtype:
            a = self.arrays[name] = np.empty(shape, dtype=dtype)
        return a


def _uniform_index(rng: np.random.Generator, count: np.ndarray, offset: np.ndarray,
                   rows: int, out: np.ndarray | None = None) -> np.ndarray:
    """(rows, len(count)) indices: offset + ⌊u·count/2¹⁶⌋ with u 16 random bits."""
    n = rows * len(count)
    raw = rng.bit_generator.random_raw((n + 3) // 4).view(np.uint16)[:n].reshape(rows, len(count))
    if out is None:
        out = np.empty(raw.shape, dtype=np.int64)
    np.copyto(out, raw)
    idx = np.multiply(out, count, out=out)
    np.right_shift(idx, 16, out=idx)
    np.add(idx, offset, out=idx)
    return idx


def _windows(m: _Model, rng: np.random.Generator, c: int):
    """Per scenario and slot: first records month, first rated month, end (exclusive)."""
    M, n_cur, n_slots = m.months, m.n_current, m.n_slots
    rec = np.zeros((c, n_slots), dtype=np.int64)
    end = np.full((c, n_slots), M, dtype=np.int64)
    if m.leave_rate > 0:
        end = np.minimum(rng.geometric(m.leave_rate, (c, n_slots)), M)
    n_join = n_slots - n_cur
    joined = np.zeros(c, dtype=np.int64)
    if n_join:
        joined = np.minimum(rng.poisson(m.hire_lambda * M, c), n_join)
        rank = np.argsort(np.argsort(rng.random((c, n_join)), axis=1), axis=1)
        month = rng.integers(0, M, (c, n_join))
        active = rank < joined[:, None]
        rec[:, n_cur:] = np.where(active, month, M)
        end[:, n_cur:] = np.where(active, np.minimum(month + end[:, n_cur:], M), M)
    start = rec.copy()
    start[:, n_cur:] = np.minimum(rec[:, n_cur:] + m.probation, M)
    start = np.minimum(start, end)
    leavers = (end[:, :n_cur] < M).sum(axis=1)
    return rec, start, end, joined, leavers


def _cumsum0(v: np.ndarray) -> np.ndarray:
    """Cumulative sum over months with a zero first row: (c, M, N) → (c, M+1, N)."""
    out = np.zeros((v.shape[0], v.shape[1] + 1, v.shape[2]), dtype=np.float64)
    np.cumsum(v, axis=1, out=out[:, 1:])
    return out


def _draw(m: _Model, rng: np.random.Generator, c: int, ws: _Workspace | None = None) -> _Draw:
    """Draw ``c`` scenarios: turnover windows, months, group effects, noise; then populations."""
    M, N = m.months, m.n_slots
    ws = ws or _Workspace()
    if m.turnover:
        rec, start, end, joined, leavers = _windows(m, rng, c)
    else:
        rec = start = np.zeros((c, N), dtype=np.int64)
        end = np.full((c, N), M, dtype=np.int64)
        joined = leavers = np.zeros(c, dtype=np.int64)
    idx = _uniform_index(rng, m.count, m.offset, c * M, ws.get("idx", (c * M, N), np.int64))
    v = m.flat.take(idx, out=ws.get("v", (c * M, N), np.float64), mode="clip")
    veto = m.veto_flat.take(idx).reshape(c, M, N) if m.veto_flat is not None else None
    gv = None
    if m.gamma is not None:
        gidx = _uniform_index(rng, m.g_count, m.g_offset, c * M)
        gv = m.gamma.take(gidx)  # (c·M, groups)
    need_months = "period" in m.pops
    if need_months:
        tmp = ws.get("tmp", (c * M, N), np.float64)
        if gv is not None:
            v += gv.take(m.slot_effect, axis=1, out=tmp, mode="clip")
        if m.sd > 0:
            z = rng.standard_normal(out=tmp)
            z *= m.sd
            v += z
        np.clip(v, m.lo, m.hi, out=v)
    v = v.reshape(c, M, N)
    month = np.arange(M)[None, :, None]
    out = _Draw(c, {}, {}, {}, joined, leavers)
    for on, pop in sorted(m.pops.items()):
        if pop.k == 1:
            out.scores[on] = v.reshape(c * M, N)
            out.rated[on] = ((month >= start[:, None, :]) & (month < end[:, None, :])).reshape(
                c * M, N) if m.turnover else np.ones((c * M, N), dtype=bool)
            out.veto[on] = veto.reshape(c * M, N) if veto is not None else None
            continue
        _roll(m, rng, pop, out, v, veto, gv, need_months, (rec, start, end))
    return out


def _partial(v: np.ndarray, start: np.ndarray, end: np.ndarray, P: int, k: int, full: np.ndarray,
             how: str = "sum") -> None:
    """Replace, in ``full`` (c, P, N), the sums over each period of the (scenario, slot) pairs
    whose window [start, end) is not the whole year (leavers, joiners): few pairs, so this costs
    far less than masking every month.
    """
    M = v.shape[1]
    s, i = np.nonzero((start > 0) | (end < M))
    if len(s) == 0:
        return
    sub = v[s, :, i]  # (pairs, M)
    month = np.arange(M)
    mask = (month >= start[s, i][:, None]) & (month < end[s, i][:, None])
    if how == "any":
        full[s, :, i] = (sub & mask).reshape(-1, P, k).any(axis=2)
    else:
        full[s, :, i] = (sub * mask).reshape(-1, P, k).sum(axis=2)


def _roll(m: _Model, rng, pop: _Pop, out: _Draw, v, veto, gv, noisy: bool, windows) -> None:
    """A roll-up population from the block's months (means over each period's rated months)."""
    M = v.shape[1]
    P, k = pop.periods, pop.k
    rec, start, end = windows
    c, N = start.shape
    sums = v.reshape(c, P, k, N).sum(axis=2)
    if m.turnover:
        bounds = np.arange(P)[None, :, None] * k
        lo = np.clip(start[:, None, :], bounds, bounds + k)
        hi = np.maximum(np.clip(end[:, None, :], bounds, bounds + k), lo)
        records = np.maximum(hi - np.clip(rec[:, None, :], bounds, bounds + k), 0)
        counts = hi - lo
        _partial(v, start, end, P, k, sums)
    else:
        counts = np.full((c, P, N), k, dtype=np.int64)
        records = counts
    if not noisy:
        if gv is not None:
            g = gv.reshape(c, M, -1)
            if m.turnover:
                sums += _effect_window(_cumsum0(g), lo, hi, m.slot_effect[None, None, :])
            else:
                sums += g.reshape(c, P, k, -1).sum(axis=2).take(m.slot_effect, axis=2)
        if m.sd > 0:
            z = rng.standard_normal((c, P, N))
            sums += z * (m.sd * np.sqrt(counts))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / np.maximum(counts, 1)
    if not noisy:
        np.clip(mean, m.lo, m.hi, out=mean)
    score = (pop.score_weight * mean + pop.other_sum) / (pop.score_weight + pop.other_weight)
    score = np.round(score, 9)
    rated = counts > 0
    if pop.max_not_rated is not None:
        rated &= (records - counts) <= pop.max_not_rated
    out.scores[pop.on] = score.reshape(c * P, N)
    out.rated[pop.on] = rated.reshape(c * P, N)
    vr = None
    if veto is not None:
        vr = veto.reshape(c, P, k, N).any(axis=2)
        if m.turnover:
            _partial(veto, start, end, P, k, vr, how="any")
        vr = vr.reshape(c * P, N)
    out.veto[pop.on] = vr


def _effect_window(gc: np.ndarray, lo: np.ndarray, hi: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Σ of each slot's group effect over months [lo, hi): gc is (c, M+1, groups)."""
    c, m1, g = gc.shape
    base = (np.arange(c)[:, None, None] * m1) * g
    flat = gc.ravel()
    return flat.take(base + hi * g + e) - flat.take(base + lo * g + e)


# ---------------------------------------------------------------------------------------------
# Grading rows of scenarios × slots


@dataclass
class _Rule:
    """One grading rule over the slots it covers (``cols``, in tie order)."""

    name: str
    method: str
    cols: np.ndarray
    all_cols: bool
    gcode: np.ndarray | None = None
    n_groups: int = 0
    ratios: np.ndarray | None = None
    apportion: str = "hamilton"
    share_better: bool = False
    small_rule: str = "round"
    small_max: int = 0
    group_leader: np.ndarray | None = None
    pad: np.ndarray | None = None
    unpad: np.ndarray | None = None

    def padded(self) -> np.ndarray | None:
        """(groups, largest group) positions into ``cols``, −1 for padding, each group's in tie
        order; None when padding would more than triple the work (very unequal groups).
        """
        if self.pad is None:
            n, G = len(self.gcode), max(self.n_groups, 1)
            sizes = np.bincount(self.gcode, minlength=G)
            S = int(sizes.max(initial=0))
            if n == 0 or G * S > 3 * n:
                self.pad = np.zeros((0, 0), dtype=np.int64)
            else:
                order = np.argsort(self.gcode, kind="stable")
                starts = np.r_[0, np.cumsum(sizes)[:-1]]
                within = np.arange(n) - starts[self.gcode[order]]
                self.pad = np.full((G, S), -1, dtype=np.int64)
                self.pad[self.gcode[order], within] = order
                self.unpad = np.empty(n, dtype=np.int64)  # each column's place in the padding
                self.unpad[order] = self.gcode[order] * S + within
        return self.pad if self.pad.size else None


def _slot_groups(m: _Model, cols: np.ndarray, by: list[str]) -> tuple[np.ndarray, int]:
    """Group code per slot in ``cols`` from the ``by`` columns (as the engine factorizes them)."""
    key = np.zeros(len(cols), dtype=np.int64)
    for col in by:
        codes, names = column_codes(m.column(col))
        key = key * len(names) + codes[cols]
    codes = pd.factorize(key)[0].astype(np.int64)
    return codes, int(codes.max(initial=-1)) + 1


def _tie_order(m: _Model, cols: np.ndarray, ties) -> np.ndarray:
    """``cols`` ordered as the engine breaks score ties: tie columns, then person (slot) order."""
    if not ties.by:
        return cols
    keys: list[np.ndarray] = [cols]
    for key in reversed(ties.by):
        v = np.asarray(m.column(key.column), dtype=np.float64)[cols]
        keys.append(-v if key.order == "desc" else v)
    return cols[np.lexsort(keys)]


def _grade_plan(m: _Model) -> list[_Rule]:
    """The policy's grading rules in dependency order, prepared per slot."""
    grading = m.policy.grading
    scale = grading.scale
    names = scale.names()
    card_index = {c: i for i, c in enumerate(m.policy.scorecards)}
    plan = []
    for name in rule_order(grading):
        rule = grading.rules[name]
        cards = [card_index[c] for c in rule.scorecards] if rule.scorecards else list(
            card_index.values())
        cols = np.flatnonzero(np.isin(m.card, cards))
        if rule.method == "thresholds":
            plan.append(_Rule(name, "thresholds", cols, len(cols) == m.n_slots))
            continue
        settings = rule.forced if rule.method == "forced" else rule.cascade
        cols = _tie_order(m, cols, settings.ties)
        r = _Rule(name, rule.method, cols, bool(np.array_equal(cols, np.arange(m.n_slots))),
                  apportion=settings.method, share_better=settings.ties.rule == "share_better")
        if rule.method == "forced":
            r.gcode, r.n_groups = _slot_groups(m, cols, settings.by)
            r.ratios = np.array([settings.ratios.get(g, 0.0) for g in names])
            r.small_rule, r.small_max = settings.small_groups.rule, settings.small_groups.max_size
        else:
            team, _ = column_codes(m.column(settings.team))
            lead = pd.Series(np.asarray(m.column(settings.leader), dtype=object)).astype(
                "string").str.strip().fillna("").to_numpy(dtype=object).astype(str)
            codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([team[cols], lead[cols]]))
            r.gcode, r.n_groups = codes.astype(np.int64), len(uniques)
            leaders = np.flatnonzero(m.card == card_index[settings.leaders])
            where = pd.Index(m.ids[leaders].astype(str)).get_indexer(
                [u[1] for u in uniques]) if len(uniques) else np.zeros(0, dtype=np.int64)
            r.group_leader = np.where(where >= 0, leaders[np.maximum(where, 0)], -1)
            r.ratios = np.array([[settings.ratios.get(g, {}).get(h, 0.0) for h in names]
                                 for g in names])
        r.padded()  # built here, before the threads share the rule
        plan.append(r)
    return plan


def _rank_grades(score: np.ndarray, active: np.ndarray, gcode: np.ndarray, n_groups: int,
                 ratios: np.ndarray, method: str, share_better: bool) -> np.ndarray:
    """Forced distribution on rows (scenario-periods) × columns (slots in tie order).

    Each row is sorted by (group, active first, score high first, column); a column's place in
    its group is its position minus the group's first position; quotas per row and group come
    from ``apportion`` on the active counts; the grade is the number of cumulative quotas the
    place reaches. Returns −1 where not active.
    """
    R, n = score.shape
    K = ratios.shape[-1]
    if n == 0:
        return np.full((R, n), -1, dtype=np.int64)
    G = max(n_groups, 1)
    gfull = np.broadcast_to(gcode, (R, n)).astype(np.int64, copy=False)
    flat = np.arange(R, dtype=np.int64)[:, None] * G + gfull
    sizes = np.bincount(flat[active], minlength=R * G)
    ratio_rows = (np.broadcast_to(ratios, (R * G, K)) if ratios.ndim == 1
                  else ratios.reshape(R * G, K))
    cum = np.cumsum(apportion(sizes, ratio_rows, method), axis=1)
    q = np.rint(np.where(active, score, 0.0) * 1e9)
    qmax = float(q[active].max()) if active.any() else 0.0
    qmin = float(q[active].min()) if active.any() else 0.0
    desc = np.where(active, qmax - q, 0.0).astype(np.int64)
    qbits = max(int(qmax - qmin).bit_length(), 1)
    gbits = max(int(G).bit_length(), 1)
    if gbits + qbits + 1 <= 62:
        key = (gfull << (qbits + 1)) | ((~active).astype(np.int64) << qbits) | desc
        order = np.argsort(key, axis=1, kind="stable")
    else:  # pragma: no cover - scores spanning more than ~10⁹ points
        order = np.lexsort((desc, ~active, gfull), axis=-1)
    gs = np.take_along_axis(gfull, order, axis=1)
    pos = np.arange(n, dtype=np.int64)
    new = np.ones((R, n), dtype=bool)
    new[:, 1:] = gs[:, 1:] != gs[:, :-1]
    place = pos - np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    row_group = np.arange(R, dtype=np.int64)[:, None] * G + gs
    grades = np.zeros((R, n), dtype=np.int64)
    for k in range(K - 1):
        grades += cum[:, k].take(row_group) <= place
    if share_better:
        ds = np.take_along_axis(desc, order, axis=1)
        new[:, 1:] |= ds[:, 1:] != ds[:, :-1]
        grades = np.take_along_axis(grades, np.maximum.accumulate(np.where(new, pos, 0), axis=1),
                                    axis=1)
    out = np.empty((R, n), dtype=np.int64)
    np.put_along_axis(out, order, grades, axis=1)
    out[~active] = -1
    return out


def _rank_padded(score: np.ndarray, active: np.ndarray, rule: _Rule, ratios: np.ndarray
                 ) -> np.ndarray:
    """``_rank_grades`` for fixed groups: each group's columns gathered into a padded
    (rows, groups, largest group) array and sorted on its own; many small sorts cost several
    times less than one sort of the whole row. Values where not active are undefined.
    """
    pad, method, share_better = rule.pad, rule.apportion, rule.share_better
    R = score.shape[0]
    G, S = pad.shape
    K = ratios.shape[-1]
    valid = pad >= 0
    at = np.where(valid, pad, 0)
    act = active[:, at] & valid
    sizes = act.sum(axis=2).ravel()
    ratio_rows = np.broadcast_to(ratios, (R * G, K)) if ratios.ndim == 1 else ratios.reshape(
        R * G, K)
    cum = np.cumsum(apportion(sizes, ratio_rows, method), axis=1).reshape(R, G, K)
    q = np.rint(np.where(act, score[:, at], 0.0) * 1e9)
    qmax = float(q[act].max()) if act.any() else 0.0
    qmin = float(q[act].min()) if act.any() else 0.0
    desc = np.where(act, qmax - q, 0.0).astype(np.int64)
    qbits = max(int(qmax - qmin).bit_length(), 1)
    pbits = max(int(S).bit_length(), 1)
    pos = np.arange(S, dtype=np.int64)
    if qbits + pbits + 1 <= 62:  # unique keys: the default (fastest) sort is exact
        key = ((~act).astype(np.int64) << (qbits + pbits)) | (desc << pbits) | pos
        order = np.argsort(key, axis=2)
    else:  # pragma: no cover - scores spanning more than ~10⁹ points
        order = np.lexsort((np.broadcast_to(pos, act.shape), desc, ~act), axis=-1)
    ranked = np.zeros((R, G, S), dtype=np.int64)
    for k in range(K - 1):
        ranked += cum[:, :, k:k + 1] <= pos
    if share_better:
        ds = np.take_along_axis(desc, order, axis=2)
        new = np.ones((R, G, S), dtype=bool)
        new[..., 1:] = ds[..., 1:] != ds[..., :-1]
        ranked = np.take_along_axis(ranked, np.maximum.accumulate(np.where(new, pos, 0), axis=2),
                                    axis=2)
    grades = np.empty((R, G, S), dtype=np.int64)
    np.put_along_axis(grades, order, ranked, axis=2)
    return grades.reshape(R, G * S).take(rule.unpad, axis=1)


def _forced_rows(rule: _Rule, score: np.ndarray, active: np.ndarray, scale) -> np.ndarray:
    """A forced rule with its small-group rule (thresholds, or one pooled group per row)."""
    R, n = score.shape
    gcode, G = rule.gcode, rule.n_groups
    by_threshold = None
    if rule.small_rule != "round" and n:
        flat = np.arange(R, dtype=np.int64)[:, None] * max(G, 1) + gcode
        sizes = np.bincount(flat[active], minlength=R * max(G, 1))
        small = (sizes[flat] <= rule.small_max) & active
        if small.any():
            if rule.small_rule == "thresholds":
                by_threshold = small
                active = active & ~small
            else:
                gcode = np.where(small, G, gcode[None, :])
                G += 1
    pad = rule.padded() if gcode.ndim == 1 else None
    if pad is not None:
        out = _rank_padded(score, active, rule, rule.ratios)
    else:
        out = _rank_grades(score, active, gcode, G, rule.ratios, rule.apportion,
                           rule.share_better)
    if by_threshold is not None:
        t = thresholds(score.ravel(), scale).reshape(R, n)
        out = np.where(by_threshold, t, out)
    return out


def _grade_rows(m: _Model, plan: list[_Rule], score: np.ndarray, rated: np.ndarray,
                veto: np.ndarray | None) -> np.ndarray:
    """Grade index per (scenario-period, slot), −1 where not graded (vectorised engine.grade)."""
    scale = m.policy.grading.scale
    K = len(scale.grades)
    out = np.full(score.shape, -1, dtype=np.int64)
    active = rated
    if veto is not None:
        out[rated & veto] = K - 1
        active = rated & ~veto
    for rule in plan:
        if rule.all_cols:
            sc, act, cur = score, active, out
        else:
            sc, act, cur = score[:, rule.cols], active[:, rule.cols], out[:, rule.cols]
        if rule.method == "thresholds":
            g = thresholds(sc.ravel(), scale).reshape(sc.shape)
        elif rule.method == "forced":
            g = _forced_rows(rule, sc, act, scale)
        else:
            lg = (np.where(rule.group_leader >= 0, out.take(np.maximum(rule.group_leader, 0), axis=1),
                           -1) if len(rule.group_leader) else np.zeros((len(sc), 0), dtype=np.int64))
            act = act & (np.take(lg, rule.gcode, axis=1) >= 0) if len(rule.gcode) else act
            ratios = rule.ratios[np.maximum(lg, 0)]
            pad = rule.padded()
            g = (_rank_padded(sc, act, rule, ratios)
                 if pad is not None else _rank_grades(sc, act, rule.gcode, rule.n_groups, ratios,
                                                      rule.apportion, rule.share_better))
        new = np.where(act & (g >= 0), g, cur)
        if rule.all_cols:
            out = new
        else:
            out[:, rule.cols] = new
    return out


# ---------------------------------------------------------------------------------------------
# Paying rows of scenarios × slots


@dataclass
class _PayPlan:
    """Pay per slot: constant units (fixed parts and historical means) and score/grade parts."""

    unit: float
    rounding: str
    const: np.ndarray
    parts: list[tuple]
    mean_units: dict[str, np.ndarray]
    lo: int | None
    hi: int | None
    pool_units: int | None
    pool_group: np.ndarray | None
    n_pool_groups: int


def _slot_population(m: _Model, score: np.ndarray | None = None, rated: np.ndarray | None = None,
                     lowest: np.ndarray | None = None) -> Population:
    """The slots as an engine Population of one period (for amounts and the reference loop)."""
    N = m.n_slots
    return Population(
        person=np.arange(N, dtype=np.int64), period=np.zeros(N, dtype=np.int64),
        period_label=pd.Categorical.from_codes(np.zeros(N, dtype=np.int64), ["next"]),
        score=np.zeros(N) if score is None else score,
        rated=np.ones(N, dtype=bool) if rated is None else rated, card=m.card,
        lowest=np.zeros(N, dtype=bool) if lowest is None else lowest, ids=m.ids,
        column=m.column, row_numbers=np.arange(N))


def _people_column(frame, name: str) -> bool:
    """Whether ``name`` is a people column (constant per person), not a records column."""
    return name not in frame.records.frame.columns and frame.people is not None and (
        name in frame.people.frame.columns)


def _mean_units(m: _Model, result: Result, column: str, spec) -> np.ndarray:
    """Each slot's historical mean amount of a payouts column per paid period, in units."""
    payouts = result.payouts
    frame = result.frame
    person = (np.asarray(frame.person) if spec.on == "period"
              else result.rollup_rows[spec.on].person)
    ok = (payouts["status"] == "rated").to_numpy()
    values = payouts[column].to_numpy(dtype=np.float64)
    n_p = int(person.max(initial=0)) + 1
    s = np.bincount(person[ok], weights=values[ok], minlength=n_p)
    c = np.bincount(person[ok], minlength=n_p)
    everyone = float(values[ok].mean()) if ok.any() else 0.0
    slot_person = np.asarray(frame.person)[m.column.rows]
    mean = np.where(c[slot_person] > 0, s[slot_person] / np.maximum(c[slot_person], 1), everyone)
    return to_units(mean, spec.unit)


def _score_part(m: _Model, ctx: _Context, name: str, comp, sign: int, when: np.ndarray):
    """A component computed from the score or grade: a table per slot, or a formula."""
    spec = m.policy.pay
    N = m.n_slots

    def units(amount: np.ndarray) -> np.ndarray:
        return sign * np.where(when, to_units(amount, spec.unit, spec.rounding), 0)

    if isinstance(comp, P.ScoreBands):
        levels = [b.min for b in comp.bands] + [-np.inf]
        table = np.stack([units(component_amount(_Context(ctx.frame, _slot_population(
            m, np.full(N, level)), None, None, {}), name, comp, None)) for level in levels], axis=1)
        mins = np.array([b.min - tol(b.min) for b in comp.bands])
        return ("bands", table, mins)
    if isinstance(comp, P.GradeCoefficient):
        K = len(m.policy.grading.scale.grades) if m.policy.grading else 0
        cols = []
        for g in [*range(K), -1]:
            ctx.grades = np.full(N, g)
            cols.append(units(component_amount(ctx, name, comp, None)))
        ctx.grades = None
        return ("grades", np.stack(cols, axis=1))
    if isinstance(comp, P.ScorePercent):
        base = ctx.amount(comp.base, f"pay.components.{name}.base")
        return ("percent", base, comp.max_percent, sign, when)
    if isinstance(comp, P.PointsBelow):
        return ("below", comp.threshold, comp.rate, sign, when)
    amount = units(np.full(N, comp.amount))  # an award by score
    return ("above", comp.score_above + tol(comp.score_above), amount)


def _pay_plan(m: _Model, result: Result) -> _PayPlan:
    """Sort the pay components into constant, score/grade-driven and historical-mean parts."""
    spec = m.policy.pay
    frame = result.frame
    N = m.n_slots
    ctx = _Context(SimpleNamespace(policy=m.policy), _slot_population(m), None, None, {})
    const = np.zeros(N, dtype=np.int64)
    parts: list[tuple] = []
    means: dict[str, np.ndarray] = {}
    for name, comp in spec.components.items():
        sign = -1 if comp.deduct else 1
        when = np.ones(N, dtype=bool)
        by_score = isinstance(comp, P.Fixed | P.ScorePercent | P.ScoreBands | P.GradeCoefficient
                              | P.PointsBelow) or (isinstance(comp, P.Award) and comp.top is None)
        if comp.when is not None:
            if _people_column(frame, comp.when.column):
                when = holds(comp.when, m.column(comp.when.column))
            else:
                by_score = False
        if not by_score:
            means[name] = _mean_units(m, result, name, spec)
            const += means[name]
        elif isinstance(comp, P.Fixed):
            amount = ctx.amount(comp.base, f"pay.components.{name}.base")
            const += sign * np.where(when, to_units(amount, spec.unit, spec.rounding), 0)
        elif isinstance(comp, P.Award) and comp.score_above is None:
            const += sign * np.where(when, to_units(np.full(N, comp.amount), spec.unit), 0)
        else:
            parts.append(_score_part(m, ctx, name, comp, sign, when))
    if result.payouts is not None and "streaks" in result.payouts:
        means["streaks"] = _mean_units(m, result, "streaks", spec)
        const += means["streaks"]
    lo = None if spec.min is None else int(to_units(np.array([spec.min]), spec.unit)[0])
    hi = None if spec.max is None else int(to_units(np.array([spec.max]), spec.unit)[0])
    pool_units = pool_group = None
    n_pool = 0
    if spec.pool is not None:
        pool_units = int(to_units(np.array([spec.pool.amount]), spec.unit)[0])
        if spec.pool.by:
            codes, _ = column_codes(m.column(spec.pool.by))
            pool_group = pd.factorize(codes)[0].astype(np.int64)
        else:
            pool_group = np.zeros(N, dtype=np.int64)
        n_pool = int(pool_group.max(initial=-1)) + 1
    return _PayPlan(spec.unit, spec.rounding, const, parts, means, lo, hi, pool_units,
                    pool_group, n_pool)


def _part_units(plan: _PayPlan, part: tuple, score: np.ndarray, grades: np.ndarray | None
                ) -> np.ndarray:
    """Units of one score/grade part on (rows, slots)."""
    R, N = score.shape
    kind = part[0]
    if kind == "bands":
        table, mins = part[1], part[2]
        idx = np.zeros((R, N), dtype=np.int64)
        for lo in mins:
            idx += score < lo
        idx += np.arange(N, dtype=np.int64) * table.shape[1]
        return table.ravel().take(idx)
    if kind == "grades":
        table = part[1]
        K = table.shape[1] - 1
        g = np.full((R, N), K, dtype=np.int64) if grades is None else np.where(grades >= 0,
                                                                              grades, K)
        g += np.arange(N, dtype=np.int64) * table.shape[1]
        return table.ravel().take(g)
    if kind == "percent":
        base, cap, sign, when = part[1:]
        pct = score if cap is None else np.minimum(score, cap)
        return sign * np.where(when, to_units(base * pct / 100.0, plan.unit, plan.rounding), 0)
    if kind == "below":
        threshold, rate, sign, when = part[1:]
        amount = np.maximum(threshold - score, 0.0) * rate
        return sign * np.where(when, to_units(amount, plan.unit, plan.rounding), 0)
    bound, amount = part[1], part[2]
    return np.where(score > bound, amount, 0)


def _pay_rows(plan: _PayPlan, score: np.ndarray, rated: np.ndarray,
              grades: np.ndarray | None) -> np.ndarray:
    """Payout units per (scenario-period, slot) before the pool; 0 where not rated."""
    total = np.broadcast_to(plan.const, score.shape).copy()
    for part in plan.parts:
        total += _part_units(plan, part, score, grades)
    if plan.lo is not None or plan.hi is not None:
        np.clip(total, plan.lo, plan.hi, out=total)
    total[~rated] = 0
    return total


def _pool_cells(plan: _PayPlan, rated: np.ndarray) -> np.ndarray:
    """Per row (scenario-period): the number of pool groups with someone rated."""
    R = rated.shape[0]
    flat = np.arange(R, dtype=np.int64)[:, None] * plan.n_pool_groups + plan.pool_group
    has = np.bincount(flat[rated], minlength=R * plan.n_pool_groups) > 0
    return has.reshape(R, plan.n_pool_groups).sum(axis=1)


# ---------------------------------------------------------------------------------------------
# Running the blocks


@dataclass
class _Plans:
    """What grading and pay need, prepared once."""

    grade_on: str | None
    pay_on: str | None
    rules: list[_Rule] | None
    pay: _PayPlan | None
    K: int
    loop_grading: object = None


def _block_vectorised(m: _Model, plans: _Plans, d: _Draw) -> tuple[np.ndarray, ...]:
    """Totals (units), grade counts (current slots × grades), headcount and pool (units) for one
    block.
    """
    c, n_cur = d.c, m.n_current
    counts = np.zeros(n_cur * max(plans.K, 1), dtype=np.int64)
    grades = None
    if plans.grade_on is not None:
        on = plans.grade_on
        grades = _grade_rows(m, plans.rules, d.scores[on], d.rated[on], d.veto[on])
        g = grades[:, :n_cur]
        key = np.where(g >= 0, np.arange(n_cur, dtype=np.int64) * plans.K + g, n_cur * plans.K)
        counts = np.bincount(key.ravel(), minlength=n_cur * plans.K + 1)[:-1]
    totals = np.zeros(c, dtype=np.int64)
    paid = np.zeros(c, dtype=np.int64)
    pool = np.zeros(c, dtype=np.int64)
    if plans.pay is not None:
        on = plans.pay_on
        rated = d.rated[on]
        units = _pay_rows(plans.pay, d.scores[on], rated,
                          grades if plans.grade_on == on else None)
        totals = units.reshape(c, -1).sum(axis=1)
        if plans.pay.pool_units is not None:
            pool = plans.pay.pool_units * _pool_cells(plans.pay, rated).reshape(c, -1).sum(axis=1)
            totals += pool
        paid = rated.reshape(c, -1, m.n_slots).any(axis=1).sum(axis=1)
    return totals, counts, paid, pool


def _loop_grading(policy: Policy):
    """The policy's grading with every cascade set to leave a team without a leader ungraded."""
    grading = policy.grading
    rules = {}
    for name, rule in grading.rules.items():
        if rule.cascade is not None:
            rule = rule.model_copy(update={"cascade": rule.cascade.model_copy(
                update={"no_leader_grade": "not_graded"})})
        rules[name] = rule
    return grading.model_copy(update={"rules": rules})


def _loop_pay(m: _Model, plans: _Plans, pop: Population, grades: np.ndarray | None
              ) -> tuple[int, int]:
    """One scenario-period paid by the engine's component functions: total and pool units."""
    spec = m.policy.pay
    plan = plans.pay
    ctx = _Context(SimpleNamespace(policy=m.policy), pop, None, grades, {})
    total = np.zeros(pop.n, dtype=np.int64)
    for name, comp in spec.components.items():
        if name in plan.mean_units:
            units = plan.mean_units[name]
        else:
            amount = component_amount(ctx, name, comp, None)
            if comp.when is not None:
                amount = np.where(holds(comp.when, pop.column(comp.when.column)), amount, 0.0)
            units = to_units(amount, spec.unit, spec.rounding)
            units = -units if comp.deduct else units
        total += np.where(pop.rated, units, 0)
    if "streaks" in plan.mean_units:
        total += np.where(pop.rated, plan.mean_units["streaks"], 0)
    if plan.lo is not None or plan.hi is not None:
        total = np.clip(total, plan.lo, plan.hi)
    pool = 0
    if plan.pool_units is not None:
        pool = plan.pool_units * len(np.unique(plan.pool_group[pop.rated]))
    return int(np.where(pop.rated, total, 0).sum()) + pool, pool


def _block_loop(m: _Model, plans: _Plans, d: _Draw) -> tuple[np.ndarray, ...]:
    """The slow reference: each scenario-period graded by ``calib.grading.grade`` and paid by
    ``calib.payout.component_amount``, one at a time, from the same draws.
    """
    c, n_cur, K = d.c, m.n_current, max(plans.K, 1)
    counts = np.zeros(n_cur * K, dtype=np.int64)
    totals = np.zeros(c, dtype=np.int64)
    paid = np.zeros(c, dtype=np.int64)
    pool = np.zeros(c, dtype=np.int64)
    card_names = list(m.policy.scorecards)
    grades_by_row: dict[int, np.ndarray] = {}
    if plans.grade_on is not None:
        on = plans.grade_on
        for row in range(d.scores[on].shape[0]):
            veto = d.veto[on]
            pop = _slot_population(m, d.scores[on][row].copy(), d.rated[on][row].copy(),
                                   None if veto is None else veto[row].copy())
            g = grade(pop, plans.loop_grading, card_names).grade
            grades_by_row[row] = g
            ok = g[:n_cur] >= 0
            np.add.at(counts, np.flatnonzero(ok) * K + g[:n_cur][ok], 1)
    if plans.pay is not None:
        on = plans.pay_on
        rows = d.scores[on].shape[0]
        per = rows // c
        for row in range(rows):
            pop = _slot_population(m, d.scores[on][row].copy(), d.rated[on][row].copy())
            g = grades_by_row.get(row) if plans.grade_on == on else None
            t, p = _loop_pay(m, plans, pop, g)
            totals[row // per] += t
            pool[row // per] += p
        paid = d.rated[on].reshape(c, per, m.n_slots).any(axis=1).sum(axis=1)
    return totals, counts, paid, pool


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
    notes.append("every present month is rated and counts whole: absences (other than a "
                 "joiner's probation) and proration are not simulated")
    grading = m.policy.grading
    if grading is not None:
        kinds = sorted({r.method for r in grading.rules.values()})
        notes.append(f"grades by {', '.join(kinds)} on '{grading.on}' (tie columns: the "
                     "person's last value); ranks and streak flags not simulated")
        if any(r.method == "cascade" for r in grading.rules.values()):
            notes.append("cascade: the leader's simulated grade picks the team's ratios; a team "
                         "whose leader is gone is not graded")
    if plans.pay is not None:
        if plans.pay.mean_units:
            notes.append("historical mean amount per paid period: "
                         + ", ".join(sorted(plans.pay.mean_units)))
        if plans.pay.pool_units is not None:
            notes.append("bonus pool: paid out exactly in each period and pool group with someone "
                         "rated" + ("; the pay's min/max clip the other components only"
                                    if plans.pay.lo is not None or plans.pay.hi is not None
                                    else ""))
        if m.policy.pay.merit is not None:
            notes.append("merit matrix (R35) not simulated")
    else:
        notes.append("the policy has no pay section: totals are 0")
    return notes


def simulate(policy: Policy, data_or_result: Result | object, n: int = 1000, seed: int = 0,
             noise: float | None = None, months: int = 12, group_effects: bool = True,
             joiners: bool = True, budget: float | None = None, batch: int = 500,
             progress: bool = True, group_by: list[str] | None = None,
             method: str = "vectorised", workers: int | None = None) -> Simulation:
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
    """
    from tqdm.auto import tqdm

    from calib.engine import run

    if n < 1 or months < 1:
        raise ValueError("n and months must be at least 1")
    if method not in ("vectorised", "loop"):
        raise ValueError("method is 'vectorised' or 'loop'")
    result = data_or_result if isinstance(data_or_result, Result) else run(policy, data_or_result)
    build_ss, run_ss = np.random.SeedSequence(seed).spawn(2)
    m = _fit(policy, result, months, noise, group_effects, joiners, group_by,
             np.random.default_rng(build_ss))
    K = len(policy.grading.scale.grades) if policy.grading is not None else 0
    plans = _Plans(policy.grading.on if policy.grading else None,
                   policy.pay.on if policy.pay else None,
                   _grade_plan(m) if policy.grading else None,
                   _pay_plan(m, result) if policy.pay else None, K)
    if method == "loop" and policy.grading is not None:
        plans.loop_grading = _loop_grading(policy)
    block = max(1, min(64, _BLOCK_ELEMENTS // max(1, months * m.n_slots)))
    n_blocks = -(-n // block)
    streams = run_ss.spawn(n_blocks)
    totals = np.zeros(n, dtype=np.int64)
    counts = np.zeros(m.n_current * max(K, 1), dtype=np.int64)
    paid, joined, left, pool = (np.zeros(n, dtype=np.int64) for _ in range(4))
    step = _block_vectorised if method == "vectorised" else _block_loop
    local = threading.local()

    def one(b: int) -> tuple:
        """Draw, grade and pay block ``b`` (in any thread: its random stream is its own)."""
        if not hasattr(local, "ws"):
            local.ws = _Workspace()
        c = min(block, n - b * block)
        d = _draw(m, np.random.default_rng(streams[b]), c, local.ws)
        return (*step(m, plans, d), d.joiners, d.leavers)

    threads = 1 if method == "loop" else max(1, min(workers or os.cpu_count() or 1, n_blocks))
    with tqdm(total=n, desc="simulate", unit="scenario", disable=not progress) as bar, \
            ThreadPoolExecutor(max_workers=threads) as pool_exec:
        pending = 0
        # a bounded window of blocks in flight keeps the memory flat whatever ``n``
        futures = {}
        next_block = 0
        for b in range(n_blocks):
            while next_block < n_blocks and next_block < b + 2 * threads:
                futures[next_block] = pool_exec.submit(one, next_block)
                next_block += 1
            t, k, h, pl, jn, lv = futures.pop(b).result()
            a = b * block
            c = len(t)
            totals[a:a + c], paid[a:a + c], pool[a:a + c] = t, h, pl
            joined[a:a + c], left[a:a + c] = jn, lv
            counts += k
            pending += c
            if pending >= batch or b == n_blocks - 1:
                bar.update(pending)
                pending = 0
    unit = policy.pay.unit if policy.pay else 0.01
    probs = pd.DataFrame(columns=policy.grading.scale.names() if K else [], dtype=float)
    if K:
        table = counts.reshape(m.n_current, K).astype(np.float64)
        seen = table.sum(axis=1) > 0
        probs = pd.DataFrame(table[seen] / table[seen].sum(axis=1, keepdims=True),
                             index=pd.Index(m.ids[:m.n_current][seen], name="id"),
                             columns=policy.grading.scale.names())
    pool_total = None
    if plans.pay is not None and plans.pay.pool_units is not None:
        pool_total = float(units_to_float(np.array([pool.mean()]), unit)[0])
    sim = Simulation(policy=policy, n=n, seed=seed, months=months, people=m.n_current,
                     unit=unit, totals=units_to_float(totals, unit), grade_probabilities=probs,
                     pool_total=pool_total, history_total=_history_total(result, policy, months),
                     budget=budget, headcount=paid, joiners=joined, leavers=left,
                     params=m.params, notes=_notes(m, plans))
    return sim
