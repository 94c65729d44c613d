"""Writing a policy as a workbook HR recognises: one sheet per table of the scheme, ``more`` for
the parts no flat table holds, and ``notes`` saying what each sheet and column means.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from ruamel.yaml import YAML

from calib._util.outputs import write_atomic
from calib._util.xlsx import put
from calib.errors import PolicyError, PolicyIssue
from calib.policy.paths import join_path
from calib.policy.workbook.layout import Table, leftovers, tables
from calib.policy.workbook.notes import notes_rows
from calib.policy.workbook.sheets import MORE, NOTES, ORDER
from calib.policy.workbook.tree import CELL_LIMIT, path_text

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from calib.policy.model import Policy

_BOLD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")
MORE_HEADERS = ("path", "yaml")


def yaml_text(value: Any) -> str:
    """A part of the policy as block YAML (Chinese kept), as ``calib.dump_policy`` writes it."""
    out = io.StringIO()
    writer = YAML(typ="safe", pure=True)
    writer.default_flow_style = False
    writer.allow_unicode = True
    writer.width = 100
    writer.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # ruamel types it None
    writer.dump(value, out)
    text = out.getvalue()
    return text[:-4] if text.endswith("\n...\n") else text  # a lone value's document-end mark


def _header(sheet: Worksheet, headers: list[str] | tuple[str, ...]) -> None:
    for col, name in enumerate(headers, start=1):
        cell = put(sheet, 1, col, name)
        cell.font = _BOLD
        cell.fill = _FILL
    sheet.freeze_panes = "A2"


def _widths(sheet: Worksheet, widths: dict[int, int], high: int = 60) -> None:
    for col, width in widths.items():
        sheet.column_dimensions[get_column_letter(col)].width = max(8, min(high, width + 2))


def _text_width(value: Any) -> int:
    text = str(value).split("\n", 1)[0]
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _table_sheet(book: Workbook, table: Table) -> None:
    sheet = book.create_sheet(table.sheet.title)
    _header(sheet, table.headers)
    widths = {i: _text_width(h) for i, h in enumerate(table.headers, start=1)}
    column = {h: i for i, h in enumerate(table.headers, start=1)}
    nkeys = len(table.sheet.keys) if table.sheet.shape != "field" else 1
    for r, row in enumerate(table.rows, start=2):
        values = dict(zip(table.headers[:nkeys], row.keys, strict=True)) | row.cells
        for header, value in values.items():
            put(sheet, r, column[header], value)
            widths[column[header]] = max(widths[column[header]], _text_width(value))
    _widths(sheet, widths)


def _more_sheet(book: Workbook, parts: list[tuple[tuple[str | int, ...], Any]]) -> None:
    sheet = book.create_sheet(MORE)
    _header(sheet, MORE_HEADERS)
    for r, (path, value) in enumerate(parts, start=2):
        text = yaml_text(value)
        if len(text) > CELL_LIMIT:
            raise PolicyError([PolicyIssue(join_path(path), f"this part is {len(text):,} characters "
                                           "of YAML, more than an Excel cell holds (32,767): keep "
                                           "this policy as YAML")])
        put(sheet, r, 1, path_text(path))
        put(sheet, r, 2, text).alignment = _WRAP
    _widths(sheet, {1: max((_text_width(path_text(p)) for p, _ in parts), default=10), 2: 80}, 90)


def _notes_sheet(book: Workbook, titles: list[str]) -> None:
    sheet = book.create_sheet(NOTES)
    rows = notes_rows(titles)
    _header(sheet, rows[0])
    for r, row in enumerate(rows[1:], start=2):
        for c, value in enumerate(row, start=1):
            if value:
                put(sheet, r, c, value).alignment = _WRAP
    _widths(sheet, {1: 16, 2: 22, 3: 60, 4: 70}, 90)


def build_workbook(policy: Policy) -> Workbook:
    """The policy workbook in memory (``policy_to_workbook`` saves it)."""
    data = policy.to_dict(minimal=True)
    sheets, claimed = tables(data)
    parts = leftovers(data, claimed)
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title in ORDER:
        if title in sheets:
            _table_sheet(book, sheets[title])
        elif title == MORE and parts:
            _more_sheet(book, parts)
    _notes_sheet(book, [ws.title for ws in book.worksheets])
    return book


def policy_to_workbook(policy: Policy, path: str | Path) -> Path:
    """Write ``policy`` as a policy workbook that ``workbook_to_policy`` reads back unchanged.

    Each flat part of the scheme gets a sheet people recognise (``scheme``, ``inputs``, ``KPIs``,
    ``bands``, ``weights``, ``grades``, ``ratios``, ``pay components``, ``grade tables``, ...);
    a part no flat table holds exactly (a veto's condition, a null, a cascade's ratios) is kept
    as YAML text in the ``more`` sheet at its path, so that every policy converts without loss;
    ``notes`` explains each sheet and column in Chinese and English. Text is always stored as
    text, never as a formula. The file appears whole or not at all.

    Parameters
    ----------
    policy : Policy
        The policy to write.
    path : str or Path
        The ``.xlsx`` file to write (replaced if it exists).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> from calib.policy.workbook import policy_to_workbook
    >>> policy = calib.load_policy("datasets/gas_cs/policy.yaml")
    >>> policy_to_workbook(policy, "gas_cs.xlsx")
    PosixPath('gas_cs.xlsx')
    >>> calib.load_policy("gas_cs.xlsx") == policy
    True
    """
    book = build_workbook(policy)
    write_atomic(path, book.save)
    return Path(path)
