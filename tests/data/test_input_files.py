"""Input files read as people see them (issue 18): hidden sheets and rows, ambiguous dates, decimal
commas, implausible numbers, ratios over 1 and table files outside the data folder.

The command-line view of the same inputs is in ``tests/catalogue/cases_data.py``; these tests pin
the building blocks and the problems table (table, row, column, value, fix).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from pydantic import ValidationError

from calib.bounds import MAX_INPUT
from calib.data.calendar import dates_to_periods, parse_dates, parse_periods
from calib.data.read import _hidden_rows, load_data
from calib.data.sheet_cells import sheet_xml
from calib.engine.frame import build_frame
from calib.errors import DataError
from calib.policy.inputs import Calendar, ColumnSpec
from calib.policy.load import load_policy, parse_policy
from calib.policy.measures import RatioMeasure

DATA = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def mini() -> object:
    """The mini golden policy."""
    return load_policy(DATA / "mini.yaml")


def records(**changes: object) -> pd.DataFrame:
    """mini's records as text cells (as a CSV gives them), with columns changed."""
    frame = pd.read_csv(DATA / "mini" / "records.csv", dtype=str)
    for name, values in changes.items():
        frame[name] = values
    return frame


def people() -> pd.DataFrame:
    """mini's people table."""
    return pd.read_csv(DATA / "mini" / "people.csv", dtype=str)


