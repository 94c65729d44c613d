"""Grading rows of Monte Carlo scenario-periods × slots (see ``calib.simulate.monte_carlo``): the policy's
thresholds, forced distributions and cascades, vectorised across rows.

Each rule is graded by its method's batched form (``calib.engine.grading.REGISTRY``), not by
the method's name: a method whose form the simulation cannot draw (grades given by the data)
is refused with its rule named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calib.engine.grading import column_codes, method_of, rule_order, thresholds
from calib.errors import SimulationError
from calib.kernels.apportion import apportion
from calib.policy.grading import Cascade, ForcedDistribution, GradeScale, Grading, Ties
from calib.simulate.draw import _Workspace
from calib.simulate.model import _Model


@dataclass
class _Rule:
    """One grading rule over the slots it covers (``cols``, in tie order); ``form`` is its
    method's batched form (``calib.engine.grading.method``: thresholds, quotas or cascade).
    """

    name: str
    form: str
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
    at: np.ndarray | None = None
    at_slots: np.ndarray | None = None
    valid: np.ndarray | None = None
    place: np.ndarray | None = None
    quota_table: np.ndarray | None = None
    placed: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    padding_rows: dict[int, np.ndarray] = field(default_factory=dict)
    """The padding's flat positions in every row of the padded layout, per number of rows."""

    def padded(self) -> np.ndarray | None:
        """(groups, largest group) positions into ``cols``, −1 for padding, each group's in tie
        order; None when padding would more than triple the work (very unequal groups).

        Also sets ``at`` (the padded positions flattened, padding at 0), ``at_slots`` (the same
        as slots), ``valid`` (not padding), ``place`` (the place in the group, as floats) and
        ``unpad`` (each column's place in the padding).
        """
        if self.pad is None:
            assert self.gcode is not None, "a forced rule or a cascade: ``_grade_plan`` sets its groups"
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
                self.unpad = np.empty(n, dtype=np.int64)
                self.unpad[order] = self.gcode[order] * S + within
                self.valid = self.pad.ravel() >= 0
                self.at = np.where(self.valid, self.pad.ravel(), 0)
                self.at_slots = self.cols[self.at]
                self.place = np.tile(np.arange(S, dtype=np.float64), G)
        return self.pad if self.pad.size else None

    def slots_placed(self, n_slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each of ``n_slots`` slots' position in the padded layout (−1: not the rule's), the
        padding's positions in a row of it, and the members per group (made in one assignment:
        threads share rules).
        """
        if self.placed is None or len(self.placed[0]) != n_slots:
            assert (self.pad is not None and self.unpad is not None and self.valid is not None
                    and self.gcode is not None), "only with the padded layout (``padded``)"
            place = np.full(n_slots, -1, dtype=np.int64)
            place[self.cols] = self.unpad
            G = self.pad.shape[0]
            self.placed = (place, np.flatnonzero(~self.valid),
                           np.bincount(self.gcode, minlength=G))
        return self.placed

    def quotas(self, sizes: np.ndarray, lead: np.ndarray | None = None,
               ws: _Workspace | None = None) -> np.ndarray:
        """Cumulative quotas of the better K − 1 grades, shape ``sizes.shape + (K − 1,)``, for
        groups of ``sizes`` active people (``lead``: the leader's grade per group, for a cascade).

        Equal to ``apportion`` on every group: a forced rule's quotas depend on the size only
        and come from a table made once (``apportion`` of 0 … n); a cascade's are apportioned
        once per distinct (leader grade, size) in the block. Both are row by row the same as
        apportioning every group (the divisor methods' search starts from the largest ratio of
        the rows given, the same over the distinct rows as over all of them). In ``ws`` if given.
        """
        assert self.ratios is not None, "a forced rule or a cascade: ``_grade_plan`` sets its ratios"
        n = len(self.cols)
        K = self.ratios.shape[-1]
        if lead is None:
            if self.quota_table is None:
                self.quota_table = np.cumsum(apportion(np.arange(n + 1), self.ratios, self.apportion),
                                             axis=1)[:, :K - 1]
            out = None if ws is None else ws.get("rank.quotas", (*sizes.shape, K - 1), np.int64)
            return self.quota_table.take(sizes, axis=0, out=out, mode="clip")
        key = np.maximum(lead, 0).astype(np.int64) * (n + 1) + sizes
        uniq, inverse = np.unique(key.ravel(), return_inverse=True)
        cum = np.cumsum(apportion(uniq % (n + 1), self.ratios[uniq // (n + 1)], self.apportion),
                        axis=1)[:, :K - 1]
        return cum[inverse].reshape((*sizes.shape, K - 1))


def _slot_groups(m: _Model, cols: np.ndarray, by: list[str]) -> tuple[np.ndarray, int]:
    """Group code per slot in ``cols`` from the ``by`` columns (as the engine factorizes them)."""
    key = np.zeros(len(cols), dtype=np.int64)
    for col in by:
        codes, names = column_codes(m.column(col))
        key = key * len(names) + codes[cols]
    codes = pd.factorize(key)[0].astype(np.int64)
    return codes, int(codes.max(initial=-1)) + 1


def _tie_order(m: _Model, cols: np.ndarray, ties: Ties) -> np.ndarray:
    """``cols`` ordered as the engine breaks score ties: tie columns, then person (slot) order."""
    if not ties.by:
        return cols
    keys: list[np.ndarray] = [cols]
    for key in reversed(ties.by):
        v = np.asarray(m.column(key.column), dtype=np.float64)[cols]
        keys.append(-v if key.order == "desc" else v)
    return cols[np.lexsort(keys)]


def _grade_plan(m: _Model, grading: Grading) -> list[_Rule]:
    """The policy's grading rules in dependency order, prepared per slot."""
    scale = grading.scale
    names = scale.names()
    card_index = {c: i for i, c in enumerate(m.policy.scorecards)}
    plan = []
    for name in rule_order(grading):
        rule = grading.rules[name]
        cards = [card_index[c] for c in rule.scorecards] if rule.scorecards else list(
            card_index.values())
        cols = np.flatnonzero(np.isin(m.card, cards))
        form = method_of(rule).form
        if form == "given":
            assert rule.given is not None, "the policy's validation: a rule has its settings"
            raise SimulationError(
                f"grading rule '{name}' takes its grades from the data (column "
                f"'{rule.given.column}'), and the Monte Carlo draws scores, not grades: it cannot "
                "simulate next year's grades under this rule. Simulate with a policy that grades "
                "these scorecards from their scores (thresholds, forced or cascade)")
        if form == "thresholds":
            plan.append(_Rule(name, "thresholds", cols, len(cols) == m.n_slots))
            continue
        settings: ForcedDistribution | Cascade | None = (
            rule.forced if form == "quotas" else rule.cascade)
        assert settings is not None, "the policy's validation: a rule has its method's settings"
        cols = _tie_order(m, cols, settings.ties)
        r = _Rule(name, form, cols, bool(np.array_equal(cols, np.arange(m.n_slots))),
                  apportion=settings.method, share_better=settings.ties.rule == "share_better")
        if isinstance(settings, ForcedDistribution):  # form "quotas"
            r.gcode, r.n_groups = _slot_groups(m, cols, settings.by)
            r.ratios = np.array([settings.ratios.get(g, 0.0) for g in names])
            r.small_rule, r.small_max = settings.small_groups.rule, settings.small_groups.max_size
        else:
            team, _ = column_codes(m.column(settings.team))
            lead_codes, lead_names = column_codes(m.column(settings.leader))  # as the engine
            lead = lead_names[lead_codes].astype(str)
            codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([team[cols], lead[cols]]))
            r.gcode, r.n_groups = codes.astype(np.int64), len(uniques)
            leaders = np.flatnonzero(m.card == card_index[settings.leaders])
            where = pd.Index(m.ids[leaders].astype(str)).get_indexer(
                [u[1] for u in uniques]) if len(uniques) else np.zeros(0, dtype=np.int64)
            r.group_leader = np.where(where >= 0, leaders[np.maximum(where, 0)], -1)
            r.ratios = np.array([[settings.ratios.get(g, {}).get(h, 0.0) for h in names]
                                 for g in names])
        if r.padded() is not None:  # built here, before the threads share the rule
            r.slots_placed(m.n_slots)
        if form == "quotas":
            r.quotas(np.zeros(0, dtype=np.int64))  # the table, made once
        plan.append(r)
    return plan


