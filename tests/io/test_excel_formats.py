"""Number formats have one home (``calib._util.excel_formats``): every workbook calib writes uses
only its formats, money in the scheme's pay unit and scores to the precision of its grade bounds.
"""

from __future__ import annotations

import copy
from pathlib import Path

import openpyxl
import pytest
from conftest import examples

import calib
from calib._util.excel_formats import FORMATS, PERCENT, for_policy, money, score
from calib.analysis.compare import diff_policies, diff_to_excel, impact
from calib.io.report import write_report
from calib.io.workbooks import write_signoff, write_template
from calib.policy.load import validate_policy

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
PEOPLE = {"ethics_diligence": 200}  # its pool fits under the caps with 126 people or more


def number_formats(path: Path) -> dict[str, set[str]]:
    """Every number format in a workbook (cells and whole columns), with the sheets holding it."""
    out: dict[str, set[str]] = {}
    for sheet in openpyxl.load_workbook(path).worksheets:
        formats = {d.number_format for d in sheet.column_dimensions.values()}
        formats |= {cell.number_format for row in sheet.iter_rows() for cell in row}
        for fmt in formats:
            out.setdefault(fmt, set()).add(sheet.title)
    return out


def column_formats(path: Path, sheet: str, column: str) -> set[str]:
    """The number formats of a column's cells that hold numbers."""
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[1]]
    return {row[header.index(column)].number_format for row in ws.iter_rows(min_row=2)
            if isinstance(row[header.index(column)].value, int | float)}


def first_people(policy: calib.Policy, name: str) -> calib.Dataset:
    """The example's tables for its first 40 people (formats do not depend on size)."""
    tables = calib.load_data(DATASETS / name, policy).tables
    pid = policy.inputs.id
    ids = set(tables["people"][pid].head(PEOPLE.get(name, 40)))
    return calib.load_data({t: f[f[pid].isin(ids)].reset_index(drop=True)
                            for t, f in tables.items()}, policy)


def workbooks(policy: calib.Policy, data: Path | calib.Dataset, folder: Path) -> list[Path]:
    """Every workbook calib writes for ``policy`` on ``data``: report, template, sign-off,
    impact, policy diff and a person's statement.
    """
    result = calib.run(policy, data)
    paths = [folder / n for n in ("report.xlsx", "template.xlsx", "signoff.xlsx", "impact.xlsx",
                                  "diff.xlsx", "statement.xlsx")]
    write_report(result, paths[0])
    write_template(policy, paths[1])
    write_signoff(policy, paths[2], data=data)
    impact(policy, policy, data).to_excel(paths[3])
    diff_to_excel(diff_policies(policy, policy), paths[4])
    row = result.scores.iloc[0]
    result.explain(str(row["id"]), str(row["period"])).to_excel(paths[5])
    return paths


def variant(policy: calib.Policy, change) -> calib.Policy:
    """The policy with ``change(d)`` applied to its plain data, validated again."""
    data = copy.deepcopy(policy.to_dict())
    change(data)
    return validate_policy(data)


class TestTheHome:
    """Formats named from the domain."""

    def test_money_by_pay_unit(self) -> None:
        """Cents show two decimals, whole currency units none; both with thousands separators."""
        assert (money(0.01), money(1.0)) == ("#,##0.00", "#,##0")

    def test_score_by_the_grade_bounds(self) -> None:
        """Two decimals, or as many as the finest grade minimum has (at most six)."""
        assert score() == score([90, 89.5, None]) == "0.00"
        assert score([90, 89.125]) == "0.000" and score([1e-9]) == "0.000000"

    def test_every_format_given_is_listed(self) -> None:
        """``FORMATS`` holds what the functions give for every pay unit and bound precision."""
        assert {money(0.01), money(1), score(), score([0.1234]), PERCENT} <= FORMATS


@pytest.mark.parametrize("name", examples())
def test_every_workbook_uses_only_the_homes_formats(name: str, tmp_path: Path) -> None:
    """Report, template, sign-off, impact, diff and statement of each example scheme: every
    number format in them (besides General) comes from ``calib._util.excel_formats``.
    """
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    for path in workbooks(policy, first_people(policy, name), tmp_path):
        found = number_formats(path)
        foreign = {fmt: sorted(sheets) for fmt, sheets in found.items()
                   if fmt != "General" and fmt not in FORMATS}
        assert not foreign, (path.name, foreign)
    if policy.pay is not None:
        assert column_formats(tmp_path / "report.xlsx", "results", "payout") == {
            for_policy(policy).money}


class TestTheSchemesFormats:
    """Money and scores follow the policy."""

    def test_whole_currency_units(self, tmp_path: Path) -> None:
        """A scheme paid in whole yuan (``unit: 1``) shows money without decimals everywhere."""
        policy = variant(calib.load_policy(DATASETS / "gas_cs" / "policy.yaml"),
                         lambda d: d["pay"].update(unit=1))
        paths = workbooks(policy, first_people(policy, "gas_cs"), tmp_path)
        assert column_formats(paths[0], "results", "payout") == {"#,##0"}
        assert column_formats(paths[3], "groups", "after") == {"#,##0"}
        signoff = number_formats(paths[2])
        assert "#,##0" in signoff and "#,##0.00" not in signoff

    def test_scores_to_the_finest_grade_bound(self, tmp_path: Path) -> None:
        """A grade minimum of 89.125 shows scores with three decimals."""
        base = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")
        bounds = [g.min for g in base.grading.scale.grades]
        first = next(i for i, b in enumerate(bounds) if b is not None)

        def finer(d: dict) -> None:
            d["grading"]["scale"]["grades"][first]["min"] = bounds[first] + 0.125

        policy = variant(base, finer)
        result = calib.run(policy, first_people(policy, "gas_cs"))
        write_report(result, tmp_path / "report.xlsx")
        assert column_formats(tmp_path / "report.xlsx", "results", "score") == {"0.000"}
