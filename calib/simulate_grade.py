"""Grading rows of Monte Carlo scenario-periods × slots (see ``calib.simulate``): the policy's
thresholds, forced distributions and cascades, vectorised across rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calib.grading import column_codes, rule_order, thresholds
from calib.kernels.apportion import apportion
from calib.simulate_model import _Model


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