def _rank_grades(score: np.ndarray, active: np.ndarray, gcode: np.ndarray, n_groups: int,
                 rule: _Rule, lead: np.ndarray | None = None) -> np.ndarray:
    """Forced distribution on rows (scenario-periods) × columns (slots in tie order).

    Each row is sorted by (group, active first, score high first, column); a column's place in
    its group is its position minus the group's first position; quotas per row and group come
    from ``rule.quotas`` on the active counts; the grade is the number of cumulative quotas the
    place reaches. Returns −1 where not active.
    """
    assert rule.ratios is not None, "a forced rule or a cascade: ``_grade_plan`` sets its ratios"
    R, n = score.shape
    K = rule.ratios.shape[-1]
    if n == 0:
        return np.full((R, n), -1, dtype=np.int8)
    G = max(n_groups, 1)
    gfull = np.broadcast_to(gcode, (R, n)).astype(np.int64, copy=False)
    flat = np.arange(R, dtype=np.int64)[:, None] * G + gfull
    sizes = np.bincount(flat[active], minlength=R * G)
    cum = rule.quotas(sizes.reshape(R, G), lead).reshape(R * G, K - 1)
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
    grades = np.zeros((R, n), dtype=np.int8)
    for k in range(K - 1):
        grades += cum[:, k].take(row_group) <= place
    if rule.share_better:
        ds = np.take_along_axis(desc, order, axis=1)
        new[:, 1:] |= ds[:, 1:] != ds[:, :-1]
        grades = np.take_along_axis(grades, np.maximum.accumulate(np.where(new, pos, 0), axis=1),
                                    axis=1)
    out = np.empty((R, n), dtype=np.int8)
    np.put_along_axis(out, order, grades, axis=1)
    out[~active] = -1
    return out


