"""Adjustments of a roll-up's score (issue 21, item 2): points added after the annual weighting
(在正常考评完毕后在员工的总考评分中加1~10分), bounds on the roll-up's score, and vetoes over any period
of it; the roll-up's grade follows.
"""

from __future__ import annotations

import pandas as pd
import pytest

import calib

POLICY = {
    "name": "annual",
    "inputs": {"id": "id", "people": {"columns": {}},
               "records": {"period": "period",
                           "columns": {"period": {"type": "text"}, "points": {"type": "float"},
                                       "commendation": {"type": "float", "min": 0},
                                       "accident": {"type": "bool"}}},
               "events": {"awards": {"period": "period",
                                     "columns": {"period": {"type": "text"},
                                                 "bonus": {"type": "float"}}}}},
    "kpis": {"points": {"column": "points", "rule": {"kind": "linear", "slope": 1}}},
    "sections": {"total": {"combine": "sum", "items": ["points"]}},
    "scorecards": {"all": {"root": "total"}},
    "grading": {"on": "year", "scale": {"grades": [{"name": "A", "min": 90}, {"name": "B", "min": 80},
                                                   {"name": "C"}]},
                "rules": {"all": {"method": "thresholds"}}},
}
RECORDS = pd.DataFrame({
    "id": ["P", "P", "Q", "Q", "R"],
    "period": ["2025-01", "2025-02", "2025-01", "2025-02", "2025-01"],
    "points": [84.0, 86.0, 95.0, 97.0, 99.0],
    "commendation": [3.0, 2.0, 0.0, 8.0, 0.0],
    "accident": [False, False, False, False, True],
})
AWARDS = pd.DataFrame({"id": ["P", "P"], "period": ["2025-01", "2025-02"], "bonus": [0.5, 1.0]})


def run(rollup: dict) -> pd.DataFrame:
    policy = calib.Policy.model_validate({**POLICY, "rollups": {"year": {"to": "year", **rollup}}})
    data = {"people": pd.DataFrame({"id": ["P", "Q", "R"]}), "records": RECORDS, "awards": AWARDS}
    result = calib.run(policy, data)
    year = result.rollups["year"].astype({"id": str}).set_index("id")
    grades = result.grades.astype({"id": str}).set_index("id")["grade"].astype(str)
    return year.assign(grade=grades)


def test_points_added_after_the_weighting_then_bounded() -> None:
    year = run({"add": [{"column": "commendation"},
                        {"source": "awards", "column": "bonus", "factor": 2}], "max": 100})
    # P: mean 85, + commendation 3 + 2, + 2 × (0.5 + 1.0) = 93 → A (was B at 85)
    assert year.loc["P", "score"] == pytest.approx(93.0) and year.loc["P", "grade"] == "A"
    assert year.loc["P", "added"] == pytest.approx(8.0)
    # Q: mean 96 + 8 = 104, held at 100
    assert year.loc["Q", "score"] == 100.0 and bool(year.loc["Q", "capped"])
    assert not bool(year.loc["P", "capped"])


def test_a_veto_in_any_month_gives_the_year_the_lowest_grade() -> None:
    year = run({"vetoes": [{"when": {"column": "accident", "eq": True}, "label": "重大安全事故"}]})
    assert year.loc["R", "score"] == 99.0 and year.loc["R", "grade"] == "C"
    assert year.loc["R", "veto"] == "重大安全事故" and pd.isna(year.loc["Q", "veto"])
    assert year.loc["Q", "grade"] == "A"


def test_without_adjustments_the_table_is_as_before() -> None:
    year = run({})
    assert "added" not in year and year.loc["P", "score"] == 85.0


@pytest.mark.parametrize(("rollup", "path"), [
    ({"add": [{"column": "nope"}]}, "rollups.year.add[0].column"),
    ({"vetoes": [{"when": {"column": "nope", "eq": True}}]}, "rollups.year.vetoes[0].when.column"),
])
def test_bad_references_are_named(rollup: dict, path: str) -> None:
    with pytest.raises(calib.PolicyError) as err:
        calib.Policy.model_validate({**POLICY, "rollups": {"year": {"to": "year", **rollup}}})
    assert path in [i.path for i in err.value.issues]


def test_the_monte_carlo_refuses_a_roll_up_it_would_not_simulate() -> None:
    from calib.errors import SimulationError
    from calib.simulate.monte_carlo import simulate

    policy = calib.Policy.model_validate({**POLICY, "rollups": {"year": {
        "to": "year", "add": [{"column": "commendation"}]}}})
    data = {"people": pd.DataFrame({"id": ["P", "Q", "R"]}), "records": RECORDS, "awards": AWARDS}
    with pytest.raises(SimulationError, match=r"rollups\.year\.add"):
        simulate(policy, data, n=3, seed=1, months=12)
