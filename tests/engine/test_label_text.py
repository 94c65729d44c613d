"""The engine reads label text through the one rule (``calib._util.text``): groups, look-ups and
rule checks agree on what a cell says, and a blank cell is an empty one.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

import calib
from calib.engine.grading import column_codes
from calib.kernels.labels import label_points
from calib.policy.load import validate_policy
from calib.policy.rules import LabelPoints


def _frames(requests: pd.DataFrame, ratings: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """checks.yaml's tables (E1–E3, January) with the given requests and ratings."""
    return {
        "people": pd.DataFrame({"employee_id": ["E1", "E2", "E3"], "team": ["A", "A", "B"]}),
        "records": pd.DataFrame({
            "employee_id": ["E1", "E2", "E3"], "period": ["2025-01"] * 3,
            "calls": [100, 200, 50], "complaints": [3, 2, 0], "response_seconds": [28, 40, 50],
            "attitude": ["优秀", "良好", "一般"]}),
        "requests": requests, "ratings": ratings,
        "adjustments": pd.DataFrame({"employee_id": ["E1"], "date": ["2025-01-10"],
                                     "points": [2]}),
    }


def _optional(policy: calib.Policy, table: str, column: str) -> calib.Policy:
    data = copy.deepcopy(policy.to_dict())
    data["inputs"]["events"][table]["columns"][column]["required"] = False
    return validate_policy(data)


class TestColumnCodes:
    """Groups from a column: one code per clean text."""

    def test_spaces_and_blank_cells(self) -> None:
        """' A' is A; a blank cell and a missing one are one group, named ''."""
        codes, names = column_codes(pd.Series(["A", "  ", None, " A", "B"], dtype=object))
        assert codes.tolist() == [0, 2, 2, 0, 1] and names.tolist() == ["A", "B", ""]

    def test_a_categorical_reuses_its_codes(self) -> None:
        """Categories are cleaned as any other values; missing takes the last name."""
        codes, names = column_codes(pd.Categorical(["x", None, "y"]))
        assert codes.tolist() == [0, 2, 1] and names.tolist() == ["x", "y", ""]


class TestLabelPoints:
    """R9 looks a label up by its clean text."""

    def test_spaces_blank_and_unknown(self) -> None:
        """' 良好 ' scores as 良好; blank, missing and unknown labels have no points."""
        rule = LabelPoints(kind="labels", points={"优秀": 5, "良好": 3})
        points, unknown = label_points(np.array([" 良好 ", "优秀", "", None, "差"], dtype=object), rule)
        assert points[:2].tolist() == [3, 5] and unknown.tolist() == [False, False, True, True, True]


class TestRuleChecksWithEmptyCells:
    """An SLA category or rater role left empty (the column not required) is not a crash."""

    def test_empty_sla_category(self, golden) -> None:
        """Empty categories are neither reported nor fatal; a request with no limit is late.

        Before the one rule, an empty category reached ``np.isin`` as pandas' NA and the run
        stopped with "TypeError: boolean value of NA is ambiguous".
        """
        policy = _optional(golden("checks"), "requests", "category")
        requests = pd.DataFrame({
            "employee_id": ["E1", "E1", "E1"], "received": ["2025-01-05 09:00"] * 3,
            "answered": ["2025-01-05 09:05"] * 3, "category": ["general", None, "  "]})
        ratings = pd.DataFrame({"employee_id": ["E1"], "period": ["2025-01"],
                                "rater": ["supervisor"], "score": [90]})
        result = calib.run(policy, _frames(requests, ratings))
        timeliness = result.measures.set_index("id").loc["E1", "timeliness"]
        assert abs(timeliness - 1 / 3) < 1e-9  # only the 'general' request has a time limit

    def test_empty_rater_role(self, golden) -> None:
        """A rating without a role is left out of the roles' weighted mean."""
        policy = _optional(golden("checks"), "ratings", "rater")
        requests = pd.DataFrame({"employee_id": ["E1"], "received": ["2025-01-05 09:00"],
                                 "answered": ["2025-01-05 09:05"], "category": ["general"]})
        ratings = pd.DataFrame({"employee_id": ["E1", "E1"], "period": ["2025-01"] * 2,
                                "rater": ["supervisor", None], "score": [90, 10]})
        result = calib.run(policy, _frames(requests, ratings))
        assert result.measures.set_index("id").loc["E1", "rating"] == 90
