"""The workbooks people use: the input template HR fills in, and the sign-off workbook (R38)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import calib
from calib.cli import main
from calib.io.workbooks import money_total, template_columns, write_signoff, write_template
from calib.policy.hashing import policy_sha256

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / "datasets"
DATA = Path(__file__).resolve().parents[1] / "fixtures"


def example(name: str) -> calib.Policy:
    return calib.load_policy(DATASETS / name / "policy.yaml")


def validations(sheet) -> dict[str, object]:
    """Data validations of a sheet by the column letter they cover."""
    out = {}
    for dv in sheet.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out["".join(ch for ch in rng.split(":")[0] if ch.isalpha())] = dv
    return out


def letter_of(sheet, column: str) -> str:
    header = [c.value for c in sheet[1]]
    return openpyxl.utils.get_column_letter(header.index(column) + 1)


def subset(name: str, people: int = 30) -> dict[str, pd.DataFrame]:
    """The example's CSV tables (as text) for its first ``people`` people."""
    policy = example(name)
    folder = DATASETS / name
    tables = {t: pd.read_csv(folder / f"{t}.csv", dtype=str, keep_default_na=False)
              for t in policy.inputs.table_names()}
    ids = set(tables["people"][policy.inputs.id].head(people))
    return {t: f[f[policy.inputs.id].isin(ids)].reset_index(drop=True) for t, f in tables.items()}


def cell_value(spec, text: str):
    """A CSV cell as HR would type it in the template: numbers, 是/否, real dates."""
    if text == "":
        return None
    if spec is None or spec.type in ("text", "label"):
        return text
    if spec.type == "bool":
        return "是" if text.strip().lower() in ("true", "1") else "否"
    if spec.type in ("date", "datetime"):
        return pd.Timestamp(text).to_pydatetime()
    return int(float(text)) if spec.type == "int" else float(text)


def fill(template: Path, policy: calib.Policy, tables: dict[str, pd.DataFrame]) -> None:
    """Type ``tables`` into the template from row 3, under the headers of row 1."""
    book = openpyxl.load_workbook(template)
    for table, frame in tables.items():
        sheet = book[table]
        columns = template_columns(policy, table)
        assert [c.value for c in sheet[1]] == [name for name, _, _ in columns]
        for r, row in enumerate(frame.itertuples(index=False), start=3):
            values = dict(zip(frame.columns, row, strict=True))
            for c, (name, spec, role) in enumerate(columns, start=1):
                text = values[name]
                value = text if role in ("id", "period") else cell_value(spec, text)
                sheet.cell(row=r, column=c, value=value)
    book.save(template)


def filled(tmp_path: Path, name: str) -> tuple[calib.Policy, Path, Path, dict]:
    """The example's template filled with its first 30 people, and the same data as CSVs."""
    policy = example(name)
    tables = subset(name)
    book = write_template(policy, tmp_path / "input.xlsx")
    fill(book, policy, tables)
    folder = tmp_path / "csv"
    folder.mkdir()
    for table, frame in tables.items():
        frame.to_csv(folder / f"{table}.csv", index=False)
    return policy, book, folder, tables


def scores(result: calib.Result) -> pd.DataFrame:
    s = result.scores[["id", "period", "scorecard", "status", "reason", "score"]]
    return s.astype({"id": str, "period": str, "scorecard": str, "reason": str}).reset_index(
        drop=True)


