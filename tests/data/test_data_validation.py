"""Input data checks (all problems at once, with file lines) and what the engine does with the rows."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import calib
from calib.data.read import load_data
from calib.engine.frame import build_frame
from calib.errors import DataError
from calib.policy.load import validate_policy


def problems(exc: pytest.ExceptionInfo) -> list[tuple]:
    """(table, row, id, column, problem, value) of every problem, fix left out."""
    frame = exc.value.problems
    assert list(frame.columns) == list(DataError.COLUMNS)
    return [tuple(r) for r in frame[["table", "row", "id", "column", "problem", "value"]]
            .itertuples(index=False)]


def fixes(exc: pytest.ExceptionInfo) -> dict[str, str]:
    """Fix text by problem text."""
    return dict(zip(exc.value.problems["problem"], exc.value.problems["fix"], strict=True))


def frames(**overrides: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Valid tables for checks.yaml (E1–E3, January; E1 also February), with overrides."""
    tables = {
        "people": pd.DataFrame({"employee_id": ["E1", "E2", "E3"], "team": ["A", "A", "B"]}),
        "records": pd.DataFrame({
            "employee_id": ["E1", "E2", "E3"], "period": ["2025-01"] * 3,
            "calls": [100, 200, 50], "complaints": [3, 2, 0], "response_seconds": [28, 40, 50],
            "attitude": ["优秀", " 良好 ", "一般"]}),
        "requests": pd.DataFrame({"employee_id": ["E1"], "received": ["2025-01-05 09:00"],
                                  "answered": ["2025-01-05 09:30"], "category": ["general"]}),
        "ratings": pd.DataFrame({"employee_id": ["E1"], "period": ["2025-01"],
                                 "rater": ["supervisor"], "score": [90]}),
        "adjustments": pd.DataFrame({"employee_id": ["E1"], "date": ["2025-01-10"],
                                     "points": [2]}),
    }
    tables.update(overrides)
    return tables


