"""Cutting a policy's plain data into the rows of each sheet, and what is left for ``more``.

Each sheet (``calib.policy.workbook.sheets``) claims the leaves it can hold exactly, in the order
of ``SHEETS``; ``leftovers`` then gives the smallest set of whole parts holding every leaf no
sheet claimed, each written to the ``more`` sheet as YAML text at its path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from calib.policy.paths import join_path
from calib.policy.workbook.sheets import FIELD, SHEETS, VALUE, Sheet
from calib.policy.workbook.tree import Path, fits_cell, is_leaf, leaves, safe_key


@dataclass
class Row:
    """One row of a sheet: the key values naming its part and its cells (header → value)."""

    keys: tuple[str, ...]
    cells: dict[str, Any] = field(default_factory=dict)


@dataclass
class Table:
    """One sheet's rows, with its headers in the order they are shown."""

    sheet: Sheet
    headers: list[str]
    rows: list[Row]


def _get(data: Any, path: Path) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


def _cells(node: Any, base: Path, claimed: set[Path], only: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The leaves under ``node`` a cell holds exactly, by header (their path below ``base``)."""
    out: dict[str, Any] = {}
    if is_leaf(node):
        return out
    for rel, value in leaves(node):
        full = (*base, *rel)
        if full in claimed or not fits_cell(value) or not all(safe_key(p) for p in rel):
            continue
        if only and not any(rel[:len(o)] == o for o in only):
            continue
        out[join_path(rel)] = value
        claimed.add(full)
    return out


def _rows(sheet: Sheet, data: dict[str, Any], claimed: set[Path]) -> list[Row]:
    rows: list[Row] = []
    for keys, path in sheet.find(data):
        if not all(fits_cell(k) for k in keys):
            continue  # a name a cell cannot hold: the part goes to ``more`` whole
        node = _get(data, path)
        if sheet.shape == "entry":
            rows.append(Row(keys, _cells(node, path, claimed)))
        elif sheet.shape == "field":
            for header, value in _cells(node, path, claimed, sheet.only).items():
                rows.append(Row((header,), {VALUE: value}))
        elif sheet.shape == "item":
            for i, element in enumerate(node):
                # every element gets its row, so positions hold; one no cell holds is in ``more``
                rows.append(Row(keys, _cells(element, (*path, i), claimed)))
        else:
            rows += _pair_rows(sheet, keys, path, node, claimed)
    return rows


def _pair_rows(sheet: Sheet, keys: tuple[str, ...], path: Path, node: Any, claimed: set[Path]
               ) -> list[Row]:
    """A mapping's rows (key, value) or, for a pair sheet's alternative list (a section's
    items), one row per name with no value.
    """
    rows: list[Row] = []
    if isinstance(node, list):
        for i, name in enumerate(node):
            if fits_cell(name) and isinstance(name, str) and (*path, i) not in claimed:
                claimed.add((*path, i))
                rows.append(Row((*keys, name)))
        return rows
    for name, value in node.items():
        full = (*path, name)
        if fits_cell(name) and fits_cell(value) and full not in claimed:
            claimed.add(full)
            rows.append(Row((*keys, name), {sheet.value: value}))
    return rows


def _headers(sheet: Sheet, rows: list[Row]) -> list[str]:
    if sheet.shape == "field":
        return [FIELD, VALUE]
    if sheet.shape == "pair":
        return [*sheet.keys, sheet.value]
    order: list[str] = []
    for row in rows:  # merge the rows' orders: a new column goes before the next one already placed
        headers = list(row.cells)
        for i, header in enumerate(headers):
            if header not in order:
                nxt = next((h for h in headers[i + 1:] if h in order), None)
                order.insert(order.index(nxt) if nxt is not None else len(order), header)
    for header in [h for h in order if h == "kind" or h.endswith(".kind")]:
        group = header[:-len("kind")]  # a rule's kind first among its parameters
        order.remove(header)
        first = next((i for i, h in enumerate(order) if h.startswith(group)), len(order))
        order.insert(first, header)
    return [*sheet.keys, *order]


def tables(data: dict[str, Any]) -> tuple[dict[str, Table], set[Path]]:
    """Every sheet's rows (sheets with no row left out) and the leaves they hold."""
    claimed: set[Path] = set()
    out: dict[str, Table] = {}
    for sheet in SHEETS:
        rows = _rows(sheet, data, claimed)
        if rows:
            out[sheet.title] = Table(sheet, _headers(sheet, rows), rows)
    return out, claimed


def leftovers(data: Any, claimed: set[Path]) -> list[tuple[Path, Any]]:
    """The whole parts holding every leaf no sheet claimed, largest first down each branch.

    A part is given whole when none of its leaves is in a sheet; the top of the document never
    is (its name is always in ``scheme``).
    """
    prefixes = {p[:i] for p in claimed for i in range(len(p) + 1)}
    out: list[tuple[Path, Any]] = []

    def walk(node: Any, path: Path) -> None:
        if path and path not in prefixes:
            out.append((path, node))
            return
        if path in claimed or is_leaf(node):
            return
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            walk(child, (*path, key))

    walk(data, ())
    return out
