"""Bad input files: each is refused with a DataError naming the file (and line, column, row, id)
and what to do, instead of a pandas traceback or a silent guess."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import calib
from calib.data.read import load_data
from calib.engine.frame import build_frame
from calib.errors import DataError

DATA = Path(__file__).resolve().parents[1] / "fixtures"
HEADER = "employee_id,period,inquiries,orders,response_seconds,late_arrivals,attitude,probation"


@pytest.fixture
def policy() -> calib.Policy:
    return calib.load_policy(DATA / "mini.yaml")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the mini data set (its records hold Chinese labels: 优秀, 良好, ...)."""
    out = tmp_path / "mini"
    shutil.copytree(DATA / "mini", out)
    return out


def refused(policy: calib.Policy, data) -> pd.DataFrame:
    """The problems table of the DataError that loading and checking ``data`` raises."""
    with pytest.raises(DataError) as exc:
        build_frame(policy, load_data(data, policy))
    problems = exc.value.problems
    assert list(problems.columns) == list(DataError.COLUMNS)
    return problems


def only(problems: pd.DataFrame) -> dict:
    assert len(problems) == 1, problems.to_string()
    return problems.iloc[0].to_dict()


# --- 1. encodings ------------------------------------------------------------------------------

def test_gb18030_csv_loads_like_utf8(policy, folder, tmp_path):
    """A GBK/GB18030 export (Chinese Excel) reads as the same tables as the UTF-8 file."""
    gbk = tmp_path / "gbk"
    shutil.copytree(folder, gbk)
    (gbk / "people.csv").write_text("employee_id,department,position\nE1,客服一部,组长\n"
                                    "E2,客服一部,客服\nE3,客服二部,客服\n", encoding="utf-8")
    bom = tmp_path / "bom"
    shutil.copytree(gbk, bom)
    for name in ("people.csv", "records.csv"):
        text = (gbk / name).read_text(encoding="utf-8")
        (gbk / name).write_bytes(text.encode("gb18030"))
        (bom / name).write_bytes(text.encode("utf-8-sig"))
    assert "优秀".encode("gb18030") in (gbk / "records.csv").read_bytes()
    utf8 = load_data(bom, policy)
    decoded = load_data(gbk, policy)
    for table in ("people", "records"):
        pd.testing.assert_frame_equal(decoded.tables[table], utf8.tables[table])
    assert decoded.tables["people"]["department"].tolist() == ["客服一部", "客服一部", "客服二部"]
    assert calib.run(policy, gbk).scores.equals(calib.run(policy, bom).scores)


def test_undecodable_csv_names_file_and_byte(policy, folder):
    """Bytes that are neither UTF-8 nor GB18030: the file, byte and line, and save as UTF-8."""
    (folder / "records.csv").write_bytes(
        f"{HEADER}\nE1,2025-01,100,70,40,1,\xff\xff,false\n".encode("latin-1"))
    problem = only(refused(policy, folder))
    assert problem["table"] == "records"
    assert problem["row"] == 2
    assert f"{folder / 'records.csv'} is neither UTF-8 nor GBK/GB18030" in problem["problem"]
    assert f"byte {len(HEADER) + 1 + len('E1,2025-01,100,70,40,1,')}" in problem["problem"]
    assert "save the file as UTF-8 CSV" in problem["fix"]