class TestAllProblemsAtOnce:
    """Every data problem comes back in one DataError.problems table."""

    def test_problems_from_dataframes(self, golden):
        """Eleven problems across five tables, each with table, 0-based row, id, column, value."""
        records = pd.DataFrame({
            "employee_id": ["E1", "E2", "E3", "E1", "E9", "E2"],
            "period": ["2025-01"] * 5 + ["2025-02"],
            "calls": ["100", "12a", "50", "100", "10", "1.5"],
            "complaints": [1, -1, 0, 1, 0, 0],
            "response_seconds": [1, 2, None, 4, 5, 6],
            "attitude": ["优秀", "great", "一般", "良好", "良好", "良好"]})
        requests = pd.DataFrame({"employee_id": ["E1", "E3"],
                                 "received": ["2025-01-05 09:00", "2025-03-01 10:00"],
                                 "answered": ["2025-01-05 09:10", None],
                                 "category": ["vip", "general"]})
        ratings = pd.DataFrame({"employee_id": ["E1"], "period": ["2025-01"], "rater": ["boss"],
                                "score": [90]})
        adjustments = pd.DataFrame({"employee_id": ["E1"], "date": ["2025-01-10"], "points": [4]})
        with pytest.raises(DataError) as exc:
            calib.run(golden("checks"), frames(records=records, requests=requests, ratings=ratings,
                                               adjustments=adjustments))
        assert problems(exc) == [
            ("records", 1, "E2", "calls", "not a number", "12a"),
            ("records", 5, "E2", "calls", "not a whole number", 1.5),
            ("records", 1, "E2", "complaints", "below the minimum 0", -1.0),
            ("records", 2, "E3", "response_seconds", "empty cell", None),
            ("records", 1, "E2", "attitude", "unknown label", "great"),
            ("records", 4, "E9", "employee_id", "person not in the people table", "E9"),
            ("records", 3, "E1", "period", "duplicate person-period", "2025-01"),
            ("requests", 1, "E3", "received", "no records row for this person and period",
             "2025-03-01 10:00"),
            ("requests", 0, "E1", "category", "category has no time limit in measure 'timeliness'",
             "vip"),
            ("ratings", 0, "E1", "rater", "rater role not weighted in measure 'rating'", "boss"),
            ("adjustments", 0, "E1", "points", "points not an allowed level", 4.0),
        ]
        f = fixes(exc)
        assert f["unknown label"] == "use one of: 一般, 优秀, 良好, 较差"
        assert f["points not an allowed level"] == (
            "use one of +1, +2, +3, +5, +8, -1, -2, -3, -5, -10, -20 "
            "(scorecards.staff.adjustments.levels)")
        assert f["rater role not weighted in measure 'rating'"] == (
            "use one of: supervisor, peer, customer")
        assert str(exc.value).splitlines()[:2] == [
            "the input data has 11 problems:",
            "  - records row 1 (id E2), column 'calls': not a number (got '12a'). Fix: type a "
            "plain number (no units or text)"]

    def test_problems_carry_csv_line_numbers(self, golden, data_dir, tmp_path):
        """In CSV files the row is the file's line: header is line 1, the first record line 2."""
        folder = tmp_path / "data"
        shutil.copytree(data_dir / "checks", folder)
        (folder / "records.csv").write_text(
            "employee_id,period,calls,complaints,response_seconds,attitude\n"
            "E1,2025-01,100,3,28,优秀\n"
            "E2,2025-01,12a,2,40,良好\n"
            "E3,2025-01,50,-1,,一般\n"
            "E1,2025-02,100,1,31,差\n", encoding="utf-8")
        (folder / "adjustments.csv").write_text(
            "employee_id,date,points\nE1,2025-01-10,2\nE2,2025-01-12,-4\n", encoding="utf-8")
        with pytest.raises(DataError) as exc:
            calib.run(golden("checks"), folder)
        assert problems(exc) == [
            ("records", 3, "E2", "calls", "not a number", "12a"),
            ("records", 4, "E3", "complaints", "below the minimum 0", -1.0),
            ("records", 4, "E3", "response_seconds", "empty cell", None),
            ("records", 5, "E1", "attitude", "unknown label", "差"),
            ("adjustments", 3, "E2", "points", "points not an allowed level", -4.0),
        ]

    def test_missing_column_and_table(self, golden, data_dir, tmp_path):
        """A missing records column and a missing ratings file are reported together."""
        folder = tmp_path / "data"
        shutil.copytree(data_dir / "checks", folder)
        (folder / "ratings.csv").unlink()
        with pytest.raises(DataError) as exc:
            calib.run(golden("checks"), folder)
        assert problems(exc) == [("ratings", None, None, None,
                                  f"no file for table 'ratings' in {folder}", None)]
        records = frames()["records"].drop(columns=["calls"])
        with pytest.raises(DataError) as exc:
            calib.run(golden("checks"), frames(records=records))
        assert problems(exc) == [("records", None, None, "calls", "column 'calls' is missing",
                                  None)]
        assert fixes(exc)["column 'calls' is missing"].startswith(
            "add the column (check its spelling; columns found: employee_id, period, complaints")

    def test_not_a_date_and_not_a_period(self, golden):
        """'2025-13' is not a period; 'yesterday' is not a date for a datetime column."""
        records = frames()["records"].assign(period=["2025-01", "2025-13", "2025-01"])
        requests = frames()["requests"].assign(received=["yesterday"])
        with pytest.raises(DataError) as exc:
            calib.run(golden("checks"), frames(records=records, requests=requests))
        found = problems(exc)
        assert ("records", 1, "E2", "period", "not a period", "2025-13") in found
        assert ("requests", 0, "E1", "received", "not a date", "yesterday") in found

    def test_valid_data_runs(self, golden, data_dir):
        """The checks data set runs: E1 January rating (90·50 + 80·20 + 100·30)/100 = 91."""
        result = calib.run(golden("checks"), data_dir / "checks")
        m = result.measures.set_index(["id", "period"])
        assert m.loc[("E1", "2025-01"), "rating"] == 91
        assert m.loc[("E3", "2025-01"), "rating"] == 73.75  # (70·50 + 80·30) / 80
        assert m.loc[("E1", "2025-01"), "timeliness"] == 0.5  # 30 min general on time, 11 min urgent late
        assert m.loc[("E3", "2025-01"), "timeliness"] == 0  # unanswered is late


