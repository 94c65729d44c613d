"""The ``notes`` sheet: what each sheet and column of a policy workbook means, in Chinese and
English (HR reads the scheme's own vocabulary; the keys are the policy format's, README).
"""

from __future__ import annotations

HEADERS = ("sheet 工作表", "column 列", "说明", "notes")

GENERAL: tuple[tuple[str, str], ...] = (
    ("本工作簿就是一份考核方案（与 policy.yaml 等价）。calib load_policy / calib validate 可直接读取 .xlsx。"
     "第 1 行是列名，从第 2 行起每行一条。空单元格表示“未填写”（取默认值）。",
     "This workbook is a scheme (the same as a policy.yaml); calib reads the .xlsx directly "
     "(calib validate F.xlsx). Row 1 holds the column names, each row below one entry. An empty "
     "cell means 'not given' (the default applies)."),
    ("数字可以按习惯输入：0.92、2.5%、1,234.5（逗号只能用作千位分隔）。不要使用公式、隐藏的工作表或合并单元格："
     "calib 会拒绝并指出工作表、行和列。",
     "Type numbers as you write them: 0.92, 2.5%, 1,234.5 (a comma only between thousands). No "
     "formulas, hidden sheets or merged cells: calib refuses them, naming the sheet, row and column."),
    ("列名就是该行对象下的键路径：rule.kind 是规则类型，rule.bound 是上下限方向，"
     "when.column / when.eq 是条件，scorecards[0] 是列表的第 1 项。可以增加列，名称写成键路径。",
     "A column's name is the key's path inside the row's part: rule.kind, rule.bound, "
     "when.column / when.eq, scorecards[0] (the first of a list). Add a column by naming its path."),
    ("无法放进平面表格的部分（例如否决条件、空值）保存在 more 工作表：path 列是位置，yaml 列是 YAML 文本。",
     "Parts no flat table holds (a veto's condition, a null) are in the 'more' sheet: 'path' is "
     "where, 'yaml' the part as YAML text."),
)