def problems_of(policy: object, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The problems table build_frame raises for ``tables`` (DataFrames: rows are their index)."""
    with pytest.raises(DataError) as exc:
        build_frame(policy, load_data(tables, policy))
    return exc.value.problems


def test_frame_without_problems_builds(mini) -> None:
    """Thousands separators in the text of a count are read (1,000 = 1000)."""
    frame = build_frame(mini, load_data({"people": people(),
                                         "records": records(inquiries=["1,000", "0", "100", "10"])},
                                        mini))
    assert frame.column("inquiries")[0] == 1000


class TestNumbers:
    @pytest.mark.parametrize("text", ["7,5", "1,23", "12,5%", "1,00,000", "7,5.0", ",5", "1,2,3"])
    def test_a_comma_that_is_not_a_thousands_separator_is_refused(self, mini, text) -> None:
        found = problems_of(mini, {"people": people(),
                                   "records": records(response_seconds=[text, "30", "31", "60"])})
        assert list(found["row"]) == [0] and list(found["column"]) == ["response_seconds"]
        assert "comma" in found["problem"][0] and found["value"][0] == text
        assert "decimal point" in found["fix"][0]

    def test_the_fix_shows_the_number_with_a_point(self, mini) -> None:
        found = problems_of(mini, {"people": people(),
                                   "records": records(response_seconds=["7,5", "30", "31", "60"])})
        assert found["fix"][0].startswith("write 7.5 ")

    @pytest.mark.parametrize("text,value", [("1,040", 1040.0), ("1,234.5", 1234.5),
                                            ("12,345,678", 12345678.0)])
    def test_thousands_separators_are_read(self, mini, text, value) -> None:
        frame = build_frame(mini, load_data({"people": people(), "records": records(
            response_seconds=[text, "30", "31", "60"])}, mini))
        assert frame.column("response_seconds")[0] == value

    @pytest.mark.parametrize("value", ["110101199003071234", "1e17", "1000000000001"])
    def test_above_max_input_without_declared_max_is_refused(self, mini, value) -> None:
        found = problems_of(mini, {"people": people(),
                                   "records": records(response_seconds=["30", value, "31", "60"])})
        assert list(found["row"]) == [1]
        assert "implausibly large" in found["problem"][0]
        assert "10^12" in found["fix"][0] and "max" in found["fix"][0]

    def test_the_bound_itself_is_accepted(self, mini) -> None:
        frame = build_frame(mini, load_data({"people": people(), "records": records(
            response_seconds=[str(int(MAX_INPUT)), "30", "31", "60"])}, mini))
        assert frame.column("response_seconds")[0] == MAX_INPUT

    def test_a_numeric_column_is_bounded_too(self, mini) -> None:
        """Numbers read as numbers (Parquet, Excel number cells) meet the same bound."""
        table = records()
        table["response_seconds"] = [30.0, 1e17, 31.0, 60.0]
        found = problems_of(mini, {"people": people(), "records": table})
        assert list(found["row"]) == [1] and "implausibly large" in found["problem"][0]

    def test_a_negative_value_beyond_a_declared_max_is_refused(self) -> None:
        text = (DATA / "grade_pay.yaml").read_text(encoding="utf-8").replace(
            "points: {type: float, label: 得分}", "points: {type: float, max: 100, label: 得分}")
        tables = {name: pd.read_csv(DATA / "grade_pay" / f"{name}.csv", dtype=str)
                  for name in ("people", "records")}
        tables["records"].loc[0, "points"] = "-5000"
        policy = parse_policy(text)
        with pytest.raises(DataError) as exc:
            build_frame(policy, load_data(tables, policy))
        found = exc.value.problems
        assert list(found["row"]) == [0] and "declared max is 100" in found["fix"][0]


class TestDates:
    def test_ambiguous_forms_are_marked(self) -> None:
        values = pd.Series(["03/04/2024", "3.4.24", "03-04-2024", "13/04/2024", "2024-03-04",
                            "2024/3/4", "4 Mar 2024", None], dtype="string")
        ts, unclear = parse_dates(values)
        assert unclear.tolist() == [True, True, True, True, False, False, False, False]
        assert ts[4] == ts[5] == ts[6] == pd.Timestamp("2024-03-04")
        assert ts[:4].isna().all()

    def test_a_declared_format_reads_them(self) -> None:
        values = pd.Series(["03/04/2024", "2024-03-05", "2024-03-05 00:00:00"], dtype="string")
        ts, unclear = parse_dates(values, "%d/%m/%Y")
        assert not unclear.any()
        assert list(ts) == [pd.Timestamp("2024-04-03"), pd.Timestamp("2024-03-05"),
                            pd.Timestamp("2024-03-05")]

    def test_periods_follow_the_declared_format(self) -> None:
        ordinals, bad = dates_to_periods(pd.Series(["03/01/2025"]), Calendar(), "%d/%m/%Y")
        assert not bad.any() and ordinals[0] == pd.Period("2025-01", "M").ordinal
        _, bad = dates_to_periods(pd.Series(["03/01/2025"]), Calendar())
        assert bad.all()

    def test_a_period_label_written_as_an_ambiguous_date_is_not_a_period(self) -> None:
        _, bad = parse_periods(pd.Series(["03/01/2025", "2025-03"]), Calendar())
        assert bad.tolist() == [True, False]

    def test_format_only_on_dates(self) -> None:
        assert ColumnSpec(type="date", format="%d/%m/%Y").format == "%d/%m/%Y"
        with pytest.raises(ValidationError, match="date and datetime columns only"):
            ColumnSpec(type="int", format="%d/%m/%Y")
        with pytest.raises(ValidationError, match="%-codes"):
            ColumnSpec(type="date", format="dd/mm/yyyy")

    def test_time_zones_keep_the_clock_time(self) -> None:
        ts, _ = parse_dates(pd.Series(["2024-03-04T10:00+08:00", "2024-03-04T10:00+01:00"]))
        assert list(ts) == [pd.Timestamp("2024-03-04 10:00")] * 2


class TestRatios:
    def test_numerator_above_denominator_is_refused(self, mini) -> None:
        found = problems_of(mini, {"people": people(),
                                   "records": records(orders=["500", "0", "75", "4"])})
        assert list(found["row"]) == [0] and list(found["id"]) == ["E1"]
        assert found["value"][0] == "500 > 100"
        assert "orders is more than inquiries" in found["problem"][0]
        assert "above_one: allow" in found["fix"][0]

    def test_allow_lets_it_through(self) -> None:
        text = (DATA / "mini.yaml").read_text(encoding="utf-8").replace(
            "on_zero: exclude}", "on_zero: exclude, above_one: allow}")
        policy = parse_policy(text)
        build_frame(policy, load_data({"people": people(),
                                       "records": records(orders=["500", "0", "75", "4"])}, policy))

    def test_default_is_error(self) -> None:
        m = RatioMeasure(kind="ratio", numerator="a", denominator="b")
        assert m.above_one == "error"


def _book(path: Path, hide_row: int | None = None, state: str = "visible") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "records"
    for line in (DATA / "mini" / "records.csv").read_text(encoding="utf-8").splitlines():
        ws.append(line.split(","))
    if hide_row:
        ws.row_dimensions[hide_row].hidden = True
    ws.row_dimensions[30].hidden = True  # hidden but empty: not a problem
    people = book.create_sheet("people")
    for line in (DATA / "mini" / "people.csv").read_text(encoding="utf-8").splitlines():
        people.append(line.split(","))
    people.sheet_state = state
    book.save(path)
    return path


class TestWorkbooks:
    def test_hidden_rows_with_values_are_found(self, tmp_path) -> None:
        path = _book(tmp_path / "b.xlsx", hide_row=3)
        assert _hidden_rows(sheet_xml(path, "xl/worksheets/sheet1.xml")[0]) == [3]

    def test_a_hidden_row_is_refused(self, mini, tmp_path) -> None:
        with pytest.raises(DataError) as exc:
            load_data(_book(tmp_path / "b.xlsx", hide_row=4), mini)
        found = exc.value.problems
        assert list(found["row"]) == [4] and "hidden or filtered out" in found["problem"][0]

    @pytest.mark.parametrize("state", ["hidden", "veryHidden"])
    def test_a_hidden_table_sheet_is_refused(self, mini, tmp_path, state) -> None:
        with pytest.raises(DataError) as exc:
            load_data(_book(tmp_path / "b.xlsx", state=state), mini)
        found = exc.value.problems
        assert "sheet 'people' of b.xlsx is" in " ".join(found["problem"])
        assert "unhide it or delete it" in " ".join(found["fix"])

    def test_a_visible_workbook_reads(self, mini, tmp_path) -> None:
        ds = load_data(_book(tmp_path / "b.xlsx"), mini)
        assert len(ds.tables["records"]) == 4


class TestFilesOutside:
    @pytest.fixture
    def folder(self, tmp_path) -> Path:
        shutil.copytree(DATA / "mini", tmp_path / "data")
        return tmp_path / "data"

    def _policy(self, file: str) -> object:
        text = (DATA / "mini.yaml").read_text(encoding="utf-8").replace(
            "    period: period\n", f"    period: period\n    file: '{file}'\n", 1)
        return parse_policy(text)

    @pytest.mark.parametrize("how", ["absolute", "dotdot"])
    def test_a_named_file_outside_is_refused(self, folder, how) -> None:
        outside = folder.parent / "other.csv"
        (folder / "records.csv").rename(outside)
        policy = self._policy(str(outside) if how == "absolute" else "../other.csv")
        with pytest.raises(DataError) as exc:
            load_data(folder, policy)
        assert "outside the data folder" in exc.value.problems["problem"][0]

    def test_a_link_out_of_the_folder_is_refused(self, folder) -> None:
        outside = folder.parent / "other.csv"
        (folder / "records.csv").rename(outside)
        (folder / "records.csv").symlink_to(outside)
        policy = load_policy(DATA / "mini.yaml")
        with pytest.raises(DataError) as exc:
            load_data(folder, policy)
        found = exc.value.problems
        assert found["table"][0] == "records" and str(outside) in found["problem"][0]

    def test_a_file_in_a_subfolder_is_read(self, folder) -> None:
        (folder / "sub").mkdir()
        (folder / "records.csv").rename(folder / "sub" / "records.csv")
        ds = load_data(folder, self._policy("sub/records.csv"))
        assert np.all(ds.tables["records"]["employee_id"].notna())