# --- zero denominators and missing values -------------------------------------------------------

def ratio_policy(on_zero: str, neutral: float = 0.0) -> calib.Policy:
    """Conversion (orders / inquiries, 100 × ratio) weighted 50, response column weighted 50."""
    return validate_policy({
        "name": "zero",
        "inputs": {"records": {"period": "period", "columns": {
            "period": {"type": "text"}, "orders": {"type": "int"}, "inquiries": {"type": "int"},
            "response": {"type": "float", "required": False}}}},
        "measures": {"conversion": {"kind": "ratio", "numerator": "orders",
                                    "denominator": "inquiries", "on_zero": on_zero,
                                    "neutral": neutral}},
        "kpis": {"conversion": {"measure": "conversion",
                                "rule": {"kind": "linear", "slope": 100}},
                 "response": {"column": "response", "rule": {"kind": "linear", "slope": 1}}},
        "sections": {"total": {"combine": "weighted",
                               "weights": {"conversion": 50, "response": 50}}},
        "scorecards": {"staff": {"root": "total"}},
    })


ZERO_ROWS = pd.DataFrame({"employee_id": ["A", "B"], "period": ["2025-03", "2025-03"],
                          "orders": [30, 0], "inquiries": [40, 0], "response": [80.0, 90.0]})


class TestZeroAndMissing:
    """R1 zero denominators and KPI on_missing follow the policy's explicit choice."""

    @pytest.mark.parametrize(("on_zero", "neutral", "b_score"), [
        ("exclude", 0.0, 90.0), ("neutral", 0.6, 75.0), ("zero", 0.0, 45.0)])
    def test_on_zero(self, on_zero, neutral, b_score):
        """B has 0 inquiries: exclude → response takes all weight = 90; neutral 0.6 → 0.5·60 +
        0.5·90 = 75; zero → 0.5·0 + 0.5·90 = 45. A: 0.5·75 + 0.5·80 = 77.5 in every case.
        """
        scores = calib.run(ratio_policy(on_zero, neutral), ZERO_ROWS).scores
        assert scores["score"].tolist() == [77.5, b_score]

    def test_on_zero_error_names_rows(self):
        """on_zero: error stops with a DataError naming B's records row."""
        with pytest.raises(DataError) as exc:
            calib.run(ratio_policy("error"), ZERO_ROWS)
        assert problems(exc) == [("records", 1, "B", None,
                                  "zero denominator for measure 'conversion'", None)]
        assert fixes(exc)["zero denominator for measure 'conversion'"] == (
            "supply the value, or choose exclude/neutral/zero for measure 'conversion' in the "
            "policy")

    @pytest.mark.parametrize(("on_missing", "a_score"), [
        ("exclude", 75.0), ("neutral", 60.0), ("zero", 37.5)])
    def test_kpi_on_missing(self, on_missing, a_score):
        """A's response is empty: exclude → conversion 75 alone; neutral 45 → 0.5·75 + 0.5·45 = 60;
        zero → 0.5·75 = 37.5.
        """
        data = ratio_policy("exclude").to_dict()
        data["kpis"]["response"].update(on_missing=on_missing, neutral=45)
        rows = ZERO_ROWS.assign(response=[np.nan, 90.0])
        scores = calib.run(validate_policy(data), rows).scores
        assert scores["score"].tolist()[0] == a_score

    def test_kpi_on_missing_error(self):
        """on_missing: error with an empty response cell names A's row."""
        data = ratio_policy("exclude").to_dict()
        data["kpis"]["response"]["on_missing"] = "error"
        with pytest.raises(DataError) as exc:
            calib.run(validate_policy(data), ZERO_ROWS.assign(response=[np.nan, 90.0]))
        assert problems(exc) == [("records", 0, "A", None, "missing value for KPI 'response'",
                                  None)]

    def test_everything_excluded_is_not_rated(self):
        """B: zero denominator (excluded) and empty response → not rated, 'no data for any item'."""
        scores = calib.run(ratio_policy("exclude"), ZERO_ROWS.assign(response=[80.0, np.nan])).scores
        b = scores.iloc[1]
        assert (b["status"], b["reason"]) == ("not_rated", "no data for any item")
        assert np.isnan(b["score"])