SHEETS: dict[str, tuple[str, str]] = {
    "scheme": ("方案基本信息：名称（字母数字 _ . -）、标题、版本、币种、考核周期"
               "（calendar.frequency: month/quarter/week，calendar.start_day: 26 表示 26 日至次月"
               " 25 日）、工号列（inputs.id）。",
               "The scheme: name (letters, digits, _ . -), title, version, currency, the period "
               "(calendar.frequency, calendar.start_day) and the id column (inputs.id)."),
    "tables": ("输入数据表：people（每人一行）、records（每人每期一行，period 或 date 列）及事件表。",
               "The input tables: people (one row each), records (one per person and period: its "
               "period or date column) and event tables."),
    "inputs": ("每个输入表的列：类型（int/float/text/bool/label/date/datetime）、"
               "中文名、是否必填、范围、选项。",
               "Each input table's columns: type, label, required, min/max, allowed labels."),
    "measures": ("指标计算：ratio（比率）、target（目标完成率）、aggregate（汇总）、"
                 "sla、rating（评分）、checklist。",
                 "Measures: ratio, target, aggregate, sla, rating, checklist (README, Measures)."),
    "KPIs": ("每个 KPI 一行：名称、中文名、取值（measure 或 column）、计分规则类型 rule.kind 及其简单参数。",
             "One row per KPI: name, label, its value (measure or column), the rule's kind and its "
             "simple parameters."),
    "bands": ("分档计分（rule.kind = tiers）的每一档：at 是界限，points 是得分；按从好到差的顺序排列。",
              "Each band of a tiers rule: 'at' the bound, 'points' the points; best band first."),
    "knots": ("分段线性（piecewise）的节点 x、y，x 递增。",
              "The knots (x, y) of a piecewise rule, x rising."),
    "label points": ("等级评价计分（labels）：每个评价（优秀/良好/…）对应的分数。",
                     "A labels rule: the points of each label (优秀, 良好, ...)."),
    "sections": ("评分树的节点：combine 为 weighted（加权）、sum（加减分）、mean、min、product。",
                 "Sections of the score tree: combine weighted, sum, mean, min or product."),
    "weights": ("每个节点包含的 KPI 或子节点（item）及权重（weight，合计 100）；非加权节点权重留空。",
                "What each section combines (item) and its weight (adding up to 100); leave weight "
                "empty for a section that is not weighted."),
    "scorecards": ("评分卡：适用人群（when.column / when.eq）、根节点（root）或团队均分（team.*）。",
                   "Scorecards: who (when.column, when.eq) and the root section or KPI (or team.*)."),
    "eligibility": ("考核资格的其他设置，例如按出勤折算（proration.days）。",
                    "Other eligibility settings, e.g. proration from a days column (proration.days)."),
    "not rated": ("不参加考核的条件（试用期、长期缺勤）：when.column、when.eq、reason、label。",
                  "Who is not rated: the condition (when.column, when.eq), reason and label."),
    "rollups": ("季度/年度汇总：to（quarter/year）、max_not_rated。", "Roll-ups to quarter or year."),
    "rollup parts": ("汇总的组成部分及权重。", "The parts of a roll-up and their weights."),
    "grading": ("等级评定的其他设置：on（period 或汇总名称）、scale.inclusive、ranking.*。",
                "Other grading settings: on (period or a roll-up), scale.inclusive, ranking.*."),
    "grades": ("等级表，从最好到最差：name、label（中文名）、min（按分数评级时的最低分）。",
               "The grade scale, best first: name, label, min (the lowest score for thresholds)."),
    "grading rules": ("评级规则（每类人群一条）：scorecards[0]…、method（thresholds/forced/cascade/given）、"
                      "forced.by[0]、forced.method（hamilton/webster/dhondt）。",
                      "One grading rule per population: its scorecards, method and the forced "
                      "distribution's settings."),
    "ratios": ("强制分布比例：每条规则每个等级的比例（如 20%），合计 100%。",
               "Forced-distribution ratios per rule and grade (20%), adding up to 100%."),
    "streaks": ("连续情况（如连续两月低于 35 分）。", "Streaks (e.g. twice in a row below 35)."),
    "outcomes": ("结果建议（晋升候选、改进计划等）。", "Outcomes (promotion candidates, plans)."),
    "pay": ("薪酬的其他设置：on、unit（0.01 为分）、rounding（half_up/half_even/down）。",
            "Pay settings: on, unit (0.01 for cents), rounding."),
    "pay components": ("薪酬组成：kind（fixed、score_percent、score_bands、grade_coefficient、per_unit…）"
                       "及参数，base.column 为基数列。",
                       "Pay components: kind and parameters; base.column names the base pay column."),
    "pay bands": ("按分数档发放（score_bands）：min 分数、share 比例。",
                  "Score bands of a score_bands component: min score and share."),
    "cascade ratios": ("逐级分布（cascade）：按主管等级（leader grade）规定成员各等级的比例。",
                       "Cascade ratios: per leader grade, the share of members in each grade."),
    "grade tables": ("按等级系数（grade_coefficient）：每个等级的系数。",
                     "The coefficient of each grade of a grade_coefficient component."),
    "commission tiers": ("提成阶梯：above、rate。", "Commission tiers: above, rate."),
    "pool": ("奖金池：amount、base.column、coefficients.<等级>、cap.amount、by、split。",
             "The bonus pool: amount, base, coefficients per grade, cap, by, split."),
    "merit": ("调薪矩阵的设置：pay、midpoint.column、bands[0]…。", "The merit matrix's settings."),
    "merit rows": ("调薪矩阵每个等级一行：grade、raises[0]…。", "One merit row per grade: its raises."),
    "calibration": ("校准会设置：reasons.<代码>、quotas、appeal_days（申诉期，工作日）。",
                    "Calibration settings: reasons, quotas, appeal_days (working days)."),
    "ranges": ("HR 可调整的参数范围：path（参数路径）、min、max。",
               "The range HR may move a number in: path, min, max."),
    "more": ("不适合平面表格的部分：path 为位置，yaml 为 YAML 文本（只读取数据，不执行任何内容）。",
             "Parts no flat table holds: 'path' where, 'yaml' the part as YAML (read as data only)."),
}