def _pack_keys(key: np.ndarray, act: np.ndarray | None, place: np.ndarray, S: int,
               bound: float | None = None) -> int | None:
    """Turn the scores in ``key`` (rows, groups · S) into sort keys in place: (score high first,
    place in the group) packed in one exact float, −⌊score · 10⁹⌉ · 2ᵖ + place (the engine ranks
    ⌊score · 10⁹⌉, rint). Returns p, or None when the key needs more than a float's 53 bits
    (scores of some 10⁴ points and more, or NaN where ``act``; any NaN when ``act`` is None).
    ``bound``: a known bound on the scores' magnitude (finite scores, clipped to the history's
    range), which saves finding the largest and smallest key.
    """
    np.multiply(key, 1e9, out=key)
    np.rint(key, out=key)
    if bound is not None:
        hi = lo = float(np.rint(bound * 1e9))
    else:
        hi, lo = float(key.max(initial=0.0)), float(key.min(initial=0.0))
    if not (math.isfinite(hi) and math.isfinite(lo)):  # NaN or ∞ where not active
        if act is None:  # pragma: no cover - NaN scores
            return None
        hi = float(np.max(key, where=act, initial=0.0))
        lo = float(np.min(key, where=act, initial=0.0))
        if not (math.isfinite(hi) and math.isfinite(lo)):  # pragma: no cover - NaN scores
            return None
    pbits = max(int(S).bit_length(), 1)
    if int(max(abs(hi), abs(lo))).bit_length() + pbits + 1 > 53:  # pragma: no cover
        return None
    key *= -(2.0 ** pbits)  # whole numbers, times a power of two: exact
    key += place
    return pbits


def _sort_keys(key: np.ndarray, act: np.ndarray, inactive: np.ndarray, place: np.ndarray,
               S: int) -> int | None:
    """``_pack_keys``, then +∞ where not active (sorted last, at or above every quota)."""
    pbits = _pack_keys(key, act, place, S)
    if pbits is not None:
        np.copyto(key, np.inf, where=inactive)
    return pbits


