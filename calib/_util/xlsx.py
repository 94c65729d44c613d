"""Every workbook and CSV file calib writes for people goes through here.

Two promises, kept in one place so no writer can forget them:

- **No formula ever comes from text.** Data and policy text (ids, departments, labels, the
  policy's title, reasons) is stored as text in every workbook, never as a formula, whatever it
  starts with (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``, ``+1+1``, ``@SUM(A1)``). Cell by cell
  (openpyxl) through ``put``; whole tables through ``write_tables``, which writes shared strings and
  has no way to write a formula at all. CSV files get the OWASP rule: ``csv_safe`` puts a ``'``
  before text starting with ``= + - @``, tab or CR (numbers such as ``-5.00`` stay numbers), and
  ``csv_unsafe`` undoes it for calib's own reading of ``results.csv``.
- **Tables of any size.** ``write_tables`` streams each sheet into the zip in blocks of rows built
  with Arrow's vectorised string kernels (openpyxl's write-only mode writes ~6,000 rows a second,
  three minutes for a million person-months; this writes the same in seconds), and a table longer
  than Excel's 1,048,576 rows is split into sheets ``name``, ``name (2)``, ... each with the header.

The number formats (money, scores, shares, dates) are defined once, in ``calib._util.excel_formats``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# The number formats live in calib._util.excel_formats; the names stay here for the 0.1 path
# ``calib.xlsx`` (deprecated for one release).
from calib._util.excel_formats import COUNT
from calib._util.excel_formats import DATE as DATE
from calib._util.excel_formats import DATETIME as DATETIME
from calib._util.excel_formats import DECIMAL as DECIMAL
from calib._util.excel_formats import MONEY as MONEY
from calib._util.excel_formats import PERCENT as PERCENT
from calib._util.excel_formats import SCORE as SCORE
from calib._util.excel_formats import TEXT as TEXT

SHARE = PERCENT
WHOLE = COUNT

EXCEL_MAX_ROWS = 1_048_576  # rows of a worksheet, the header included
BLOCK_ROWS = 32_768  # rows built and written at a time (bounds the memory of a sheet)
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ILLEGAL_PATTERN = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]"
_EXCEL_ESCAPE = "_x[0-9A-Fa-f]{4}_"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_EPOCH = np.datetime64("1899-12-30", "ns")
_DAY_NS = 86_400 * 10**9


# --- cell by cell (openpyxl) ------------------------------------------------------------------------
#: Excel opens no workbook with a cell over 32,767 characters (it reports the file damaged);
#: longer text is cut below that, with a note, in workbooks only (CSV files keep it whole)
CELL_LIMIT = 32_000
CUT_NOTE = " …[cut: the full text is in the CSV file]"


def clean_text(text: str) -> str:
    """Text as a worksheet can hold it: control characters XML cannot carry become U+FFFD, and
    text longer than a cell can hold is cut with a note (``CELL_LIMIT``).
    """
    if len(text) > CELL_LIMIT:
        text = text[:CELL_LIMIT - len(CUT_NOTE)] + CUT_NOTE
    return _ILLEGAL.sub("\ufffd", text)


def put(sheet: Any, row: int, column: int, value: Any = None, number_format: str | None = None) -> Any:
    """Write one openpyxl cell; a str is stored as text, never as a formula.

    openpyxl turns any str starting with ``=`` into a formula; setting the data type back to
    ``s`` after assigning keeps it text (an inline string in the file). ``number_format`` is set
    on numbers, dates and times only (a text cell keeps the General format).
    """
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = clean_text(value)
        cell.data_type = "s"
    else:
        cell.value = value
        if number_format and value is not None:
            cell.number_format = number_format
    return cell


def as_text(cell: Any) -> Any:
    """Make an already written openpyxl cell holding a str text (for cells set by assignment)."""
    if isinstance(cell.value, str):
        cell.value = clean_text(cell.value)
        cell.data_type = "s"
    return cell


# --- CSV ----------------------------------------------------------------------------------------------
def csv_cell(value: Any) -> Any:
    """One value made safe for Excel's CSV import (OWASP): text starting with ``= + - @``, tab or
    CR, or with ``'`` (so that the rule can be undone exactly), gets a leading ``'``; text that
    is a plain number (``-5.00``, ``+3``) and every non-text value are left alone.
    """
    if not isinstance(value, str) or not value:
        return value
    if value[0] == "'" or (value[0] in CSV_TRIGGERS and not _NUMBER.fullmatch(value)):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell passed through ``csv_cell`` (numbers untouched).

    Only text columns are looked at, and only their values starting with a trigger character or
    a quote are changed, so a large table costs one vectorised test per text column.
    """
    out = frame
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        risky = _starts(col, r"^[=+\-@\t\r']")
        if risky.any():
            if out is frame:
                out = frame.copy()
            fixed = col.astype(object).copy()
            fixed[risky] = [csv_cell(v) for v in fixed[risky]]
            out[name] = fixed
    return out


