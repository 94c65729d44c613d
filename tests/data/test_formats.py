"""Input data from CSV, an Excel workbook, Parquet files or DataFrames gives the same scores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

import calib

DATA = Path(__file__).resolve().parents[1] / "fixtures"
POLICY = calib.load_policy(DATA / "mini.yaml")


def _scores(source) -> pd.DataFrame:
    return calib.run(POLICY, source).scores[["id", "period", "status", "score"]].astype(
        {"id": str, "period": str, "status": str})


def test_excel_workbook_matches_csv(tmp_path: Path) -> None:
    """A workbook with one sheet per table reads back to the same scores as the CSV folder."""
    book = tmp_path / "input.xlsx"
    with pd.ExcelWriter(book) as writer:
        for table in ("people", "records"):
            pd.read_csv(DATA / "mini" / f"{table}.csv").to_excel(writer, sheet_name=table,
                                                                  index=False)
    pd.testing.assert_frame_equal(_scores(book), _scores(DATA / "mini"))


def test_parquet_folder_matches_csv(tmp_path: Path) -> None:
    """A folder of Parquet files reads back to the same scores as the CSV folder."""
    for table in ("people", "records"):
        pd.read_csv(DATA / "mini" / f"{table}.csv", dtype={"employee_id": str}).to_parquet(
            tmp_path / f"{table}.parquet")
    pd.testing.assert_frame_equal(_scores(tmp_path), _scores(DATA / "mini"))


def test_single_dataframe_derives_people() -> None:
    """One DataFrame of records (people's columns included) is enough."""
    records = pd.read_csv(DATA / "mini" / "records.csv", dtype={"employee_id": str})
    people = pd.read_csv(DATA / "mini" / "people.csv", dtype={"employee_id": str})
    merged = records.merge(people, on="employee_id")
    pd.testing.assert_frame_equal(_scores(merged), _scores(DATA / "mini"))


def test_excel_problem_rows_are_sheet_rows(tmp_path: Path) -> None:
    """A problem in a workbook names the sheet's row number as Excel shows it."""
    book = tmp_path / "input.xlsx"
    records = pd.read_csv(DATA / "mini" / "records.csv", dtype=str)
    records.loc[2, "inquiries"] = "lots"
    with pd.ExcelWriter(book) as writer:
        pd.read_csv(DATA / "mini" / "people.csv").to_excel(writer, sheet_name="people",
                                                            index=False)
        records.to_excel(writer, sheet_name="records", index=False)
    try:
        calib.run(POLICY, book)
    except calib.DataError as exc:
        rows = exc.problems[["table", "row", "column", "problem"]].values.tolist()
        assert rows == [["records", 4, "inquiries", "not a number"]]
    else:
        raise AssertionError("expected a DataError")


def test_missing_table_file_is_named(tmp_path: Path) -> None:
    """A folder without records.csv is refused with the file to add."""
    shutil.copy(DATA / "mini" / "people.csv", tmp_path / "people.csv")
    try:
        calib.run(POLICY, tmp_path)
    except calib.DataError as exc:
        assert exc.problems["fix"].tolist() == ["add records.csv (or .xlsx/.parquet)"]
    else:
        raise AssertionError("expected a DataError")