# --- eligibility, proration, calendar -----------------------------------------------------------

class TestRowsAndPeriods:
    """Every records row comes out; eligibility, proration and the 26th calendar."""

    def test_every_row_in_scores(self, mini_policy, data_dir):
        """mini: 4 records rows → 4 score rows; E3 (probation) not rated with reason 'probation'."""
        scores = calib.run(mini_policy, data_dir / "mini").scores
        assert list(zip(scores["id"], scores["period"], scores["status"], strict=True)) == [
            ("E1", "2025-01", "rated"), ("E1", "2025-02", "rated"), ("E2", "2025-01", "rated"),
            ("E3", "2025-01", "not_rated")]
        assert scores.iloc[3]["reason"] == "probation"
        assert np.isnan(scores.iloc[3]["score"])

    def test_mini_scores(self, mini_policy, data_dir):
        """E1 Jan: sales 0.5·80 + 0.35·80 = 68, + attendance 10 − 2 = 8, + 优秀 5 = 81;
        E1 Feb: 0 inquiries, conversion excluded → response 100 carries 85 → 85 + 10 + 3 = 98.
        """
        scores = calib.run(mini_policy, data_dir / "mini").scores
        assert scores["score"].tolist()[:3] == [81.0, 98.0, 79.0]

    def test_custom_26th_calendar(self, golden):
        """start_day 26: a request on 2025-01-26 counts in 2025-02; 2025-01-25 23:59 in 2025-01."""
        records = pd.DataFrame({"employee_id": ["A", "A"], "period": ["2025-01", "2025-02"]})
        requests = pd.DataFrame({"employee_id": ["A", "A", "A"],
                                 "received": ["2025-01-25 23:59", "2025-01-26 00:01",
                                              "2025-02-25 12:00"]})
        people = pd.DataFrame({"employee_id": ["A"], "hired": [None], "left": [None]})
        result = calib.run(golden("calendar26"),
                           {"people": people, "records": records, "requests": requests})
        assert result.measures["handled"].tolist() == [1.0, 2.0]

    def test_proration_from_hire_and_leave_dates(self, golden):
        """Period 2025-02 runs 26 Jan – 25 Feb (31 days): left 10 Feb → 16/31; hired 5 Feb → 21/31."""
        people = pd.DataFrame({"employee_id": ["A", "B"], "hired": [None, "2025-02-05"],
                               "left": ["2025-02-10", None]})
        records = pd.DataFrame({"employee_id": ["A", "A", "B"],
                                "period": ["2025-01", "2025-02", "2025-02"]})
        requests = pd.DataFrame({"employee_id": ["A"], "received": ["2025-02-01 09:00"]})
        result = calib.run(golden("calendar26"),
                           {"people": people, "records": records, "requests": requests})
        assert result.scores["proration"].tolist() == [1.0, round(16 / 31, 9), round(21 / 31, 9)]

    def test_proration_from_days(self, golden):
        """days present 15 of March's 31 → 15/31; 31 → 1; 40 is clipped to 1."""
        data = golden("annual").to_dict()
        data["inputs"]["records"]["columns"]["days"] = {"type": "float"}
        data["eligibility"]["proration"] = {"days": "days"}
        records = pd.DataFrame({"employee_id": ["A", "B", "C"], "period": ["2025-03"] * 3,
                                "points": [80, 80, 80], "absent": [False] * 3, "days": [15, 31, 40]})
        empty_checks = pd.DataFrame(columns=["employee_id", "date", "score"])
        empty_yearend = pd.DataFrame(columns=["employee_id", "period", "score"])
        result = calib.run(validate_policy(data), {"records": records, "checks": empty_checks,
                                                   "yearend": empty_yearend})
        assert result.scores["proration"].tolist() == [round(15 / 31, 9), 1.0, 1.0]