def _starts(col: pd.Series, pattern: str) -> np.ndarray:
    """Which values of a column are text matching ``pattern`` (an RE2 regex), vectorised."""
    try:
        arr = pa.array(col, from_pandas=True)
    except pa.ArrowException:  # mixed values: look at each
        found = re.compile(pattern).search
        return col.map(lambda v: isinstance(v, str) and bool(found(v))).to_numpy(bool)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return np.zeros(len(col), dtype=bool)
    hit = pc.match_substring_regex(arr, pattern)
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False)


def csv_unsafe(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo ``csv_safe`` on a table calib wrote (``results.csv`` read back by ``--previous``)."""
    out = frame
    for name in frame.columns:
        col = frame[name]
        if col.dtype != object and not pd.api.types.is_string_dtype(col.dtype):
            continue
        quoted = _starts(col, "^'")
        if quoted.any():
            if out is frame:
                out = frame.copy()
            fixed = col.astype(object).copy()
            fixed[quoted] = [v[1:] for v in fixed[quoted]]
            out[name] = fixed
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, encoding: str = "utf-8") -> None:
    """Write a table as CSV for people (and Excel): text neutralised by ``csv_safe``, no index.

    The bytes are those of ``csv_safe(frame).to_csv(path, index=False)``; tables of numbers,
    booleans, text and categories (all of calib's stage tables) are written by a vectorised
    Arrow writer (a million rows in about a second, not ten), anything else by pandas.
    """
    columns = _csv_formatters(frame) if frame.shape[1] > 1 else None
    if columns is None:
        csv_safe(frame).to_csv(path, index=False, encoding=encoding)
        return
    import csv

    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([str(c) for c in frame.columns])
    with open(path, "wb") as out:
        out.write(header.getvalue().encode(encoding))  # utf-8-sig: the BOM comes with the header
        for lo in range(0, len(frame), BLOCK_ROWS):
            block = frame.iloc[lo:lo + BLOCK_ROWS]
            cells = [fmt(block.iloc[:, i]) for i, fmt in enumerate(columns)]
            rows = pc.binary_join_element_wise(pc.binary_join_element_wise(*cells, ","), "\n", "")
            out.write(_utf8(rows))


_RISKY = r"^[=+\-@\t\r']"
_NUMBER_RE2 = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def _csv_text(arr: pa.Array) -> pa.Array:
    """Text as pandas writes it in a CSV field, neutralised (``csv_cell``); missing values empty."""
    arr = arr.cast(pa.string())
    risky = pc.and_(pc.match_substring_regex(arr, _RISKY),
                    pc.invert(pc.match_substring_regex(arr, _NUMBER_RE2)))
    risky = pc.or_(risky, pc.starts_with(arr, "'"))
    arr = pc.if_else(risky, pc.binary_join_element_wise("'", arr, ""), arr)
    quote = pc.match_substring_regex(arr, '[,"\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.fill_null(pc.if_else(quote, quoted, arr), "")


def _csv_float(values: np.ndarray) -> pa.Array:
    """Floats as Python's repr writes them (pandas' CSV format); NaN empty.

    Arrow's shortest round-trip digits are Python's; its notation differs outside
    1e-4 <= |x| < 1e9 and for whole numbers (no ``.0``), so those are mended or written by repr.
    """
    arr = pa.array(values, type=pa.float64(), from_pandas=True)
    text = pc.cast(arr, pa.string())
    size = np.abs(values)
    plain = (size == 0) | ((size >= 1e-4) & (size < 1e9))
    whole = plain & (values == np.floor(values))
    text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, ".0", ""), text)
    odd = ~plain & ~np.isnan(values)
    if odd.any():
        text = pc.replace_with_mask(text, pa.array(odd), pa.array([repr(float(v)) for v in values[odd]]))
    return pc.fill_null(text, "")


def _csv_formatters(frame: pd.DataFrame) -> list | None:
    """One function per column making its CSV fields from a block of rows, or None when a column
    holds something only pandas formats (dates, mixed objects, nullable integers).
    """
    out = []
    for name in frame.columns:
        fmt = _csv_formatter(frame[name])
        if fmt is None:
            return None
        out.append(fmt)
    return out


def _csv_formatter(col: pd.Series) -> Any:
    dtype = col.dtype
    is_object = isinstance(dtype, np.dtype) and dtype.kind == "O"
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        if not (pd.api.types.is_string_dtype(cats.dtype)
                and pd.api.types.infer_dtype(cats, skipna=True) in ("string", "empty")):
            return None
        texts = _csv_text(pa.array(cats.to_numpy(object), pa.string()))
        return lambda c: pc.fill_null(pc.take(texts, pa.array(c.cat.codes.to_numpy(),
                                                                mask=c.isna().to_numpy())), "")
    if dtype == np.bool_:
        return lambda c: pa.array(np.where(c.to_numpy(), "True", "False"), pa.string())
    if dtype == np.float64:
        return lambda c: _csv_float(c.to_numpy())
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return lambda c: pc.cast(pa.array(c.to_numpy()), pa.string())
    if not is_object and pd.api.types.is_string_dtype(dtype):
        return lambda c: _csv_text(_arrow_text(c))
    if is_object and pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
        return lambda c: _csv_text(pa.array(c.to_numpy(object), pa.string(), from_pandas=True))
    return None


# --- whole tables, streamed -------------------------------------------------------------------------
@dataclass
class Table:
    """A sheet's table and how to show it: number formats and widths by column name."""

    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    widths: dict[str, float] = field(default_factory=dict)


class _Strings:
    """The workbook's shared strings: each distinct text stored once, cells refer to its index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self._categories: dict[int, tuple[pd.CategoricalDtype, np.ndarray | None]] = {}

    def code(self, text: str) -> int:
        """The shared-string index of a text, added when new."""
        return self.index.setdefault(text, len(self.index))

    def categories(self, dtype: pd.CategoricalDtype) -> np.ndarray | None:
        """Shared-string indices of a categorical's categories when they are all text (once per
        dtype: calib's tables hold ids, periods and grades as categoricals), else None.
        """
        key = id(dtype)
        if key not in self._categories:
            cats = dtype.categories
            text = pd.api.types.infer_dtype(cats, skipna=True) in ("string", "empty")
            lookup = np.array([self.code(c) for c in cats], dtype=np.int64) if text else None
            self._categories[key] = (dtype, lookup)  # the dtype is kept so that its id is not reused
        return self._categories[key][1]

    def xml(self) -> Iterator[bytes]:
        """The sharedStrings part, in blocks."""
        yield (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{_NS}" '
               f'uniqueCount="{len(self.index)}">').encode()
        strings = list(self.index)
        for start in range(0, len(strings), BLOCK_ROWS):
            arr = pa.array(strings[start:start + BLOCK_ROWS], pa.string())
            arr = _escape(arr)
            items = pc.binary_join_element_wise('<si><t xml:space="preserve">', arr, "</t></si>", "")
            yield bytes(_utf8(items))
        yield b"</sst>"


class _Styles:
    """Cell styles: 0 plain, 1 the bold header, then one per number format used."""

    def __init__(self) -> None:
        self.formats: list[str] = []

    def of(self, number_format: str | None) -> int:
        """The style index of a number format (0 for none)."""
        if not number_format:
            return 0
        if number_format not in self.formats:
            self.formats.append(number_format)
        return self.formats.index(number_format) + 2

    def xml(self) -> bytes:
        """The styles part."""
        fmts = "".join(f'<numFmt numFmtId="{164 + i}" formatCode="{_attr(f)}"/>'
                       for i, f in enumerate(self.formats))
        xfs = "".join(f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" '
                      f'applyNumberFormat="1"/>' for i in range(len(self.formats)))
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{_NS}">'
                + (f'<numFmts count="{len(self.formats)}">{fmts}</numFmts>' if fmts else "") +
                '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
                '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
                '<fills count="2"><fill><patternFill patternType="none"/></fill>'
                '<fill><patternFill patternType="gray125"/></fill></fills>'
                '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                f'<cellXfs count="{2 + len(self.formats)}">'
                '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
                '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
                f'{xfs}</cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                '</styleSheet>').encode()


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def _fit(arr: pa.Array) -> pa.Array:
    """Texts longer than a cell can hold, cut with a note (``clean_text`` for Arrow arrays)."""
    long = pc.greater(pc.utf8_length(arr), CELL_LIMIT)
    if not pc.any(long).as_py():
        return arr
    cut = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(arr, 0, CELL_LIMIT - len(CUT_NOTE)), CUT_NOTE, "")
    return pc.if_else(long, cut, arr)


def _escape(arr: pa.Array) -> pa.Array:
    """XML-escape an Arrow string array and replace characters XML cannot carry (after cutting
    texts longer than a cell holds).
    """
    arr = _fit(arr)
    arr = pc.replace_substring(arr, "&", "&amp;")
    arr = pc.replace_substring(arr, "<", "&lt;")
    arr = pc.replace_substring(arr, ">", "&gt;")
    arr = pc.replace_substring_regex(arr, _ILLEGAL_PATTERN, "\ufffd")
    # Excel reads _xHHHH_ in a string as the character HHHH; its own escape keeps such text verbatim
    return pc.replace_substring_regex(arr, "_(" + _EXCEL_ESCAPE[1:] + ")", "_x005F_\\1")


def _number_cells(values: np.ndarray, style: int) -> pa.Array:
    """``<c><v>`` cells of numbers; missing and non-finite values are empty cells."""
    arr = pa.array(values, from_pandas=True)
    if pa.types.is_floating(arr.type):
        finite = pc.is_finite(arr)
        arr = pc.if_else(finite, arr, pa.scalar(None, arr.type))
    text = pc.cast(arr, pa.string())
    lead = f'<c s="{style}"><v>' if style else "<c><v>"
    return pc.binary_join_element_wise(lead, text, "</v></c>", "")


def _arrow_text(col: pd.Series) -> pa.Array:
    """A text column of a block as one Arrow string array (no copy when pandas holds it in Arrow)."""
    arr = pa.array(col, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.string())


def _text_cells(values: pa.Array, strings: _Strings) -> pa.Array:
    """Text cells: shared strings when values repeat (periods, grades, statuses), inline strings
    when most are distinct (ids), so no Python work is done per row. Both are text, never formulas.
    """
    encoded = pc.dictionary_encode(values)
    uniques = encoded.dictionary
    escaped = pc.any(pc.match_substring_regex(uniques, _EXCEL_ESCAPE)).as_py()
    if len(uniques) * 4 > len(values) and not escaped:
        lead = '<c t="inlineStr"><is><t xml:space="preserve">'
        return pc.binary_join_element_wise(lead, _escape(values), "</t></is></c>", "")
    index = strings.index
    lookup = pa.array([index.setdefault(u, len(index)) for u in uniques.to_pylist()], pa.int64())
    codes = pc.take(lookup, encoded.indices)
    return pc.binary_join_element_wise('<c t="s"><v>', pc.cast(codes, pa.string()), "</v></c>", "")


def _bool_cells(values: pd.Series) -> pa.Array:
    arr = pa.array(values.astype("boolean").to_numpy(object), type=pa.bool_(), from_pandas=True)
    text = pc.if_else(arr, "1", "0")
    return pc.binary_join_element_wise('<c t="b"><v>', text, "</v></c>", "")


def _date_serial(values: pd.Series) -> np.ndarray:
    """Excel serial day numbers of datetimes (NaT → NaN)."""
    stamps = pd.to_datetime(values)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    ns = stamps.to_numpy("datetime64[ns]")
    out = (ns - _EPOCH).astype("timedelta64[ns]").astype(np.int64) / _DAY_NS
    return np.where(np.isnat(ns), np.nan, out)


def _mixed_cell(value: Any, strings: _Strings, styles: _Styles, fmt: str | None) -> str:
    """One cell of a column holding several kinds of values (small tables: parameters, facts)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "<c/>"
    if isinstance(value, bool | np.bool_):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal | np.integer | np.floating):
        number = float(value) if not isinstance(value, int | np.integer) else int(value)
        if isinstance(number, float) and not np.isfinite(number):
            return "<c/>"
        style = styles.of(fmt)
        return (f'<c s="{style}"><v>{number!r}</v></c>' if style else f"<c><v>{number!r}</v></c>")
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        serial = float(_date_serial(pd.Series([value]))[0])
        timed = isinstance(value, dt.datetime) and (value.hour or value.minute or value.second)
        return f'<c s="{styles.of(DATETIME if timed else DATE)}"><v>{serial!r}</v></c>'
    text = clean_text(value if isinstance(value, str) else str(value))
    return f'<c t="s"><v>{strings.code(text)}</v></c>'