class TestTemplate:
    def test_sheets_named_as_tables_after_instructions(self, tmp_path) -> None:
        """Instructions first, then people, records and each event table, named exactly."""
        book = openpyxl.load_workbook(write_template(example("logistics_cs"), tmp_path / "t.xlsx"))
        assert book.sheetnames == ["instructions", "people", "records", "requests"]

    def test_headers_id_then_period_then_declared_order(self, tmp_path) -> None:
        """Row 1 holds the policy's column names: id, period (or date), then the rest in order."""
        policy = example("property_cs")
        book = openpyxl.load_workbook(write_template(policy, tmp_path / "t.xlsx"))
        records = [c.value for c in book["records"][1]]
        assert records[:3] == ["employee_id", "period", "probation"]
        assert records[1:] == list(policy.inputs.records.columns)
        assert [c.value for c in book["adjustments"][1]] == [
            "employee_id", "date", "points", "reason", "approved", "confirmed_by"]
        assert [c.value for c in book["late_arrivals"][1]] == ["employee_id", "date", "minutes"]
        assert [c.value for c in book["people"][1]] == [
            "employee_id", *policy.inputs.people.columns]

    def test_description_row_is_a_note(self, tmp_path) -> None:
        """Row 2 starts with '#', is italic on grey, and says type, unit, label, required, range."""
        book = openpyxl.load_workbook(write_template(example("logistics_cs"), tmp_path / "t.xlsx"))
        sheet = book["records"]
        notes = {sheet.cell(1, c).value: sheet.cell(2, c) for c in range(1, sheet.max_column + 1)}
        assert notes["employee_id"].value.startswith("#")
        assert all(cell.font.italic for cell in notes.values())
        assert notes["period"].fill.fgColor.rgb.endswith("EDEDED")
        assert notes["days_present"].value == ("出勤天数 · 整数 whole number · 单位 天 · 范围 0 – 31 · "
                                               "必填 required")
        assert notes["cooperation"].value == ("跨部门协作 · 选项 label · 优秀/良好/一般/较差 · "
                                              "选填 optional")
        assert "e.g. 2025-03" in notes["period"].value
        assert "decides the period" in book["requests"]["B2"].value

    def test_frozen_headers_and_widths(self, tmp_path) -> None:
        """Rows 1–2 stay visible; every column is wide enough for its name."""
        book = openpyxl.load_workbook(write_template(example("logistics_cs"), tmp_path / "t.xlsx"))
        for table in ("people", "records", "requests"):
            sheet = book[table]
            assert sheet.freeze_panes == "A3"
            for col in range(1, sheet.max_column + 1):
                letter = openpyxl.utils.get_column_letter(col)
                assert sheet.column_dimensions[letter].width >= len(sheet.cell(1, col).value)

    def test_label_and_yes_no_drop_downs(self, tmp_path) -> None:
        """Label columns list their labels; yes/no columns offer 是/否, from row 3 down."""
        book = openpyxl.load_workbook(write_template(example("logistics_cs"), tmp_path / "t.xlsx"))
        sheet = book["records"]
        dvs = validations(sheet)
        coop = dvs[letter_of(sheet, "cooperation")]
        assert (coop.type, coop.formula1) == ("list", '"优秀,良好,一般,较差"')
        assert str(coop.sqref).startswith(f"{letter_of(sheet, 'cooperation')}3:")
        assert dvs[letter_of(sheet, "growth")].formula1 == '"显著提升,有一定提升,提升不明显,无提升"'
        assert dvs[letter_of(sheet, "probation")].formula1 == '"是,否"'
        assert letter_of(sheet, "period") not in dvs

    def test_number_checks_with_declared_range(self, tmp_path) -> None:
        """Whole-number checks carry the declared min/max; columns get number formats."""
        book = openpyxl.load_workbook(write_template(example("property_cs"), tmp_path / "t.xlsx"))
        adj = book["adjustments"]
        points = validations(adj)[letter_of(adj, "points")]
        assert (points.type, points.operator, points.formula1, points.formula2) == (
            "whole", "between", "-20", "8")
        assert validations(adj)[letter_of(adj, "approved")].formula1 == '"是,否"'
        late = book["late_arrivals"]
        minutes = validations(late)[letter_of(late, "minutes")]
        assert (minutes.operator, minutes.formula1) == ("greaterThanOrEqual", "1")
        assert late.column_dimensions[letter_of(late, "minutes")].number_format == "0"
        assert late.column_dimensions[letter_of(late, "date")].number_format == "yyyy-mm-dd"
        rec = book["records"]
        assert rec.column_dimensions[letter_of(rec, "period")].number_format == "@"

    def test_labels_from_the_rule_when_the_column_has_none(self, tmp_path) -> None:
        """A label column without 'labels' gets its drop-down from the KPI's label points."""
        data = calib.load_policy(DATA / "mini.yaml").to_dict()
        data["inputs"]["records"]["columns"]["attitude"]["labels"] = None
        policy = calib.Policy.model_validate(data)
        book = openpyxl.load_workbook(write_template(policy, tmp_path / "t.xlsx"))
        sheet = book["records"]
        assert validations(sheet)[letter_of(sheet, "attitude")].formula1 == '"优秀,良好,一般,较差"'

    def test_instructions_name_the_policy_and_the_rules(self, tmp_path) -> None:
        """The instructions give the scheme's title, version, sha256 and how to fill each sheet."""
        policy = example("logistics_cs")
        book = openpyxl.load_workbook(write_template(policy, tmp_path / "t.xlsx"))
        text = "\n".join(str(v) for row in book["instructions"].iter_rows(values_only=True)
                         for v in row if v is not None)
        for needed in (policy.title, policy.name, policy.version, policy_sha256(policy),
                       "2025-03", "row 3", "empty cell", "Optional 选填: cooperation, growth",
                       "sheet 'requests'", "Required 必填: employee_id, received, category"):
            assert needed in text

    def test_empty_template_reads_as_empty_tables(self, tmp_path) -> None:
        """The description row is skipped: an unfilled template has the columns and no rows."""
        policy = example("property_cs")
        ds = calib.load_data(write_template(policy, tmp_path / "t.xlsx"), policy)
        assert set(ds.tables) == {"people", "records", "adjustments", "late_arrivals"}
        assert all(len(frame) == 0 for frame in ds.tables.values())
        assert list(ds.tables["records"].columns) == ["employee_id", *policy.inputs.records.columns]