class TestRollups:
    """R20 roll-ups with max_not_rated and the 20/30/50 annual parts."""

    @pytest.fixture
    def result(self, golden):
        """A rated 80, 90, 100 in Q1; B absent in January and February, 90 in March."""
        records = pd.DataFrame({"employee_id": ["A"] * 3 + ["B"] * 3,
                                "period": ["2025-01", "2025-02", "2025-03"] * 2,
                                "points": [80, 90, 100, 70, 80, 90],
                                "absent": [False, False, False, True, True, False]})
        checks = pd.DataFrame({"employee_id": ["A", "A", "B"],
                               "date": ["2025-01-07", "2025-02-14", "2025-03-03"],
                               "score": [60, 80, 50]})
        yearend = pd.DataFrame({"employee_id": ["A", "B"], "period": ["2025-12", "2025-12"],
                                "score": [95, 85]})
        return calib.run(golden("annual"), {"records": records, "checks": checks,
                                            "yearend": yearend})

    def test_quarter_max_not_rated(self, result):
        """A: mean(80, 90, 100) = 90; B: 2 periods not rated > max 1 → not rated."""
        q = result.rollups["quarter"]
        assert q["score"].tolist()[0] == 90
        assert (q.iloc[1]["status"], q.iloc[1]["reason"]) == (
            "not_rated", "not rated in more than 1 periods")

    def test_annual_20_30_50(self, result):
        """A: 0.2·mean(60, 80) + 0.3·90 + 0.5·95 = 14 + 27 + 47.5 = 88.5;
        B: 0.2·50 + 0.3·90 + 0.5·85 = 10 + 27 + 42.5 = 79.5.
        """
        y = result.rollups["year"]
        assert y["score"].tolist() == [88.5, 79.5]
        assert y["part:checks.score"].tolist() == [70, 50]


# --- scorecards: R13, R16, R17, R19 ---------------------------------------------------------------

def base100_tables(adjust: list[tuple[str, float]], late=None, commendation=None,
                   fatal=None, leak=None) -> dict[str, pd.DataFrame]:
    """Lead L over team t (A, B); C and D in team s; units u1 = L, A, B and u2 = C, D."""
    ids = ["L", "A", "B", "C", "D"]
    people = pd.DataFrame({"employee_id": ids, "unit": ["u1", "u1", "u1", "u2", "u2"],
                           "team": ["t", "t", "t", "s", "s"],
                           "position": ["lead", "staff", "staff", "staff", "staff"]})
    records = pd.DataFrame({"employee_id": ids, "period": ["2025-01"] * 5,
                            "late": late or [0] * 5, "commendation": commendation or [0] * 5,
                            "fatal_accident": fatal or [False] * 5,
                            "data_leak": leak or [False] * 5})
    adjustments = pd.DataFrame({"employee_id": [a for a, _ in adjust],
                                "period": ["2025-01"] * len(adjust),
                                "points": [p for _, p in adjust]})
    return {"people": people, "records": records, "adjustments": adjustments}


