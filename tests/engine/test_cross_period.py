"""Measures across periods (issue 21, item 3): running totals (每累计提5条经验加一分) and windows
(季度内迟到次数 < 9), computed per person in period order, with gaps and resets as a person
counting by hand would treat them; checked against a plain loop on random histories.
"""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import calib

POLICY = {
    "name": "cross",
    "inputs": {"id": "id", "people": {"columns": {}},
               "records": {"period": "period",
                           "columns": {"period": {"type": "text"},
                                       "tips": {"type": "float", "required": False},
                                       "late": {"type": "int", "min": 0}}}},
    "kpis": {"tips": {"column": "tips", "rule": {"kind": "linear", "slope": 1}}},
    "sections": {"total": {"combine": "sum", "items": ["tips"]}},
    "scorecards": {"all": {"root": "total"}},
}


def run(measures: dict, records: pd.DataFrame) -> pd.DataFrame:
    policy = calib.Policy.model_validate({**POLICY, "measures": measures})
    people = pd.DataFrame({"id": sorted(records["id"].unique())})
    result = calib.run(policy, {"people": people, "records": records})
    return result.measures.astype({"id": str, "period": str}).set_index(["id", "period"])


RECORDS = pd.DataFrame({
    "id": ["A"] * 7 + ["B"] * 3,
    # A skips 2025-04; B has 2025-03 only then 2025-06
    "period": ["2025-01", "2025-02", "2025-03", "2025-05", "2025-06", "2025-07", "2026-01",
               "2025-03", "2025-06", "2025-05"],
    "tips": [2, 3, None, 4, 1, 5, 6, 7, 1, 2],
    "late": [3, 4, 2, 5, 3, 1, 0, 9, 0, 1],
})


def test_running_totals_and_their_resets() -> None:
    m = run({"so_far": {"kind": "cumulative", "column": "tips"},
             "this_year": {"kind": "cumulative", "column": "tips", "reset": "year"},
             "this_quarter": {"kind": "cumulative", "column": "tips", "reset": "quarter"}},
            RECORDS)
    a = m.loc["A"]
    # 2 + 3 + (missing: nothing) + 4 + 1 + 5 + 6, in period order
    assert a["so_far"].tolist() == [2, 5, 5, 9, 10, 15, 21]
    assert a["this_year"].tolist() == [2, 5, 5, 9, 10, 15, 6]   # 2026 starts again
    assert a["this_quarter"].tolist() == [2, 5, 5, 4, 5, 5, 6]  # Q2 = May, June; Q3 = July
    # B's rows come out of order in the file: 2025-03 (7), 2025-05 (2), 2025-06 (1)
    assert m.loc[("B", "2025-06"), "so_far"] == 10
    assert m.loc[("B", "2025-05"), "so_far"] == 9


def test_windows_over_periods_not_rows() -> None:
    m = run({"late_q": {"kind": "window", "column": "late", "within": "quarter"},
             "late_3": {"kind": "window", "column": "late", "periods": 3},
             "tips_3_mean": {"kind": "window", "column": "tips", "periods": 3, "how": "mean"},
             "late_3_max": {"kind": "window", "column": "late", "periods": 3, "how": "max"}},
            RECORDS)
    a = m.loc["A"]
    assert a["late_q"].tolist() == [3, 7, 9, 5, 8, 1, 0]  # 季度内迟到次数 so far
    # the last 3 months: 2025-05's window is March–May (April has no row): 2 + 5; June's is
    # April–June: 5 + 3
    assert a["late_3"].tolist() == [3, 7, 9, 7, 8, 9, 0]
    # mean of the tips present: 2025-03's window (2, 3, missing) → 2.5
    assert a["tips_3_mean"].tolist() == pytest.approx([2, 2.5, 2.5, 4, 2.5, 10 / 3, 6], abs=1e-9)
    assert a["late_3_max"].tolist() == [3, 4, 4, 5, 5, 5, 0]


def test_a_window_needs_one_span() -> None:
    with pytest.raises(ValueError, match="one of them"):
        calib.Policy.model_validate({**POLICY, "measures": {
            "w": {"kind": "window", "column": "late", "periods": 3, "within": "quarter"}}})