class TestRoundTrip:
    @pytest.mark.parametrize("name", ["ecommerce_cs", "property_cs"])
    def test_filled_template_scores_like_the_csvs(self, tmp_path, name) -> None:
        """The first 30 people typed into the template score, grade and pay as from the CSVs."""
        policy, book, folder, _ = filled(tmp_path, name)
        from_book, from_csv = calib.run(policy, book), calib.run(policy, folder)
        assert len(from_book.scores) > 300
        pd.testing.assert_frame_equal(scores(from_book), scores(from_csv))
        if from_csv.payouts is not None:
            pd.testing.assert_series_equal(from_book.payouts["payout"], from_csv.payouts["payout"])

    def test_cli_run_on_the_filled_template(self, tmp_path, capsys) -> None:
        """`calib run --data input.xlsx` works on a filled template."""
        _, book, _, _ = filled(tmp_path, "ecommerce_cs")
        policy_file = str(DATASETS / "ecommerce_cs" / "policy.yaml")
        assert main(["run", "--policy", policy_file, "--data", str(book),
                     "--out", str(tmp_path / "out")]) == 0
        results = pd.read_csv(tmp_path / "out" / "results.csv")
        assert results["id"].nunique() == 30

    def test_bad_values_reported_with_their_excel_row(self, tmp_path) -> None:
        """A bad value in the first data row is reported as row 3, the row Excel shows."""
        policy, book, _, tables = filled(tmp_path, "ecommerce_cs")
        wb = openpyxl.load_workbook(book)
        sheet = wb["records"]
        sheet[f"{letter_of(sheet, 'days_present')}3"] = "三十"
        sheet[f"{letter_of(sheet, 'attitude')}7"] = "很好"
        wb.save(book)
        with pytest.raises(calib.DataError) as err:
            calib.run(policy, book)
        problems = err.value.problems
        assert set(zip(problems["row"], problems["column"], problems["problem"], strict=True)) == {
            (3, "days_present", "not a number"), (7, "attitude", "unknown label")}
        first = tables["records"]["employee_id"][0]
        assert f"records row 3 (id {first}), column 'days_present': not a number" in str(err.value)

    def test_plain_workbook_rows_start_at_2(self, tmp_path) -> None:
        """Without a description row the data start at row 2, as before."""
        policy = calib.load_policy(DATA / "mini.yaml")
        records = pd.read_csv(DATA / "mini" / "records.csv", dtype=str)
        records.loc[0, "orders"] = "12a"
        path = tmp_path / "plain.xlsx"
        with pd.ExcelWriter(path) as writer:
            records.to_excel(writer, sheet_name="records", index=False)
            pd.read_csv(DATA / "mini" / "people.csv", dtype=str).to_excel(
                writer, sheet_name="people", index=False)
        with pytest.raises(calib.DataError) as err:
            calib.run(policy, path)
        problems = err.value.problems
        assert list(problems.loc[problems["column"] == "orders", "row"]) == [2]

    def test_a_workbook_without_its_people_sheet_says_so(self, tmp_path) -> None:
        """The policy's people columns are not in records and there is no 'people' sheet: the
        missing sheet is named with the columns it needs (it was a list of missing columns)."""
        policy = calib.load_policy(DATA / "mini.yaml")
        path = tmp_path / "records_only.xlsx"
        with pd.ExcelWriter(path) as writer:
            pd.read_csv(DATA / "mini" / "records.csv", dtype=str).to_excel(
                writer, sheet_name="records", index=False)
        with pytest.raises(calib.DataError) as err:
            calib.run(policy, path)
        first = err.value.problems.iloc[0]
        assert (first["table"], first["problem"]) == (
            "people", "workbook records_only.xlsx has no sheet 'people'")
        assert "add a sheet 'people' with the columns employee_id" in first["fix"]

    def test_cli_problem_row_is_the_excel_row(self, tmp_path, capsys) -> None:
        """The CLI's problems table names the Excel row of a filled template."""
        _, book, _, _ = filled(tmp_path, "property_cs")
        wb = openpyxl.load_workbook(book)
        sheet = wb["adjustments"]
        sheet[f"{letter_of(sheet, 'approved')}4"] = "也许"
        wb.save(book)
        out = tmp_path / "out"
        assert main(["run", "--policy", str(DATASETS / "property_cs" / "policy.yaml"),
                     "--data", str(book), "--out", str(out)]) == 1
        problems = pd.read_csv(out / "problems.csv")
        assert list(zip(problems["table"], problems["row"], problems["column"], strict=True)) == [
            ("adjustments", 4, "approved")]
        assert "adjustments row 4" in capsys.readouterr().err