class TestScorecards:
    """Base-100 sheets with caps, bonus points, team leads and vetoes."""

    def test_individual_cap_and_approval_flags(self, golden):
        """A: 100 + 8 + 5 = 113 → capped at 110; B: 100 − 20 = 80; +8 and −20 need approval."""
        result = calib.run(golden("base100"), base100_tables([("A", 8), ("A", 5), ("B", -20)]))
        s = result.scores.set_index("id")
        assert (s.loc["A", "score"], s.loc["A", "added"], bool(s.loc["A", "capped"])) == (110, 13, True)
        assert (s.loc["B", "score"], s.loc["B", "deducted"]) == (80, -20)
        adj = result.adjustments  # in canonical order (id, period, points), whatever the input's
        keys = zip(adj["employee_id"], adj["points"], strict=True)
        assert dict(zip(keys, adj["needs_approval"], strict=True)) == {
            ("A", 8): True, ("A", 5): False, ("B", -20): True}

    def test_group_average_report(self, golden):
        """u1 members A 108 and B 105 average 106.5 > 102: reported, scores kept."""
        result = calib.run(golden("base100"), base100_tables([("A", 8), ("B", 5)]))
        caps = result.group_caps
        assert caps[["group", "period", "size", "mean_before", "cap", "method"]].values.tolist() == [
            ["u1", "2025-01", 2, 106.5, 102.0, "report"]]
        assert result.scores.set_index("id").loc[["A", "B"], "score"].tolist() == [108, 105]

    def test_group_average_scale(self, golden):
        """scale: additions 8 + 5 shrink by (2·102 − 200)/13 = 4/13 → A 102.461538462, B 101.538461538,
        mean exactly 102.
        """
        data = golden("base100").to_dict()
        data["scorecards"]["staff"]["adjustments"]["group_average"]["method"] = "scale"
        result = calib.run(validate_policy(data), base100_tables([("A", 8), ("B", 5)]))
        s = result.scores.set_index("id")
        assert s.loc[["A", "B"], "score"].tolist() == [round(100 + 8 * 4 / 13, 9),
                                                      round(100 + 5 * 4 / 13, 9)]
        assert result.group_caps.iloc[0]["scale"] == round(4 / 13, 9)
        assert result.group_caps.iloc[0]["mean_after"] == 102

    def test_bonus_after_scoring(self, golden):
        """R17: A 100 + 8 + 5 capped at 110, then commendation +3 → 113 (above 100 and the cap)."""
        result = calib.run(golden("base100"), base100_tables(
            [("A", 8), ("A", 5)], commendation=[0, 3, 0, 0, 0]))
        a = result.scores.set_index("id").loc["A"]
        assert (a["score"], a["bonus"]) == (113, 3)

    def test_bonus_out_of_range_is_data_error(self, golden):
        """A commendation of 12 is outside [1, 10]."""
        with pytest.raises(DataError) as exc:
            calib.run(golden("base100"), base100_tables([], commendation=[0, 12, 0, 0, 0]))
        assert problems(exc) == [("records", 1, "A", "commendation",
                                  "bonus points outside [1, 10]", 12.0)]

    def test_team_lead_mean_times_factor(self, golden):
        """R19: L = mean(A 103, B 90) × 1.2 = 96.5 × 1.2 = 115.8."""
        result = calib.run(golden("base100"), base100_tables([("A", 3), ("B", -10)]))
        lead = result.scores.set_index("id").loc["L"]
        assert (lead["scorecard"], lead["base"], lead["score"]) == ("lead", 96.5, 115.8)

    def test_vetoes(self, golden):
        """R13: C's fatal accident → 0 (veto 'fatal accident'); D's data leak keeps 100 and caps
        the grade at the lowest.
        """
        result = calib.run(golden("base100"), base100_tables(
            [("C", 1)], fatal=[False, False, False, True, False],
            leak=[False, False, False, False, True]))
        s = result.scores.set_index("id")
        assert (s.loc["C", "score"], s.loc["C", "veto"], bool(s.loc["C", "lowest_grade"])) == (
            0, "fatal accident", False)
        assert (s.loc["D", "score"], s.loc["D", "veto"], bool(s.loc["D", "lowest_grade"])) == (
            100, "customer data leaked", True)

    def test_multi_rater_mean(self):
        """R18: a supervisor rated 93 by the branch and 98 by HQ, weighted 50/50 → 95.5."""
        policy = validate_policy({
            "name": "raters",
            "inputs": {"records": {"period": "period", "columns": {"period": {"type": "text"}}},
                       "events": {"ratings": {"period": "period", "columns": {
                           "period": {"type": "text"}, "rater": {"type": "text"},
                           "score": {"type": "float"}}}}},
            "measures": {"rating": {"kind": "rating", "table": "ratings",
                                    "weights": {"branch": 50, "hq": 50}}},
            "kpis": {"rating": {"measure": "rating", "rule": {"kind": "linear", "slope": 1}}},
            "scorecards": {"supervisor": {"root": "rating"}},
        })
        ratings = pd.DataFrame({"employee_id": ["S", "S"], "period": ["2025-03", "2025-03"],
                                "rater": ["branch", "hq"], "score": [93, 98]})
        records = pd.DataFrame({"employee_id": ["S"], "period": ["2025-03"]})
        result = calib.run(policy, {"records": records, "ratings": ratings})
        assert result.scores["score"].tolist() == [95.5]


