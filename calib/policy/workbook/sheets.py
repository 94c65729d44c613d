"""The sheets of a policy workbook: which part of the policy each holds, and in what shape.

Four shapes cover the flat parts of a scheme:

- ``entry``: one row per named part (a KPI, a section, a pay component); the key columns name
  it and every other column header is a path below it (``label``, ``rule.kind``, ``rule.bound``,
  ``when.column``; a list of names as ``scorecards[0]``, ``scorecards[1]``);
- ``item``: one row per element of a list (a KPI's bands, the grades), in order, with the name
  of the part the list belongs to;
- ``pair``: one row per key of a mapping (a section's weights, a rule's ratios, a component's
  grade coefficients): the part's name, the key and the value;
- ``field``: one row per setting of one part (``field``, ``value``: the scheme's name, the pool).

The sheets *claim* the policy's leaves in the order of ``SHEETS`` (the specific tables before
the catch-all entry and field sheets), so no value is written twice; what no sheet claims goes to
the ``more`` sheet as YAML text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from calib.policy.workbook.tree import Path

Shape = Literal["entry", "item", "pair", "field"]
Keys = tuple[str, ...]

MORE = "more"
NOTES = "notes"
FIELD, VALUE = "field", "value"


@dataclass(frozen=True)
class Sheet:
    """One sheet: its title, shape, key columns and where its rows live in the policy.

    Attributes
    ----------
    title : str
        The sheet's name in the workbook.
    shape : str
        ``entry``, ``item``, ``pair`` or ``field`` (see the module docstring).
    keys : tuple of str
        The headers of the columns naming the row's part (``kpi``; ``table``, ``column``);
        for a ``pair`` sheet the last is the mapping's key (``item``, ``grade``).
    find : callable
        ``find(data)`` yields, for the policy's plain data, each part's key values and the path
        of what the sheet holds for it (the entry, the list, the mapping, the settings).
    base : callable
        ``base(keys)`` is the same path from the key values a row gives (the reader's side).
    value : str
        A ``pair`` sheet's value header (``weight``).
    alt : str
        A ``pair`` sheet's alternative list: a section without weights lists its ``items``, its
        rows leave ``weight`` empty.
    only : tuple of paths
        A ``field`` sheet's parts (relative to its base) when it holds only some of them.
    """

    title: str
    shape: Shape
    keys: Keys
    find: Callable[[dict[str, Any]], Iterator[tuple[Keys, Path]]]
    base: Callable[[Keys], Path]
    value: str = ""
    alt: str = ""
    only: tuple[Path, ...] = ()


_KPIS, _COMPONENTS, _RULES = ("kpis",), ("pay", "components"), ("grading", "rules")


def _get(data: Any, path: Path) -> Any:
    node = data
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def _entries(owner: Path, rel: Path = (), want: type | None = None
             ) -> Callable[[dict[str, Any]], Iterator[tuple[Keys, Path]]]:
    """The entries of the mapping at ``owner`` (with ``rel``: what each holds at ``rel``, when it
    is of type ``want``).
    """
    def find(data: dict[str, Any]) -> Iterator[tuple[Keys, Path]]:
        mapping = _get(data, owner)
        if not isinstance(mapping, dict):
            return
        for name, part in mapping.items():
            if not isinstance(name, str):
                continue
            if want is None or isinstance(_get(part, rel), want):
                yield (name,), (*owner, name, *rel)
    return find


def _single(path: Path, want: type) -> Callable[[dict[str, Any]], Iterator[tuple[Keys, Path]]]:
    def find(data: dict[str, Any]) -> Iterator[tuple[Keys, Path]]:
        if isinstance(_get(data, path), want):
            yield (), path
    return find


def _under(owner: Path, rel: Path = ()) -> Callable[[Keys], Path]:
    return lambda keys: (*owner, *keys, *rel)


def table_path(name: str) -> Path:
    """Where an input table is declared: ``inputs.people``, ``inputs.records`` or an event table."""
    return ("inputs", name) if name in ("people", "records") else ("inputs", "events", name)


def _tables(data: dict[str, Any]) -> Iterator[tuple[Keys, Path]]:
    inputs = data.get("inputs")
    if not isinstance(inputs, dict):
        return
    for name in ("people", "records"):
        if isinstance(inputs.get(name), dict):
            yield (name,), ("inputs", name)
    events = inputs.get("events")
    if isinstance(events, dict):
        for name, spec in events.items():
            if isinstance(spec, dict) and name not in ("people", "records"):
                yield (name,), ("inputs", "events", name)


def _columns(data: dict[str, Any]) -> Iterator[tuple[Keys, Path]]:
    for (table,), path in _tables(data):
        columns = _get(data, (*path, "columns"))
        if isinstance(columns, dict):
            for name in columns:
                yield (table, name), (*path, "columns", name)


def _weights(data: dict[str, Any]) -> Iterator[tuple[Keys, Path]]:
    """Each section's weights, or, for a section that is not weighted, its list of items."""
    sections = data.get("sections")
    if not isinstance(sections, dict):
        return
    for name, section in sections.items():
        for key, want in (("weights", dict), ("items", list)):
            if isinstance(section, dict) and isinstance(section.get(key), want):
                yield (name,), ("sections", name, key)
                break


def _cascade(data: dict[str, Any]) -> Iterator[tuple[Keys, Path]]:
    """Each cascade rule's ratio row per leader grade."""
    for (rule,), path in _entries(_RULES, ("cascade", "ratios"), dict)(data):
        for leader, ratios in _get(data, path).items():
            if isinstance(ratios, dict):
                yield (rule, leader), (*path, leader)


def _item(title: str, key: str, owner: Path, rel: Path) -> Sheet:
    return Sheet(title, "item", (key,), _entries(owner, rel, list), _under(owner, rel))


def _pair(title: str, keys: Keys, owner: Path, rel: Path, value: str, alt: str = "") -> Sheet:
    return Sheet(title, "pair", keys, _entries(owner, rel, dict), _under(owner, rel), value, alt)


def _entry(title: str, key: str, owner: Path) -> Sheet:
    return Sheet(title, "entry", (key,), _entries(owner), _under(owner))


def _field(title: str, owner: Path, only: tuple[Path, ...] = ()) -> Sheet:
    return Sheet(title, "field", (), _single(owner, dict), lambda keys: owner, only=only)


SHEETS: tuple[Sheet, ...] = (
    # the specific tables first: they claim their leaves before the catch-all sheets below
    _item("bands", "kpi", _KPIS, ("rule", "bands")),
    _item("knots", "kpi", _KPIS, ("rule", "knots")),
    _pair("label points", ("kpi", "label"), _KPIS, ("rule", "points"), "points"),
    Sheet("weights", "pair", ("section", "item"), _weights, _under(("sections",), ("weights",)),
          "weight", alt="items"),
    Sheet("grades", "item", (), _single(("grading", "scale", "grades"), list),
          lambda keys: ("grading", "scale", "grades")),
    _pair("ratios", ("rule", "grade"), _RULES, ("forced", "ratios"), "ratio"),
    Sheet("cascade ratios", "pair", ("rule", "leader grade", "grade"), _cascade,
          lambda keys: (*_RULES, keys[0], "cascade", "ratios", keys[1]), "ratio"),
    _pair("grade tables", ("component", "grade"), _COMPONENTS, ("coefficients",), "coefficient"),
    _item("pay bands", "component", _COMPONENTS, ("bands",)),
    _item("commission tiers", "component", _COMPONENTS, ("tiers",)),
    Sheet("merit rows", "item", (), _single(("pay", "merit", "rows"), list),
          lambda keys: ("pay", "merit", "rows")),
    Sheet("not rated", "item", (), _single(("eligibility", "not_rated"), list),
          lambda keys: ("eligibility", "not_rated")),
    _item("rollup parts", "rollup", ("rollups",), ("parts",)),
    Sheet("inputs", "entry", ("table", "column"), _columns,
          lambda keys: (*table_path(keys[0]), "columns", keys[1])),
    Sheet("tables", "entry", ("table",), _tables, lambda keys: table_path(keys[0])),
    _entry("measures", "measure", ("measures",)),
    _entry("KPIs", "kpi", _KPIS),
    _entry("sections", "section", ("sections",)),
    _entry("scorecards", "scorecard", ("scorecards",)),
    _entry("grading rules", "rule", _RULES),
    _entry("streaks", "streak", ("grading", "streaks")),
    _entry("outcomes", "outcome", ("outcomes",)),
    _entry("pay components", "component", _COMPONENTS),
    _entry("rollups", "rollup", ("rollups",)),
    _entry("ranges", "path", ("ranges",)),
    _field("scheme", (), only=(("format",), ("name",), ("title",), ("description",), ("version",),
                               ("currency",), ("calendar",), ("inputs", "id"))),
    _field("pool", ("pay", "pool")),
    _field("merit", ("pay", "merit")),
    _field("pay", ("pay",)),
    _field("grading", ("grading",)),
    _field("eligibility", ("eligibility",)),
    _field("calibration", ("calibration",)),
)
"""Every sheet, in the order they claim the policy's leaves."""

ORDER: tuple[str, ...] = (
    "scheme", "tables", "inputs", "measures", "KPIs", "bands", "knots", "label points", "sections",
    "weights", "scorecards", "eligibility", "not rated", "rollups", "rollup parts", "grading",
    "grades", "grading rules", "ratios", "cascade ratios", "streaks", "outcomes", "pay",
    "pay components", "pay bands", "grade tables", "commission tiers", "pool", "merit",
    "merit rows", "calibration", "ranges", MORE,
)
"""The sheets in the order a workbook shows them (the scheme first, ``more`` last)."""

BY_TITLE: dict[str, Sheet] = {sheet.title: sheet for sheet in SHEETS}
