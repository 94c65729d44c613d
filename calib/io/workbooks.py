"""Workbooks for people: the input template HR fills in, and the sign-off workbook management approves.

``write_template(policy, path)`` writes one sheet per table the policy reads (people, records, each
event table) with the exact column names in row 1, a description row (row 2, starting with ``#``,
which the reader skips) and drop-down lists and number checks taken from the policy.
``write_signoff(policy, path, data)`` writes the cover (policy fingerprint, data fingerprint,
approval block), every tunable number with its label, the grade scale and ratio tables and, with
data, the calibration figures (grade distribution, payout totals) the scheme was approved on (R38).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from calib._util.excel_formats import COUNT, DATE, DATETIME, DECIMAL, PERCENT, TEXT, for_policy
from calib._util.outputs import write_atomic
from calib._util.text import as_text
from calib._util.xlsx import put
from calib.engine.result import Result
from calib.errors import DataError
from calib.policy.groups import default_group
from calib.policy.hashing import policy_sha256
from calib.policy.inputs import ColumnSpec
from calib.policy.model import Policy
from calib.policy.paths import join_path, split_path
from calib.policy.rules import LabelPoints

NOTE_MARK = "#"
LAST_ROW = 1048576

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
NOTE_FONT = Font(italic=True, color="595959")
NOTE_FILL = PatternFill("solid", fgColor="EDEDED")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")

TYPE_WORDS = {
    "int": "整数 whole number", "float": "数值 number", "text": "文本 text",
    "bool": "是/否 yes/no", "label": "选项 label", "date": "日期 date (yyyy-mm-dd)",
    "datetime": "日期时间 date-time (yyyy-mm-dd hh:mm)",
}
CELL_FORMATS = {"int": COUNT, "float": DECIMAL, "text": TEXT, "label": TEXT, "bool": TEXT,
                "date": DATE, "datetime": DATETIME}
PERIOD_EXAMPLES = {"month": "2025-03", "quarter": "2025-Q1", "week": "2025-W07"}


# --- small helpers ------------------------------------------------------------------------------
def _display_width(text: object) -> int:
    """Width of text in Excel columns: Chinese (wide) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _num(value: float) -> str:
    """A number as Excel formula text (no exponent, no trailing .0)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _fit_widths(sheet: Worksheet, widths: dict[int, int], low: int = 8, high: int = 48) -> None:
    for col, width in widths.items():
        sheet.column_dimensions[get_column_letter(col)].width = min(max(width + 2, low), high)


def _header(sheet: Worksheet, row: int, names: list[str]) -> None:
    for col, name in enumerate(names, start=1):
        cell = put(sheet, row, col, name)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.border = BOX


# --- the input template ---------------------------------------------------------------------------
def template_columns(policy: Policy, table: str) -> list[tuple[str, ColumnSpec | None, str]]:
    """The columns of ``table`` in sheet order: (name, spec or None, role).

    The id comes first, then the period or date column, then the others as the policy declares
    them. ``role`` is ``id``, ``period``, ``date`` or ``column``.
    """
    spec = policy.inputs.table(table)
    pid = policy.inputs.id
    out: list[tuple[str, ColumnSpec | None, str]] = [(pid, spec.columns.get(pid), "id")]
    if spec.period is not None:
        out.append((spec.period, spec.columns.get(spec.period), "period"))
    elif spec.date is not None:
        out.append((spec.date, spec.columns.get(spec.date), "date"))
    seen = {name for name, _, _ in out}
    out += [(name, col, "column") for name, col in spec.columns.items() if name not in seen]
    return out


def column_labels(policy: Policy, table: str, column: str) -> tuple[list[str], bool]:
    """The labels a label column may hold, in the policy's order, and whether others are refused."""
    from calib.data.validate import allowed_labels

    spec = policy.inputs.table(table).columns[column]
    ordered = list(spec.labels or [])
    for kpi in policy.kpis.values():
        if table == "records" and kpi.column == column and isinstance(kpi.rule, LabelPoints):
            ordered += list(kpi.rule.points)
    allowed, strict = allowed_labels(policy, table, column)
    return [x for x in dict.fromkeys(ordered) if allowed is None or x in allowed], strict


