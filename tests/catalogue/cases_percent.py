"""Numbers shown as a percentage in a workbook are read as people typed them: 95% in a column of
points is refused (Excel stores 0.95), and accepted only where the column holds shares."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

from catalogue import Case, copy_example, replace_in

NOTHING = ("out/results.csv", "out/report.xlsx")


def _workbook(cell_value: float, fmt: str, share: bool = False, cell: str = "C3"):
    """grade_pay's tables as a workbook, one cell (records C3 = E1's points) given a format."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "grade_pay")
        if share:
            replace_in(policy, "points: {type: float, label: 得分}",
                       "points: {type: float, min: 0, max: 1, label: 得分}")
            replace_in(policy, "rule: {kind: linear, slope: 1}", "rule: {kind: linear, slope: 100}")
        book = openpyxl.Workbook()
        people = book.active
        people.title = "people"
        frame = pd.read_csv(data / "people.csv", dtype=str)
        people.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            people.append(list(row))
        records = book.create_sheet("records")
        frame = pd.read_csv(data / "records.csv", dtype=str)
        records.append(list(frame.columns))
        for r in frame.itertuples(index=False):
            points = float(r.points) / (100 if share else 1)
            records.append([r.employee_id, r.period, points, int(r.days_present),
                            r.probation == "true", r.leak == "true"])
        records[cell].value = cell_value
        records[cell].number_format = fmt
        path = work / "input.xlsx"
        book.save(path)
        return ["run", "--policy", str(policy), "--data", str(path), "--out", str(work / "out")]
    return setup


SAYS = ("records row 3", "'points'", "percentage", "type the number without %")

CASES = [
    Case("percent-cell-in-points", _workbook(0.95, "0%"), says=SAYS, absent=NOTHING),
    Case("percent-cell-two-decimals", _workbook(0.925, "0.00%"), says=SAYS, absent=NOTHING),
    Case("percent-cell-custom-format", _workbook(0.95, '0.0"pts"%'), says=SAYS, absent=NOTHING),
    Case("percent-cell-in-share-column", _workbook(0.95, "0%", share=True), exit=0,
         says=("written to",)),
    Case("percent-none-general-format", _workbook(0.95, "General"), exit=0, says=("written to",)),
    Case("percent-cell-other-row", _workbook(0.5, "0%", cell="C7"),
         says=("records row 7", "'points'", "percentage"), absent=NOTHING),
]