def _column_cells(col: pd.Series, strings: _Strings, styles: _Styles, fmt: str | None) -> pa.Array:
    """The cells of one column of a block of rows, as an Arrow array of XML fragments."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        lookup = strings.categories(dtype)
        if lookup is not None:
            codes = col.cat.codes.to_numpy()
            shared = pa.array(lookup[codes], mask=codes < 0)
            cells = pc.binary_join_element_wise('<c t="s"><v>', pc.cast(shared, pa.string()), "</v></c>", "")
            return pc.fill_null(cells, "<c/>")
        col, dtype = col.astype(object), np.dtype(object)
    if pd.api.types.is_bool_dtype(dtype):
        cells = _bool_cells(col)
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        serial = _date_serial(col)
        whole = np.all(np.isnan(serial) | (serial == np.floor(serial)))
        cells = _number_cells(serial, styles.of(fmt or (DATE if whole else DATETIME)))
    elif pd.api.types.is_numeric_dtype(dtype):
        values = col.to_numpy() if isinstance(dtype, np.dtype) else \
            col.to_numpy(dtype=float, na_value=np.nan)
        cells = _number_cells(values, styles.of(fmt))
    elif col.dtype != object and pd.api.types.is_string_dtype(dtype):
        cells = _text_cells(_arrow_text(col), strings)
    else:
        values = col.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            cells = _text_cells(pa.array(values, pa.string(), from_pandas=True), strings)
        else:
            return pa.array([_mixed_cell(v, strings, styles, fmt) if not _missing(v) else "<c/>"
                             for v in values], pa.string())
    return pc.fill_null(cells, "<c/>")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA \
        or value is pd.NaT


def _header_row(names: list[str], strings: _Strings) -> str:
    return '<row r="1">' + "".join(f'<c s="1" t="s"><v>{strings.code(n)}</v></c>' for n in names) + "</row>"


def _sheet_head(table: Table, names: list[str]) -> str:
    widths = []
    for i, name in enumerate(names, start=1):
        width = table.widths.get(name, min(max(len(name) * 1.6, 10) + 2, 40))
        widths.append(f'<col min="{i}" max="{i}" width="{width:g}" customWidth="1"/>')
    cols = f"<cols>{''.join(widths)}</cols>" if widths else ""
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}" '
            f'xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" '
            'topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" '
            f'activeCell="A2" sqref="A2"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            f"{cols}<sheetData>")


def _sheet_xml(table: Table, start: int, stop: int, strings: _Strings,
               styles: _Styles) -> Iterator[bytes]:
    """The worksheet part of rows ``start:stop`` of a table, with its header, in blocks."""
    frame = table.frame
    names = [str(c) for c in frame.columns]
    yield (_sheet_head(table, names) + _header_row(names, strings)).encode()
    for lo in range(start, stop, BLOCK_ROWS):
        hi = min(lo + BLOCK_ROWS, stop)
        block = frame.iloc[lo:hi]
        cells = [_column_cells(block.iloc[:, i], strings, styles, table.formats.get(name))
                 for i, name in enumerate(names)]
        numbers = pa.array(np.arange(lo - start + 2, hi - start + 2)).cast(pa.string())
        rows = pc.binary_join_element_wise('<row r="', numbers, '">', *cells, "</row>", "")
        yield bytes(_utf8(rows))
    yield b"</sheetData></worksheet>"


def _utf8(arr: pa.Array) -> memoryview:
    """The UTF-8 bytes of all strings of an Arrow string array without nulls, end to end (no copy)."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    return memoryview(arr.buffers()[2])[offsets[0]:offsets[-1]]