def _range_text(spec: ColumnSpec) -> str | None:
    if spec.min is not None and spec.max is not None:
        return f"{_num(spec.min)} – {_num(spec.max)}"
    if spec.min is not None:
        return f"≥ {_num(spec.min)}"
    if spec.max is not None:
        return f"≤ {_num(spec.max)}"
    return None


def describe_column(policy: Policy, table: str, name: str, spec: ColumnSpec | None,
                    role: str) -> str:
    """The text of the description row for one column (type, unit, label, required, range)."""
    if role == "id":
        return f"{NOTE_MARK} 员工编号 person's id · 文本 text · 必填 required"
    if role == "period":
        example = PERIOD_EXAMPLES[policy.calendar.frequency]
        parts = [f"考核期 period, e.g. {example}"]
    else:
        parts = [TYPE_WORDS[spec.type] if spec else TYPE_WORDS["text"]]
    if role == "date":
        parts.append("decides the period 决定考核期")
    if spec is not None:
        if spec.label:
            parts.insert(0, spec.label)
        if spec.unit:
            parts.append(f"单位 {spec.unit}")
        if spec.type == "label" and role == "column":
            labels, _ = column_labels(policy, table, name)
            if labels:
                parts.append("/".join(labels))
        rng = _range_text(spec)
        if rng:
            parts.append(f"范围 {rng}")
    required = spec is None or spec.required
    parts.append("必填 required" if required else "选填 optional")
    return " · ".join(parts)


def _list_source(sheet: Worksheet, labels: list[str], lists: dict[str, Any]) -> str:
    """An Excel list formula: inline when short, else a range on the hidden 'lists' sheet."""
    inline = ",".join(labels)
    if len(inline) <= 250 and not any("," in x or '"' in x for x in labels):
        return f'"{inline}"'
    book = sheet.parent
    if "ws" not in lists:
        lists["ws"] = book.create_sheet("lists")
        lists["ws"].sheet_state = "hidden"
        lists["col"] = 0
    lists["col"] += 1
    ws, col = lists["ws"], lists["col"]
    for row, label in enumerate(labels, start=1):
        put(ws, row, col, label)
    letter = get_column_letter(col)
    return f"lists!${letter}$1:${letter}${len(labels)}"


def _validation(policy: Policy, table: str, name: str, spec: ColumnSpec | None,
                sheet: Worksheet, lists: dict[str, Any]) -> DataValidation | None:
    """The drop-down list or number check of one column, or None."""
    if spec is None:
        return None
    if spec.type == "bool":
        return DataValidation(type="list", formula1='"是,否"', allow_blank=True,
                              error="请选择 是 或 否 (choose yes or no)", errorTitle=name)
    if spec.type == "label":
        labels, strict = column_labels(policy, table, name)
        if not labels:
            return None
        return DataValidation(type="list", formula1=_list_source(sheet, labels, lists),
                              allow_blank=True, errorStyle="stop" if strict else "warning",
                              error=f"请从下拉列表选择 (one of: {'/'.join(labels)})"[:255],
                              errorTitle=name)
    if spec.type not in ("int", "float"):
        return None
    kind = "whole" if spec.type == "int" else "decimal"
    lo, hi = spec.min, spec.max
    if lo is None and hi is None:
        if kind == "decimal":
            return None
        lo, hi = -999999999999999, 999999999999999
    what = "整数 a whole number" if kind == "whole" else "数值 a number"
    if lo is not None and hi is not None:
        dv = DataValidation(type=kind, operator="between", formula1=_num(lo), formula2=_num(hi))
        what += f" {_num(lo)} – {_num(hi)}" if abs(lo) < 1e12 else ""
    elif lo is not None:
        dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=_num(lo))
        what += f" ≥ {_num(lo)}"
    else:
        dv = DataValidation(type=kind, operator="lessThanOrEqual", formula1=_num(hi))
        what += f" ≤ {_num(hi)}"
    dv.allow_blank = True
    dv.error, dv.errorTitle = f"请输入{what}", name
    return dv


def _cell_format(policy: Policy, spec: ColumnSpec | None, role: str) -> str:
    if role in ("id", "period") or spec is None:
        return TEXT
    return CELL_FORMATS[spec.type]


