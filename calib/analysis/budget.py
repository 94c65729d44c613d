"""What a scheme paid and what it may pay: the figures finance reads (notebook 04 and the finance
app show them; no scheme logic lives in a notebook).

Every total is read from the engine's payouts table, so it is the cents that were paid.
"""

from __future__ import annotations

import pandas as pd

from calib.engine.result import Result
from calib.io.workbooks import group_column, params_table
from calib.policy.model import Policy


def payout_by_component(result: Result) -> pd.Series | None:
    """Total paid per pay component (and the pool), labelled as the policy labels them; a
    deduction shows as a negative amount. None when the scheme does not pay.
    """
    pay, spec = result.payouts, result.policy.pay
    if pay is None or spec is None:
        return None
    parts = [c for c in [*spec.components, "pool"] if c in pay.columns]
    labels = {name: c.label or name for name, c in spec.components.items()}
    labels["pool"] = getattr(spec.pool, "label", None) or "pool"
    return (pay[parts].sum().round(2).rename(index=labels)
            .rename(f"total ({result.policy.currency})"))


def payout_by_group(result: Result, people: pd.DataFrame | None,
                    group: str | None = None) -> tuple[str, pd.DataFrame] | None:
    """(group column, people / total / mean / share per group), largest total first; the group
    column defaults to the policy's first grouping column. None without pay or a group column.
    """
    pay = result.payouts
    if pay is None or people is None:
        return None
    column = group_column(result.policy, people, group)
    if column is None:
        return None
    groups = people.set_index(result.policy.inputs.id)[column]
    table = (pay.assign(group=pay["id"].map(groups))
             .groupby("group")["payout"].agg(people="size", total="sum", mean="mean").round(2))
    table["share"] = (table["total"] / table["total"].sum()).map("{:.1%}".format)
    return column, table.rename_axis(column).sort_values("total", ascending=False)


def payout_per_period(result: Result) -> pd.Series | None:
    """The total paid in each pay period (period label → amount). None when nothing is paid."""
    pay = result.payouts
    if pay is None:
        return None
    return pay.groupby(pay["period"].astype(str))["payout"].sum()


def default_budget(result: Result) -> float | None:
    """A budget per pay period to start from: the bonus pool when the scheme shares one pool per
    period, else the typical period's total rounded to a thousand. None when nothing is paid.
    """
    per_period = payout_per_period(result)
    if per_period is None:
        return None
    pool = result.policy.pay.pool if result.policy.pay else None
    if pool is not None and pool.by is None:
        return float(pool.amount)
    return float(round(per_period.mean(), -3))


def budget_parameter(policy: Policy) -> pd.DataFrame:
    """The pay numbers a budget can be solved for (money amounts and coefficients, with label,
    value and range), first the one the finance view solves; empty when pay has none.
    """
    table = params_table(policy)
    keep = table["path"].str.startswith("pay.") & table["role"].isin(["money", "factor"])
    return table.loc[keep, ["path", "label", "value", "min", "max", "role"]].reset_index(drop=True)


def periods_per_year(result: Result) -> float:
    """Pay periods in twelve months of the history (12 for monthly pay, 1 for a yearly bonus)."""
    per_period = payout_per_period(result)
    months = result.scores["period"].nunique()
    return 0.0 if per_period is None or not months else per_period.size * 12 / months
