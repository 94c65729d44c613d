"""Injection: text that Excel would take for a formula, put where data and policy text goes.

Each case copies the golden ``grade_pay`` example, puts a hostile text (``=HYPERLINK(...)``, a
DDE payload, ``+1+1``, ``-2+3``, ``@SUM(A1)``) into one place (an id, a team, the policy title,
a grade label, a not-rated reason, a scorecard label) and runs one writer through the CLI (run,
explain, diff, diff with data, signoff, template). The run must succeed (exit 0), every workbook
must hold no formula at all (no ``<f>`` element in any sheet, no cell of type ``f``) and keep the
text verbatim; CSV files must carry the text with a leading ``'`` (OWASP) and calib must read its
own results.csv back unchanged (``--previous``).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd

from catalogue import Case, Outcome, copy_example, replace_in

PAYLOADS = {
    "eq": '=HYPERLINK("http://x","y")',
    "dde": "=cmd|' /C calc'!A0",
    "plus": "+1+1",
    "minus": "-2+3",
    "at": "@SUM(A1)",
}


# --- the places hostile text goes -----------------------------------------------------------------
def _csv_replace(path: Path, column: str, old: str, new: str) -> None:
    """Replace a value in one column of a CSV file (pandas quotes what needs quoting)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert (frame[column] == old).any(), f"{old!r} not in {path}:{column}"
    frame[column] = frame[column].where(frame[column] != old, new)
    frame.to_csv(path, index=False)


def put_id(policy: Path, data: Path, text: str) -> None:
    """Person E3's id becomes ``text`` in people.csv and records.csv."""
    for name in ("people.csv", "records.csv"):
        _csv_replace(data / name, "employee_id", "E3", text)


def put_team(policy: Path, data: Path, text: str) -> None:
    """Team 'west' becomes ``text`` (the quota group and the payouts-per-team rows)."""
    _csv_replace(data / "people.csv", "team", "west", text)


def put_title(policy: Path, data: Path, text: str) -> None:
    """The policy's title."""
    replace_in(policy, "title: 等级与薪酬 (golden)", f"title: {json.dumps(text)}")


def put_grade_label(policy: Path, data: Path, text: str) -> None:
    """Grade A's label (results, grade distribution, statements)."""
    replace_in(policy, "{name: A, label: 良好, min: 90}", f"{{name: A, label: {json.dumps(text)}, min: 90}}")


def put_reason(policy: Path, data: Path, text: str) -> None:
    """The not-rated reason of probation (results, exceptions, calibration figures)."""
    replace_in(policy, "reason: probation,", f"reason: {json.dumps(text)},")


def put_name(policy: Path, data: Path, text: str) -> None:
    """The policy's name (its pattern allows a leading minus: ``-A1`` is ``=-A1`` to Excel)."""
    replace_in(policy, "name: grade_pay", f"name: {json.dumps(text)}")


def put_kpi_label(policy: Path, data: Path, text: str) -> None:
    """The KPI's label (a column header of the KPI points sheet)."""
    replace_in(policy, "kpis:\n  points:\n", f"kpis:\n  points:\n    label: {json.dumps(text)}\n")


# --- what must hold afterwards ----------------------------------------------------------------------
def no_formula(path: Path, text: str | None) -> None:
    """No formula anywhere in the workbook; ``text`` (when given) is in some cell verbatim."""
    assert path.is_file(), f"{path} was not written"
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                xml = zf.read(name)
                assert b"<f>" not in xml and b"<f " not in xml, f"a formula in {name}"
    book = openpyxl.load_workbook(path)
    cells = [c for ws in book for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    if text is not None:
        values = [c.value for c in cells if isinstance(c.value, str)]
        assert any(text in v for v in values), f"{text!r} not kept verbatim in {path.name}"


def workbook_check(rel: str, text: str | None) -> Callable[[Path, Outcome], None]:
    """A check that the workbook at ``rel`` (in the work folder) holds no formula and ``text``."""
    return lambda work, outcome: no_formula(work / rel, text)


def csv_safe_everywhere(folder: Path) -> None:
    """No field of any CSV in ``folder`` starts with = + - @ tab or CR unless it is a number."""
    import csv
    import re

    number = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                for value in row:
                    assert not value or value[0] not in "=+-@\t\r" or number.fullmatch(value), \
                        f"{path.name}: {value!r}"


def run_check(text: str) -> Callable[[Path, Outcome], None]:
    """report.xlsx holds no formula and the text; every CSV has such text neutralised."""
    def check(work: Path, outcome: Outcome) -> None:
        no_formula(work / "out" / "report.xlsx", text)
        csv_safe_everywhere(work / "out")
    return check


# --- the writers -------------------------------------------------------------------------------------
def _setup(place: Callable[[Path, Path, str], None], text: str,
           argv: Callable[[Path, Path, Path], list[str]]) -> Callable[[Path], list[str]]:
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "grade_pay")
        place(policy, data, text)
        return argv(work, policy, data)
    return setup


def _run(work: Path, policy: Path, data: Path) -> list[str]:
    return ["run", "--policy", str(policy), "--data", str(data), "--out", str(work / "out")]


def _explain(person: str) -> Callable[[Path, Path, Path], list[str]]:
    return lambda work, policy, data: ["explain", "--policy", str(policy), "--data", str(data),
                                       f"--id={person}", "--period", "2025-01", "--format", "xlsx",
                                       "--out", str(work / "statement.xlsx")]


