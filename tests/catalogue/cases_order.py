"""Order never matters: shuffled rows or columns of any input table give the same outputs.

Each case runs the untouched example once (``base``), then the CLI on a copy whose tables were
shuffled (``out``), and compares every output byte for byte, except what carries the time of the
run (the manifest; the workbook is compared cell by cell, as its zip stamps the time).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from calib.cli import main
from catalogue import Case, Outcome, copy_example

TIMESTAMPED = {"manifest.json", "report.xlsx"}


def _shuffle(folder: Path, tables: tuple[str, ...], rows: bool, columns: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for name in tables:
        path = folder / f"{name}.csv"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if rows:
            frame = frame.iloc[rng.permutation(len(frame))]
        if columns:
            frame = frame[list(rng.permutation(frame.columns))]
        frame.to_csv(path, index=False)


def _same_outputs(work: Path, outcome: Outcome) -> None:
    base, out = work / "base", work / "out"
    names = sorted(p.name for p in base.iterdir())
    assert names == sorted(p.name for p in out.iterdir()), "different files written"
    for name in names:
        if name in TIMESTAMPED:
            continue
        assert (base / name).read_bytes() == (out / name).read_bytes(), f"{name} differs"
    a, b = load_workbook(base / "report.xlsx"), load_workbook(out / "report.xlsx")
    assert a.sheetnames == b.sheetnames
    for ws in a.worksheets:
        assert list(ws.values) == list(b[ws.title].values), f"report sheet {ws.title} differs"


def _case(example: str, tables: tuple[str, ...], rows: bool, columns: bool, seed: int) -> Case:
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, example)
        assert main(["run", "--policy", str(policy), "--data", str(data),
                     "--out", str(work / "base")]) == 0
        _shuffle(data, tables, rows, columns, seed)
        return ["run", "--policy", str(policy), "--data", str(data), "--out", str(work / "out")]

    what = "+".join([*(["rows"] if rows else []), *(["columns"] if columns else [])])
    slow = () if example == "grade_pay" else (pytest.mark.slow,)  # the full suite runs them all
    return Case(f"order-{example}-{'-'.join(tables)}-{what}-{seed}", setup, exit=0,
                says=("written to",), check=_same_outputs, marks=slow)


CASES = [
    _case("grade_pay", ("people",), rows=True, columns=False, seed=1),
    _case("grade_pay", ("records",), rows=True, columns=False, seed=2),
    _case("grade_pay", ("people", "records"), rows=True, columns=True, seed=3),
    _case("grade_pay", ("people", "records"), rows=False, columns=True, seed=4),
    _case("grade_pay", ("people", "records"), rows=True, columns=True, seed=5),
    _case("ecommerce_cs", ("people",), rows=True, columns=False, seed=6),
    _case("ecommerce_cs", ("people", "records"), rows=True, columns=True, seed=7),
    _case("logistics_cs", ("people", "records", "requests"), rows=True, columns=True, seed=8),
    _case("ethics_diligence", ("people", "records", "weekly_checks", "year_end"), rows=True,
          columns=True, seed=9),
    _case("property_cs", ("people", "records", "adjustments", "late_arrivals"), rows=True,
          columns=True, seed=10),
    _case("support_team", ("people", "records", "qc", "tickets"), rows=True, columns=True,
          seed=11),
    _case("gas_cs", ("people", "records", "ratings"), rows=True, columns=True, seed=12),
]
