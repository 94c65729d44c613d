"""Monte Carlo totals per group (``simulate(totals_by=...)``, issue 21 item 8): each scenario's
pay summed by a group code per slot (branch, department), for the chance of overspending each
envelope of the policy's ``budgets``.

The sums are the scenario totals' own sums, kept per slot instead of added across slots: the same
units (whole numbers, the engine's rounding per component), so the groups of a scenario add up
to its total exactly. They are made only when asked for: a simulation without ``totals_by`` runs
exactly as before.

A bonus pool pays each pool group its amount whenever someone in it is rated; its amount is
put to a budget group when every slot of the pool group is in that budget group (the pool
shared per the same column, or a finer one). A pool shared across budget groups is refused:
how much of it each group gets depends on each person's share, which the Monte Carlo does not
draw (it pays the pool's total by construction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calib.engine.grading import column_codes
from calib.errors import SimulationError
from calib.simulate.draw import _Workspace
from calib.simulate.model import _Model
from calib.simulate.pay import _add_part, _pay_rows, _PayPlan, _rated_counts


@dataclass(frozen=True)
class _Groups:
    """The groups of ``by``: each slot's group code, the names (code order), the slots sorted by
    group with each group's first place in that order (for ``np.add.reduceat``), and each pool
    group's budget group (None without a pool).
    """

    by: str
    code: np.ndarray
    names: list[str]
    order: np.ndarray
    starts: np.ndarray
    pool_to_group: np.ndarray | None

    @property
    def n(self) -> int:
        """Number of groups."""
        return len(self.names)

    def of_slots(self, units: np.ndarray) -> np.ndarray:
        """(scenarios, slots) units summed per group: (scenarios, groups), int64, exact."""
        return np.add.reduceat(units[:, self.order], self.starts, axis=1)

    def pool(self, plan: _PayPlan, rated: np.ndarray, c: int) -> np.ndarray:
        """Pool units per scenario and group, (c, groups): each pool group's amount in every
        scenario-period with someone of it rated, put to its budget group.
        """
        out = np.zeros((c, self.n), dtype=np.int64)
        if plan.pool_units is None or self.pool_to_group is None:
            return out
        assert plan.pool_group is not None, "``_pay_plan`` sets the pool's units and groups together"
        R, G = rated.shape[0], plan.n_pool_groups
        if G == 1:
            has = np.asarray(rated.any(axis=1))[:, None]
        else:
            flat = np.arange(R, dtype=np.int64)[:, None] * G + plan.pool_group
            has = (np.bincount(flat[rated], minlength=R * G) > 0).reshape(R, G)
        times = has.reshape(c, R // c, G).sum(axis=1, dtype=np.int64)  # periods paid, (c, G)
        np.add.at(out.T, self.pool_to_group, (times * plan.pool_units).T)
        return out


def _groups(m: _Model, plan: _PayPlan | None, by: str) -> _Groups:
    """The groups of the column ``by`` over the model's slots (a joiner in its template's)."""
    try:
        values = m.column(by)
    except (KeyError, ValueError) as exc:
        raise SimulationError(f"totals_by: '{by}' is not a column of the records or people "
                              f"({exc})") from None
    codes, names = column_codes(values)
    present = np.unique(codes)
    code = np.searchsorted(present, codes).astype(np.int64)
    order = np.argsort(code, kind="stable")
    starts = np.flatnonzero(np.r_[True, code[order][1:] != code[order][:-1]])
    pool_to_group = None
    if plan is not None and plan.pool_units is not None:
        assert plan.pool_group is not None, "``_pay_plan`` sets the pool's units and groups together"
        pool_to_group = np.full(plan.n_pool_groups, -1, dtype=np.int64)
        pool_to_group[plan.pool_group] = code
        split = np.flatnonzero(pool_to_group[plan.pool_group] != code)
        if len(split):
            pool = m.policy.pay.pool if m.policy.pay is not None else None
            shared = f"per {pool.by}" if pool is not None and pool.by else "as one"
            raise SimulationError(
                f"totals per {by}: the bonus pool is shared {shared} across groups of {by}, and "
                "how much of it each group gets depends on each person's share, which the Monte "
                f"Carlo does not draw; per-group totals need a pool shared per {by} (or a finer "
                "column), or no pool")
    return _Groups(by, code, [str(names[c]) for c in present], order, starts, pool_to_group)


def _slot_units(plan: _PayPlan, score: np.ndarray, rated: np.ndarray, grades: np.ndarray | None,
                per_grade: np.ndarray | None, c: int, ws: _Workspace,
                parts: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Payout units per scenario and slot before the pool, (c, slots): ``_pay_totals`` without
    the sum across slots, from the same pieces (the rated periods × units per rated period, the
    periods at each grade × the grade's extra units, the parts read element by element, the
    part-month, streak and rank corrections ``parts``), so each row adds up to its total.
    """
    R, N = score.shape
    P = R // c
    if plan.clips:
        return _pay_rows(plan, score, rated, grades, ws, parts).reshape(c, P, N).sum(axis=1)
    out = _rated_counts(rated, c) * plan.per_rated
    if plan.per_grade is not None and grades is not None:
        assert plan.step_table is not None, "``_split_by_grade`` made it with ``per_grade``"
        K = plan.per_grade.shape[0]
        idx = np.add(grades, np.arange(N, dtype=np.int64) * (K + 1) + 1,
                     out=ws.get("idx", grades.shape, np.int64))
        units = plan.step_table.take(idx, out=ws.get("pay.units", grades.shape, np.int64),
                                     mode="clip")
        out += units.reshape(c, P, N).sum(axis=1)
    elif plan.per_grade is not None and per_grade is not None:
        out += np.einsum("kcs,ks->cs", per_grade, plan.per_grade)
    if plan.by_element:
        total = ws.get("pay.total", score.shape, np.int64)
        for i, part in enumerate(plan.by_element):
            _add_part(plan, part, score, grades, total, ws, first=i == 0)
        total *= rated
        out += total.reshape(c, P, N).sum(axis=1)
    if parts is not None:  # element e: row e // N (scenario row // P), slot e % N
        at, units_ = parts
        np.add.at(out.reshape(-1), at // N // P * N + at % N, units_)
    return out