def _idle_from_pairs(rule: _Rule, active: np.ndarray, pairs: tuple[int, np.ndarray, np.ndarray]
                     ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Who is not active in the rule's padded (rows, groups · S) layout, as flat positions (the
    padding's, then the others'), and
    the active count per (row, group), without a pass over every element: the padding (the
    same positions in every row) and, in the (scenario, slot) ``pairs`` (``c``, scenario, slot:
    every element not active is in one of them), the periods not active.
    """
    assert rule.pad is not None, "only with the padded layout (``_rank_padded``'s callers check)"
    R, N = active.shape
    G, S = rule.pad.shape
    c, pair_scenario, pair_slot = pairs
    P = R // c
    slot_place, padding, members = rule.slots_placed(N)
    pos = slot_place[pair_slot]
    mine = pos >= 0
    first = pair_scenario[mine] * P  # each pair's first row
    idle = ~active.take(np.add.outer(np.arange(0, P * N, N), first * N + pair_slot[mine]))
    idle_at = np.add.outer(np.arange(0, P * G * S, G * S), first * (G * S) + pos[mine])[idle]
    every_row = rule.padding_rows.get(R)
    if every_row is None:  # the padding of every row, kept per number of rows
        every_row = np.add.outer(np.arange(0, R * G * S, G * S), padding).ravel()
        rule.padding_rows[R] = every_row
    sizes = members - np.bincount(idle_at // S, minlength=R * G).reshape(R, G)  # // S: row, group
    return (every_row, idle_at), sizes


def _rank_padded(score: np.ndarray, active: np.ndarray, rule: _Rule, at: np.ndarray,
                 lead: np.ndarray | None = None, ws: _Workspace | None = None,
                 out: np.ndarray | None = None,
                 pairs: tuple[int, np.ndarray, np.ndarray] | None = None) -> np.ndarray | None:
    """``_rank_grades`` for fixed groups, on rows × the columns ``at`` (the rule's padded
    positions into ``score`` and ``active``): each group's columns in a padded (rows, groups,
    largest group) array. Returns grades (rows, rule's columns; −1 where not active; in ``out``
    or else in ``ws``); None when the scores do not fit the packed key (then use
    ``_rank_grades``). ``lead``: the leader's grade per (row, group), a cascade's.

    One plain sort of the packed float keys per group (several times faster than an argsort),
    and no sort order to scatter back: the person at place p of a group with cumulative quotas
    q₀ ≤ q₁ … has as grade the number of q_k ≤ p, that is the number of k whose key at place
    q_k is at most the person's own. With ties sharing the better grade, it is the number of
    q_k not above the first place of the person's score: the key at place q_k − 1 has a higher
    score.

    ``pairs`` (``c``, scenario, slot; only with ``at`` = ``rule.at_slots`` and no ``lead``): the
    (scenario, slot) pairs holding every element not active, when there are few (the joiners'
    and leavers'); then who is not active is found there (``_idle_from_pairs``) rather than by
    passes over every element.
    """
    assert rule.unpad is not None, "only with the padded layout (callers check ``rule.padded()``)"
    keyed = _padded_keys(score, active, rule, at, lead, ws, pairs)
    if keyed is None:  # pragma: no cover - scores of some 10⁴ points and more, or NaN
        return None
    key3, thr, idle, ws = keyed
    R, G, S = key3.shape
    # not active: −K, plus one for each of the K − 1 quotas its +∞ key reaches, is −1 (int8
    # views of the booleans: no casts)
    grades = ws.get("rank.grades", (R, G * S), np.int8)
    if isinstance(idle, tuple):  # flat positions
        grades[...] = 0
        for at_idle in idle:
            grades.reshape(-1)[at_idle] = -(thr.shape[2] + 1)
    else:  # a mask
        np.multiply(idle.view(np.int8), np.int8(-(thr.shape[2] + 1)), out=grades)
    grades3 = grades.reshape(R, G, S)
    above = ws.get("rank.active", (R, G, S), bool)
    for k in range(thr.shape[2]):
        np.greater_equal(key3, thr[:, :, k:k + 1], out=above)
        np.add(grades3, above.view(np.int8), out=grades3)
    if out is None:
        out = ws.get("rank.out", (R, len(rule.unpad)), np.int8)
    return grades.take(rule.unpad, axis=1, out=out, mode="clip")


def _padded_keys(score: np.ndarray, active: np.ndarray, rule: _Rule, at: np.ndarray,
                 lead: np.ndarray | None, ws: _Workspace | None,
                 pairs: tuple[int, np.ndarray, np.ndarray] | None, bound: float | None = None
                 ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | np.ndarray,
                            _Workspace] | None:
    """The packed keys of ``_rank_padded`` (rows, groups, S; +∞ where not active) and each
    group's quota thresholds (rows, groups, K − 1), with who is not active (flat positions when
    found from ``pairs``, else a mask) and the workspace; None when the keys do not fit a float.
    ``bound``: see ``_pack_keys`` (with ``pairs`` only).
    """
    assert rule.pad is not None and rule.place is not None and rule.valid is not None, (
        "only with the padded layout (``_rank_padded``'s callers check ``rule.padded()``)")
    ws = ws or _Workspace()
    R = score.shape[0]
    G, S = rule.pad.shape
    shape = (R, G * S)
    key = score.take(at, axis=1, out=ws.get("tmp", shape, np.float64), mode="clip")
    idle: tuple[np.ndarray, np.ndarray] | np.ndarray
    if pairs is not None and lead is None:
        idle, sizes = _idle_from_pairs(rule, active, pairs)
        pbits = _pack_keys(key, None, rule.place, S, bound)
        if pbits is not None:
            for at_idle in idle:
                key.reshape(-1)[at_idle] = np.inf  # (faster than ``put``)
    else:
        act = active.take(at, axis=1, out=ws.get("rank.active", shape, bool), mode="clip")
        act &= rule.valid
        act3 = act.reshape(R, G, S)
        if lead is not None:
            act3 &= (lead >= 0)[:, :, None]
        sizes = np.add.reduce(act3.view(np.uint8), axis=2,
                              dtype=np.int16 if S < 2 ** 15 else np.int64)
        inactive = np.logical_not(act, out=ws.get("rank.inactive", shape, bool))
        pbits = _sort_keys(key, act, inactive, rule.place, S)
        idle = inactive
    if pbits is None:  # pragma: no cover - scores of some 10⁴ points and more, or NaN
        return None
    key3 = key.reshape(R, G, S)
    srt = ws.get("idx", (R, G, S), np.float64)
    np.copyto(srt, key3)
    srt.sort(axis=2)
    cum = rule.quotas(sizes, lead, ws)
    at_place = ws.get("rank.place", cum.shape, np.int64)  # where each quota ends, in ``srt``
    if rule.share_better:
        np.maximum(np.subtract(cum, 1, out=at_place), 0, out=at_place)
    else:
        np.minimum(cum, S - 1, out=at_place)
    at_place += np.arange(R * G, dtype=np.int64).reshape(R, G, 1) * S  # each group's first place
    thr = srt.take(at_place, out=ws.get("rank.thresholds", cum.shape, np.float64), mode="clip")
    if rule.share_better:
        thr /= 2.0 ** pbits
        np.floor(thr, out=thr)
        thr += 1
        thr *= 2.0 ** pbits  # the key of the next score down: exact, whole numbers × 2ᵖ
        thr[cum == 0] = -np.inf
    else:
        thr[cum >= S] = np.inf
    return key3, thr, idle, ws


def _forced_counts(rule: _Rule, score: np.ndarray, rated: np.ndarray,
                   pairs: tuple[int, np.ndarray, np.ndarray], rated_counts: np.ndarray,
                   ws: _Workspace | None = None, bound: float | None = None
                   ) -> np.ndarray | None:
    """Periods each slot has each grade per scenario, (K, c, slots), for one forced rule over
    every slot graded among the rated (no vetoes), without the grades themselves: the periods
    whose key reaches each quota threshold, counted per (scenario, slot) straight from the
    comparisons (grade ≥ k + 1 where the key reaches threshold k; the thresholds rise with k),
    then differences. ``pairs``: see ``_rank_padded``; ``rated_counts``: rated periods per
    (scenario, slot); ``bound``: see ``_pack_keys``. None when the keys do not fit a float (then
    grade the rows).
    """
    assert rule.at_slots is not None, "only with the padded layout (``_grade_block`` checks)"
    keyed = _padded_keys(score, rated, rule, rule.at_slots, None, ws, pairs, bound)
    if keyed is None:  # pragma: no cover - scores of some 10⁴ points and more, or NaN
        return None
    key3, thr, _, ws = keyed
    R, G, S = key3.shape
    c = pairs[0]
    P, K = R // c, thr.shape[2] + 1
    small = np.uint8 if P < 256 else np.int64
    slot_place = rule.slots_placed(rated.shape[1])[0]
    active = rated_counts.astype(small, copy=False)
    reach = np.empty((K - 1, c, S * G), dtype=small)  # periods reaching each threshold
    above = ws.get("rank.active", (R, G, S), bool)
    for k in range(K - 1):
        np.greater_equal(key3, thr[:, :, k:k + 1], out=above)
        np.add.reduce(above.reshape(c, P, G * S).view(np.uint8), axis=1, dtype=small,
                      out=reach[k])
    reach = reach.take(slot_place, axis=2)  # (K − 1, c, slots)
    reach -= (P - active).astype(small)  # not active: +∞ keys reach every threshold
    counts = np.empty((K, c, len(slot_place)), dtype=small)
    np.subtract(active, reach[0], out=counts[0])  # grade k: reaches k thresholds, not k + 1
    np.subtract(reach[:-1], reach[1:], out=counts[1:K - 1])
    counts[K - 1] = reach[K - 2]
    return counts


def _forced_rows(rule: _Rule, score: np.ndarray, active: np.ndarray, scale: GradeScale,
                 ws: _Workspace | None = None) -> np.ndarray:
    """A forced rule with its small-group rule (thresholds, or one pooled group per row), on
    rows × the rule's columns. Returns grades; values where not active are undefined.
    """
    assert rule.gcode is not None, "a forced rule: ``_grade_plan`` sets its groups"
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
    out = None
    if gcode.ndim == 1 and rule.padded() is not None:
        assert rule.at is not None, "``padded`` made the layout"
        out = _rank_padded(score, active, rule, rule.at, ws=ws)
    if out is None:
        out = _rank_grades(score, active, gcode, G, rule)
    if by_threshold is not None:
        t = thresholds(score.ravel(), scale).reshape(R, n)
        out = np.where(by_threshold, t, out)
    return out


def _cascade_rows(rule: _Rule, score: np.ndarray, active: np.ndarray, out: np.ndarray,
                  ws: _Workspace | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A cascade on rows × all slots: the leaders' grades so far in ``out`` pick each team's
    ratios; a team whose leader is not graded is not graded. Returns grades and who is graded
    on the rule's columns (grades where not graded are undefined).
    """
    assert rule.group_leader is not None and rule.gcode is not None, (
        "a cascade: ``_grade_plan`` sets its groups and their leaders")
    R = score.shape[0]
    lead = (np.where(rule.group_leader >= 0, out.take(np.maximum(rule.group_leader, 0), axis=1), -1)
            if len(rule.group_leader) else np.zeros((R, 0), dtype=np.int8))
    act = active[:, rule.cols]
    if len(rule.gcode):
        act &= np.take(lead, rule.gcode, axis=1) >= 0
    g = None
    if rule.padded() is not None:
        assert rule.at_slots is not None, "``padded`` made the layout"
        g = _rank_padded(score, active, rule, rule.at_slots, lead, ws)
    if g is None:
        g = _rank_grades(score[:, rule.cols], act, rule.gcode, rule.n_groups, rule, lead)
    return g, act


