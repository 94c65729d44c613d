"""Diagnostics (calib.analysis.diagnostics): planted lenient rater and group, targets, parity, small teams,
inflation; and what the examples' data cards say."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calib
from calib.analysis import diagnostics as d

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / "datasets"

TEAMS = [f"T{i}" for i in range(1, 9)]
LENIENT_TEAM = "T3"
PEERS = ["P1", "P2", "P3", "P4"]
HQ = ["H1", "H2", "H3"]
LENIENT_RATER = "P2"
PERIODS = [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]

RATED = """
name: planted
version: "1"
inputs:
  id: employee_id
  people:
    columns:
      team: {type: text}
      gender: {type: text}
      hired: {type: date}
  records:
    period: period
    columns:
      period: {type: text}
  events:
    ratings:
      period: period
      columns:
        period: {type: text}
        rater: {type: text}
        rater_name: {type: text}
        score: {type: float, min: 0, max: 200}
calendar: {frequency: month}
measures:
  rating:
    kind: rating
    table: ratings
    weights: {manager: 1, peer: 1, hq: 1}
kpis:
  rating:
    measure: rating
    rule: {kind: linear, slope: 1}
scorecards:
  staff: {root: rating}
grading:
  "on": period
  scale:
    grades: [{name: A}, {name: B}, {name: C}]
  rules:
    staff:
      method: forced
      forced: {by: [team], ratios: {A: 20%, B: 70%, C: 10%}}
"""

POINTS = """
name: points
version: "1"
inputs:
  id: employee_id
  people:
    columns:
      team: {type: text}
  records:
    period: period
    columns:
      period: {type: text}
      points: {type: float}
calendar: {frequency: month}
kpis:
  points:
    column: points
    rule: {kind: linear, slope: 1}
scorecards:
  staff: {root: points}
grading:
  "on": period
  scale:
    grades: [{name: A, min: 90}, {name: B, min: 75}, {name: C}]
  rules:
    staff: RULE
