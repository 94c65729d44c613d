"""Input data: a table or a folder of tables, from CSV, Excel or Parquet, as the policy declares.

A ``Dataset`` keeps each table with the row numbers a person sees (the file's line numbers, so that
"records row 57" is line 57 of records.csv) and where it came from, for error messages.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from calib._util.text import clean_text
from calib.data.sheet_cells import check_sheet_cells, sheet_xml
from calib.errors import DataError
from calib.policy.model import Policy

SUFFIXES = (".csv", ".xlsx", ".parquet")

#: Cell texts read as a missing value (pandas' defaults). They stay missing, but the text typed is
#: kept (``Dataset.typed_missing``) so that a required column's "empty cell" shows it.
MISSING_MARKERS = frozenset({"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                             "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                             "nan", "null"})
_MANGLED = re.compile(r"\.\d+$")
_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclass
class Dataset:
    """Named input tables (people, records, event tables) with their row numbers and sources.

    ``load_data`` makes one; the row numbers and sources are kept so that every problem found
    later can name the file and line a person can fix.

    Attributes
    ----------
    tables : dict of str to DataFrame
        The tables by name, as the policy's ``inputs`` name them.
    rows : dict of str to Index
        Per table, the row number shown to people for each row (the file's line number).
    sources : dict of str to str
        Per table, the file (or workbook sheet) it was read from.
    typed_missing : dict
        Per table and column, the cells read as missing because of a typed marker ("N/A").
    """

    tables: dict[str, pd.DataFrame]
    rows: dict[str, pd.Index] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    #: per table and column, (row positions, texts) of cells typed as a missing marker ("N/A")
    typed_missing: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)

    def add(self, table: str, frame: pd.DataFrame, source: str) -> None:
        """Keep a table read from a file, with its row numbers and the missing markers typed."""
        self.tables[table] = frame
        lines = frame.attrs.pop("lines", None)  # file lines, when blank lines were skipped
        self.rows[table] = (pd.Index(lines) if lines is not None
                            else frame.index + frame.attrs.get("first_row", 2))
        self.sources[table] = source
        typed = frame.attrs.pop("typed_missing", None)
        if typed:
            self.typed_missing[table] = typed

    def missing_text(self, table: str, column: str) -> np.ndarray | None:
        """The text typed in each cell read as missing ("N/A", "NULL", ...), else None per row."""
        found = self.typed_missing.get(table, {}).get(column)
        frame = self.tables.get(table)
        if found is None or frame is None:
            return None
        positions, texts = found
        out = np.full(len(frame), None, dtype=object)
        keep = positions < len(out)
        out[positions[keep]] = texts[keep]
        return out

    def row_numbers(self, table: str) -> pd.Index:
        """The row numbers shown to people (file line numbers, or the DataFrame's index)."""
        if table in self.rows:
            return self.rows[table]
        return self.tables[table].index

    def fingerprint(self) -> str:
        """sha256 of the tables' contents, for provenance: the same content gives the same hash
        whatever the order of the rows (tables are kept in canonical order, ``calib.data.canonical``)
        and of the columns (hashed by name, in name order).
        """
        h = hashlib.sha256()
        for name in sorted(self.tables):
            frame = self.tables[name]
            h.update(f"table {name} {len(frame)}\n".encode())
            for column in sorted(frame.columns, key=str):
                h.update(f"column {column}\n".encode())
                h.update(pd.util.hash_pandas_object(frame[column], index=False).to_numpy().tobytes())
        return h.hexdigest()

    def file_hashes(self) -> dict[str, str]:
        """sha256 of the bytes of each file the tables were read from, by file name (for
        provenance: the exact files, where ``fingerprint`` is their content in any order).
        """
        out = {}
        for source in sorted(set(self.sources.values())):
            path = Path(source.rsplit("[", 1)[0]) if source.endswith("]") else Path(source)
            if path.is_file():
                out[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        return dict(sorted(out.items()))

    def reorder(self, table: str, rows: np.ndarray | None, columns: list[str]) -> None:
        """Put ``table`` in the given row order (a permutation, None to keep it) and column
        order; its row numbers and typed-missing markers move with the rows.
        """
        frame = self.tables[table]
        numbers = self.row_numbers(table)
        if rows is not None:
            frame = frame.take(rows).reset_index(drop=True)
            numbers = numbers.take(rows)
            where = np.empty(len(rows), dtype=np.int64)
            where[rows] = np.arange(len(rows))
            for column, (positions, texts) in self.typed_missing.get(table, {}).items():
                moved = where[positions]
                keep = np.argsort(moved, kind="stable")
                self.typed_missing[table][column] = (moved[keep], texts[keep])
        if list(frame.columns) != columns:
            frame = frame[columns]
        self.tables[table] = frame
        self.rows[table] = pd.Index(numbers)


def _text_columns(policy: Policy, table: str) -> dict[str, str]:
    spec = policy.inputs.table(table)
    out = {policy.inputs.id: "string"}
    for name, col in spec.columns.items():
        if col.type in ("text", "label", "date", "datetime"):
            out[name] = "string"
    for key in (spec.period, spec.date):
        if key is not None:
            out[key] = "string"
    return out


def _expected_columns(policy: Policy, table: str) -> list[str]:
    spec = policy.inputs.table(table)
    names = [policy.inputs.id, spec.period, spec.date, *spec.columns]
    return list(dict.fromkeys(n for n in names if n is not None))


def read_table(path: Path, policy: Policy, table: str, sheet: str | None = None) -> pd.DataFrame:
    """Read one table file; text, label and date columns (and the id) are kept as text.

    A CSV file is read as UTF-8 (with or without a BOM), else as GB18030 (GBK, the usual Chinese
    Excel export); a file that cannot be decoded or parsed, an empty file and a header naming a
    column twice raise a ``DataError`` naming the file. Cells typed as a missing marker ("N/A",
    "NULL", "nan", ...) are read as missing; the text typed is kept in
    ``attrs["typed_missing"]`` (see ``Dataset.typed_missing``).

    In a workbook, a row 2 whose first cell starts with ``#`` describes the columns (the input
    template's note row, see ``calib.io.workbooks``) and is skipped; the frame's
    ``attrs["first_row"]`` then says that the data start at Excel row 3, so errors name the row
    people see.
    """
    try:
        return _read_file(path, policy, table, sheet)
    except (MemoryError, pa.ArrowCapacityError) as exc:  # ArrowMemoryError is a MemoryError
        raise DataError(_too_big(path, table, exc)) from None
    except UNREADABLE as exc:
        if _OVERFLOW.search(str(exc)):
            raise DataError(_too_big(path, table, exc)) from None
        raise DataError(_unreadable(path, table, exc)) from None


#: what pandas' C parser and pyarrow say when a buffer cannot be allocated or an array outgrows
#: its 32-bit offsets: the file is too large for this machine (or for one column), not malformed
_OVERFLOW = re.compile(r"Calling read\(nbytes\) on source failed|out of memory|offset overflow|"
                       r"array too large|cannot contain more than", re.IGNORECASE)


def _too_big(path: Path, table: str, exc: BaseException) -> pd.DataFrame:
    """A file too large to read in the memory available (or for pyarrow's 2 GB string arrays)
    as a problem naming the file, the memory it needs and what to do, instead of a traceback.
    """
    from calib.data.footprint import FIX, out_of_memory

    if isinstance(exc, MemoryError) or "memory" in str(exc).lower() or "read(nbytes)" in str(exc):
        return _problem(table, out_of_memory(path, reading=True), FIX)
    why = str(exc).splitlines()[0][:200]
    return _problem(table, f"{path} is too large to read in one piece ({why})",
                    "split the file in parts (by period or department) and run each, or save it as "
                    "Parquet")


#: what the readers raise on a file that is not what its name says, or is cut short
UNREADABLE = (zipfile.BadZipFile, KeyError, EOFError, OSError, ValueError)


def _unreadable(path: Path, table: str, exc: BaseException) -> pd.DataFrame:
    """A file that cannot be opened as its suffix says (a CSV renamed .xlsx, a truncated
    download, a corrupt Parquet file) as a problem naming the file, instead of a traceback.
    """
    if isinstance(exc, DataError):
        return exc.problems
    suffix = path.suffix.lower()
    kind = {".xlsx": "an Excel workbook", ".parquet": "a Parquet file"}.get(suffix, "a CSV file")
    real = _real_kind(path)
    hint = f" (it holds {real[1]}: name it {real[0]})" if real and real[0] != suffix else ""
    why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return _problem(table, f"{path} cannot be read as {kind}{hint}: {why}",
                    "open it in the program that made it and save it again in that format "
                    "(a copy cut short: copy the file again)")


def _real_kind(path: Path) -> tuple[str, str] | None:
    """(suffix, what) of what a file holds by its first bytes, when that is recognisable."""
    try:
        head = path.open("rb").read(4096)
    except OSError:
        return None
    if head.startswith(b"PK\x03\x04"):
        return ".xlsx", "a zip archive, perhaps a workbook"
    if head.startswith(b"PAR1"):
        return ".parquet", "Parquet data"
    if head and b"\x00" not in head and b"," in head:
        return ".csv", "comma-separated text"
    return None


def _read_file(path: Path, policy: Policy, table: str, sheet: str | None) -> pd.DataFrame:
    """``read_table`` for a file of a known kind; the errors of a bad file are left to the caller."""
    dtypes = _text_columns(policy, table)
    suffix = path.suffix.lower()
    header: list | None = None
    if suffix == ".csv":
        frame, header = _read_csv(path, policy, table, dtypes)
    elif suffix == ".xlsx":
        frame, header = _read_xlsx(path, table, sheet, dtypes)
        xml, styles, title = frame.attrs.pop("xlsx")
        check_sheet_cells(path, xml, styles, header, policy, table, title)
    elif suffix == ".parquet":
        frame = pd.read_parquet(path)
        if policy.inputs.id in frame.columns:
            frame[policy.inputs.id] = frame[policy.inputs.id].astype("string")
    else:
        raise DataError(_problem(table, f"cannot read '{path.name}'",
                                 "use a .csv, .xlsx or .parquet file"))
    if header is not None:
        _check_header(header, f"{path}[{sheet}]" if sheet else str(path), table)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_xlsx(path: Path, table: str, sheet: str | None, dtypes: dict[str, str]
               ) -> tuple[pd.DataFrame, list]:
    """One sheet of a workbook (the first when ``sheet`` is None), as people see it: a hidden
    sheet or hidden (or filtered-out) rows with data are refused, never read silently.
    """
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book[sheet] if sheet is not None else _only_sheet(book, path, table)
        hidden = _hidden_sheet(path, ws.title, ws.sheet_state, table)
        if hidden is not None:
            raise DataError(hidden)
        top = list(ws.iter_rows(min_row=1, max_row=2, values_only=True))
        xml, styles = sheet_xml(path, getattr(ws, "_worksheet_path", None))
        rows = _hidden_rows(xml)
    finally:
        book.close()
    if rows:
        raise DataError(_hidden_rows_problem(path, ws.title, table, rows))
    header = list(top[0]) if top else []
    second = top[1] if len(top) > 1 else (None,)
    first = second[0] if second else None
    note = isinstance(first, str) and first.lstrip().startswith("#")
    frame = pd.read_excel(path, sheet_name=ws.title, dtype=dtypes,
                          skiprows=[1] if note else None, keep_default_na=False,
                          na_values=[""])
    frame.attrs["first_row"] = 3 if note else 2
    frame.attrs["xlsx"] = (xml, styles, ws.title)  # the sheet read once, for sheet_cells
    frame = _without_blank_rows(frame)
    _markers_to_missing(frame, dtypes)
    return frame, header


def _only_sheet(book: Any, path: Path, table: str) -> Any:
    """The sheet of a one-table workbook: the one named after the table, else its only visible
    sheet; several visible sheets and none named so are refused (calib does not pick one).
    """
    if table in book.sheetnames:
        return book[table]
    visible = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
    if len(visible) > 1:
        names = ", ".join(f"'{ws.title}'" for ws in visible)
        raise DataError(_problem(
            table, f"{path.name} has several sheets ({names}) and none is named '{table}': calib "
                   "does not guess which one holds the table",
            f"name the sheet that holds the table '{table}', or delete the other sheets"))
    return book.worksheets[0]


def _without_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """A sheet's rows that hold something a person can see; rows of empty or only-space cells
    (formatting left far below the table, a blank line between blocks) are skipped as blank lines
    of a CSV are, and the rows kept keep their Excel row numbers (``attrs["lines"]``).
    """
    if frame.empty:
        return frame
    seen = frame.notna()
    for name in frame.columns:
        if pd.api.types.is_object_dtype(frame[name]) or pd.api.types.is_string_dtype(frame[name]):
            seen[name] &= clean_text(frame[name]).ne("").fillna(False).to_numpy()
    keep = seen.any(axis=1).to_numpy()
    if keep.all():
        return frame
    first = frame.attrs.get("first_row", 2)
    out = frame.loc[keep].reset_index(drop=True)
    out.attrs = {**frame.attrs, "lines": np.flatnonzero(keep) + first}
    return out


def _hidden_sheet(path: Path, title: str, state: str, table: str) -> pd.DataFrame | None:
    """The problem of reading a hidden or very hidden sheet (people do not see its figures)."""
    if state == "visible":
        return None
    how = "very hidden (only visible in the VBA editor)" if state == "veryHidden" else "hidden"
    return _problem(table, f"sheet '{title}' of {path.name} is {how}: calib does not read "
                    "figures people cannot see",
                    "unhide it or delete it (Excel: right-click a sheet tab > Unhide; a very "
                    "hidden sheet needs the VBA editor)")


_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(/?)>")
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_HIDDEN_ATTR = re.compile(rb'\bhidden="(?:1|true)"|\bht="0(?:\.0*)?"')
_ROW_END = re.compile(rb"</(?:\w+:)?row>")
_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is)\b")


def _hidden_rows(xml: bytes) -> list[int]:
    """Excel rows of a sheet that are hidden (by hand, by a filter or a zero height) and hold a
    value. Read from the sheet's XML (``sheet_cells.sheet_xml``), since neither pandas nor
    openpyxl's read-only mode report them; a plain text scan keeps it cheap on large sheets.
    """
    if b"hidden=" not in xml and b'ht="0' not in xml:
        return []
    found = []
    for tag in _ROW_TAG.finditer(xml):
        attrs, empty = tag.group(1), tag.group(2)
        if empty or not _HIDDEN_ATTR.search(attrs):
            continue
        end = _ROW_END.search(xml, tag.end())
        body = xml[tag.end():end.start() if end else len(xml)]
        number = _ROW_NUMBER.search(attrs)
        if number and _VALUE.search(body):
            found.append(int(number.group(1)))
    return found


def _hidden_rows_problem(path: Path, title: str, table: str, rows: list[int]) -> pd.DataFrame:
    """One problem per hidden row of a sheet (the first 50, then a count)."""
    fix = ("unhide the rows (Excel: select all, right-click a row number > Unhide; or clear the "
           "filter) and check them: delete the rows that should not be read, keep the others")
    shown = rows[:50]
    frame = pd.DataFrame({"table": table, "row": shown, "id": None, "column": None,
                          "problem": f"row hidden or filtered out in sheet '{title}' of {path.name}",
                          "value": None, "fix": fix}, columns=list(DataError.COLUMNS))
    if len(rows) > len(shown):
        frame = pd.concat([frame, _problem(table, f"{len(rows) - len(shown)} more hidden rows in "
                                           f"sheet '{title}' of {path.name}", fix)],
                          ignore_index=True)
    return frame


def _read_csv(path: Path, policy: Policy, table: str, dtypes: dict[str, str]
              ) -> tuple[pd.DataFrame, list | None]:
    """A CSV file as UTF-8, else GB18030; with the raw header when a column may be repeated.
    The file is read once: parsing, the header and the blank-line scan all use its bytes.
    """
    raw = _utf16_as_utf8(path.read_bytes())
    encoding = "utf-8-sig"
    try:
        frame = _parse_csv(raw, path, policy, table, dtypes, encoding)
    except UnicodeDecodeError:
        encoding = _other_encoding(raw, path, table)
        frame = _parse_csv(raw, path, policy, table, dtypes, encoding)
    header = None
    names = [str(c).strip() for c in frame.columns]
    if len(set(names)) < len(names) or any(_MANGLED.search(n) for n in names):
        header = pd.read_csv(io.BytesIO(raw), header=None, nrows=1, dtype=str,
                             keep_default_na=False, encoding=encoding,
                             skipinitialspace=True).iloc[0].tolist()
    _markers_to_missing(frame, dtypes)
    lines = _data_lines(raw, len(frame))
    if lines is not None:
        frame.attrs["lines"] = lines
    return frame, header


def _utf16_as_utf8(raw: bytes) -> bytes:
    """A UTF-16 file with its byte-order mark (Excel's "Unicode Text", Windows tools) as UTF-8:
    the mark says exactly how to decode it, so there is nothing to guess.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16").encode("utf-8")
    return raw


_BLANK_LINE = re.compile(rb"\n[ \t\r]*(?:\n|$)")


def _data_lines(raw: bytes, rows: int) -> np.ndarray | None:
    """The file line of each data row when the file has blank lines (pandas skips them, so
    counting rows from line 2 would name the wrong line after one); None when it has none, or
    when lines and rows do not match one to one (text with line breaks inside quotes).
    """
    body = raw.rstrip(b"\r\n \t")
    if not _BLANK_LINE.search(body):
        return None
    kept = [i for i, line in enumerate(body.split(b"\n"), start=1) if line.strip()]
    lines = np.array(kept[1:], dtype=np.int64)  # the first kept line is the header
    return lines if len(lines) == rows else None


def _other_encoding(raw: bytes, path: Path, table: str) -> str:
    """The encoding of a CSV file that is not UTF-8: GB18030 (GBK), or a DataError naming the
    byte.
    """
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        position = exc.start
    else:  # pragma: no cover - pandas failed to decode what Python decodes
        position = 0
    if not raw.startswith(codecs.BOM_UTF8):  # a BOM says UTF-8: do not guess another encoding
        try:
            raw.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            pass
    line = raw.count(b"\n", 0, position) + 1
    raise DataError(_problem(
        table, f"{path} is neither UTF-8 nor GBK/GB18030 text (byte {position}, line {line}: "
        f"0x{raw[position]:02x})",
        "save the file as UTF-8 CSV (Excel: File > Save As > 'CSV UTF-8 (Comma delimited)')",
        row=line))


def _parse_csv(raw: bytes, path: Path, policy: Policy, table: str, dtypes: dict[str, str],
               encoding: str) -> pd.DataFrame:
    """pandas.read_csv with its parse errors turned into DataErrors naming the file and line."""
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype=dtypes, encoding=encoding, skipinitialspace=True,
                            keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        columns = ", ".join(_expected_columns(policy, table))
        raise DataError(_problem(table, f"the file {path} is empty",
                                 f"it needs a header row with the columns {columns}, and the "
                                 "data below it")) from None
    except pd.errors.ParserError as exc:
        found = _FIELDS.search(str(exc))
        if _OVERFLOW.search(str(exc)):
            raise MemoryError(str(exc)) from None  # a buffer the parser could not allocate
        if found is None:
            detail = str(exc).replace("Error tokenizing data. C error: ", "").strip()
            raise DataError(_problem(table, f"{path} cannot be read as CSV: {detail}",
                                     "check for a quote (\") that is not closed")) from None
        expected, line, saw = (int(g) for g in found.groups())
        raise DataError(_problem(
            table, f"line {line} of {path} has {saw} fields, the header has {expected}",
            "check that line for a stray comma, or text with a comma that is not in double "
            "quotes", row=line)) from None
    if not isinstance(frame.index, pd.RangeIndex):
        # the first data line has more fields than the header: pandas took the first columns as
        # the index and shifted every value one column to the right
        header = len(frame.columns)
        raise DataError(_problem(
            table, f"line 2 of {path} has {header + frame.index.nlevels} fields, the header has "
            f"{header}", "check that line for a stray comma, or text with a comma that is not in "
            "double quotes", row=2))
    return frame


def _markers_to_missing(frame: pd.DataFrame, dtypes: dict[str, str]) -> None:
    """Cells typed as a missing marker ("N/A", "NULL", ...) become missing, as pandas reads them
    by default; the texts are kept in ``attrs["typed_missing"]`` and a column that holds only
    numbers besides them becomes numeric again.
    """
    typed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in frame.columns:
        series = frame[name]
        if not (pd.api.types.is_object_dtype(series.dtype)
                or pd.api.types.is_string_dtype(series.dtype)):
            continue
        values = series.to_numpy(dtype=object)
        if MISSING_MARKERS.isdisjoint(values):  # the usual case, and cheaper than isin
            continue
        mask = np.fromiter((v in MISSING_MARKERS for v in values), dtype=bool, count=len(values))
        positions = np.flatnonzero(mask)
        typed[str(name).strip()] = (positions, values[positions])
        cleaned = series.mask(mask)
        if name not in dtypes:
            try:
                cleaned = pd.to_numeric(cleaned)
            except (ValueError, TypeError):
                pass
        frame[name] = cleaned
    if typed:
        frame.attrs["typed_missing"] = typed


def _check_header(header: list, source: str, table: str) -> None:
    """A column named twice in the header (pandas would read the second as 'name.1')."""
    names = [str(h).strip() for h in header if h is not None and str(h).strip() != ""]
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    twice = [n for n, count in seen.items() if count > 1]
    if twice:
        raise DataError(pd.concat([
            _problem(table, f"column '{n}' appears {'twice' if seen[n] == 2 else f'{seen[n]} times'} "
                     f"in the header of {source}",
                     "keep one column of that name (delete the copy, or rename it if it holds "
                     "other data)", column=n) for n in twice], ignore_index=True))


def _problem(table: str, problem: str, fix: str, column: str | None = None,
             row: int | None = None) -> pd.DataFrame:
    return pd.DataFrame([{"table": table, "row": row, "id": None, "column": column,
                          "problem": problem, "value": None, "fix": fix}],
                        columns=list(DataError.COLUMNS))


def _find_file(folder: Path, policy: Policy, table: str) -> Path | None:
    """The file of ``table`` in ``folder``: the policy's ``file`` or ``<table>.csv/.xlsx/.parquet``.
    A file that resolves outside the folder (an absolute path, ``..`` or a link) is refused.
    """
    spec = policy.inputs.table(table)
    if spec.file:
        candidate = folder / spec.file
        found = candidate if candidate.exists() else None
    else:
        present = [folder / f"{table}{suffix}" for suffix in SUFFIXES
                   if (folder / f"{table}{suffix}").exists()]
        if len(present) > 1:  # an old export beside a new one: which holds the figures to pay?
            names = ", ".join(p.name for p in present)
            raise DataError(_problem(
                table, f"the data folder {folder} holds {names}: more than one file for table "
                f"'{table}', and calib does not guess which one is current",
                f"keep one of them (move the others out of the folder), or name the one to read "
                f"in the policy: inputs.{table}.file"))
        found = present[0] if present else None
    if found is not None:
        _inside(folder, found, spec.file or found.name, table)
    return found


def _inside(folder: Path, path: Path, named: str, table: str) -> None:
    """Refuse a table file that resolves (after links and ``..``) outside the data folder: the
    data of a run are the folder's files, never a file elsewhere on the machine.
    """
    real, root = path.resolve(), folder.resolve()
    if real.is_relative_to(root):
        return
    raise DataError(_problem(
        table, f"the file '{named}' of table '{table}' is outside the data folder {folder} "
        f"(it leads to {real})",
        f"copy the file into {folder} and name it there (e.g. 'file: {real.name}'); absolute "
        "paths, '..' and links out of the data folder are not read"))


def load_data(source: str | Path | pd.DataFrame | dict | Dataset, policy: Policy) -> Dataset:
    """Read the tables ``policy`` needs from a folder, one Excel workbook, one file or DataFrames.

    - a folder: ``<table>.csv`` (or .xlsx/.parquet, or the file named in the policy) per table;
    - an ``.xlsx`` workbook: one sheet per table, named as the table;
    - a single CSV/Parquet file or a DataFrame: the records table, people derived from it;
    - a dict of DataFrames keyed by table name.
    A people table that is not given is made from the records' people columns.

    Every problem of every file is collected before anything is refused, so one ``DataError``
    lists them all, each with its file, line, id, column and fix.

    Parameters
    ----------
    source : str, Path, DataFrame, dict or Dataset
        Where the tables are: a folder, a workbook, a single file, a DataFrame of records, a
        dict of DataFrames by table name, or a ``Dataset`` (returned as it is).
    policy : Policy
        The policy whose ``inputs`` name the tables and their columns.

    Returns
    -------
    Dataset
        The tables, with their row numbers and sources.

    Raises
    ------
    DataError
        If a table is missing, a path does not exist or leads outside the data folder, the
        input is too large for the memory available, or the data does not fit the policy.

    Examples
    --------
    >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    >>> data = calib.load_data("datasets/ecommerce_cs", policy)
    >>> "records" in data.tables and "people" in data.tables
    True
    """
    if isinstance(source, Dataset):
        return source
    if isinstance(source, pd.DataFrame):
        return _complete(Dataset({"records": source}), policy)
    if isinstance(source, dict):
        return _complete(Dataset(dict(source)), policy)
    path = Path(source)
    _fits_in_memory(path)
    if path.is_dir():
        return _load_folder(path, policy)
    if not path.exists():
        raise DataError(_problem("(input)", f"'{path}' does not exist",
                                 "give a folder of tables or a .csv/.xlsx/.parquet file"))
    if path.suffix.lower() == ".xlsx":
        return _load_workbook(path, policy)
    frame = read_table(path, policy, "records")
    ds = Dataset({})
    ds.add("records", frame, str(path))
    return _complete(ds, policy)


def _fits_in_memory(path: Path) -> None:
    """Refuse at once an input too large for the memory available (``calib.data.footprint``)."""
    from calib.data.footprint import FIX, input_files, too_large

    problem = too_large(input_files(path))
    if problem is not None:
        raise DataError(_problem("(input)", problem, FIX))


def _load_folder(folder: Path, policy: Policy) -> Dataset:
    ds = Dataset({})
    problems = []
    for table in policy.inputs.table_names():
        try:
            found = _find_file(folder, policy, table)
        except DataError as exc:
            problems.append(exc.problems)
            continue
        if found is None:
            if table != "people":
                spec = policy.inputs.table(table)
                expected = spec.file or f"{table}.csv"
                problems.append(_problem(table, f"no file for table '{table}' in {folder}",
                                         f"add {expected} (or .xlsx/.parquet)"))
            continue
        try:
            frame = read_table(found, policy, table)
        except DataError as exc:  # every file's problems at once
            problems.append(exc.problems)
            continue
        ds.add(table, frame, str(found))
    expected = policy.inputs.people.file or "people.csv"
    problems[:0] = _people_missing(ds, policy, f"no file for table 'people' in {folder}",
                                   f"add {expected} (or .xlsx/.parquet)", "")
    if problems:
        raise DataError(pd.concat(problems, ignore_index=True))
    return _complete(ds, policy)


def _people_missing(ds: Dataset, policy: Policy, problem: str, add: str, more: str
                    ) -> list[pd.DataFrame]:
    """The missing people table as a problem, when none was read and records lack people
    columns the policy declares (the table cannot then be derived from records); else none.
    """
    if "people" in ds.tables or "records" not in ds.tables:
        return []
    columns = ds.tables["records"].columns
    absent = [c for c in policy.inputs.people.columns if c != policy.inputs.id and c not in columns]
    if not absent:
        return []
    return [_problem("people", problem, f"{add} with the columns "
                     f"{', '.join([policy.inputs.id, *absent])} (or put these columns in records"
                     f"{more})")]


def _sheet_states(path: Path) -> dict[str, str]:
    """Each sheet of a workbook and its state: visible, hidden or veryHidden."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True)
    except UNREADABLE as exc:
        raise DataError(_unreadable(path, "(input)", exc)) from None
    try:
        return {ws.title: ws.sheet_state for ws in book.worksheets}
    finally:
        book.close()


def _load_workbook(path: Path, policy: Policy) -> Dataset:
    states = _sheet_states(path)
    sheets = [title for title, state in states.items() if state == "visible"]
    ds = Dataset({})
    problems = []
    for table in policy.inputs.table_names():
        if table in states and states[table] != "visible":
            problems.append(_hidden_sheet(path, table, states[table], table))
            continue
        if table in sheets:
            try:
                frame = read_table(path, policy, table, sheet=table)
            except DataError as exc:
                problems.append(exc.problems)
                continue
            ds.add(table, frame, f"{path}[{table}]")
    if "records" not in states:
        problems.insert(0, _problem("records", f"workbook {path.name} has no sheet 'records'",
                                    f"name the sheets after the tables: {sheets}"))
    problems[:0] = _people_missing(ds, policy, f"workbook {path.name} has no sheet 'people'",
                                   "add a sheet 'people'", f"; the sheets found: {', '.join(sheets)}")
    if problems:
        raise DataError(pd.concat(problems, ignore_index=True))
    return _complete(ds, policy)


def _complete(ds: Dataset, policy: Policy) -> Dataset:
    """Put every table in canonical order (``calib.data.canonical``), then derive the people table
    from records when it was not given (each person's columns from their last period).
    """
    _canonical(ds, policy)
    if "people" in ds.tables or "records" not in ds.tables:
        return ds
    records = ds.tables["records"]
    pid = policy.inputs.id
    cols = [pid] + [c for c in policy.inputs.people.columns if c in records.columns and c != pid]
    if pid not in records.columns:
        return ds  # reported by validation
    people = records[cols].drop_duplicates(subset=[pid], keep="last").reset_index(drop=True)
    ds.tables["people"] = people
    ds.sources["people"] = "(derived from records)"
    return ds


def _canonical(ds: Dataset, policy: Policy) -> None:
    """Every table in canonical row and column order, so input order never changes a result."""
    from calib.data.canonical import column_order, row_order, table_keys

    for table in list(ds.tables):
        frame = ds.tables[table]
        keys, first = table_keys(policy, table)
        ds.reorder(table, row_order(frame, keys), column_order(frame, first))