def _diff(work: Path, policy: Path, data: Path) -> list[str]:
    old = work / "old.yaml"
    old.write_text((Path(__file__).parent.parent / "fixtures" / "grade_pay.yaml").read_text(encoding="utf-8"),
                   encoding="utf-8")
    replace_in(policy, "amount: 750", "amount: 760")
    return ["diff", str(old), str(policy), "--out", str(work / "diff.xlsx")]


def _diff_data(work: Path, policy: Path, data: Path) -> list[str]:
    new = work / "new.yaml"
    text = policy.read_text(encoding="utf-8").replace("{name: A, label:", "{name: A, min: 92, label:")
    new.write_text(text.replace(", min: 90}", "}", 1), encoding="utf-8")
    replace_in(new, "A+: 20%, A: 30%, B: 40%", "A+: 10%, A: 40%, B: 40%")
    return ["diff", str(policy), str(new), "--data", str(data), "--out", str(work / "impact.xlsx")]


def _signoff(work: Path, policy: Path, data: Path) -> list[str]:
    return ["signoff", "--policy", str(policy), "--data", str(data), "--by", "team",
            "--out", str(work / "signoff.xlsx")]


def _template(work: Path, policy: Path, data: Path) -> list[str]:
    return ["template", "--policy", str(policy), "--out", str(work / "template.xlsx")]


PLACES = [put_id, put_team, put_title, put_grade_label, put_reason]
CASES: list[Case] = []
for i, (key, text) in enumerate(PAYLOADS.items()):
    place = PLACES[i % len(PLACES)]
    CASES.append(Case(f"injection-run-{key}-{place.__name__[4:]}", _setup(place, text, _run), exit=0,
                      check=run_check(text)))
    CASES.append(Case(f"injection-explain-{key}-id", _setup(put_id, text, _explain(text)), exit=0,
                      check=workbook_check("statement.xlsx", text)))
    CASES.append(Case(f"injection-diff-{key}-title", _setup(put_title, text, _diff), exit=0,
                      check=workbook_check("diff.xlsx", text)))
    CASES.append(Case(f"injection-impact-{key}-id", _setup(put_id, text, _diff_data), exit=0,
                      check=workbook_check("impact.xlsx", None)))
    CASES.append(Case(f"injection-signoff-{key}-{place.__name__[4:]}", _setup(place, text, _signoff),
                      exit=0, check=workbook_check("signoff.xlsx", None if place is put_id else text)))
    CASES.append(Case(f"injection-template-{key}-title", _setup(put_title, text, _template), exit=0,
                      check=workbook_check("template.xlsx", text)))

CASES += [
    Case("injection-run-kpi-label-header", _setup(put_kpi_label, "=1+2", _run), exit=0,
         check=workbook_check("out/report.xlsx", "=1+2")),
    Case("injection-explain-grade-label", _setup(put_grade_label, "@SUM(A1)", _explain("E2")), exit=0,
         check=workbook_check("statement.xlsx", "@SUM(A1)")),
    Case("injection-diff-grade-label", _setup(put_grade_label, "=cmd|' /C calc'!A0", _diff), exit=0,
         check=workbook_check("diff.xlsx", "=cmd|' /C calc'!A0")),
    Case("injection-impact-team", _setup(put_team, '=HYPERLINK("http://x","y")', _diff_data), exit=0,
         check=workbook_check("impact.xlsx", '=HYPERLINK("http://x","y")')),
    Case("injection-run-policy-name", _setup(put_name, "-A1", _run), exit=0, check=run_check("-A1")),
    Case("injection-signoff-policy-name", _setup(put_name, "-A1", _signoff), exit=0,
         check=workbook_check("signoff.xlsx", "-A1")),
    Case("injection-template-kpi-label", _setup(put_kpi_label, "+SUM(1)", _template), exit=0,
         check=workbook_check("template.xlsx", None)),
]


# --- CSV files -------------------------------------------------------------------------------------
def _results_roundtrip(work: Path, outcome: Outcome) -> None:
    """results.csv has the hostile id quoted; --previous read it back as the same id (no change)."""
    raw = (work / "out" / "results.csv").read_text(encoding="utf-8")
    assert "\n'=cmd|' /C calc'!A0," in raw
    assert "0 rows changed" in outcome.out, outcome.out


def _rerun(work: Path) -> list[str]:
    from calib.cli import main

    policy, data = copy_example(work, "grade_pay")
    put_id(policy, data, "=cmd|' /C calc'!A0")
    assert main(["run", "--policy", str(policy), "--data", str(data), "--out", str(work / "first")]) == 0
    return ["run", "--policy", str(policy), "--data", str(data), "--out", str(work / "out"),
            "--previous", str(work / "first")]


def _problems(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    _csv_replace(data / "records.csv", "days_present", "31", "=1+1")
    return ["validate", str(policy), "--data", str(data), "--problems", str(work / "problems.csv")]


def _problems_check(work: Path, outcome: Outcome) -> None:
    raw = (work / "problems.csv").read_text(encoding="utf-8-sig")
    assert "'=1+1" in raw and ",=1+1" not in raw


def _negative_amounts(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    _csv_replace(data / "people.csv", "team", "east", "-5.00")
    return _run(work, policy, data)


def _negative_check(work: Path, outcome: Outcome) -> None:
    """A text that is a plain number (-5.00) is left alone: Excel reads it as the number it is."""
    raw = (work / "out" / "grades.csv").read_text(encoding="utf-8")
    assert "-5.00" in raw and "'-5.00" not in raw


CASES += [
    Case("injection-csv-results-previous-roundtrip", _rerun, exit=0, check=_results_roundtrip),
    Case("injection-csv-problems", _problems, exit=1, says=("days_present",), check=_problems_check),
    Case("injection-csv-number-text-kept", _negative_amounts, exit=0, check=_negative_check),
]
