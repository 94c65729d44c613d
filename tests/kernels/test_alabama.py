"""The Alabama paradox of largest remainder (issue 21 item 11): ``calib.kernels.apportion.alabama``
flags a group and grade whose quota would be larger with one person fewer, the quota table
carries the flag (``alabama``) and the diagnostics list it. Checked on the classic case from the
seed's cascade (5/25/60/10 %: a team of 10 has an A+, a team of 11 none) and, by brute force, on
any sizes and ratio rows: a plain Largest-remainder in fractions at n and n − 1.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_apportion import CASCADE, percent_rows, ratios_of

import calib
from calib.analysis import diagnostics
from calib.kernels.apportion import alabama, apportion

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "grade_pay.yaml"


def hamilton_by_hand(n: int, percents: list[int]) -> list[int]:
    """Largest remainder in exact fractions: floors, then the places left to the largest
    remainders, the better (earlier) grade first on equal remainders.
    """
    exact = [Fraction(n * p, 100) for p in percents]
    seats = [int(q) for q in exact]  # floor: every quota is ≥ 0
    order = sorted(range(len(percents)), key=lambda k: (-(exact[k] - seats[k]), k))
    for k in order[:n - sum(seats)]:
        seats[k] += 1
    return seats


def test_classic_case_a_team_of_eleven_loses_its_top_grade() -> None:
    """Supervisor B's row (R25, 5/25/60/10/0 %): a team of 10 gets exact 0.5/2.5/6/1/0 → the
    tied remainders (0.5, 0.5) give the place left to A+ → 1/2/6/1/0; a team of 11 gets exact
    0.55/2.75/6.6/1.1/0 → floors 0/2/6/1/0, the two places left to 0.75 (A) and 0.6 (B) →
    0/3/7/1/0. A+ loses its place as the team grows: flagged at 11, not at 10.
    """
    ratios = ratios_of(CASCADE["B"])
    q = apportion(np.array([10, 11]), ratios)
    assert q.tolist() == [[1, 2, 6, 1, 0], [0, 3, 7, 1, 0]]
    flags = alabama(np.array([10, 11]), ratios)
    assert flags.tolist() == [[False] * 5, [True, False, False, False, False]]
    for method in ("webster", "dhondt"):
        assert not alabama(np.array([10, 11]), ratios, method).any()


@pytest.mark.parametrize("method", ["hamilton", "webster", "dhondt"])
@given(size=st.integers(0, 60), percents=percent_rows())
def test_flag_agrees_with_brute_force(method: str, size: int, percents: list[int]) -> None:
    """The flag is exactly 'the quota at n − 1 is larger than at n': for hamilton against a
    Largest remainder in fractions; the divisor methods never show it (house monotone).
    """
    flags = alabama(np.array([size]), ratios_of(percents), method)[0]
    if method == "hamilton":
        now, fewer = hamilton_by_hand(size, percents), hamilton_by_hand(max(size - 1, 0), percents)
        assert flags.tolist() == [f > n for f, n in zip(fewer, now, strict=True)], (size, percents)
    else:
        assert not flags.any(), (size, percents)


def _staff(sizes: dict[str, int]) -> dict[str, pd.DataFrame]:
    """One month of the golden policy's staff (no leads): teams of the given sizes, distinct
    scores.
    """
    ids = [(team, f"{team}{i}") for team, n in sizes.items() for i in range(n)]
    people = pd.DataFrame({"employee_id": [i for _, i in ids], "team": [t for t, _ in ids],
                           "position": "staff"})
    records = pd.DataFrame({"employee_id": people["employee_id"], "period": "2025-01",
                            "points": 99.0 - np.arange(len(ids)) * 0.5, "days_present": 31,
                            "probation": False, "leak": False})
    return {"people": people, "records": records}


def test_quota_table_and_diagnostics_show_it() -> None:
    """The golden forced distribution at 5/25/60/10/0 %: team east of 11 and west of 10. The
    quota table flags east's A+ alone (quota 0, 1 with one person fewer); the diagnostics list
    that row with ``quota_one_fewer`` 1; every row's flag agrees with the brute force.
    """
    ratios = "grading.rules.staff.forced.ratios."
    policy = calib.load_policy(GOLDEN).with_params(
        {ratios + "A+": 0.05, ratios + "A": 0.25, ratios + "B": 0.6, ratios + "C": 0.1})
    result = calib.run(policy, _staff({"east": 11, "west": 10}))
    q = result.quotas
    flagged = q[q["alabama"]]
    assert flagged[["group", "grade", "quota"]].astype(str).values.tolist() == [["east", "A+", "0"]]
    grades = list(q["grade"].astype(str).unique())
    for (group, size), g in q.groupby(["group", "size"], observed=True):
        percents = [round(r * 100) for r in g["ratio"]]
        now, fewer = hamilton_by_hand(size, percents), hamilton_by_hand(size - 1, percents)
        assert g["alabama"].tolist() == [f > n for f, n in zip(fewer, now, strict=True)], group
        assert g["grade"].astype(str).tolist() == grades
    table = diagnostics.alabama(result)
    assert table[["group", "size", "grade", "quota", "quota_one_fewer"]].astype(str).values.tolist(
    ) == [["east", "11", "A+", "0", "1"]]
    assert "alabama" in diagnostics.report(result)