def _rule_rows(rule: _Rule, score: np.ndarray, active: np.ndarray, out: np.ndarray,
               scale: GradeScale, ws: _Workspace, fresh: bool,
               pairs: tuple[int, np.ndarray, np.ndarray] | None = None
               ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """One rule's grades and who it grades (None: wherever the grade is not −1), on rows × the
    rule's columns; (None, None) when the grades were written straight into ``out`` (``fresh``:
    ``out`` is all −1 and the rule covers every slot). ``pairs``: see ``_rank_padded``.
    """
    if rule.form == "cascade":
        return _cascade_rows(rule, score, active, out, ws)
    if rule.form == "quotas" and rule.small_rule == "round" and rule.padded() is not None:
        assert rule.at_slots is not None, "``padded`` made the layout"
        direct = fresh and rule.all_cols
        g = _rank_padded(score, active, rule, rule.at_slots, ws=ws, out=out if direct else None,
                         pairs=pairs)
        if g is not None:
            return (None, None) if direct else (g, None)
    act = active if rule.all_cols else active[:, rule.cols]
    sc = score if rule.all_cols else score[:, rule.cols]
    if rule.form == "thresholds":
        return thresholds(sc.ravel(), scale).reshape(sc.shape), act
    return _forced_rows(rule, sc, act, scale, ws), act


def _grade_rows(m: _Model, plan: list[_Rule], score: np.ndarray, rated: np.ndarray,
                veto: np.ndarray | None, ws: _Workspace | None = None,
                pairs: tuple[int, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Grade index (int8) per (scenario-period, slot), −1 where not graded (vectorised
    ``engine.grade``). The result lives in ``ws`` (valid until its next use). ``pairs``: ``c``
    and the (scenario, slot) pairs holding every element not rated (see ``_rank_padded``).
    """
    assert m.policy.grading is not None, "graded only under a policy with grading (``plan``'s rules)"
    ws = ws or _Workspace()
    scale = m.policy.grading.scale
    K = len(scale.grades)
    out = ws.get("grades", score.shape, np.int8)
    out[...] = -1
    active = rated
    if veto is not None:
        out[rated & veto] = K - 1
        active = rated & ~veto
    for i, rule in enumerate(plan):
        g, act = _rule_rows(rule, score, active, out, scale, ws, fresh=veto is None and i == 0,
                            pairs=pairs if veto is None else None)
        if g is None:
            continue
        write = g >= 0 if act is None else act & (g >= 0)
        if rule.all_cols:
            np.copyto(out, g, where=write, casting="unsafe")
        else:
            cur = out[:, rule.cols]
            np.copyto(cur, g, where=write, casting="unsafe")
            out[:, rule.cols] = cur
    return out
