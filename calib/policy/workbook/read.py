"""Reading a policy workbook back into a policy, through the same validation as the YAML.

Each row's cells become values at paths of the policy document (``calib.policy.workbook.sheets``
says where); the ``more`` sheet's YAML parts are read by the same exact reader as a policy file
(no aliases, no tags: data only, nothing is ever evaluated). The document is then validated as
a YAML policy is, and every problem is reported at its sheet, row and column, with the fix.
Numbers typed as text (``2.5%``, ``1,234.5``) are read by the policy's own number rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calib.errors import PolicyError, PolicyIssue
from calib.policy.paths import join_path
from calib.policy.reader import read_yaml
from calib.policy.workbook.cells import Grid, read_grids, where
from calib.policy.workbook.sheets import BY_TITLE, FIELD, MORE, NOTES, ORDER, VALUE, Sheet
from calib.policy.workbook.tree import Path as DocPath
from calib.policy.workbook.tree import Tree, relative

if TYPE_CHECKING:
    from calib.policy.model import Policy

TEXT_KEYS = {"name", "title", "description", "version", "label", "unit", "reason", "currency",
             "pool_name"}
"""Keys whose value is text: a number typed there (a version 2025.2, a label 100) is its text."""

_HOME = {"kpis": "KPIs", "measures": "measures", "sections": "sections", "scorecards": "scorecards",
         "inputs": "inputs", "grading": "grading", "pay": "pay", "rollups": "rollups",
         "ranges": "ranges", "eligibility": "eligibility", "outcomes": "outcomes",
         "calibration": "calibration"}
"""The sheet a top-level part belongs in, named when the part is missing altogether."""


@dataclass
class _Place:
    sheet: str
    row: int | None
    column: str | None
    shape: str = ""


@dataclass
class _Reading:
    """What the rows gave so far: the document, each value's place, and the problems."""

    tree: Tree = field(default_factory=Tree)
    places: dict[str, _Place] = field(default_factory=dict)
    given: dict[DocPath, _Place] = field(default_factory=dict)
    issues: list[PolicyIssue] = field(default_factory=list)

    def problem(self, place: _Place, message: str, path: str = "") -> None:
        self.issues.append(PolicyIssue(path, f"{where(place.sheet, place.row, place.column)}: {message}"))

    def mark(self, path: DocPath, place: _Place) -> None:
        self.places.setdefault(join_path(path), place)

    def put(self, path: DocPath, value: Any, place: _Place) -> None:
        earlier = self.given.get(path)
        if earlier is not None:
            there = where(earlier.sheet, earlier.row, earlier.column)
            self.problem(place, f"{join_path(path)} is also given at {there}: give it once",
                         join_path(path))
            return
        try:
            self.tree.put(path, value)
        except KeyError:
            self.problem(place, f"{join_path(path)} runs through a value given elsewhere; give the "
                         "part in one place", join_path(path))
            return
        self.given[path] = place
        self.places[join_path(path)] = place


def _text(value: Any) -> Any:
    """A number typed where text belongs, as its text (2025.0 → '2025')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _value(value: Any, key: str | int, reading: _Reading, place: _Place) -> tuple[bool, Any]:
    """(given, value) of one cell: blank text is not given; dates are refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return False, None
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        reading.problem(place, f"a date or time ({value}): a policy holds no dates; type the number "
                        "or text meant (format the cell as Text first)")
        return False, None
    if key in TEXT_KEYS:
        value = _text(value)
    return True, value