def _table_sheet(book: Workbook, policy: Policy, table: str, lists: dict[str, Any]) -> None:
    sheet = book.create_sheet(table)
    columns = template_columns(policy, table)
    _header(sheet, 1, [name for name, _, _ in columns])
    widths = {}
    for col, (name, spec, role) in enumerate(columns, start=1):
        text = describe_column(policy, table, name, spec, role)
        cell = put(sheet, 2, col, text)
        cell.font, cell.fill, cell.alignment = NOTE_FONT, NOTE_FILL, WRAP
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].number_format = _cell_format(policy, spec, role)
        dv = _validation(policy, table, name, spec, sheet, lists)
        if dv is not None:
            dv.showErrorMessage = True
            dv.add(f"{letter}3:{letter}{LAST_ROW}")
            sheet.add_data_validation(dv)
        widths[col] = max(_display_width(name) + 2, min(_display_width(text) // 3 + 2, 30), 12)
    _fit_widths(sheet, widths)
    sheet.row_dimensions[2].height = 60
    sheet.freeze_panes = "A3"


def _rows_of(table: str) -> str:
    if table == "people":
        return "one row per person 每人一行"
    if table == "records":
        return "one row per person and period 每人每个考核期一行"
    return "one row per event 每个事件一行"


def _instruction_lines(policy: Policy) -> list[tuple[str, str]]:
    cal = policy.calendar
    example = PERIOD_EXAMPLES[cal.frequency]
    period = f"{cal.frequency}: type the period as text, e.g. {example}"
    if cal.start_day != 1:
        period += (f"; a month runs from day {cal.start_day} to day {cal.start_day - 1} of the "
                   f"next and is named after the month it ends in")
    lines = [
        ("方案 Scheme", policy.title or policy.name),
        ("name", policy.name),
        ("version 版本", policy.version or "(none)"),
        ("sha256", policy_sha256(policy)),
        ("currency 币种", policy.currency),
        ("description 说明", policy.description or ""),
        ("", ""),
        ("How to fill 填写方法", "One sheet per table, named exactly as the table; do not rename the "
         "sheets or change the column names in row 1."),
        ("row 2 第2行", f"Row 2 describes each column (type, unit, label, required or optional, "
         f"allowed range); it starts with '{NOTE_MARK}' and calib skips it. Type the data from "
         "row 3 on; errors name the Excel row."),
        ("period 考核期", period),
        ("dates 日期", "dates as 2025-03-31, times as 2025-03-31 14:05"),
        ("yes/no 是否", "choose 是 or 否 from the drop-down (true/false, 1/0 also work)"),
        ("labels 选项", "choose from the drop-down list; other labels are refused"),
        ("empty cells 空白", "an empty cell in a required (必填) column is an error that names the "
         "sheet, the row and the column; in an optional (选填) column it is a missing value, "
         "handled as the policy's KPI says (exclude and re-weight, neutral points, zero)"),
        ("run 运行", "calib run --policy <policy file> --data <this workbook> --out <folder>"),
        ("", ""),
    ]
    for table in policy.inputs.table_names():
        cols = template_columns(policy, table)
        req = [n for n, s, _ in cols if s is None or s.required]
        opt = [n for n, s, _ in cols if s is not None and not s.required]
        text = f"{_rows_of(table)}. Required 必填: {', '.join(req)}"
        if opt:
            text += f". Optional 选填: {', '.join(opt)}"
        lines.append((f"sheet '{table}'", text))
    return lines


def _instructions(book: Workbook, policy: Policy) -> None:
    sheet = book.active
    sheet.title = "instructions"
    put(sheet, 1, 1, f"填写说明 Instructions: {policy.title or policy.name}").font = TITLE
    for row, (key, text) in enumerate(_instruction_lines(policy), start=3):
        put(sheet, row, 1, key).font = BOLD
        put(sheet, row, 2, text).alignment = WRAP
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 100


def write_template(policy: Policy, path: str | Path) -> Path:
    """Write the input workbook HR fills in for ``policy``: instructions, then one sheet per table.

    Each table sheet has the column names in row 1 (id, period or date, then the others), a
    description row 2 that starts with ``#`` (``calib run`` skips it), drop-down lists for labels
    and yes/no columns, number checks with the declared min/max, and frozen headers.
    """
    book = Workbook()
    _instructions(book, policy)
    lists: dict[str, Any] = {}
    for table in policy.inputs.table_names():
        _table_sheet(book, policy, table, lists)
    if "ws" in lists:
        book.move_sheet("lists", offset=len(book.sheetnames))
    path = Path(path)
    write_atomic(path, book.save)  # the old file stays whole until the new one is complete
    return path


# --- the sign-off workbook ----------------------------------------------------------------------
GROUP_NAMES = {
    "measures": "measures 计量", "kpis": "KPIs 指标", "sections": "sections 分项",
    "scorecards": "scorecards 评分表", "rollups": "roll-ups 汇总", "eligibility": "eligibility 资格",
    "grading": "grading 评级", "pay": "pay 薪酬", "calendar": "calendar 考核期",
}
METHOD_NAMES = {"thresholds": "按分数评级 thresholds", "forced": "强制分布 forced distribution",
                "cascade": "级联配额 cascaded quotas"}


def _item_label(policy: Policy, parts: list[str | int]) -> tuple[str, str | None, str]:
    """(item, label, parameter) of a parameter path, the label taken from the policy."""
    head, rest = parts[0], parts[1:]
    named = {"measures": policy.measures, "kpis": policy.kpis, "sections": policy.sections,
             "scorecards": policy.scorecards, "rollups": policy.rollups}
    if head in named and rest:
        part = named[head].get(str(rest[0]))
        return str(rest[0]), getattr(part, "label", None), join_path(rest[1:])
    if head == "grading" and policy.grading is not None and len(rest) >= 3 and rest[0] == "scale":
        grade = policy.grading.scale.grades[int(rest[2])]
        return f"grade {grade.name}", grade.label, join_path(rest[3:])
    if head == "grading" and policy.grading is not None and len(rest) >= 2:
        label = None
        if rest[0] == "streaks":
            label = getattr(policy.grading.streaks.get(str(rest[1])), "label", None)
        elif rest[0] == "rules" and str(rest[1]) in policy.grading.rules:
            label = METHOD_NAMES[policy.grading.rules[str(rest[1])].method]
        return f"{rest[0]}.{rest[1]}", label, join_path(rest[2:])
    if head == "pay" and policy.pay is not None and len(rest) >= 2 and rest[0] == "components":
        comp = policy.pay.components.get(str(rest[1]))
        return str(rest[1]), getattr(comp, "label", None), join_path(rest[2:])
    if head == "pay" and policy.pay is not None and rest and rest[0] in ("pool", "merit"):
        label = policy.pay.pool.label if rest[0] == "pool" and policy.pay.pool else None
        default = "奖金池 bonus pool" if rest[0] == "pool" else "调薪矩阵 merit matrix"
        return str(rest[0]), label or default, join_path(rest[1:])
    if len(rest) >= 2:
        return str(rest[0]), None, join_path(rest[1:])
    return str(head), None, join_path(rest)


def params_table(policy: Policy) -> pd.DataFrame:
    """Every tunable number, grouped (KPIs, sections, grading, pay, …) with its label and range."""
    rows = []
    for p in policy.params():
        parts = split_path(p.path)
        item, label, parameter = _item_label(policy, parts)
        note = " ".join(x for x, on in (("min excluded", p.min_exclusive),
                                         ("max excluded", p.max_exclusive)) if on)
        rows.append({"group": GROUP_NAMES.get(str(parts[0]), str(parts[0])), "item": item,
                     "label": label or "", "parameter": parameter, "path": p.path,
                     "value": p.value, "min": p.min, "max": p.max, "role": p.role, "note": note})
    frame = pd.DataFrame(rows, columns=["group", "item", "label", "parameter", "path", "value",
                                        "min", "max", "role", "note"])
    order = {name: i for i, name in enumerate(GROUP_NAMES.values())}
    frame["_order"] = frame["group"].map(order).fillna(len(order))
    return frame.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)


def _write_block(sheet: Worksheet, row: int, title: str | None, frame: pd.DataFrame,
                 formats: dict[str, str], widths: dict[int, int]) -> int:
    """Write a titled table at ``row``; returns the next free row (one blank row after)."""
    if title:
        put(sheet, row, 1, title).font = Font(bold=True, size=12)
        row += 1
    names = [str(c) for c in frame.columns]
    _header(sheet, row, names)
    for col, name in enumerate(names, start=1):
        widths[col] = max(widths.get(col, 0), _display_width(name))
    for values in frame.itertuples(index=False):
        row += 1
        for col, (name, value) in enumerate(zip(names, values, strict=True), start=1):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue
            if hasattr(value, "item"):
                value = value.item()
            fmt = formats.get(name)
            put(sheet, row, col, value, fmt if isinstance(value, int | float) else None)
            widths[col] = max(widths[col], min(_display_width(value), 60))
    return row + 2


def _param_formats(sheet: Worksheet, frame: pd.DataFrame, first_row: int, policy: Policy) -> None:
    """Percent for ratios, the policy's money format for money, in the value/min/max columns."""
    cols = [list(frame.columns).index(c) + 1 for c in ("value", "min", "max")]
    role_formats = {"ratio": PERCENT, "money": for_policy(policy).money}
    for i, role in enumerate(frame["role"], start=first_row):
        fmt = role_formats.get(role)
        if fmt:
            for col in cols:
                sheet.cell(row=i, column=col).number_format = fmt


def ratio_tables(policy: Policy) -> list[tuple[str, pd.DataFrame]]:
    """The grade scale, forced-distribution and cascade ratios, and the merit matrix, as tables."""
    grading = policy.grading
    out: list[tuple[str, pd.DataFrame]] = []
    if grading is not None:
        scale = pd.DataFrame([{"grade": g.name, "label": g.label or "", "min score": g.min}
                              for g in grading.scale.grades])
        rule = "score ≥ min" if grading.scale.inclusive else "score > min"
        out.append((f"grade scale 等级 ({rule}; on {grading.on})", scale))
        for name, rule_ in grading.rules.items():
            if rule_.forced is not None:
                by = ", ".join(rule_.forced.by) or "everyone of the period"
                out.append((f"forced distribution '{name}' by {by}",
                            pd.DataFrame([rule_.forced.ratios], index=["ratio"])
                            .rename_axis("").reset_index()))
            if rule_.cascade is not None:
                table = pd.DataFrame.from_dict(rule_.cascade.ratios, orient="index").fillna(0.0)
                table = table[[g for g in grading.scale.names() if g in table.columns]]
                out.append((f"cascade '{name}': leader's grade → team ratios",
                            table.rename_axis("leader grade").reset_index()))
    merit = policy.pay.merit if policy.pay is not None else None
    if merit is not None:
        b = [_num(x) for x in merit.bands]
        heads = [f"< {b[0]}", *[f"{lo} – {hi}" for lo, hi in itertools.pairwise(b)],
                 f"≥ {b[-1]}"]
        table = pd.DataFrame([[r.grade, *r.raises] for r in merit.rows],
                             columns=["grade", *heads])
        out.append(("merit matrix 调薪矩阵: grade × compa-ratio → raise", table))
    return out


def _parameters_sheet(book: Workbook, policy: Policy) -> None:
    sheet = book.create_sheet("parameters")
    frame = params_table(policy)
    widths: dict[int, int] = {}
    row = _write_block(sheet, 1, None, frame, {}, widths)
    _param_formats(sheet, frame, 2, policy)
    for title, table in ratio_tables(policy):
        percent = {c: PERCENT for c in table.columns if c not in ("grade", "label", "min score",
                                                                   "leader grade", "")}
        row = _write_block(sheet, row, title, table, percent, widths)
    _fit_widths(sheet, widths)
    sheet.freeze_panes = "A2"


def _cover(book: Workbook, policy: Policy, facts: list[tuple[str, Any]], today: dt.date) -> None:
    sheet = book.active
    sheet.title = "cover"
    put(sheet, 1, 1, f"绩效方案审批 Sign-off: {policy.title or policy.name}").font = TITLE
    rows = [("policy title 方案", policy.title or policy.name), ("policy name", policy.name),
            ("version 版本", policy.version or "(none)"), ("currency 币种", policy.currency),
            ("policy sha256", policy_sha256(policy)), ("date 日期", today), *facts]
    r = 3
    for key, value in rows:
        put(sheet, r, 1, key).font = BOLD
        if isinstance(value, dt.date):
            put(sheet, r, 2, value, DATE)
        elif isinstance(value, Decimal):
            put(sheet, r, 2, float(value), for_policy(policy).money)
        else:
            put(sheet, r, 2, value)
        r += 1
    r += 1
    put(sheet, r, 1, "审批 Approval").font = Font(bold=True, size=12)
    _header(sheet, r + 1, ["role 职责", "name 姓名", "title 职务", "date 日期", "signature 签名"])
    for i, role in enumerate(["prepared by 编制", "reviewed by 审核", "approved by 批准"], start=2):
        put(sheet, r + i, 1, role).border = BOX
        for col in range(2, 6):
            sheet.cell(row=r + i, column=col).border = BOX
        sheet.row_dimensions[r + i].height = 30
    for letter, width in zip("ABCDE", (26, 70, 16, 14, 24), strict=True):
        sheet.column_dimensions[letter].width = width


def _provenance_facts(provenance: dict | None) -> list[tuple[str, Any]]:
    out = []
    for key, value in (provenance or {}).items():
        if not isinstance(value, str | int | float | dt.date) or isinstance(value, bool):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        out.append((f"provenance: {key}", value))
    return out


def write_signoff(policy: Policy, path: str | Path, data: Any = None,
                  provenance: dict | None = None, *, group_by: str | None = None,
                  today: dt.date | None = None) -> Path:
    """Write the sign-off workbook management approves (R38).

    Sheets: ``cover`` (title, name, version, currency, the policy's sha256, the date, the data
    set's fingerprint and ``provenance``, and an approval block to sign), ``parameters`` (every
    tunable number with its label and allowed range, the grade scale and ratio tables) and, when
    ``data`` is given (anything ``calib.load_data`` reads, or a ``Result``), ``calibration
    figures`` from ``calib.run``: rows and rated rows per period, the grade distribution and the
    payout total, per period and per ``group_by`` (default: the policy's first grouping column).
    """
    today = today or dt.date.today()
    facts = _provenance_facts(provenance)
    figures = None
    if data is not None:
        figures = calibration_figures(policy, data, group_by)
        facts = [*figures.facts, *facts]
    book = Workbook()
    _cover(book, policy, facts, today)
    _parameters_sheet(book, policy)
    if figures is not None:
        sheet = book.create_sheet("calibration figures")
        widths: dict[int, int] = {}
        row = 1
        for title, frame, formats in figures.blocks:
            row = _write_block(sheet, row, title, frame, formats, widths)
        _fit_widths(sheet, widths)
        sheet.freeze_panes = "B1"
    path = Path(path)
    write_atomic(path, book.save)  # the old file stays whole until the new one is complete
    return path


def money_total(values: pd.Series) -> Decimal:
    """The exact sum of amounts in whole cents (binary float noise removed per amount)."""
    return sum((Decimal(str(round(float(v), 2))) for v in values.dropna()), Decimal("0"))


@dataclass
class Figures:
    """The calibration figures of one run: facts for the cover and titled tables."""

    facts: list[tuple[str, Any]]
    blocks: list[tuple[str, pd.DataFrame, dict[str, str]]] = field(default_factory=list)


def group_column(policy: Policy, people: pd.DataFrame | None, group_by: str | None) -> str | None:
    """The people column payouts are totalled by: ``group_by``, else the policy's default group
    (``calib.policy.groups.default_group``).
    """
    columns = [] if people is None else list(people.columns)
    if group_by is not None:
        if group_by not in columns:
            raise DataError(pd.DataFrame([{
                "table": "people", "row": None, "id": None, "column": group_by,
                "problem": f"no column '{group_by}' to total payouts by",
                "value": None, "fix": f"use one of: {', '.join(map(str, columns))}"}]))
        return group_by
    return default_group(policy, columns)


def _with_total(frame: pd.DataFrame, key: str, sums: list[str]) -> pd.DataFrame:
    total = {key: "total 合计", **{c: frame[c].sum() for c in sums}}
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


def _period_block(result: Result) -> pd.DataFrame:
    s = result.scores.astype({"period": str})
    out = s.assign(rated=s["status"] == "rated").groupby("period", sort=True).agg(
        rows=("id", "size"), rated=("rated", "sum"), **{"mean score": ("score", "mean")}).reset_index()
    out.insert(3, "not rated", out["rows"] - out["rated"])
    total = _with_total(out, "period", ["rows", "rated", "not rated"])
    total.loc[total.index[-1], "mean score"] = s.loc[s["status"] == "rated", "score"].mean()
    return total


def _grade_block(result: Result) -> pd.DataFrame | None:
    grades = result.grades
    if grades is None:
        return None
    g = grades[grades["grade"].notna()].astype({"period": str, "grade": str})
    names = result.policy.grading.scale.names()
    counts = pd.crosstab(g["period"], g["grade"]).reindex(columns=names, fill_value=0)
    counts.loc["total 合计"] = counts.sum()
    counts.insert(0, "graded", counts.sum(axis=1))
    shares = counts[names].div(counts["graded"].where(counts["graded"] > 0), axis=0)
    shares.columns = [f"share {n}" for n in names]
    return pd.concat([counts, shares], axis=1).rename_axis("period").reset_index()


def _money_frame(frame: pd.DataFrame, key: str, amounts: list[str]) -> pd.DataFrame:
    """Per ``key``: people paid and exact totals of each amount column, with a total row."""
    rows = []
    for value, part in frame.groupby(key, sort=True, observed=True):
        row = {key: value, "people": int(part["id"].nunique()),
               "paid": int(part.loc[part["payout"] != 0, "id"].nunique()),
               "total payout": money_total(part["payout"])}
        row.update({c: money_total(part[c]) for c in amounts})
        rows.append(row)
    out = pd.DataFrame(rows, columns=[key, "people", "paid", "total payout", *amounts])
    total = {key: "total 合计", "people": int(frame["id"].nunique()),
             "paid": int(frame.loc[frame["payout"] != 0, "id"].nunique()),
             "total payout": money_total(frame["payout"]),
             **{c: money_total(frame[c]) for c in amounts}}
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    for col in ("total payout", *amounts):
        out[col] = out[col].astype(float)
    return out


def calibration_figures(policy: Policy, data: Any, group_by: str | None = None) -> Figures:
    """Run ``policy`` on ``data`` and gather the figures management signs off on."""
    from calib.data.read import load_data
    from calib.engine.pipeline import run

    ds = load_data(data, policy)
    result = run(policy, ds)
    scheme = for_policy(policy)
    s = result.scores.astype({"id": str, "period": str})
    facts: list[tuple[str, Any]] = [
        ("data fingerprint 数据指纹", ds.fingerprint()),
        ("data source 数据", str(data) if isinstance(data, str | Path) else "(in memory)"),
        ("person-periods 人次", len(s)), ("people 人数", int(s["id"].nunique())),
        ("periods 考核期", f"{s['period'].min()} – {s['period'].max()}"),
        ("rated 参评", int((s["status"] == "rated").sum())),
    ]
    blocks: list[tuple[str, pd.DataFrame, dict[str, str]]] = [
        ("rows per period 各期人数", _period_block(result), {"mean score": scheme.score})]
    reasons = s.loc[s["status"] != "rated", "reason"].value_counts().rename_axis("reason")
    if len(reasons):
        blocks.append(("not rated, by reason 未参评原因", reasons.rename("rows").reset_index(), {}))
    grades = _grade_block(result)
    if grades is not None:
        shares = {c: PERCENT for c in grades.columns if str(c).startswith("share ")}
        blocks.append((f"grade distribution 等级分布 (on {policy.grading.on})", grades, shares))
    if result.payouts is not None:
        pay = result.payouts.astype({"id": str, "period": str})
        amounts = [c for c in [*policy.pay.components, "pool"] if c in pay.columns]
        money = {c: scheme.money for c in ("total payout", *amounts)}
        total = money_total(pay["payout"])
        facts.append((f"payout total 发放总额 ({policy.currency})", total))
        blocks.append((f"payouts per period 各期发放 (on {policy.pay.on}, {policy.currency})",
                       _money_frame(pay, "period", amounts), money))
        column = group_column(policy, ds.tables.get("people"), group_by)
        if column is not None:
            people = ds.tables["people"].astype({policy.inputs.id: str})
            people = people.drop_duplicates(policy.inputs.id)[[policy.inputs.id, column]]
            joined = pay.merge(people.rename(columns={policy.inputs.id: "id"}), on="id", how="left")
            joined[column] = as_text(joined[column], missing="(none)")
            label = policy.inputs.people.columns.get(column)
            title = f"payouts per {column}" + (f" {label.label}" if label and label.label else "")
            blocks.append((title, _money_frame(joined, column, amounts), money))
    return Figures(facts, blocks)