def sheet_parts(name: str, rows: int, max_rows: int | None = None) -> list[tuple[str, int, int]]:
    """(sheet name, first row, end row) of each sheet a table of ``rows`` rows is written to.

    A table longer than a worksheet holds (``EXCEL_MAX_ROWS`` less the header) is split into
    ``name``, ``name (2)``, ... each with the header; sheet names stay within Excel's 31 characters.
    """
    room = (max_rows or EXCEL_MAX_ROWS) - 1
    if rows <= room:
        return [(name, 0, rows)]
    parts = []
    for k, lo in enumerate(range(0, rows, room), start=1):
        suffix = "" if k == 1 else f" ({k})"
        parts.append((name[:31 - len(suffix)] + suffix, lo, min(lo + room, rows)))
    return parts


def write_tables(path: str | Path, tables: Mapping[str, pd.DataFrame | Table | None], *,
                 max_rows: int | None = None, level: int = 1) -> list[str]:
    """Write tables to an .xlsx, one sheet each (``None`` skipped); returns the sheet names.

    Headers bold and frozen, numbers as numbers (with the column's number format), booleans as
    booleans, datetimes as dates, text as shared strings (never a formula). Streams: memory grows
    with the distinct texts, not the rows. ``max_rows`` (default ``EXCEL_MAX_ROWS``) is the row
    limit a sheet is split at; ``level`` the zlib level (1: fast, the files are still ~10× smaller
    than the XML).
    """
    strings, styles = _Strings(), _Styles()
    sheets: list[str] = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, table in tables.items():
            if table is None:
                continue
            table = table if isinstance(table, Table) else Table(table)
            for part, lo, hi in sheet_parts(name, len(table.frame), max_rows):
                sheets.append(part)
                with zf.open(f"xl/worksheets/sheet{len(sheets)}.xml", "w", force_zip64=True) as out:
                    for chunk in _sheet_xml(table, lo, hi, strings, styles):
                        out.write(chunk)
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            for chunk in strings.xml():
                out.write(chunk)
        zf.writestr("xl/styles.xml", styles.xml())
        _package(zf, sheets)
    return sheets