def sheet_rows(sheet) -> list[tuple]:
    return [row for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row)]


def cover_facts(book) -> dict[str, object]:
    return {row[0]: row[1] for row in sheet_rows(book["cover"]) if row[0] is not None}


def block(sheet, title_start: str) -> pd.DataFrame:
    """The titled table of the calibration figures sheet whose title starts with ``title_start``."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if isinstance(r[0], str)
                 and r[0].startswith(title_start))
    header = [h for h in rows[start + 1] if h is not None]
    body = []
    for r in rows[start + 2:]:
        if r[0] is None:
            break
        body.append(r[:len(header)])
    return pd.DataFrame(body, columns=header)


class TestSignoff:
    def test_cover_names_the_policy(self, tmp_path) -> None:
        """The cover carries title, name, version, currency, the sha256 and an approval block."""
        policy = example("gas_cs")
        path = write_signoff(policy, tmp_path / "s.xlsx", today=dt.date(2025, 12, 31),
                             provenance={"calibrated on": "2024 history", "targets": {"A+": 0.1}})
        book = openpyxl.load_workbook(path)
        assert book.sheetnames == ["cover", "parameters"]
        facts = cover_facts(book)
        assert facts["policy sha256"] == policy_sha256(policy)
        assert facts["policy title 方案"] == policy.title
        assert facts["version 版本"] == policy.version
        assert facts["currency 币种"] == "CNY"
        assert facts["date 日期"] == dt.datetime(2025, 12, 31)
        assert facts["provenance: calibrated on"] == "2024 history"
        assert facts["provenance: targets"] == '{"A+": 0.1}'
        for role in ("prepared by 编制", "reviewed by 审核", "approved by 批准"):
            assert role in facts
        header = next(r for r in sheet_rows(book["cover"]) if r[0] == "role 职责")
        assert header[1:] == ("name 姓名", "title 职务", "date 日期", "signature 签名")

    @pytest.mark.parametrize("name", ["gas_cs", "logistics_cs", "property_cs", "support_team"])
    def test_parameters_sheet_has_every_path(self, tmp_path, name) -> None:
        """Every tunable number is listed with its value, range and the policy's label."""
        policy = example(name)
        book = openpyxl.load_workbook(write_signoff(policy, tmp_path / "s.xlsx"))
        sheet = book["parameters"]
        assert sheet.freeze_panes == "A2"
        header = [c.value for c in sheet[1]]
        assert header[:6] == ["group", "item", "label", "parameter", "path", "value"]
        rows = {r[4]: dict(zip(header, r, strict=False)) for r in sheet.iter_rows(min_row=2,
                                                                                  values_only=True)}
        for p in policy.params():
            assert rows[p.path]["value"] == pytest.approx(p.value), p.path
            assert rows[p.path]["min"] == (None if p.min is None else pytest.approx(p.min))

    def test_parameters_labels_and_formats(self, tmp_path) -> None:
        """Labels come from the policy (Chinese); ratios show as percents, money as money."""
        policy = example("gas_cs")
        book = openpyxl.load_workbook(write_signoff(policy, tmp_path / "s.xlsx"))
        sheet = book["parameters"]
        by_path = {r[4].value: r for r in sheet.iter_rows(min_row=2) if r[4].value}
        weight = by_path["sections.staff_sheet.weights.satisfaction"]
        assert (weight[1].value, weight[2].value) == ("staff_sheet", "客服员工月度绩效考核表")
        assert by_path["grading.scale.grades[0].min"][2].value == "优秀"
        assert by_path["grading.rules.teams.cascade.ratios.A+.A"][5].number_format == "0.0%"

    def test_grade_scale_and_ratio_tables(self, tmp_path) -> None:
        """The grade scale (name, label, min) and the cascade's ratio rows are laid out as tables."""
        book = openpyxl.load_workbook(write_signoff(example("gas_cs"), tmp_path / "s.xlsx"))
        sheet = book["parameters"]
        scale = block(sheet, "grade scale")
        rows = scale.astype(object).where(scale.notna(), None).values.tolist()
        assert rows == [["A+", "优秀", 95], ["A", "良好", 90], ["B", "合格", 85], ["C", "需改进", 80],
                        ["C-", "不合格", None]]
        cascade = block(sheet, "cascade 'teams'").set_index("leader grade")
        assert list(cascade.columns) == ["A+", "A", "B", "C", "C-"]
        assert cascade.loc["A"].tolist() == [0.1, 0.3, 0.6, 0, 0]

    def test_merit_matrix_table(self, tmp_path) -> None:
        """The merit matrix is a grade × compa-ratio table of raises."""
        book = openpyxl.load_workbook(write_signoff(example("logistics_cs"), tmp_path / "s.xlsx"))
        merit = block(book["parameters"], "merit matrix")
        assert list(merit.columns) == ["grade", "< 0.9", "0.9 – 1.1", "≥ 1.1"]
        assert merit.iloc[0].tolist() == ["A+", 0.1, 0.08, 0.05]

    @pytest.mark.parametrize("name", ["gas_cs", "logistics_cs"])
    def test_calibration_figures_match_the_run(self, tmp_path, name) -> None:
        """With data: rows, grade counts and the payout total equal the run's, to the cent."""
        policy = example(name)
        data = DATASETS / name
        result = calib.run(policy, data)
        book = openpyxl.load_workbook(write_signoff(policy, tmp_path / "s.xlsx", data=str(data)))
        assert book.sheetnames == ["cover", "parameters", "calibration figures"]
        facts = cover_facts(book)
        expected = money_total(result.payouts["payout"])
        assert Decimal(str(facts["payout total 发放总额 (CNY)"])) == expected
        assert expected == Decimal(str(round(result.payouts["payout"].sum(), 2)))
        assert facts["data fingerprint 数据指纹"] == calib.load_data(data, policy).fingerprint()
        assert facts["person-periods 人次"] == len(result.scores)
        sheet = book["calibration figures"]
        periods = block(sheet, "rows per period")
        assert periods.iloc[-1]["rows"] == len(result.scores)
        assert periods.iloc[-1]["rated"] == (result.scores["status"] == "rated").sum()
        grades = block(sheet, "grade distribution").set_index("period")
        graded = result.grades[result.grades["grade"].notna()]
        counts = graded["grade"].astype(str).value_counts()
        for grade in policy.grading.scale.names():
            assert grades.loc["total 合计", grade] == counts.get(grade, 0)
            share = grades.loc["total 合计", f"share {grade}"]
            assert share == pytest.approx(counts.get(grade, 0) / len(graded))
        pay = block(sheet, "payouts per period")
        assert Decimal(str(pay.iloc[-1]["total payout"])) == expected
        by_group = block(sheet, "payouts per ")
        assert Decimal(str(by_group.iloc[-1]["total payout"])) == expected

    def test_money_and_percent_formats(self, tmp_path) -> None:
        """Payout cells are money (#,##0.00) and grade shares percents (0.0%)."""
        book = openpyxl.load_workbook(write_signoff(example("gas_cs"), tmp_path / "s.xlsx",
                                                    data=str(DATASETS / "gas_cs")))
        sheet = book["calibration figures"]
        formats = {}
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, float):
                    formats.setdefault(cell.number_format, 0)
                    formats[cell.number_format] += 1
        assert {"#,##0.00", "0.0%", "0.00"} <= set(formats)
        cover = book["cover"]
        total = next(r[1] for r in cover.iter_rows() if r[0].value == "payout total 发放总额 (CNY)")
        assert total.number_format == "#,##0.00"

    def test_group_by_a_named_column(self, tmp_path) -> None:
        """Payouts are totalled per the column asked for; an unknown column is a data error."""
        policy = example("property_cs")
        data = str(DATASETS / "property_cs")
        book = openpyxl.load_workbook(write_signoff(policy, tmp_path / "s.xlsx", data=data,
                                                    group_by="position"))
        by = block(book["calibration figures"], "payouts per position")
        assert by["position"].tolist() == ["专员", "主管", "total 合计"]
        assert by["total payout"].iloc[:2].sum() == pytest.approx(by["total payout"].iloc[2])
        with pytest.raises(calib.DataError, match="no column 'nope' to total payouts by"):
            write_signoff(policy, tmp_path / "t.xlsx", data=data, group_by="nope")