COLUMNS: dict[str, tuple[str, str]] = {
    "field": ("设置项的键路径", "the setting's path"),
    "value": ("设置值", "its value"),
    "kpi": ("KPI 名称（与 KPIs 表一致）", "the KPI's name (as in KPIs)"),
    "label": ("中文名称（显示用）", "the label people read"),
    "measure": ("指标名称（measures 表）", "the measure's name (sheet measures)"),
    "column": ("数据列名", "a data column's name"),
    "rule.kind": ("计分规则：tiers/step/per_incident/labels/linear/piecewise",
                  "the scoring rule: tiers, step, per_incident, labels, linear, piecewise"),
    "rule.bound": ("lower：值 ≥ at 得分（越高越好）；upper：值 ≤ at（越低越好）",
                   "lower: value ≥ at (higher is better); upper: value ≤ at"),
    "rule.otherwise": ("未达到任何一档时的得分", "points when no band is reached"),
    "at": ("档位界限（如 95%）", "the band's bound (95%)"),
    "points": ("得分", "points"),
    "section": ("节点名称（sections 表）", "the section's name"),
    "item": ("包含的 KPI 或子节点", "the KPI or section combined"),
    "weight": ("权重（百分数，合计 100）", "weight (percent, adding up to 100)"),
    "combine": ("合成方式", "how the items combine"),
    "scorecard": ("评分卡名称", "the scorecard's name"),
    "root": ("评分卡的根节点（节点或 KPI）", "the scorecard's root section or KPI"),
    "name": ("名称", "name"),
    "min": ("最低值 / 最低分", "lowest value or score"),
    "max": ("最高值 / 最高分", "highest value or score"),
    "rule": ("评级规则名称", "the grading rule's name"),
    "grade": ("等级名称（grades 表）", "the grade's name (sheet grades)"),
    "ratio": ("该等级的人数比例", "the grade's share of people"),
    "component": ("薪酬组成名称", "the pay component's name"),
    "coefficient": ("等级系数", "the grade's coefficient"),
    "kind": ("类型", "kind"),
    "table": ("输入表名称", "the input table"),
    "type": ("列类型", "the column's type"),
    "required": ("是否必填（TRUE/FALSE）", "must every row give it (TRUE/FALSE)"),
    "path": ("参数路径（如 kpis.x.rule.bands[0].at）", "a parameter's path"),
    "yaml": ("该部分的 YAML 文本", "the part as YAML text"),
    "share": ("发放比例", "share paid"),
}


def notes_rows(titles: list[str]) -> list[tuple[str, ...]]:
    """The notes sheet's rows (headers first): general notes, then each sheet of ``titles``."""
    rows: list[tuple[str, ...]] = [HEADERS]
    rows += [("", "", zh, en) for zh, en in GENERAL]
    for title in titles:
        zh, en = SHEETS.get(title, ("", ""))
        rows.append((title, "", zh, en))
        for column, (czh, cen) in COLUMNS.items():
            if _shows(title, column):
                rows.append((title, column, czh, cen))
    return rows


_SHOWN: dict[str, tuple[str, ...]] = {
    "scheme": ("field", "value"), "KPIs": ("kpi", "label", "measure", "column", "rule.kind",
                                           "rule.bound", "rule.otherwise"),
    "bands": ("kpi", "at", "points"), "label points": ("kpi", "label", "points"),
    "weights": ("section", "item", "weight"), "sections": ("section", "label", "combine"),
    "scorecards": ("scorecard", "label", "root"), "grades": ("name", "label", "min"),
    "ratios": ("rule", "grade", "ratio"), "grade tables": ("component", "grade", "coefficient"),
    "pay components": ("component", "label", "kind"), "pay bands": ("component", "min", "share"),
    "inputs": ("table", "column", "type", "label", "required", "min", "max"),
    "ranges": ("path", "min", "max"), "more": ("path", "yaml"), "pool": ("field", "value"),
    "grading rules": ("rule",), "tables": ("table",),
}


def _shows(title: str, column: str) -> bool:
    return column in _SHOWN.get(title, ())
