"""One block of Monte Carlo scenarios graded and paid (``calib.simulate.monte_carlo``): the vectorised path
and the slow reference loop (``method="loop"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calib.engine.grading import Population, grade
from calib.engine.payout import component_units, merit_units
from calib.engine.streaks import ranks
from calib.policy.grading import Grading
from calib.policy.pay import Pay
from calib.simulate.draw import _Draw, _Workspace
from calib.simulate.grade import _forced_counts, _grade_rows, _Rule
from calib.simulate.groups import _Groups, _slot_units
from calib.simulate.model import _Model
from calib.simulate.pay import (
    _context,
    _joined,
    _part_months,
    _pay_totals,
    _PayPlan,
    _pool_paid,
    _ranked_months,
    _rated_counts,
    _slot_population,
    _streak_months,
)


@dataclass
class _Plans:
    """What grading and pay need, prepared once: ``grade_on`` and ``rules`` with the policy's
    grading (else None), ``pay_on`` and ``pay`` with its pay.
    """

    grade_on: str | None
    pay_on: str | None
    rules: list[_Rule] | None
    pay: _PayPlan | None
    K: int
    loop_grading: Grading | None = None
    """For ``method="loop"`` with grading: the grading ``_loop_grading`` makes."""
    groups: _Groups | None = None
    """The groups to total each scenario's pay by (``simulate(totals_by=...)``), or None."""

    @property
    def n_groups(self) -> int:
        """Number of groups totalled (0 without ``groups``)."""
        return 0 if self.groups is None else self.groups.n


def _grade_counts(g: np.ndarray, c: int, K: int, ws: _Workspace) -> np.ndarray:
    """Periods each slot (column of ``g``, rows: ``c`` scenarios × periods) has each grade, per
    scenario: (K, c, slots), uint8 when a scenario has fewer than 256 periods (no casts), else
    int64.
    """
    R, n = g.shape
    P = R // c
    small = np.uint8 if P < 256 else np.int64
    counts = np.empty((K, c, n), dtype=small)
    has = ws.get("counts.has", (c, P, n), bool)
    for k in range(K):
        np.equal(g.reshape(c, P, n), k, out=has)
        np.add.reduce(has.view(np.uint8), axis=1, dtype=small, out=counts[k])
    return counts


def _grade_block(m: _Model, plans: _Plans, d: _Draw, ws: _Workspace
                 ) -> tuple[np.ndarray | None, np.ndarray]:
    """The grades of the block's rows (None when nothing needs them) and each slot's periods at
    each grade per scenario, (K, c, slots). One forced rule over every slot and no vetoes, with
    no clipped pay reading the grades: the counts straight from the ranking's comparisons.
    """
    on, rules = plans.grade_on, plans.rules
    assert on is not None and rules is not None, "only with grading (``_Plans`` has both)"
    score, rated, veto = d.scores[on], d.rated[on], d.veto[on]
    rule = rules[0]
    pairs = (d.c, *d.partial)
    pay = plans.pay if plans.pay is not None and plans.pay_on == on else None
    # per-element grades: for a clip, and for a part month's prorated component of the grade
    needs_grades = pay is not None and (pay.clips or (d.share.get(on) is not None and any(
        comp.reads_grades for _, comp in pay.prorated)) or (pay.streaks is not None and any(
            s.when.grade_in is not None for s in pay.streaks.streaks.values())))
    if (len(rules) == 1 and plans.K > 1 and veto is None and not needs_grades
            and rule.form == "quotas"
            and rule.small_rule == "round" and rule.all_cols and rule.padded() is not None):
        bound = max(abs(m.lo), abs(m.hi)) if on == "period" else None  # months are clipped
        per_grade = _forced_counts(rule, score, rated, pairs, _rated_counts(rated, d.c), ws,
                                   bound)
        if per_grade is not None:
            return None, per_grade
    grades = _grade_rows(m, rules, score, rated, veto, ws, pairs)
    return grades, _grade_counts(grades, d.c, plans.K, ws)


