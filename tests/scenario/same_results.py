"""What the scenario tests compare: every table of a live ``Scenario``'s result against a fresh
``calib.run`` of the same policy (a stale cache shows as a table that differs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calib


def tables(result: calib.Result) -> dict[str, pd.DataFrame]:
    """Every table of a result by name (scores, points, grades, pay, each roll-up)."""
    out = {"scores": result.scores, "measures": result.measures, "kpi_points": result.kpi_points,
           "sections": result.sections}
    for name in ("grades", "quotas", "flags", "payouts", "merit"):
        if getattr(result, name) is not None:
            out[name] = getattr(result, name)
    for name, table in result.rollups.items():
        out[f"rollup {name}"] = table
    return out


def assert_same(live: calib.Result, fresh: calib.Result, context: str) -> None:
    """Every table of ``live`` equals ``fresh``'s, and so does the payout total."""
    a, b = tables(live), tables(fresh)
    assert a.keys() == b.keys(), context
    for name in a:
        pd.testing.assert_frame_equal(*_coded(a[name], b[name]), obj=f"{context}: {name}")
    assert live.total_payout() == pytest.approx(
        float(fresh.payouts["payout"].sum()) if fresh.payouts is not None else 0.0, abs=1e-6)


def _coded(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``a`` and ``b`` with each categorical column that is equal in both (the same categories
    in the same order, the same codes) as its codes: pandas compares categoricals value by value
    in Python (seconds per table); a column that differs stays, for pandas to show its labels."""
    other = b.dtypes
    same = [c for c, t in a.dtypes.items() if isinstance(t, pd.CategoricalDtype)
            and c in other.index and t == other[c]
            and t.categories.equals(other[c].categories)
            and np.array_equal(a[c].cat.codes, b[c].cat.codes)]
    if not same:
        return a, b
    a, b = a.copy(deep=False), b.copy(deep=False)
    for c in same:
        a[c], b[c] = a[c].cat.codes, b[c].cat.codes
    return a, b
