"""The chance of overspending each envelope (``Simulation.envelopes``): the Monte Carlo's totals
per group (``simulate(totals_by=...)``, ``calib.simulate.groups``) read against each group's
budget.

A budget covers a year or a pay period (``budgets.per``); a scenario covers ``months`` periods of
the calendar. The budget a scenario's group total is read against is the budget for the
simulated span: a year's amount × the share of a year simulated (12 months of 12: the amount),
or a period's amount × the pay periods simulated. So a per-period budget asks whether the year's
pay overspends the year's sum of periods, not whether any one period does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from calib.errors import SimulationError
from calib.policy.budgets import Budgets

if TYPE_CHECKING:
    from calib.simulate.monte_carlo import Simulation

PERIODS_PER_YEAR = {"month": 12, "week": 52, "quarter": 4, "year": 1}
"""Periods of each calendar frequency in a year."""


def _span(sim: Simulation, per: str) -> float:
    """How many budget amounts the simulated ``months`` periods span (``per``: year or period)."""
    policy = sim.policy
    if per == "year":
        return sim.months / PERIODS_PER_YEAR.get(policy.calendar.frequency, 12)
    on = policy.pay.on if policy.pay is not None else "period"
    if on == "period":
        return float(sim.months)
    to = policy.rollups[on].to
    return sim.months / (PERIODS_PER_YEAR.get(policy.calendar.frequency, 12)
                         / PERIODS_PER_YEAR.get(to, 1))


def envelope_risk(sim: Simulation, budgets: Budgets | Mapping[str, float] | None = None,
                  per: str | None = None, q: tuple[float, ...] = (0.5, 0.9, 0.95)
                  ) -> pd.DataFrame:
    """Per group: the quantiles of the simulated totals, the budget for the simulated span and
    the share of scenarios above it (see ``Simulation.envelopes``).
    """
    if sim.group_totals is None or sim.totals_by is None:
        raise SimulationError("no totals per group: run simulate(..., totals_by=COLUMN), or give "
                              "the policy a budgets section (its by is the default)")
    if budgets is None:
        budgets = sim.policy.budgets
        if budgets is None:
            raise SimulationError("give budgets (group → amount), or a budgets section in the "
                                  "policy")
    if isinstance(budgets, Budgets):
        if budgets.by != sim.totals_by:
            raise SimulationError(f"the budgets are per {budgets.by}, the totals per "
                                  f"{sim.totals_by}: simulate with totals_by='{budgets.by}'")
        amounts, per = dict(budgets.amounts), per or budgets.per
    else:
        amounts, per = {str(k): float(v) for k, v in budgets.items()}, per or "year"
    if per not in ("year", "period"):
        raise SimulationError(f"per is 'year' or 'period', not {per!r}")
    span = _span(sim, per)
    names = list(sim.group_names)
    rows = []
    for name in [*names, *(k for k in amounts if k not in names)]:
        values = (sim.group_totals[:, names.index(name)] if name in names
                  else np.zeros(len(sim.group_totals)))
        budget = round(amounts[name] * span, 2) if name in amounts else np.nan
        qs = np.quantile(values, q) if len(values) else np.full(len(q), np.nan)
        rows.append({sim.totals_by: name, **{f"P{100 * x:g}": v for x, v in zip(q, qs, strict=True)},
                     "mean": float(values.mean()) if len(values) else np.nan,
                     "budget": budget,
                     "p_over": float(np.mean(values > budget)) if name in amounts and len(values)
                     else np.nan,
                     "note": "" if name in names and name in amounts else (
                         "no budget" if name in names else "nobody in this group")})
    table = pd.DataFrame(rows).set_index(sim.totals_by)
    table.attrs.update(per=per, span=span, months=sim.months)
    return table
