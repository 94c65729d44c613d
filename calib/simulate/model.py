"""The Monte Carlo model fitted from the history (see ``calib.simulate.monte_carlo``): each person's rated
months (with their proration shares) and rate of months not rated, group effects, noise, turnover
and the graded or paid populations.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from calib.engine.eligibility import proration
from calib.engine.grading import column_codes
from calib.engine.result import Result
from calib.errors import SimulationError
from calib.policy.groups import group_columns
from calib.policy.model import Policy

PSEUDO_HISTORY = 48
"""Scores sampled once per joiner slot (and per current person without rated history)."""

DRAW_BITS = 16
"""Random bits per bootstrapped month (``calib.simulate.draw``): 2¹⁶ equally likely values."""


_ROLLUP_MONTHS = {("month", "quarter"): 3, ("month", "year"): 12, ("quarter", "year"): 4,
                  ("week", "quarter"): 13, ("week", "year"): 52}


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


class _SlotColumns(Protocol):
    """A slot column by name, one value per slot: ``_Slots`` reads them from the history's
    frame, ``calib.simulate.run._Columns`` holds those already read (a cluster worker's).
    """

    def __call__(self, name: str) -> np.ndarray:
        """The column ``name`` per slot."""
        ...


@dataclass(frozen=True)
class _Effects:
    """Group effects (``_group_effects``): γ of each group's historical periods, flat by group
    (group g's ``count[g]`` values from ``offset[g]``), and each slot's group.
    """

    gamma: np.ndarray
    offset: np.ndarray
    count: np.ndarray
    slot: np.ndarray


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
    share_flat: np.ndarray | None
    """The proration share of each month of ``flat`` (None when the policy has no proration)."""
    offset: np.ndarray
    count: np.ndarray
    cut: np.ndarray | None
    """Per slot: the 16-bit draws below it are months not rated (None when nobody misses one)."""
    mult: np.ndarray | None
    base: np.ndarray | None
    """Per slot: a draw u ≥ ``cut`` picks the month ⌊(u · mult + base) / 2³²⌋ of ``flat`` (see
    ``_cuts``)."""
    lo: float
    hi: float
    sd: float
    effects: _Effects | None
    """Group effects (None without)."""
    leave_rate: float
    hire_lambda: float
    probation: int
    turnover: bool
    pops: dict[str, _Pop]
    column: _SlotColumns
    params: dict[str, Any]
    notes: list[str]


def _take(values: object, rows: np.ndarray) -> np.ndarray:
    """Values of a frame column at ``rows`` as a numpy array."""
    if isinstance(values, pd.Series):
        return values.iloc[rows].to_numpy()
    if isinstance(values, pd.Categorical):
        return np.asarray(values.take(rows), dtype=object)
    return np.asarray(values)[rows]


def _row_groups(frame: Any, columns: list[str]) -> np.ndarray:
    """Group code per records row from ``columns`` (0 everywhere when there are none)."""
    key = np.zeros(frame.n, dtype=np.int64)
    for col in columns:
        codes, names = column_codes(frame.column(col))
        key = key * len(names) + codes
    return pd.factorize(key)[0].astype(np.int64)


def _group_effects(y: np.ndarray, rated: np.ndarray, person: np.ndarray, pcode: np.ndarray,
                   egroup: np.ndarray, n_periods: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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


def _turnover(frame: Any, pcode: np.ndarray, n_periods: int, rated: np.ndarray
              ) -> tuple[float, float, int]:
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


def _not_rated_rates(person: np.ndarray, pcode: np.ndarray, rated: np.ndarray,
                     slot_of_person: np.ndarray, n_cur: int) -> tuple[np.ndarray, float]:
    """Each current person's rate of months not rated (months not rated / months present), and
    the population's. A joiner's probation months (a person whose first row is after the
    history's first period, before their first rated month) are left out; a current person
    with no month left has the population's rate.
    """
    n_person = int(person.max(initial=0)) + 1
    never = np.iinfo(np.int64).max
    first = np.full(n_person, never, dtype=np.int64)
    first_rated = np.full(n_person, never, dtype=np.int64)
    np.minimum.at(first, person, pcode)
    np.minimum.at(first_rated, person[rated], pcode[rated])
    present = ~((first[person] > 0) & (pcode < first_rated[person]))
    missed = present & ~rated
    pop = float(missed.sum() / present.sum()) if present.any() else 0.0
    slot = slot_of_person[person]
    mine = present & (slot >= 0)
    months = np.bincount(slot[mine], minlength=n_cur)
    missing = np.bincount(slot[mine], weights=missed[mine], minlength=n_cur)
    return np.where(months > 0, missing / np.maximum(months, 1), pop), pop


def _cuts(rate: np.ndarray, count: np.ndarray, offset: np.ndarray
          ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Per slot, how a month's 16 random bits u split into not rated and a rated month: u below
    ``cut`` = rate × 2¹⁶ (rounded) is not rated; otherwise it is the month ⌊(u − cut) · count /
    (2¹⁶ − cut)⌋ of the slot's ``count`` rated months, found as ``offset`` + ⌊(u − cut) · mult /
    2³²⌋ = ⌊(u · mult + base) / 2³²⌋ with mult = ⌈count · 2³² / (2¹⁶ − cut)⌉ and base =
    offset · 2³² − cut · mult. Exact: the error (u − cut) · (mult − count · 2³² / (2¹⁶ − cut)) / 2³²
    stays below (2¹⁶ − cut) / 2³² ≤ 1 / (2¹⁶ − cut), the least distance from the exact quotient
    up to the next whole number. With cut 0 it is offset + ⌊u · count / 2¹⁶⌋, the draw of a
    history without absences. Returns (cut, mult, base), or Nones when no slot misses a month.
    """
    span = 1 << DRAW_BITS
    cut = np.minimum(np.rint(rate * span), span).astype(np.int64)
    if not cut.any():
        return None, None, None
    room = span - cut
    count = count.astype(np.int64)
    mult = np.where(room > 0, -(-(count << 32) // np.maximum(room, 1)), 0)
    # |u · mult + base| < 2⁶³: at most (offset + count) · 2³² and cut · mult ≤ 2⁴⁸ · count
    if int((offset + count).max(initial=0)) >= 1 << 30 or int(count.max(initial=0)) >= 1 << 14:
        raise SimulationError("the history is too long to simulate absences from (more than "
                              "2³⁰ months in all or 2¹⁴ per person)")
    return cut, mult, (offset.astype(np.int64) << 32) - cut * mult


def _shares(policy: Policy, frame: Any) -> np.ndarray | None:
    """The engine's proration share of each history row under ``policy`` (None without)."""
    if policy.eligibility.proration is None:
        return None
    return np.asarray(proration(frame.under(policy)), dtype=np.float64)


class _Slots:
    """Per-slot attributes: a slot's records row (its own last row, or its template's)."""

    def __init__(self, frame: Any, rows: np.ndarray) -> None:
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
    if rollup.adjusts:
        raise SimulationError(
            f"the roll-up '{name}' adds points, bounds its score or applies vetoes after the "
            "weighting (rollups.{name}.add / min / max / vetoes), which the Monte Carlo does not "
            "draw: it would simulate another rule. Simulate with a copy of the policy without "
            "them, and read the result as before those adjustments".replace("{name}", name))
    k = _ROLLUP_MONTHS.get((policy.calendar.frequency, rollup.to))
    if k is None or months % k:
        raise SimulationError(f"the policy grades or pays on '{name}' ({rollup.to} of "
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
        raise SimulationError("simulate needs a Result from calib.run (with its frame)")
    scores = result.scores
    notes: list[str] = []
    y = scores["score"].to_numpy(dtype=np.float64)
    rated = (scores["status"] == "rated").to_numpy() & ~np.isnan(y)
    if not rated.any():
        raise SimulationError("nobody is rated in the history: there is nothing to simulate from")
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
    effects = None  # each history row's group for now, each slot's below
    if group_effects:
        cols = group_columns(policy) if group_by is None else list(group_by)
        egroup = _row_groups(frame, cols)
        a, gamma, g_offset, g_count = _group_effects(y, rated, person, pcode, egroup, n_periods)
        effects = _Effects(gamma, g_offset, g_count, egroup)
        notes.append(f"group effects by {' × '.join(cols) if cols else 'the whole population'}"
                     f" ({len(g_count)} groups)")
    else:
        a = np.where(rated, y, np.nan)

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
    if effects is not None:
        effects = dataclasses.replace(effects, slot=effects.slot[slot_rows])
    share_row = _shares(policy, frame)
    pieces, vetoes = [a[hist]], [veto_row[hist]] if veto_row is not None else []
    shares = [share_row[hist]] if share_row is not None else []
    needs = np.flatnonzero(np.r_[count == 0, np.ones(n_join, dtype=bool)])
    for s in needs:
        pick = build_rng.choice(pools[slot_card[s]], PSEUDO_HISTORY)
        pieces.append(a[pick])
        if veto_row is not None:
            vetoes.append(veto_row[pick])
        if share_row is not None:
            shares.append(share_row[pick])
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
    share_flat = np.concatenate(shares) if share_row is not None else None

    # absences: each slot's months not rated at its rate (a joiner's: the population's)
    rate, pop_rate = _not_rated_rates(person, pcode, rated, slot_of_person, n_cur)
    slot_rate = np.r_[rate, np.full(n_join, pop_rate)]
    cut, mult, base = _cuts(slot_rate, full_count, offset)

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
              "score_range": (float(y[rated].min()), float(y[rated].max())),
              "not_rated_rate": pop_rate, "not_rated_rates": pd.Series(
                  rate, index=pd.Index(ids[:n_cur], name="id"), name="not rated rate"),
              "proration_mean": (float(share_flat[:int(real.sum())].mean())
                                 if share_flat is not None and real.sum() else None)}
    return _Model(policy=policy, months=months, n_current=n_cur, n_slots=n_slots, ids=ids,
                  card=slot_card, flat=flat, veto_flat=veto_flat, share_flat=share_flat,
                  offset=offset, count=full_count, cut=cut, mult=mult, base=base,
                  lo=float(y[rated].min()), hi=float(y[rated].max()), sd=sd,
                  effects=effects,
                  leave_rate=leave if joiners else 0.0, hire_lambda=lam, probation=probation,
                  turnover=joiners and (leave > 0 or lam > 0), pops=pops, column=slots,
                  params=params, notes=notes)