def _block_vectorised(m: _Model, plans: _Plans, d: _Draw, ws: _Workspace | None = None
                      ) -> tuple[np.ndarray, ...]:
    """Totals (units), grade counts (current slots × grades), headcount, pool, merit raises
    (units) and the totals per group (units, (c, groups); (c, 0) without groups) for one block.
    """
    c, n_cur = d.c, m.n_current
    ws = ws or _Workspace()
    grades = per_grade = None
    if plans.grade_on is not None:
        grades, per_grade = _grade_block(m, plans, d, ws)
        wide = np.uint16 if len(d.scores[plans.grade_on]) < 2 ** 16 else np.int64  # block periods
        counts = np.add.reduce(per_grade[:, :, :n_cur], axis=1, dtype=wide).T.astype(np.int64).ravel()
    else:
        counts = np.zeros(n_cur, dtype=np.int64)
    totals = np.zeros(c, dtype=np.int64)
    paid = np.zeros(c, dtype=np.int64)
    pool = np.zeros(c, dtype=np.int64)
    merit = np.zeros(c, dtype=np.int64)
    by_group = np.zeros((c, plans.n_groups), dtype=np.int64)
    if plans.pay is not None:
        on = plans.pay_on
        assert on is not None, "with pay (``_Plans`` has both)"
        rated = d.rated[on]
        same = plans.grade_on == on
        g = grades if same else None
        score, share = d.scores[on], d.share.get(on)
        parts = _joined(_part_months(m, plans.pay, score, rated, g, share),
                        _streak_months(m, plans.pay, score, rated, g, len(rated) // c),
                        _ranked_months(m, plans.pay, score, rated, g, share))
        totals = _pay_totals(plans.pay, d.scores[on], rated, g, per_grade if same else None, c,
                             ws, d.partial, parts)
        if plans.groups is not None:  # the same units, summed per slot, then per group
            units = _slot_units(plans.pay, score, rated, g, per_grade if same else None, c, ws,
                                parts)
            by_group = plans.groups.of_slots(units) + plans.groups.pool(plans.pay, rated, c)
        if plans.pay.pool_units is not None:
            pool = _pool_paid(plans.pay, rated).reshape(c, -1).sum(axis=1)
            totals += pool
        paid = rated.reshape(c, -1, m.n_slots).any(axis=1).sum(axis=1)
        if plans.pay.merit is not None and same and per_grade is not None:
            merit = np.einsum("kcs,ks->c", per_grade, plans.pay.merit)
    return totals, counts, paid, pool, merit, by_group


def _loop_grading(grading: Grading) -> Grading:
    """The policy's ``grading`` with every cascade set to leave a team without a leader ungraded."""
    rules = {}
    for name, rule in grading.rules.items():
        if rule.cascade is not None:
            rule = rule.model_copy(update={"cascade": rule.cascade.model_copy(
                update={"no_leader_grade": "not_graded"})})
        rules[name] = rule
    return grading.model_copy(update={"rules": rules})


def _loop_pay(m: _Model, spec: Pay, plan: _PayPlan, pop: Population, grades: np.ndarray | None,
              share: np.ndarray | None = None, streaks: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """One scenario-period paid by the engine's own ``component_units`` (the kind's kernel,
    condition, proration by ``share``, rounding and sign) under ``spec`` (the policy's pay) and
    the means and pool of ``plan``, plus the units of the ``streaks`` it completes: each slot's
    units before the pool (0 where not rated) and the pool groups paid (someone rated in them).
    """
    rank = None
    if plan.ranked:  # the engine's ranks of this scenario-period (R26)
        assert m.policy.grading is not None, "``_ranks_drawn``: ranks need the policy's grading"
        rank = np.where(pop.rated, ranks(pop, m.policy.grading), 0).astype(np.int64)
    ctx = _context(m, pop, grades, rank)
    total = np.zeros(pop.n, dtype=np.int64)
    nobody = np.zeros(pop.n, dtype=bool)
    for name, comp in spec.components.items():
        if name in plan.mean_units:
            units = np.where(pop.rated, plan.mean_units[name], 0)
        else:
            units = component_units(ctx, name, comp, share, nobody)
        total += units
    if "streaks" in plan.mean_units:
        total += np.where(pop.rated, plan.mean_units["streaks"], 0)
    if streaks is not None:
        total += streaks
    if plan.lo is not None or plan.hi is not None:
        total = np.clip(total, plan.lo, plan.hi)
    pools = np.zeros(0, dtype=np.int64)
    if plan.pool_units is not None:
        assert plan.pool_group is not None, "``_pay_plan`` sets the pool's units and groups together"
        pools = np.unique(plan.pool_group[pop.rated])
    return np.where(pop.rated, total, 0), pools


def _block_loop(m: _Model, plans: _Plans, d: _Draw, ws: object = None) -> tuple[np.ndarray, ...]:
    """The slow reference: each scenario-period graded by ``calib.engine.grading.grade`` and paid by
    ``calib.engine.payout.component_units``, one at a time, from the same draws (``ws`` unused).
    """
    c, n_cur, K = d.c, m.n_current, max(plans.K, 1)
    counts = np.zeros(n_cur * K, dtype=np.int64)
    totals = np.zeros(c, dtype=np.int64)
    paid = np.zeros(c, dtype=np.int64)
    pool = np.zeros(c, dtype=np.int64)
    merit = np.zeros(c, dtype=np.int64)
    by_group = np.zeros((c, plans.n_groups), dtype=np.int64)
    card_names = list(m.policy.scorecards)
    grades_by_row: dict[int, np.ndarray] = {}
    if plans.grade_on is not None:
        on = plans.grade_on
        assert plans.loop_grading is not None, "``simulate`` makes it for the loop with grading"
        for row in range(d.scores[on].shape[0]):
            veto = d.veto[on]
            pop = _slot_population(m, d.scores[on][row].copy(), d.rated[on][row].copy(),
                                   None if veto is None else veto[row].copy())
            g = grade(pop, plans.loop_grading, card_names).grade
            grades_by_row[row] = g
            ok = g[:n_cur] >= 0
            np.add.at(counts, np.flatnonzero(ok) * K + g[:n_cur][ok], 1)
    if plans.pay is not None:
        pay_on, spec = plans.pay_on, m.policy.pay
        assert pay_on is not None and spec is not None, "with the policy's pay (``_Plans`` has both)"
        rows = d.scores[pay_on].shape[0]
        per = rows // c
        streaks = np.zeros((rows, m.n_slots), dtype=np.int64)
        for k in range(c):  # each scenario's streaks by the engine, one scenario at a time
            at = slice(k * per, (k + 1) * per)
            graded = (np.stack([grades_by_row[r] for r in range(k * per, (k + 1) * per)])
                      if plans.grade_on == pay_on and grades_by_row else None)
            found = _streak_months(m, plans.pay, d.scores[pay_on][at], d.rated[pay_on][at],
                                   graded, per)
            if found is not None:
                streaks[at].reshape(-1)[found[0]] += found[1]
        for row in range(rows):
            pop = _slot_population(m, d.scores[pay_on][row].copy(), d.rated[pay_on][row].copy())
            pg = grades_by_row.get(row) if plans.grade_on == pay_on else None
            share = d.share.get(pay_on)
            slots, pools = _loop_pay(m, spec, plans.pay, pop, pg,
                                     None if share is None else share[row].copy(), streaks[row])
            p = int(plans.pay.pool_units[pools].sum()) if plans.pay.pool_units is not None else 0
            totals[row // per] += int(slots.sum()) + p
            pool[row // per] += p
            groups = plans.groups
            if groups is not None:  # person by person, then each pool group to its group
                np.add.at(by_group[row // per], groups.code, slots)
                if groups.pool_to_group is not None and plans.pay.pool_units is not None:
                    np.add.at(by_group[row // per], groups.pool_to_group[pools],
                              plans.pay.pool_units[pools])
            if plans.pay.merit is not None and spec.merit is not None and pg is not None:
                merit[row // per] += merit_units(_context(m, pop, pg), spec.merit, pg,
                                                 spec.unit)[3].sum()
        paid = d.rated[pay_on].reshape(c, per, m.n_slots).any(axis=1).sum(axis=1)
    return totals, counts, paid, pool, merit, by_group