def _package(zf: zipfile.ZipFile, sheets: list[str]) -> None:
    """The workbook, relationship and content-type parts around the sheets."""
    n = len(sheets)
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    entries = "".join(f'<sheet name="{_attr(s)}" sheetId="{i}" r:id="rId{i}"/>'
                      for i, s in enumerate(sheets, start=1))
    zf.writestr("xl/workbook.xml", f'{head}<workbook xmlns="{_NS}" xmlns:r="{_REL}"><bookViews>'
                f'<workbookView/></bookViews><sheets>{entries}</sheets></workbook>')
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rels = "".join(f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                   for i in range(1, n + 1))
    rels += (f'<Relationship Id="rId{n + 1}" Type="{rel}/styles" Target="styles.xml"/>'
             f'<Relationship Id="rId{n + 2}" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>')
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    zf.writestr("xl/_rels/workbook.xml.rels", f'{head}<Relationships xmlns="{pkg}">{rels}</Relationships>')
    zf.writestr("_rels/.rels", f'{head}<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
                f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    sml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                        f'ContentType="{sml}.worksheet+xml"/>' for i in range(1, n + 1))
    zf.writestr("[Content_Types].xml", f'{head}<Types xmlns="http://schemas.openxmlformats.org/package/'
                '2006/content-types"><Default Extension="rels" ContentType="application/'
                'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                f'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
                f'{sml}.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="{sml}.styles+xml"/>'
                f'<Override PartName="/xl/sharedStrings.xml" ContentType="{sml}.sharedStrings+xml"/>'
                f"{overrides}</Types>")
