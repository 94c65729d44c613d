"""Grades given by the data (issue 20, item 3): an external session's or last year's system's
grades, checked against the scale, so that a scheme can be re-paid from given grades.

A cell may hold a grade's name or its label (``A`` or ``良好``). A rated row with a blank cell
is refused with its place, or left without a grade and a note when the policy says
``missing: not_graded``; a value that is not in the scale is always refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.engine.grading.core import Grades, Population, column_codes
from calib.engine.grading.method import GradingMethod
from calib.errors import DataError
from calib.policy.grading import GradeScale, GradingRule


def _given(pop: Population, rows: np.ndarray, rule: GradingRule, name: str, scale: GradeScale,
           card_index: dict[str, int], out: Grades) -> None:
    settings = rule.given
    assert settings is not None, "a given rule has its settings (GradingRule)"
    codes, texts = column_codes(pop.column(settings.column))  # clean text; '' last
    index = {**{(g.label or g.name): i for i, g in enumerate(scale.grades)},
             **{g.name: i for i, g in enumerate(scale.grades)}}
    grade_of_text = np.array([index.get(str(t), -2) if t != "" else -1 for t in texts],
                             dtype=np.int64)
    grades = grade_of_text[codes[rows]]
    unknown = grades == -2
    blank = grades == -1
    problems = []
    if unknown.any():
        problems.append(_problems(pop, rows[unknown], settings.column, texts[codes[rows[unknown]]],
                                  "the grade is not in the scale",
                                  f"use one of: {', '.join(scale.names())} (or their labels)"))
    if blank.any() and settings.missing == "error":
        problems.append(_problems(pop, rows[blank], settings.column, None,
                                  "the grade is blank on a rated row",
                                  "give the grade, or set missing: not_graded on the rule"))
    if problems:
        raise DataError(pd.concat(problems, ignore_index=True))
    graded = rows[grades >= 0]
    out.grade[graded] = grades[grades >= 0]
    out.set_rule(graded, name)
    if blank.any():
        missing = rows[blank]
        out.later(lambda d: d.note.set_rows(
            missing, f"not graded: no grade given in column '{settings.column}'"))


def _problems(pop: Population, rows: np.ndarray, column: str, values: np.ndarray | None,
              problem: str, fix: str) -> pd.DataFrame:
    return pd.DataFrame({
        "table": "records", "row": pop.row_numbers[rows], "id": pop.ids[pop.person[rows]],
        "column": column, "problem": problem, "value": values, "fix": fix},
        columns=list(DataError.COLUMNS))


METHOD = GradingMethod("given", _given, "given")