"""

THRESHOLDS = "{method: thresholds}"
FORCED = ("{method: forced, forced: {by: [team], ratios: {A: 10%, B: 70%, C: 20%}, "
          "small_groups: {max_size: 1}}}")


@cache
def planted(seed: int = 20240601) -> calib.Result:
    """8 teams of 24 for 24 months. Everyone is rated each month by the team's manager, one of four
    peers and one of three HQ raters, in rotation (so every team sees every peer and HQ rater
    equally). Planted: peer P2 scores 6 points above the others; every rater scores team T3 4
    points higher (a lenient department); all scores drift up 2 points a year."""
    rng = np.random.default_rng(seed)
    people, records, ratings = [], [], []
    for t, team in enumerate(TEAMS):
        ability = rng.normal(0, 3, 24)
        ability -= ability.mean()  # no real difference between the teams' people
        for i in range(24):
            pid = f"E{t:02d}{i:02d}"
            hired = pd.Timestamp("2012-01-01") + pd.Timedelta(days=int(rng.integers(0, 4400)))
            people.append((pid, team, rng.choice(["F", "M"]), hired.strftime("%Y-%m-%d")))
            for k, period in enumerate(PERIODS):
                records.append((pid, period))
                level = 80 + ability[i] + (4 if team == LENIENT_TEAM else 0) + 2 * k / 12
                for role, rater in (("manager", f"M{t}"), ("peer", PEERS[(i + k) % 4]),
                                    ("hq", HQ[(i + 2 * k) % 3])):
                    bias = 6 if rater == LENIENT_RATER else 0
                    ratings.append((pid, period, role, rater, round(level + bias + rng.normal(0, 2.5), 1)))
    data = {"people": pd.DataFrame(people, columns=["employee_id", "team", "gender", "hired"]),
            "records": pd.DataFrame(records, columns=["employee_id", "period"]),
            "ratings": pd.DataFrame(ratings, columns=["employee_id", "period", "rater", "rater_name",
                                                      "score"])}
    return calib.run(calib.parse_policy(RATED), data)


@cache
def points(rule: str) -> calib.Result:
    """Teams of 2, 3, 4, 20, 24 and 30 people with normal points, 12 months."""
    rng = np.random.default_rng(7)
    people, records = [], []
    for size in (2, 3, 4, 20, 24, 30):
        for copy in range(3):
            team = f"S{size:02d}-{copy}"
            for i in range(size):
                pid = f"{team}-{i:02d}"
                people.append((pid, team))
                records += [(pid, p, round(float(rng.normal(80, 8)), 2)) for p in PERIODS[:12]]
    data = {"people": pd.DataFrame(people, columns=["employee_id", "team"]),
            "records": pd.DataFrame(records, columns=["employee_id", "period", "points"])}
    return calib.run(calib.parse_policy(POINTS.replace("RULE", rule)), data)


@cache
def example(name: str) -> calib.Result:
    return calib.run(calib.load_policy(DATASETS / name / "policy.yaml"), DATASETS / name)


# ------------------------------------------------------------------ planted lenient rater and group


def test_rater_leniency_finds_the_planted_rater_only():
    table = d.rater_leniency(planted())
    raters = table[table["level"] == "rater"].set_index("rater")
    assert len(raters) == 8 + len(PEERS) + len(HQ)
    significant = raters[raters["verdict"] != "in line"]
    assert list(significant.index) == [LENIENT_RATER]
    assert significant.loc[LENIENT_RATER, "verdict"] == "lenient"
    assert significant.loc[LENIENT_RATER, "deviation"] == pytest.approx(6, abs=0.5)
    assert significant.loc[LENIENT_RATER, "p_holm"] < 1e-10
    # the others are within half a point of the typical rater on the same people
    assert raters.drop(index=LENIENT_RATER)["deviation"].abs().max() < 0.5
    # roles: P2 makes the peer role as a whole lenient
    roles = table[table["level"] == "role"].set_index("rater")
    assert set(roles.index) == {"manager", "peer", "hq"}
    assert roles.loc["peer", "verdict"] == "lenient"


def test_rater_leniency_is_deterministic_and_holm_is_at_least_raw():
    a, b = d.rater_leniency(planted()), d.rater_leniency(planted())
    pd.testing.assert_frame_equal(a, b)
    assert (a["p_holm"] >= a["p"] - 1e-15).all()
    assert ((a["p_holm"] >= 0) & (a["p_holm"] <= 1)).all()


def test_group_leniency_finds_the_planted_team_only():
    table = d.group_leniency(planted(), "team").set_index("team")
    assert list(table.index) == TEAMS
    assert table["n"].eq(24).all() and table["rows"].eq(24 * 24).all()
    significant = table[table["verdict"] != "in line"]
    assert list(significant.index) == [LENIENT_TEAM]
    assert significant.loc[LENIENT_TEAM, "verdict"] == "lenient"
    assert significant.loc[LENIENT_TEAM, "diff_rest"] == pytest.approx(4, abs=0.5)
    assert significant.loc[LENIENT_TEAM, "cohens_d"] > 0.8


def test_group_leniency_by_quota_group_and_by_row():
    table = d.group_leniency(planted(), "group", unit="row")
    assert set(table["group"]) == set(TEAMS)
    assert table.set_index("group").loc[LENIENT_TEAM, "verdict"] == "lenient"
    assert table["n"].eq(24 * 24).all()
    with pytest.raises(calib.CalibError, match="no column"):
        d.group_leniency(planted(), "nope")


def test_holm():
    assert d.holm([0.01, 0.04, 0.03, np.nan]).tolist()[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(d.holm([np.nan])[0])


# ------------------------------------------------------------------ the examples' data cards


def test_gas_cs_raters_agree_with_the_data_card():
    """gas_cs card: HQ scores 1.5 points below the branch managers on average; each branch manager
    has an offset of sd 2.5 (the generator's are +2.3, +2.27, −2.78, +0.98, −0.14)."""
    table = d.rater_leniency(example("gas_cs"))
    roles = table[table["level"] == "role"].set_index("rater")
    assert roles.loc["总部", "verdict"] == "harsh" and roles.loc["分公司", "verdict"] == "lenient"
    # HQ's raw gap to the branch managers ≈ 1.5 + the mean branch offset (~0.5), noise and clipping
    assert -3.5 < roles.loc["总部", "raw_deviation"] < -1.0
    raters = table[table["level"] == "rater"].set_index("rater")
    assert len(raters) == 6
    assert raters.loc["总部客户服务部", "verdict"] == "harsh"
    assert raters.loc["城南分公司经理", "verdict"] == "harsh"  # the harshest branch manager (−2.78)
    assert raters["deviation"].idxmin() == "城南分公司经理"


def test_forced_distribution_meets_its_target():
    table = d.distribution_vs_target(example("ecommerce_cs"))
    assert table["period"].iloc[-1] == "(all)" and len(table) == 25
    assert (table["p"] > 0.95).all()
    detail = d.distribution_vs_target(example("ecommerce_cs"), by_grade=True)
    assert detail.groupby("period")["target_share"].sum().round(9).eq(1).all()
    assert set(detail["grade"]) == set(example("ecommerce_cs").policy.grading.scale.names())


def test_thresholds_against_an_off_target():
    result = points(THRESHOLDS)
    table = d.distribution_vs_target(result, target={"A": 0.4, "B": 0.4, "C": 0.2})
    assert (table["p"] < 1e-6).all()
    assert table.iloc[-1]["largest_gap"].startswith("A ")
    # the target the points were drawn for (N(80, 8): 10.6 % ≥ 90, 62.1 % ≥ 75) fits
    fair = d.distribution_vs_target(result, target={"A": 0.106, "B": 0.621, "C": 0.273})
    assert fair.iloc[-1]["p"] > 0.01
    with pytest.raises(calib.CalibError, match="give 'target'"):
        d.distribution_vs_target(result)


def test_small_expected_counts_are_merged_or_noted():
    result = points(THRESHOLDS)
    merged = d.distribution_vs_target(result, target={"A": 0.01, "B": 0.6, "C": 0.39})
    months, overall = merged.iloc[:-1], merged.iloc[-1]  # 2.5 expected A a month, 30 overall
    assert months["note"].str.contains("merged A & B").all() and (months["cells"] == 2).all()
    assert overall["note"] == "" and overall["cells"] == 3
    noted = d.distribution_vs_target(result, target={"A": 0.01, "B": 0.6, "C": 0.39}, merge_small=False)
    assert noted.iloc[:-1]["note"].str.contains("approximate").all()
    zero = d.distribution_vs_target(result, target={"B": 0.7, "C": 0.3})
    assert (zero["p"] == 0).all() and zero["note"].str.contains("target is 0").all()


def test_parity_by_gender_and_tenure():
    table = d.parity(example("gas_cs"), "gender")
    assert list(table["gender"]) == ["(all)", "女", "男"]
    assert table["n"].iloc[1:].sum() == table["n"].iloc[0]
    for col in ("grade_p", "pay_p", "score_p"):
        assert 0 <= table[col].iloc[0] <= 1
    shares = table[[c for c in table if c.startswith("share ")]].sum(axis=1)
    assert shares.round(9).eq(1).all()
    # the card plants no gender difference: no group's A+ share is 5 points off
    assert not table["flag"].any()
    tenure = d.parity(planted(), "hired", bands=[0, 1, 3, 5, 10])
    assert list(tenure["hired"]) == ["(all)", "0–1 y", "1–3 y", "3–5 y", "5–10 y", "10+ y"]
    assert tenure["n"].iloc[1:].sum() == tenure["n"].iloc[0]
    assert 0 <= tenure["grade_p"].iloc[0] <= 1


def test_small_teams_round_worse():
    table = d.small_teams(points(FORCED)).set_index("size")
    assert list(table.index) == [2, 3, 4, 20, 24, 30]
    small, large = table.loc[[2, 3, 4]], table.loc[[20, 24, 30]]
    assert small["small"].all() and not large["small"].any()
    assert small["error_per_person"].min() > large["error_per_person"].max()
    # 10 % of 2, 3 or 4 people rounds to no top grade at all; 20+ people get theirs
    assert small["zero_top"].eq(1.0).all() and large["zero_top"].eq(0.0).all()
    assert (large["top_share"] - 0.1).abs().max() < 0.02


def test_inflation_detects_the_planted_trend():
    table = d.inflation(planted()).set_index("metric")
    assert table.loc["mean_score", "slope_per_year"] == pytest.approx(2, abs=0.25)
    assert table.loc["mean_score", "p"] < 1e-6 and table.loc["mean_score", "verdict"] == "rising"
    # a forced distribution keeps the top share flat whatever the scores do
    assert table.loc["top_share", "verdict"] == "flat"
    flat = d.inflation(points(THRESHOLDS)).set_index("metric")
    assert flat.loc["mean_score", "verdict"] == "flat"
    per = d.inflation(planted(), by_period=True)
    assert len(per) == 24 and per["years"].iloc[-1] == pytest.approx(23 / 12, abs=0.01)


def test_report_has_the_tables_that_apply():
    rep = d.report(planted())
    assert {"leniency group", "leniency team", "raters", "distribution", "small teams",
            "parity gender", "parity tenure", "inflation", "inflation by period"} <= set(rep)
    assert all(isinstance(t, pd.DataFrame) for t in rep.values())
    assert "raters" not in d.report(example("ecommerce_cs"))
