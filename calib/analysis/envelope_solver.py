"""The budget solver per envelope (issue 21, item 8): a money parameter that holds each group's
payout to its budget (``budgets``: an envelope per branch or department).

A policy's numbers apply to everyone, so "the value of a parameter for one group" exists only
where the policy itself gives each group its own number. ``solve_envelopes`` does the honest
thing in each case:

- **pool envelopes** (``pay.pool`` with ``by`` the budgets' column and ``envelopes``): each
  group's pool envelope (``pay.pool.envelopes.<group>``) is its own money parameter and moves
  only that group's pay, so each is solved on its own so that the group's payout meets its
  budget;
- **one shared parameter** (``path=``, any money amount or coefficient): the value at which the
  group that overspends most just meets its budget, so no envelope is overspent, and the table
  says how far under each of the others is.

Either way a value is the largest on a grid (the policy's unit for a money amount, 1e-6 for a
coefficient) at which the group's pay stays within its budget: finance is never shown a solution
that overspends by a cent, and ``step`` says how much one more step of the value would add.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calib.analysis.budget import _budgets, payout_groups
from calib.analysis.calibrate import CalibrationError, _bounds
from calib.kernels.money import to_units, units_to_float
from calib.policy.budgets import Budgets
from calib.policy.model import Policy
from calib.scenario import Scenario


def _paid(scenario: Scenario, by: str, per: str, when: str) -> dict[str, int]:
    """Each group's payout units in ``when`` (a year, or a pay period)."""
    result = scenario.result
    pay = result.payouts
    assert pay is not None and result.policy.pay is not None, "payout_groups checks pay"
    group = payout_groups(result, by)
    label = pay["period"].astype(str).to_numpy(dtype=object)
    key = np.array([p[:4] for p in label], dtype=object) if per == "year" else label
    keep = key == when
    units = to_units(pay["payout"].to_numpy(dtype=np.float64)[keep], result.policy.pay.unit)
    sums = pd.Series(units).groupby(group[keep]).sum()
    return {str(k): int(v) for k, v in sums.items()}


def _largest_within(f: Callable[[float], float], lo: float, hi: float, grid: float,
                    path: str, what: str) -> float:
    """The largest value in [lo, hi] on the ``grid`` (the unit of a money amount, 1e-6 of a
    coefficient) with f ≤ 0 (f rising), by bisection keeping f(lo) ≤ 0 < f(hi).
    """
    if f(lo) > 0:
        raise CalibrationError(f"{what} cannot be met by moving {path} within [{lo:g}, {hi:g}]: "
                               f"even at {lo:g} it is over by {f(lo):,.2f}")
    if f(hi) <= 0:
        raise CalibrationError(f"{what} cannot be met by moving {path} within [{lo:g}, {hi:g}]: "
                               f"even at {hi:g} it is under by {-f(hi):,.2f}")
    low, high = lo, hi
    while high - low > grid:
        mid = (low + high) / 2
        if f(mid) <= 0:
            low = mid
        else:
            high = mid
    value = max(lo, round(float(np.floor(low / grid + 1e-9) * grid), 9))
    while value + grid < hi and f(round(value + grid, 9)) <= 0:  # at most a step or two
        value = round(value + grid, 9)
    return value


@dataclass
class _Job:
    """One solve: the scenario, the groups' column, the year (or period) and the budgets."""

    scenario: Scenario
    by: str
    per: str
    when: str
    bounds: tuple[float, float] | None
    amounts: dict[str, float]

    def __post_init__(self) -> None:
        pay = self.scenario.policy.pay
        assert pay is not None, "solve_envelopes checks the pay"
        self.unit = pay.unit
        self.before = self.paid(self.scenario)
        self.budget = {g: int(to_units(np.array([a]), self.unit)[0]) for g, a in self.amounts.items()}

    def paid(self, scenario: Scenario) -> dict[str, int]:
        """Each group's payout units in the year (or period) solved for."""
        return _paid(scenario, self.by, self.per, self.when)

    def money(self, units: int) -> float:
        """Units as an amount of the currency."""
        return float(units_to_float(np.array([units]), self.unit)[0])

    def search(self, path: str) -> tuple[float, float, bool]:
        """(low, high, whether ``path`` is a money amount) to search ``path`` in."""
        policy = self.scenario.policy
        lo, hi = self.bounds or _bounds(policy, path)
        value = float(policy.get(path))
        is_money = any(x.path == path and x.role == "money" for x in policy.params())
        return (lo if lo is not None else 0.0,
                hi if hi is not None else max(value * 10.0, 1.0), is_money)

    def row(self, g: str, path: object, value: float, after: dict[str, int],
            above: dict[str, int]) -> dict:
        """The table's row of group ``g``: paid after, gap and the step one more would add."""
        return {self.by: g, "path": path, "value": value, "budget": self.amounts[g],
                "before": self.money(self.before.get(g, 0)), "paid": self.money(after.get(g, 0)),
                "gap": self.money(after.get(g, 0) - self.budget[g]),
                "step": self.money(above.get(g, 0) - after.get(g, 0))}

    def each_envelope(self) -> tuple[Policy, list[dict], str, str | None]:
        """Each group's pool envelope solved so that its own payout meets its budget."""
        scenario, by = self.scenario, self.by
        assert scenario.policy.pay is not None, "solve_envelopes checks the pay"
        pool = scenario.policy.pay.pool
        if pool is None or pool.envelopes is None or pool.by != by:
            raise CalibrationError(
                f"no pool envelope per {by} to solve for each group: the policy's parameters "
                f"apply to everyone; give path= (one money amount or coefficient shared by "
                f"every group) to hold the most overspent {by} to its budget")
        changes: dict[str, float] = {}
        for g in (g for g in self.amounts if g in pool.envelopes):
            p = f"pay.pool.envelopes.{g}"
            lo, hi, _ = self.search(p)

            def over(v: float, g: str = g, p: str = p) -> float:
                got = self.paid(scenario.with_params({**changes, p: v})).get(g, 0)
                return self.money(got - self.budget[g])

            changes[p] = _largest_within(over, lo, hi, self.unit, p, f"the budget of {g}")
        solved = scenario.policy.with_params(changes)
        after = self.paid(Scenario.with_policy(scenario, solved))
        rows = []
        for g in self.amounts:
            p = f"pay.pool.envelopes.{g}"
            if p not in changes:  # no envelope of the pool covers it: reported, not moved
                rows.append({**self.row(g, np.nan, np.nan, after, after), "paid": np.nan,
                             "gap": np.nan, "step": np.nan})
                continue
            above = self.paid(Scenario.with_policy(scenario, solved.with_params(
                {p: changes[p] + self.unit})))
            rows.append(self.row(g, p, changes[p], after, above))
        return solved, rows, "envelopes", None

    def shared(self, path: str) -> tuple[Policy, list[dict], str, str | None]:
        """One parameter for everyone: the most overspent group just meets its budget."""
        scenario = self.scenario
        lo, hi, is_money = self.search(path)

        def worst(v: float) -> float:
            got = self.paid(scenario.with_params({path: v}))
            return self.money(max(got.get(g, 0) - self.budget[g] for g in self.amounts))

        nudge = self.unit if is_money else 1e-6
        value = _largest_within(worst, lo, hi, nudge, path, f"every {self.by}'s budget")
        solved = scenario.policy.with_params({path: value})
        after = self.paid(Scenario.with_policy(scenario, solved))
        above = self.paid(Scenario.with_policy(scenario, scenario.policy.with_params(
            {path: value + nudge})))
        binding = max(self.amounts, key=lambda g: after.get(g, 0) - self.budget[g])
        return solved, [self.row(g, path, value, after, above) for g in self.amounts], \
            "shared", binding


