"""A blank policy workbook to start from: an example row on every sheet a simple scheme needs,
and the notes sheet explaining each column in Chinese and English.

The example is a small, valid scheme (two KPIs, a weighted sheet, three grades by forced
distribution, a bonus by grade coefficient), so the blank workbook loads as it is and HR edits it
row by row.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calib.policy.model import Policy

EXAMPLE: dict[str, Any] = {
    "name": "my_scheme",
    "title": "客服月度绩效考核 (example)",
    "version": "2026.1",
    "currency": "CNY",
    "inputs": {
        "id": "employee_id",
        "people": {"columns": {"team": {"type": "text", "label": "班组"},
                               "bonus_base": {"type": "float", "min": 0, "label": "奖金基数"}}},
        "records": {"period": "period", "columns": {
            "period": {"type": "text", "label": "考核月份"},
            "probation": {"type": "bool", "label": "试用期"},
            "surveyed": {"type": "int", "min": 0, "label": "回访人数"},
            "satisfied": {"type": "int", "min": 0, "label": "满意人数"},
            "complaints": {"type": "int", "min": 0, "label": "有效投诉数"},
            "conduct": {"type": "label", "labels": ["优秀", "良好", "一般"], "label": "工作表现"}}},
    },
    "calendar": {"frequency": "month"},
    "measures": {"satisfaction": {"kind": "ratio", "numerator": ["satisfied"],
                                  "denominator": ["surveyed"], "label": "回访满意率"}},
    "kpis": {
        "satisfaction": {"label": "回访满意率", "measure": "satisfaction",
                         "rule": {"kind": "tiers", "bound": "lower", "otherwise": 40,
                                  "bands": [{"at": "95%", "points": 100}, {"at": "90%", "points": 80},
                                            {"at": "85%", "points": 60}]}},
        "complaints": {"label": "有效投诉", "column": "complaints",
                       "rule": {"kind": "per_incident", "each": 20, "points": 100}},
        "conduct": {"label": "工作表现", "column": "conduct",
                    "rule": {"kind": "labels", "points": {"优秀": 100, "良好": 85, "一般": 70}}},
    },
    "sections": {"total": {"label": "月度考核表", "combine": "weighted",
                           "weights": {"satisfaction": 50, "complaints": 30, "conduct": 20}}},
    "scorecards": {"staff": {"label": "客服员工", "root": "total"}},
    "eligibility": {"not_rated": [{"when": {"column": "probation", "eq": True},
                                   "reason": "probation", "label": "试用期不参加考核"}]},
    "grading": {"scale": {"grades": [{"name": "A", "label": "优秀", "min": 90},
                                     {"name": "B", "label": "合格", "min": 60},
                                     {"name": "C", "label": "待改进"}]},
                "rules": {"staff": {"scorecards": ["staff"], "method": "forced",
                                    "forced": {"ratios": {"A": "20%", "B": "70%", "C": "10%"}}}}},
    "pay": {"components": {"bonus": {"kind": "grade_coefficient", "label": "月度奖金",
                                     "base": {"column": "bonus_base"},
                                     "coefficients": {"A": 1.2, "B": 1.0, "C": 0.8}}}},
    "ranges": {"kpis.satisfaction.rule.bands[0].at": {"min": 0.9, "max": 0.99}},
}
"""The blank workbook's example scheme."""


def blank_policy() -> Policy:
    """The example scheme the blank workbook holds (validated)."""
    from calib.policy.load import validate_policy

    return validate_policy(EXAMPLE, "the blank policy workbook")


def write_blank(path: str | Path) -> Path:
    """Write the blank policy workbook (the example scheme, one row or more per sheet, and notes).

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file to write.

    Returns
    -------
    Path
        The file written.
    """
    from calib.policy.workbook.write import policy_to_workbook

    return policy_to_workbook(blank_policy(), path)