class TestCli:
    def test_template_exits_0(self, tmp_path, capsys) -> None:
        """`calib template` writes the workbook and says how to run it."""
        out = tmp_path / "input.xlsx"
        assert main(["template", "--policy", str(DATASETS / "logistics_cs" / "policy.yaml"),
                     "--out", str(out)]) == 0
        assert openpyxl.load_workbook(out).sheetnames[0] == "instructions"
        assert "from row 3" in capsys.readouterr().out

    def test_signoff_with_data_exits_0(self, tmp_path, capsys) -> None:
        """`calib signoff --data` writes cover, parameters and calibration figures."""
        out = tmp_path / "signoff.xlsx"
        policy = DATASETS / "property_cs" / "policy.yaml"
        assert main(["signoff", "--policy", str(policy), "--data", str(DATASETS / "property_cs"),
                     "--out", str(out)]) == 0
        assert openpyxl.load_workbook(out).sheetnames == ["cover", "parameters",
                                                          "calibration figures"]
        assert policy_sha256(calib.load_policy(policy)) in capsys.readouterr().out

    @pytest.mark.parametrize("argv", [
        ["template", "--policy", "nope.yaml", "--out", "{tmp}/t.xlsx"],
        ["template", "--policy", "{ds}/logistics_cs/policy.yaml", "--out", "{tmp}/t.csv"],
        ["signoff", "--policy", "{ds}/property_cs/policy.yaml", "--data", "{tmp}/none",
         "--out", "{tmp}/s.xlsx"],
        ["signoff", "--policy", "{ds}/property_cs/policy.yaml", "--out", "{tmp}/missing/s.xlsx"],
    ])
    def test_bad_input_exits_1(self, tmp_path, capsys, argv) -> None:
        """A missing policy or data set, a non-.xlsx name or an unwritable path exit 1."""
        args = [a.format(tmp=tmp_path, ds=DATASETS) for a in argv]
        assert main(args) == 1
        assert capsys.readouterr().err.startswith("error: ")

    @pytest.mark.parametrize("argv", [
        ["template", "--policy", "p.yaml"],
        ["signoff", "--out", "s.xlsx"],
        ["template", "--policy", "p.yaml", "--out", "t.xlsx", "--data", "d"],
    ])
    def test_usage_exits_2(self, argv, capsys) -> None:
        """Missing or unknown options are usage errors (exit 2)."""
        assert main(argv) == 2