def solve_envelopes(scenario: Scenario, budgets: Budgets | Mapping[str, float] | None = None, *,
                    by: str | None = None, per: str | None = None, path: str | None = None,
                    when: str | None = None, bounds: tuple[float, float] | None = None
                    ) -> tuple[Policy, pd.DataFrame]:
    """Money parameters that hold each envelope (a group's budget) in one year or pay period.

    Parameters
    ----------
    scenario : Scenario
        The policy and the history.
    budgets : Budgets or mapping, optional
        Each group's budget (group → amount, with ``by``), or a ``Budgets``; default: the
        policy's ``budgets`` section.
    by, per : str, optional
        The column of groups (with a mapping) and what an amount covers (``year`` or ``period``;
        default the section's, else ``year``).
    path : str, optional
        One parameter shared by every group (``pay.components.bonus.coefficients.B``): the value
        at which the most overspent group just meets its budget. Default: each group's pool
        envelope (``pay.pool.envelopes.<group>``), which the policy must have (pool ``by`` the
        budgets' column).
    when : str, optional
        The year (or pay period) to meet; default the latest in the history.
    bounds : tuple of float, optional
        ``(low, high)`` to search in; default the declared range (0 to ten times the value).

    Returns
    -------
    policy : Policy
        The policy with the values found.
    table : DataFrame
        One row per group with a budget: ``path`` (the parameter moved for it; NaN for a group
        no envelope of the pool covers), ``value`` (found), ``budget``, ``before`` and ``paid``
        (the group's payout before and after), ``gap`` (paid − budget, ≤ 0) and ``step``
        (what one more unit of the value, or 1e-6 of a coefficient, would add to the group's pay;
        so 0 ≥ gap > −step). ``attrs``: ``when``, ``per``, ``mode`` (``envelopes`` or
        ``shared``) and, for a shared parameter, ``binding`` (the group that sets it).

    Raises
    ------
    CalibrationError
        Without budgets; without ``path`` when the pool has no envelopes per the budgets'
        column; or when a budget cannot be met within the bounds.

    Examples
    --------
    >>> s = calib.Scenario(calib.load_policy("datasets/gas_cs/policy.yaml"), "datasets/gas_cs")
    >>> policy, table = solve_envelopes(s, path="pay.components.bonus.coefficients.B")
    >>> bool((table["gap"] <= 0).all())
    True
    """
    result = scenario.result
    by, per, amounts = _budgets(result, budgets, by, per)
    if per not in ("year", "period"):
        raise CalibrationError(f"per is 'year' or 'period', not {per!r}")
    pay = result.payouts
    if pay is None or scenario.policy.pay is None:
        raise CalibrationError(f"policy {scenario.policy.name} has no pay section")
    labels = pay["period"].astype(str)
    keys = labels.str[:4] if per == "year" else labels
    when = when or str(keys.max())
    if when not in set(keys):
        raise CalibrationError(f"no pay in {when}; the history pays in {', '.join(sorted(set(keys)))}")
    job = _Job(scenario, by, per, when, bounds, amounts)
    solved, rows, mode, binding = (job.each_envelope() if path is None else job.shared(path))
    table = pd.DataFrame(rows, columns=[by, "path", "value", "budget", "before", "paid", "gap",
                                        "step"])
    table.attrs.update(when=when, per=per, mode=mode, binding=binding)
    return solved, table
