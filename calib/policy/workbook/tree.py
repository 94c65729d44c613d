"""The policy document as a tree of leaves: which values a worksheet cell holds exactly, and how
the tree is rebuilt from (path, value) pairs.

A policy workbook is the policy's plain data (``Policy.to_dict(minimal=True)``, as the YAML
holds it) cut into rows. A *leaf* is a scalar (text, number, yes/no, null) or an empty mapping
or list; its *path* is a tuple of keys and list positions. A leaf goes into a cell only when the
cell gives back exactly the same value; every other leaf (a null, an empty list, a number with
17 significant digits, text a cell would change) is kept, with its neighbours, as YAML text in
the ``more`` sheet, so that every policy converts without loss.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from calib.policy.paths import join_path, split_path

Path = tuple[str | int, ...]

CELL_LIMIT = 32_767
"""The longest text an Excel cell holds."""

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")
_ERROR_TEXTS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}
_SAFE_KEY = re.compile(r"[^.\[\]]+")


def is_leaf(node: Any) -> bool:
    """A scalar, or an empty mapping or list (nothing below it)."""
    return not isinstance(node, dict | list) or not node


def leaves(node: Any, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every leaf under ``node`` with its path, in the document's order."""
    if is_leaf(node):
        yield prefix, node
    elif isinstance(node, dict):
        for key, child in node.items():
            yield from leaves(child, (*prefix, key))
    else:
        for i, child in enumerate(node):
            yield from leaves(child, (*prefix, i))


def fits_cell(value: Any) -> bool:
    """Whether a cell written with ``value`` reads back as exactly ``value``.

    Not: null and empty containers (an empty cell means "not given"); blank text; text a
    worksheet cannot hold or changes (control characters, Excel's ``_xHHHH_`` escapes, error
    words such as ``#N/A``, text longer than a cell, text starting with ``=``, which a person
    editing the cell would turn into a formula); numbers openpyxl writes with fewer digits than
    they need (it keeps 16 significant digits).
    """
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) < 10**15
    if isinstance(value, float):
        return math.isfinite(value) and float(f"{value:.16g}") == value
    if isinstance(value, str):
        return (bool(value.strip()) and len(value) <= CELL_LIMIT and not value.startswith("=")
                and value not in _ERROR_TEXTS and _ILLEGAL.search(value) is None
                and _EXCEL_ESCAPE.search(value) is None)
    return False


def safe_key(part: str | int) -> bool:
    """Whether a key can be written in a dotted path (``a.b[0]``) and read back as itself."""
    return isinstance(part, int) or (_SAFE_KEY.fullmatch(part) is not None and part.strip() == part)


def path_text(path: Path) -> str:
    """A path as people read it (``kpis.conversion.rule.bands[0].at``), or, when a key holds a
    dot or a bracket (a range's key is itself a path), as a YAML list of its parts.
    """
    if all(safe_key(p) for p in path):
        return join_path(path)
    parts = ", ".join(str(p) if isinstance(p, int) else _quoted(p) for p in path)
    return f"[{parts}]"


def _quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def relative(header: str) -> Path:
    """A column header read as a path below the row's item (``rule.bound`` → ``('rule', 'bound')``);
    KeyError when it is not one.
    """
    return tuple(split_path(header.strip()))


class Tree:
    """Plain data rebuilt from (path, value) pairs, creating mappings and lists on the way.

    A list position beyond the list's end is padded with ``None`` (reported by validation as a
    missing item, at the row that should have held it).
    """

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def node(self, path: Path, then: str | int | None = None) -> Any:
        """The container at ``path``, created if absent: a list when the part after it (the next
        in ``path``, or ``then``) is a position, else a mapping.
        """
        node: Any = self.data
        for i, part in enumerate(path):
            nxt = path[i + 1] if i + 1 < len(path) else then
            fresh: Any = [] if isinstance(nxt, int) else {}
            node = self._child(node, part, fresh)
        return node

    @staticmethod
    def _child(node: Any, part: str | int, fresh: Any) -> Any:
        if isinstance(node, dict) and isinstance(part, str):
            if not isinstance(node.get(part), dict | list):
                node[part] = fresh
            return node[part]
        if isinstance(node, list) and isinstance(part, int):
            while len(node) <= part:
                node.append(None)
            if not isinstance(node[part], dict | list):
                node[part] = fresh
            return node[part]
        raise KeyError(part)

    def put(self, path: Path, value: Any) -> None:
        """Set the value at ``path`` (KeyError when the path runs through a value)."""
        last = path[-1]
        parent = self.node(path[:-1], last)
        if isinstance(parent, dict) and isinstance(last, str):
            parent[last] = value
        elif isinstance(parent, list) and isinstance(last, int):
            while len(parent) <= last:
                parent.append(None)
            parent[last] = value
        else:
            raise KeyError(last)