def test_the_kpi_reads_the_running_total() -> None:
    policy = calib.Policy.model_validate({
        **POLICY,
        "measures": {"tips_so_far": {"kind": "cumulative", "column": "tips"}},
        # 每累计提5条经验加一分: one point per 5 so far
        "kpis": {"tips": {"measure": "tips_so_far", "rule": {"kind": "linear", "slope": 0.2}}}})
    people = pd.DataFrame({"id": ["A", "B"]})
    result = calib.run(policy, {"people": people, "records": RECORDS})
    points = result.kpi_points.astype({"id": str, "period": str}).set_index(["id", "period"])
    assert points.loc[("A", "2025-07"), "tips"] == pytest.approx(3.0)  # 15 so far → 3 points


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from("PQR"), st.integers(0, 14),
                          st.one_of(st.none(), st.integers(0, 9))), min_size=1, max_size=30,
                unique_by=lambda t: (t[0], t[1])),
       st.integers(1, 5), st.sampled_from(["sum", "mean", "max"]))
def test_windows_equal_a_plain_loop(rows: list, n: int, how: str) -> None:
    months = pd.period_range("2024-11", periods=15, freq="M").astype(str)
    records = pd.DataFrame({"id": [r[0] for r in rows], "period": [months[r[1]] for r in rows],
                            "tips": [np.nan if r[2] is None else float(r[2]) for r in rows],
                            "late": [0] * len(rows)})
    m = run({"w": {"kind": "window", "column": "tips", "periods": n, "how": how},
             "c": {"kind": "cumulative", "column": "tips", "reset": "year"}}, records)
    for person, month, _ in rows:
        inside = [r[2] for r in rows if r[0] == person and month - n < r[1] <= month]
        present = [v for v in inside if v is not None]
        want = {"sum": float(sum(present)),
                "mean": float(np.mean(present)) if present else np.nan,
                "max": float(max(present)) if present else np.nan}[how]
        got = m.loc[(person, months[month]), "w"]
        assert (np.isnan(want) and np.isnan(got)) or got == pytest.approx(want, abs=1e-9)
        year = months[month][:4]
        so_far = [r[2] or 0 for r in rows
                  if r[0] == person and r[1] <= month and months[r[1]][:4] == year]
        assert m.loc[(person, months[month]), "c"] == pytest.approx(sum(so_far), abs=1e-9)


def test_a_units_total_given_to_each_member() -> None:
    records = pd.DataFrame({"id": ["A", "B", "C", "A", "B"],
                            "period": ["2025-01", "2025-01", "2025-01", "2025-02", "2025-02"],
                            "unit": ["一队", "一队", "二队", "一队", "一队"],
                            "tips": [1, 2, 3, 4, 5], "late": [1, 0, 2, 3, 1]})
    policy = {**POLICY, "inputs": {**POLICY["inputs"], "records": {
        **POLICY["inputs"]["records"],
        "columns": {**POLICY["inputs"]["records"]["columns"], "unit": {"type": "text"}}}}}
    policy = calib.Policy.model_validate({**policy, "measures": {
        "unit_late": {"kind": "aggregate", "how": "sum", "columns": ["late"], "group_by": "unit"}}})
    result = calib.run(policy, {"people": pd.DataFrame({"id": ["A", "B", "C"]}), "records": records})
    m = result.measures.astype({"id": str, "period": str}).set_index(["id", "period"])["unit_late"]
    # 安全事故起数 of the unit: 一队 in 2025-01 is A's 1 + B's 0; 二队 is C's 2
    assert m.to_dict() == {("A", "2025-01"): 1, ("B", "2025-01"): 1, ("C", "2025-01"): 2,
                           ("A", "2025-02"): 4, ("B", "2025-02"): 4}
    with pytest.raises(ValueError, match="group_by totals a group"):
        calib.Policy.model_validate({**policy.to_dict(), "measures": {
            "m": {"kind": "aggregate", "how": "mean", "columns": ["late"], "group_by": "unit"}}})