class TestScorecardChoice:
    """Which scorecard a row takes: its matching 'when', else the one without 'when'."""

    @pytest.fixture
    def policy(self):
        """Default card 'everyone'; 'leads' (position = lead) and 'seniors' (lead or senior)."""
        return validate_policy({
            "name": "cards",
            "inputs": {"records": {"period": "period", "columns": {
                "period": {"type": "text"}, "a": {"type": "float"}, "position": {"type": "text"}}}},
            "kpis": {"a": {"column": "a", "rule": {"kind": "linear", "slope": 1}}},
            "scorecards": {
                "everyone": {"root": "a"},
                "leads": {"root": "a", "when": {"column": "position", "eq": "lead"}},
                "seniors": {"root": "a", "when": {"column": "position", "in": ["lead", "senior"]}}},
        })

    def test_default_card_takes_the_rest(self, policy):
        """B (staff) takes 'everyone', C (senior) takes 'seniors', although 'everyone' is first."""
        rows = pd.DataFrame({"employee_id": ["B", "C"], "period": ["2025-01"] * 2, "a": [2, 3],
                             "position": ["staff", "senior"]})
        scores = calib.run(policy, rows).scores
        assert scores["scorecard"].tolist() == ["everyone", "seniors"]

    def test_overlapping_conditions_are_a_data_error(self, policy):
        """A lead matches both 'leads' and 'seniors': DataError naming the row, its value and
        both conditions; raised when the data are loaded, so `calib validate --data` (which
        loads and checks without running) refuses it as the run does."""
        rows = pd.DataFrame({"employee_id": ["A", "B", "C"], "period": ["2025-01"] * 3,
                             "a": [1, 2, 3], "position": ["staff", "lead", "lead"]})
        with pytest.raises(DataError) as exc:
            calib.run(policy, rows)
        assert problems(exc) == [
            ("records", 1, "B", "position", "matches both scorecards 'leads' and 'seniors'", "lead"),
            ("records", 2, "C", "position", "matches both scorecards 'leads' and 'seniors'", "lead")]
        assert "scorecards.leads.when, scorecards.seniors.when" in \
            fixes(exc)["matches both scorecards 'leads' and 'seniors'"]
        with pytest.raises(DataError) as loading:
            build_frame(policy, load_data(rows, policy))
        assert problems(loading) == problems(exc)
