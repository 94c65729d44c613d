"""The fixed text of the printed statements, one dict per language.

Kept apart so the strings can move to message catalogues (Babel) later; the policy's own labels
(KPIs, sections, grades, components) are shown as the policy gives them, in any language.
The language follows the policy: Chinese when any KPI or grade label holds a CJK character.
"""

from __future__ import annotations

import re

from calib.policy.model import Policy

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "statement": "Performance statement",
        "person": "Employee",
        "policy": "Scheme",
        "period": "Period",
        "status": "Status",
        "rated": "rated",
        "not_rated": "not rated",
        "prorated": "not rated, paid pro rata",
        "section": "Section",
        "item": "Item",
        "value": "Value",
        "rule": "Rule",
        "path": "Policy path",
        "inputs": "Inputs",
        "measures": "Measures",
        "kpis": "KPI points",
        "score": "Score",
        "parts": "Roll-up parts",
        "adjustments": "Added and deducted points",
        "grade": "Grade",
        "pay": "Pay",
        "payout": "Payout",
        "limits": "Caps and floors that bit",
        "overrides": "Overrides",
        "outcomes": "Outcomes",
        "overridden": "overridden",
        "computed": "computed",
        "final": "final",
        "reason": "reason",
        "by": "by",
        "at": "at",
        "capped_at": "capped at",
        "floor_at": "raised to the floor",
        "before_cap": "before the cap",
        "before_floor": "before the floor",
        "signatures": "Signatures",
        "employee": "被考核人 Employee",
        "assessor": "考核人 Assessor",
        "reviewer": "复核人 Reviewer",
        "signature": "Signature",
        "date": "Date",
        "index": "Statements",
        "people": "people",
        "periods": "periods",
        "sha256": "policy sha256",
    },
    "zh": {
        "statement": "绩效考核结果确认单",
        "person": "员工",
        "policy": "考核方案",
        "period": "考核期间",
        "status": "状态",
        "rated": "已考核",
        "not_rated": "未考核",
        "prorated": "未考核，按比例发放",
        "section": "部分",
        "item": "项目",
        "value": "数值",
        "rule": "规则",
        "path": "方案路径",
        "inputs": "原始数据",
        "measures": "指标计算",
        "kpis": "指标得分",
        "score": "得分",
        "parts": "汇总组成",
        "adjustments": "加减分",
        "grade": "等级",
        "pay": "薪酬",
        "payout": "应发金额",
        "limits": "触及的上限与下限",
        "overrides": "人工调整",
        "outcomes": "考核结果应用",
        "overridden": "已调整",
        "computed": "计算值",
        "final": "最终值",
        "reason": "原因",
        "by": "调整人",
        "at": "时间",
        "capped_at": "封顶于",
        "floor_at": "保底于",
        "before_cap": "封顶前",
        "before_floor": "保底前",
        "signatures": "签字确认",
        "employee": "被考核人 Employee",
        "assessor": "考核人 Assessor",
        "reviewer": "复核人 Reviewer",
        "signature": "签字 Signature",
        "date": "日期 Date",
        "index": "绩效考核结果确认单",
        "people": "人",
        "periods": "期",
        "sha256": "方案 sha256",
    },
}
"""The statements' headings and fixed words by language (the same keys in each)."""

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


def language(policy: Policy) -> str:
    """``zh`` when any KPI or grade label of ``policy`` holds a CJK character, else ``en``.

    A simple rule on purpose: the labels are what a reader of the statement reads most.
    """
    labels = [k.label or "" for k in policy.kpis.values()]
    if policy.grading is not None:
        labels += [g.label or "" for g in policy.grading.scale.grades]
    return "zh" if any(_CJK.search(label) for label in labels) else "en"


def texts(policy: Policy) -> dict[str, str]:
    """The fixed text for ``policy``'s statements, in its language."""
    return TEXT[language(policy)]
