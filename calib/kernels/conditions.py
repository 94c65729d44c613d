"""Evaluate a policy ``Condition`` on the person-period rows, vectorised, without eval."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib._util.text import clean_text
from calib._util.tolerance import tol
from calib.policy.base import Condition


def holds(cond: Condition, values: np.ndarray | pd.Series) -> np.ndarray:
    """Rows where ``cond`` holds on ``values`` (the column named by the condition).

    Missing values never satisfy a condition. Numbers compare with the same tolerance as tier
    bounds, so ``absent_days > 2`` treats 2.0000000001 as 2.
    """
    op, operand = cond.op, cond.operand
    if op in ("gt", "ge", "lt", "le"):
        v = np.asarray(values, dtype=np.float64)
        t = tol(operand)
        out = {"gt": v > operand + t, "ge": v >= operand - t,
               "lt": v < operand - t, "le": v <= operand + t}[op]
        return out & ~np.isnan(v)
    if isinstance(values, np.ndarray) and values.dtype == bool:
        truth = {True: True, False: False, "true": True, "false": False,
                 "是": True, "否": False, "yes": True, "no": False}
        items = operand if op in ("in", "not_in") else [operand]
        wanted = {truth.get(x.lower() if isinstance(x, str) else x, x) for x in items}
        hit = np.zeros(len(values), dtype=bool)
        for w in wanted:
            if isinstance(w, bool):
                hit |= values == w
        return hit if op in ("eq", "in") else ~hit
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        items = operand if op in ("in", "not_in") else [operand]
        nums = [float(x) for x in items if isinstance(x, int | float)]
        hit = np.isin(values, nums)
        return hit if op in ("eq", "in") else ~hit & ~np.isnan(values)
    text = clean_text(values)  # a blank cell is "", a value (ne and not_in hold on it)
    items = operand if op in ("in", "not_in") else [operand]
    hit = text.isin([str(x) for x in items]).fillna(False).to_numpy(dtype=bool)
    present = text.notna().to_numpy()
    return hit & present if op in ("eq", "in") else ~hit & present