def test_utf8_bom_file_with_a_bad_byte_is_not_guessed_as_gbk(policy, folder):
    """A BOM says the file is UTF-8; a bad byte in it is an error, not a reason to read GBK."""
    text = (folder / "records.csv").read_bytes()
    (folder / "records.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("良好".encode(), b"\xc1\xbc"))
    assert "neither UTF-8" in only(refused(policy, folder))["problem"]


# --- 2. and 3. unparsable and empty files --------------------------------------------------------

def test_extra_field_names_file_and_line(policy, folder):
    (folder / "records.csv").write_text(
        f"{HEADER}\nE1,2025-01,100,70,40,1,优秀,false\nE2,2025-01,100,75,31,6,一般,false,99\n",
        encoding="utf-8")
    problem = only(refused(policy, folder))
    assert problem["row"] == 3
    assert problem["problem"] == f"line 3 of {folder / 'records.csv'} has 9 fields, the header has 8"
    assert "stray comma" in problem["fix"] and "double quotes" in problem["fix"]


def test_empty_file_names_file_and_columns(policy, folder):
    (folder / "records.csv").write_bytes(b"")
    problem = only(refused(policy, folder))
    assert problem["problem"] == f"the file {folder / 'records.csv'} is empty"
    assert problem["fix"].startswith(
        "it needs a header row with the columns employee_id, period, inquiries, orders")


def test_problems_of_every_file_at_once(policy, folder):
    """An empty people file and a broken records file are reported together."""
    (folder / "people.csv").write_bytes(b"")
    (folder / "records.csv").write_text(f"{HEADER}\nE1,2025-01,1,1,1,1,优秀,false,x\n",
                                        encoding="utf-8")
    problems = refused(policy, folder)
    assert problems["table"].tolist() == ["people", "records"]


# --- 4. no records ---------------------------------------------------------------------------------

def test_records_with_only_a_header(policy, folder):
    """No records rows is refused at load (validate and run alike), not a crash in the run."""
    (folder / "records.csv").write_text(HEADER + "\n", encoding="utf-8")
    problem = only(refused(policy, folder))
    assert (problem["table"], problem["problem"]) == ("records", "records has no rows")
    assert problem["fix"] == (f"{folder / 'records.csv'} holds only the header: add a row per "
                              "person and period")
    with pytest.raises(DataError, match="records has no rows"):
        calib.run(policy, folder)
    empty = pd.read_csv(DATA / "mini" / "records.csv").iloc[:0]
    people = pd.read_csv(DATA / "mini" / "people.csv")
    assert only(refused(policy, {"records": empty, "people": people}))["problem"] == \
        "records has no rows"


# --- 5. infinite numbers -----------------------------------------------------------------------

def test_infinite_numbers_are_refused(policy, folder):
    (folder / "records.csv").write_text(
        f"{HEADER}\nE1,2025-01,inf,70,40,1,优秀,false\nE2,2025-01,100,75,-inf,6,一般,false\n"
        "E3,2025-01,10,4,Infinity,0,较差,true\n", encoding="utf-8")
    problems = refused(policy, folder)
    got = problems[["row", "id", "column", "problem", "value"]].values.tolist()
    assert got == [
        [2, "E1", "inquiries", "not a finite number", "inf"],
        [3, "E2", "response_seconds", "not a finite number", "-inf"],
        [4, "E3", "response_seconds", "not a finite number", "inf"],
    ]  # -inf is not also "below the minimum 0"
    text = str(DataError(problems))
    assert "records row 2 (id E1), column 'inquiries': not a finite number (got 'inf')" in text


def test_infinite_text_in_a_dataframe(policy):
    records = pd.read_csv(DATA / "mini" / "records.csv", dtype=str)
    records.loc[1, "orders"] = "Infinity"
    problem = only(refused(policy, {"records": records,
                                    "people": pd.read_csv(DATA / "mini" / "people.csv")}))
    assert (problem["row"], problem["column"], problem["problem"], problem["value"]) == (
        1, "orders", "not a finite number", "Infinity")


# --- 6. missing-value markers --------------------------------------------------------------------

def test_missing_markers_show_what_was_typed(policy, folder):
    """'N/A', 'NULL', ... stay missing values; in a required column the empty cell shows them."""
    (folder / "records.csv").write_text(
        f"{HEADER}\nE1,2025-01,N/A,70,40,1,优秀,false\nE2,2025-01,100,75,,6,一般,false\n"
        "E3,2025-01,10,4,#N/A,0,NULL,true\n", encoding="utf-8")
    problems = refused(policy, folder)
    got = problems[["row", "id", "column", "problem", "value"]].values.tolist()
    assert got == [
        [2, "E1", "inquiries", "empty cell", "N/A"],
        [3, "E2", "response_seconds", "empty cell", None],
        [4, "E3", "response_seconds", "empty cell", "#N/A"],
        [4, "E3", "attitude", "empty cell", "NULL"],
    ]
    assert "column 'inquiries': empty cell (got 'N/A')" in str(DataError(problems))


def test_missing_markers_in_optional_columns_are_missing_values(policy, folder):
    """In a 'required: false' column the markers are plain missing values, as before."""
    text = (DATA / "mini.yaml").read_text(encoding="utf-8").replace(
        "      probation: {type: bool}",
        "      probation: {type: bool}\n      note: {type: float, required: false}\n"
        "      remark: {type: text, required: false}")
    path = folder.parent / "optional.yaml"
    path.write_text(text, encoding="utf-8")
    optional = calib.load_policy(path)
    records = (folder / "records.csv").read_text(encoding="utf-8").splitlines()
    markers = ["n/a", "NULL", "nan", "None"]
    lines = [records[0] + ",note,remark"] + [
        f"{line},{m},{m}" for line, m in zip(records[1:], markers, strict=True)]
    (folder / "records.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = load_data(folder, optional)
    assert ds.tables["records"]["note"].isna().all()
    assert ds.tables["records"]["remark"].isna().all()
    assert pd.api.types.is_float_dtype(ds.tables["records"]["note"])
    assert ds.missing_text("records", "note").tolist() == markers
    build_frame(optional, ds)  # no problems


# --- 7. and 8. header problems -----------------------------------------------------------------

def test_duplicated_header_column(policy, folder):
    text = (folder / "records.csv").read_text(encoding="utf-8")
    (folder / "records.csv").write_text(text.replace("orders,", "inquiries,", 1),
                                        encoding="utf-8")
    problem = only(refused(policy, folder))
    assert problem["column"] == "inquiries"
    assert problem["problem"] == (
        f"column 'inquiries' appears twice in the header of {folder / 'records.csv'}")


def test_duplicated_header_column_in_a_workbook(policy, tmp_path):
    records = pd.read_csv(DATA / "mini" / "records.csv")
    records.columns = [*records.columns[:-1], "inquiries"]
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        records.to_excel(writer, sheet_name="records", index=False)
        pd.read_csv(DATA / "mini" / "people.csv").to_excel(writer, sheet_name="people",
                                                           index=False)
    assert "appears twice in the header of" in only(refused(policy, path))["problem"]


@pytest.mark.parametrize(("sep", "said"), [(";", "';'"), ("\t", "tabs")])
def test_semicolon_or_tab_separated(policy, folder, sep, said):
    text = (folder / "records.csv").read_text(encoding="utf-8")
    (folder / "records.csv").write_text(text.replace(",", sep), encoding="utf-8")
    problems = refused(policy, folder)
    assert (problems["problem"] == "column 'inquiries' is missing").any()
    assert problems["fix"].str.endswith(
        f"the file seems to be separated by {said} — save it as comma-separated CSV").all()


def test_no_separator_hint_for_an_ordinary_missing_column(policy, folder):
    text = (folder / "records.csv").read_text(encoding="utf-8")
    (folder / "records.csv").write_text(text.replace("orders", "order"), encoding="utf-8")
    assert "separated" not in only(refused(policy, folder))["fix"]


# --- 9. a missing people file ------------------------------------------------------------------

def test_missing_people_file(policy, folder):
    """The people columns are not in records, so people.csv is missing (as records.csv would be)."""
    (folder / "people.csv").unlink()
    problem = only(refused(policy, folder))
    assert problem["problem"] == f"no file for table 'people' in {folder}"
    assert problem["fix"] == ("add people.csv (or .xlsx/.parquet) with the columns employee_id, "
                              "department, position (or put these columns in records)")


def test_people_derived_from_records_when_they_carry_the_columns(policy, folder):
    """Records that hold the people columns still make the people table without a file."""
    records = pd.read_csv(folder / "records.csv").merge(pd.read_csv(folder / "people.csv"))
    records.to_csv(folder / "records.csv", index=False)
    (folder / "people.csv").unlink()
    ds = load_data(folder, policy)
    assert ds.sources["people"] == "(derived from records)"
    build_frame(policy, ds)


def test_extra_field_on_the_first_data_line(policy, folder):
    """pandas would take the first column as the index and shift every value right."""
    (folder / "records.csv").write_text(
        f"{HEADER}\nE1,2025-01,100,70,40,1,优秀,false,99\nE2,2025-01,100,75,31,6,一般,false\n",
        encoding="utf-8")
    problem = only(refused(policy, folder))
    assert problem["row"] == 2
    assert problem["problem"] == f"line 2 of {folder / 'records.csv'} has 9 fields, the header has 8"


# --- blank lines --------------------------------------------------------------------------------

@pytest.mark.parametrize("blank", ["\n", "   \n", "\r\n"])
def test_rows_after_a_blank_line_name_their_file_line(policy, folder, blank):
    """pandas skips blank lines, so counting rows from line 2 named the line before the bad
    value once a blank line came before it; the problem names the line the person sees."""
    (folder / "records.csv").write_text(
        f"{HEADER}\nE1,2025-01,100,70,40,1,优秀,false\n{blank}"
        "E2,2025-01,100,abc,40,1,良好,false\n\n\nE3,2025-01,10,4,x,0,较差,true\n\n",
        encoding="utf-8")
    got = refused(policy, folder)[["row", "id", "column", "value"]].values.tolist()
    assert got == [[4, "E2", "orders", "abc"], [7, "E3", "response_seconds", "x"]]
