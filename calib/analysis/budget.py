"""What a scheme paid and what it may pay: the figures finance reads (notebook 04 and the finance
app show them; no scheme logic lives in a notebook).

Every total is read from the engine's payouts table, so it is the cents that were paid.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from calib.analysis.calibrate import CalibrationError
from calib.engine.result import Result
from calib.io.workbooks import group_column, params_table
from calib.kernels.money import to_units, units_to_float
from calib.policy.budgets import Budgets
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


def _budgets(result: Result, budgets: Budgets | Mapping[str, float] | None, by: str | None,
             per: str | None) -> tuple[str, str, dict[str, float]]:
    """(column, per, amounts) from ``budgets`` given in Python or the policy's section."""
    if budgets is None:
        budgets = result.policy.budgets
        if budgets is None:
            raise CalibrationError(f"policy {result.policy.name} has no budgets section: give "
                                   "budgets={group: amount} and by=COLUMN")
    if isinstance(budgets, Budgets):
        if by is not None and by != budgets.by:
            raise CalibrationError(f"the budgets are per {budgets.by}, not per {by}")
        return budgets.by, per or budgets.per, dict(budgets.amounts)
    if by is None:
        raise CalibrationError("budgets given as {group: amount} need by=COLUMN (the groups)")
    return by, per or "year", {str(k): float(v) for k, v in budgets.items()}


def payout_groups(result: Result, by: str) -> np.ndarray:
    """The group (text) of each row of ``result.payouts`` in the column ``by``: the records
    row's, or for pay on a roll-up the latest records row of the roll-up (as the engine's pay
    reads people's attributes); a blank cell is ``"(blank)"``.
    """
    frame, pay, spec = result.frame, result.payouts, result.policy.pay
    if frame is None or pay is None or spec is None:
        raise CalibrationError("envelopes need a Result of calib.run with pay")
    try:
        values = frame.column(by)
    except KeyError:
        raise CalibrationError(f"'{by}' is not a column the policy reads from the records or "
                               "people (declare it under inputs, or name budgets.by)") from None
    rows = (np.arange(frame.n) if spec.on == "period"
            else result.rollup_rows[spec.on].last_row(np.asarray(frame.period)))
    if len(rows) != len(pay):  # pragma: no cover - the engine pays one row per records/roll-up row
        raise CalibrationError("the payouts are not aligned with the records: cannot group them")
    text = pd.Series(np.asarray(values, dtype=object)[rows]).astype("string")
    return text.fillna("(blank)").to_numpy(dtype=object)


def envelopes(result: Result, budgets: Budgets | Mapping[str, float] | None = None, *,
              by: str | None = None, per: str | None = None) -> pd.DataFrame:
    """The over/under table: each group's budget against what the run paid it, per year (or per
    pay period).

    ``paid`` is the sum of the group's payouts (every component and the pool, after overrides:
    the ``payout`` column) in whole units of the policy's pay (cents), so it is exact; ``over``
    is paid − budget (negative: under budget), ``used`` paid / budget.

    Parameters
    ----------
    result : Result
        A run (``calib.run`` or ``Scenario.result``) of a policy with pay.
    budgets : Budgets or mapping, optional
        Each group's budget (group → amount, with ``by``), or a ``Budgets``; default: the
        policy's ``budgets`` section.
    by : str, optional
        The column of groups when ``budgets`` is a mapping.
    per : str, optional
        ``"year"`` (an amount covers the pay periods of a calendar year: the year a period's
        label starts with) or ``"period"`` (each pay period); default: the section's ``per``,
        else ``"year"``.

    Returns
    -------
    DataFrame
        One row per year (or period) and group: ``year`` (or ``period``), the group column,
        ``budget``, ``paid``, ``over``, ``used`` and ``note``. Groups paid with no budget are
        listed (``note`` "no budget", budget NaN); a budget naming a group nobody in that year
        (or period) belongs to is listed with paid 0 (``note`` "nobody paid"). Rows by year,
        then the budgets' groups in their order, then the others by name.

    Raises
    ------
    CalibrationError
        Without budgets, or when ``by`` is not a column the policy reads.

    Examples
    --------
    >>> result = calib.run(calib.load_policy("datasets/gas_cs/policy.yaml"), "datasets/gas_cs")
    >>> table = envelopes(result)
    >>> table.columns.tolist()
    ['year', 'branch', 'budget', 'paid', 'over', 'used', 'note']
    """
    by, per, amounts = _budgets(result, budgets, by, per)
    if per not in ("year", "period"):
        raise CalibrationError(f"per is 'year' or 'period', not {per!r}")
    pay = result.payouts
    assert pay is not None and result.policy.pay is not None, "payout_groups checked"
    group = payout_groups(result, by)
    unit = result.policy.pay.unit
    label = pay["period"].astype(str).to_numpy(dtype=object)
    when = np.array([p[:4] for p in label], dtype=object) if per == "year" else label
    units = to_units(pay["payout"].to_numpy(dtype=np.float64), unit)
    paid = (pd.DataFrame({"when": when, "group": group, "units": units})
            .groupby(["when", "group"], sort=False)["units"].sum())
    listed = list(amounts)
    rows = []
    for w in sorted(set(when)):
        seen = sorted({g for (x, g) in paid.index if x == w} - set(listed))
        for g in [*listed, *seen]:
            got = int(paid.get((w, g), 0))
            budget = amounts.get(g)
            money = float(units_to_float(np.array([got]), unit)[0])
            rows.append({per: w, by: g, "budget": np.nan if budget is None else budget,
                         "paid": money,
                         "over": np.nan if budget is None else round(money - budget, 2),
                         "used": np.nan if budget is None or budget == 0 else money / budget,
                         "note": "no budget" if budget is None else (
                             "nobody paid" if (w, g) not in paid.index else "")})
    table = pd.DataFrame(rows, columns=[per, by, "budget", "paid", "over", "used", "note"])
    table.attrs.update(by=by, per=per, currency=result.policy.currency)
    return table