def _key(value: Any) -> str | None:
    value = _text(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _columns(grid: Grid, sheet: Sheet, reading: _Reading) -> dict[int, str] | None:
    """Column position → header, checked: the key columns present, no header twice, each other
    header a path (``rule.bound``) or, for a pair or field sheet, exactly the value column.
    """
    ok = True
    names: dict[int, str] = {}
    for i, header in enumerate(grid.headers):
        if header is None:
            if any(i < len(values) and values[i] is not None for _, values in grid.rows):
                reading.problem(_Place(grid.title, 1, None), f"column {i + 1} holds values but has no "
                                "name in row 1: name it (a key path such as rule.bound) or delete it")
                ok = False
            continue
        if header in names.values():
            reading.problem(_Place(grid.title, 1, header), "the column is named twice: keep one")
            ok = False
        names[i] = header
    expected = {"field": (FIELD, VALUE), "pair": (*sheet.keys, sheet.value)}.get(sheet.shape)
    for key in expected or sheet.keys:
        if key not in names.values():
            reading.problem(_Place(grid.title, 1, None), f"no column '{key}': row 1 must name the "
                            f"columns {', '.join(expected or sheet.keys)}")
            ok = False
    for header in names.values():
        if header in sheet.keys or (expected and header in expected):
            continue
        if expected:
            reading.problem(_Place(grid.title, 1, header), f"unknown column: this sheet has the "
                            f"columns {', '.join(expected)}")
            ok = False
            continue
        try:
            relative(header)
        except KeyError:
            reading.problem(_Place(grid.title, 1, header), "not a key path (write it as rule.bound "
                            "or scorecards[0])")
            ok = False
    return names if ok else None


def _read_sheet(grid: Grid, sheet: Sheet, reading: _Reading) -> None:
    names = _columns(grid, sheet, reading)
    if names is None:
        return
    seen: dict[tuple[str, ...], int] = {}
    counts: dict[tuple[str, ...], int] = {}
    pair_rows: dict[tuple[str, ...], list[tuple[str, bool, Any, _Place]]] = {}
    for number, values in grid.rows:
        cells = {names[i]: v for i, v in enumerate(values) if i in names}
        keys: list[str] = []
        for key in (FIELD,) if sheet.shape == "field" else sheet.keys:
            name = _key(cells.get(key))
            if name is None:
                reading.problem(_Place(grid.title, number, key), f"empty: name the {key} this row "
                                "belongs to")
                break
            keys.append(name)
        else:
            row_keys = tuple(keys)
            if sheet.shape != "item":
                if row_keys in seen:
                    what = " / ".join(f"{k} '{v}'" for k, v in zip(
                        (FIELD,) if sheet.shape == "field" else sheet.keys, row_keys, strict=True))
                    reading.problem(_Place(grid.title, number, None), f"{what} is given twice (rows "
                                    f"{seen[row_keys]} and {number}): keep one row")
                    continue
                seen[row_keys] = number
            if sheet.shape == "pair":
                place = _Place(grid.title, number, sheet.value, "pair")
                given, value = _value(cells.get(sheet.value), row_keys[-1], reading, place)
                pair_rows.setdefault(row_keys[:-1], []).append((row_keys[-1], given, value, place))
            elif sheet.shape == "field":
                _field_row(sheet, row_keys[0], cells, number, grid.title, reading)
            else:
                index = counts.get(row_keys, 0)
                counts[row_keys] = index + 1
                base = sheet.base(row_keys)
                if sheet.shape == "item":
                    base = (*base, index)
                _entry_row(base, cells, sheet, number, grid.title, reading)
    for part, rows in pair_rows.items():
        _pairs(sheet, part, rows, reading)


def _entry_row(base: DocPath, cells: dict[str, Any], sheet: Sheet, number: int, title: str,
               reading: _Reading) -> None:
    row_place = _Place(title, number, None, sheet.shape)
    reading.mark(base, row_place)
    try:
        reading.tree.node(base)  # the part exists even when the row gives nothing else
    except KeyError:
        reading.problem(row_place, f"{join_path(base)} is given elsewhere as a value")
        return
    for header, raw in cells.items():
        if header in sheet.keys:
            continue
        rel = relative(header)
        place = _Place(title, number, header, sheet.shape)
        given, value = _value(raw, rel[-1], reading, place)
        if given:
            reading.put((*base, *rel), value, place)


def _field_row(sheet: Sheet, name: str, cells: dict[str, Any], number: int, title: str,
               reading: _Reading) -> None:
    place = _Place(title, number, VALUE, "field")
    try:
        rel = relative(name)
    except KeyError:
        reading.problem(_Place(title, number, FIELD), f"'{name}' is not a key path (write it as "
                        "calendar.start_day)")
        return
    given, value = _value(cells.get(VALUE), rel[-1], reading, place)
    if given:
        reading.put((*sheet.base(()), *rel), value, place)


def _pairs(sheet: Sheet, keys: tuple[str, ...], rows: list[tuple[str, bool, Any, _Place]],
           reading: _Reading) -> None:
    """One part's pairs: a mapping (every value given) or, for a sheet with an alternative list
    (a section's items), the list (no value given).
    """
    base = sheet.base(keys)
    given = [r for r in rows if r[1]]
    if sheet.alt and not given:
        alt = (*base[:-1], sheet.alt)
        reading.mark(alt, rows[0][3])
        for i, (name, _, _, place) in enumerate(rows):
            reading.put((*alt, i), name, place)
        return
    reading.mark(base, rows[0][3])
    for name, has, value, place in rows:
        if not has:
            fix = (f"type it, or leave every {sheet.value} of this {sheet.keys[0]} empty to list "
                   f"its {sheet.alt}" if sheet.alt else "type it")
            reading.problem(place, f"no {sheet.value} for '{name}': {fix}", join_path((*base, name)))
            continue
        reading.put((*base, name), value, place)


def _more_path(text: Any, place: _Place, reading: _Reading) -> DocPath | None:
    if not isinstance(text, str) or not text.strip():
        reading.problem(place, "empty: give the part's path (kpis.conversion.rule)")
        return None
    text = text.strip()
    try:
        if text.startswith("["):
            parts, _ = read_yaml(text, where(place.sheet, place.row, place.column))
            if not (isinstance(parts, list) and parts
                    and all(isinstance(p, str | int) and not isinstance(p, bool) for p in parts)):
                raise KeyError(text)
            return tuple(parts)
        return relative(text)
    except (KeyError, PolicyError):
        reading.problem(place, f"'{text}' is not a path (write it as kpis.conversion.rule)")
        return None


def _read_more(grid: Grid, reading: _Reading) -> None:
    names = {h: i for i, h in enumerate(grid.headers) if h is not None}
    if "path" not in names or "yaml" not in names:
        reading.problem(_Place(grid.title, 1, None), "row 1 must name the columns path, yaml")
        return
    taken: list[tuple[DocPath, int]] = []
    for number, values in grid.rows:
        cell = values[names["path"]] if names["path"] < len(values) else None
        path = _more_path(cell, _Place(grid.title, number, "path"), reading)
        if path is None:
            continue
        place = _Place(grid.title, number, "yaml", MORE)
        text = values[names["yaml"]] if names["yaml"] < len(values) else None
        if not isinstance(text, str):
            text = "null" if text is None else str(text)
        try:
            value, _ = read_yaml(text, where(place.sheet, place.row, place.column))
        except PolicyError as exc:
            reading.problem(place, "; ".join(i.message for i in exc.issues), join_path(path))
            continue
        clash = next((p for p in reading.given if p[:len(path)] == path or path[:len(p)] == p), None)
        other = next((n for p, n in taken if p[:len(path)] == path or path[:len(p)] == p), None)
        if clash is not None or other is not None:
            there = (where(reading.given[clash].sheet, reading.given[clash].row,
                           reading.given[clash].column) if clash is not None else f"row {other}")
            reading.problem(place, f"{join_path(path)} is also given at {there}: give each part once",
                            join_path(path))
            continue
        try:
            reading.tree.put(path, value)
        except KeyError:
            reading.problem(place, f"{join_path(path)} runs through a value given elsewhere")
            continue
        taken.append((path, number))
        reading.mark(path, place)


def _locate(issue: PolicyIssue, places: dict[str, _Place]) -> PolicyIssue:
    """The issue with its sheet, row and column put first in its message."""
    path = issue.path.replace(".[", "[")
    probe = path
    while probe:
        place = places.get(probe)
        if place is not None:
            column = place.column
            rest = path[len(probe):].lstrip(".")
            if column is None and rest and place.shape in ("entry", "item"):
                column = rest
            return PolicyIssue(issue.path, f"{where(place.sheet, place.row, column)}: {issue.message}")
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    top = path.split(".", 1)[0].split("[", 1)[0]
    sheet = _HOME.get(top, "scheme")
    return PolicyIssue(issue.path, f"{where(sheet)}: {issue.path or 'the policy'}: {issue.message}")


def read_document(path: Path) -> tuple[dict[str, Any], dict[str, _Place], list[PolicyIssue]]:
    """The policy document a workbook holds, each value's place, and the problems found."""
    reading = _Reading()
    grids = read_grids(path)
    titles = [g.title for g in grids]
    for grid in grids:
        if grid.title == NOTES:
            continue
        if grid.title == MORE:
            continue  # after the sheets: it adds whole parts where the sheets leave them
        sheet = BY_TITLE.get(grid.title)
        if sheet is None:
            known = ", ".join(t for t in ORDER if t != MORE)
            reading.problem(_Place(grid.title, None, None), f"not a sheet of a policy workbook (the "
                            f"sheets are {known}, {MORE} and {NOTES}): rename or delete it")
            continue
        _read_sheet(grid, sheet, reading)
    for grid in grids:
        if grid.title == MORE:
            _read_more(grid, reading)
    if not titles or all(t == NOTES for t in titles):
        reading.issues.append(PolicyIssue("", "the workbook has no policy sheets: start from "
                                          "calib policy-workbook --blank"))
    return reading.tree.data, reading.places, reading.issues


def workbook_to_policy(path: str | Path) -> Policy:
    """Read a policy workbook (as ``policy_to_workbook`` writes it, or one HR made) as a policy.

    The workbook is checked as a YAML policy is: unknown keys, references between parts, bands
    in order, weights adding up, numbers in bounds. Every problem is reported at once, each
    naming its sheet, row and column (``sheet KPIs, row 5, column 'rule.bound'``) and the fix.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` workbook.

    Returns
    -------
    Policy
        The validated policy.

    Raises
    ------
    PolicyError
        If the workbook cannot be read exactly (a formula, a hidden sheet, row or column, a
        merged range, an unknown sheet, a row given twice) or does not hold a valid policy.

    Examples
    --------
    >>> from calib.policy.workbook import workbook_to_policy
    >>> policy = workbook_to_policy("gas_cs.xlsx")
    >>> policy.name
    'gas_cs'
    """
    from calib.policy.load import validate_policy

    path = Path(path)
    source = str(path)
    data, places, issues = read_document(path)
    if issues:
        raise PolicyError(issues, source)
    try:
        return validate_policy(data, source)
    except PolicyError as exc:
        raise PolicyError([_locate(i, places) for i in exc.issues], source) from None
