"""Parameter paths: every tunable number has an address such as ``kpis.conversion.rule.bands[0].at``.

Widgets, solvers, sensitivity analysis and diffs all use these addresses, and
``Policy.with_params`` changes numbers through them and re-validates the whole policy.
"""

from __future__ import annotations

import copy
import functools
import re
import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import annotated_types as at
from pydantic import BaseModel, TypeAdapter

from calib.policy.base import Tunable

if TYPE_CHECKING:
    from calib.policy.model import Policy

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str) -> list[str | int]:
    """``a.b[2].c`` → ``['a', 'b', 2, 'c']``."""
    return list(_split(path))


@functools.lru_cache(maxsize=4096)
def _split(path: str) -> tuple[str | int, ...]:
    """``split_path`` remembered: a slider splits the same few paths on every move."""
    parts: list[str | int] = []
    pos = 0
    for m in _TOKEN.finditer(path):
        if m.start() != pos and path[pos:m.start()] != ".":
            raise KeyError(f"'{path}' is not a valid parameter path")
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if pos != len(path) or not parts:
        raise KeyError(f"'{path}' is not a valid parameter path")
    return tuple(parts)


def join_path(parts: typing.Iterable[str | int]) -> str:
    """``['a', 'b', 2, 'c']`` → ``a.b[2].c``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def get_path(data: Any, path: str) -> Any:
    """The value at ``path`` in plain data (dicts and lists); KeyError names the missing step."""
    node = data
    walked: list[str | int] = []
    for part in split_path(path):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            where = join_path(walked) or "the policy"
            raise KeyError(f"'{path}' does not exist: {where} has no "
                           f"{'item ' + str(part) if isinstance(part, int) else repr(part)}"
                           ) from None
        walked.append(part)
    return node


def set_path(data: Any, path: str, value: Any) -> None:
    """Replace the value at an existing ``path`` in plain data (in place)."""
    parts = split_path(path)
    parent = get_path(data, join_path(parts[:-1])) if len(parts) > 1 else data
    last = parts[-1]
    try:
        parent[last]
    except (KeyError, IndexError, TypeError):
        raise KeyError(f"'{path}' does not exist") from None
    parent[last] = value


@dataclass(frozen=True)
class Param:
    """One tunable number of a policy."""

    path: str
    value: float
    role: str
    min: float | None
    max: float | None
    min_exclusive: bool = False
    max_exclusive: bool = False


def _find_tunable(annotation: Any) -> Tunable | None:
    """The Tunable marker inside an annotation such as ``Points | None`` or ``dict[str, Weight]``."""
    if typing.get_origin(annotation) is typing.Annotated:
        for meta in typing.get_args(annotation)[1:]:
            if isinstance(meta, Tunable):
                return meta
        return _find_tunable(typing.get_args(annotation)[0])
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, dict, list):
        for arg in typing.get_args(annotation):
            found = _find_tunable(arg)
            if found is not None:
                return found
    return None


def _inner_metadata(annotation: Any) -> list[Any]:
    """Constraints attached to the value type of ``dict[str, Weight]`` and the like."""
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Annotated:
            return list(typing.get_args(arg)[1:])
        found = _inner_metadata(arg)
        if found:
            return found
    return []


def _field_bounds(metadata: list[Any]) -> tuple[float | None, float | None, bool, bool]:
    lo: Any = None
    hi: Any = None
    lo_x = hi_x = False
    for meta in metadata:
        if isinstance(meta, at.Ge):
            lo = meta.ge
        elif isinstance(meta, at.Gt):
            lo, lo_x = meta.gt, True
        elif isinstance(meta, at.Le):
            hi = meta.le
        elif isinstance(meta, at.Lt):
            hi, hi_x = meta.lt, True
    return lo, hi, lo_x, hi_x


def _walk(model: BaseModel, prefix: list[str | int], out: list[Param]) -> None:
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None:
            continue
        key = field.alias or name
        path = [*prefix, key]
        marker = next((m for m in field.metadata if isinstance(m, Tunable)), None)
        marker = marker or _find_tunable(field.annotation)
        lo, hi, lo_x, hi_x = _field_bounds(field.metadata)
        if isinstance(value, BaseModel):
            _walk(value, path, out)
        elif isinstance(value, list | dict):
            inner = _field_bounds(_inner_metadata(field.annotation))
            _walk_container(value, path, marker, inner, out)
        elif marker is not None and isinstance(value, int | float) and not isinstance(value, bool):
            out.append(Param(join_path(path), float(value), marker.role, lo, hi, lo_x, hi_x))


def _walk_container(value: Any, path: list[str | int], marker: Tunable | None,
                    bounds: tuple, out: list[Param]) -> None:
    """Numbers inside lists and dicts (bands, ratio rows, raises), nested at any depth."""
    items = enumerate(value) if isinstance(value, list) else value.items()
    for key, item in items:
        if isinstance(item, BaseModel):
            _walk(item, [*path, key], out)
        elif isinstance(item, list | dict):
            _walk_container(item, [*path, key], marker, bounds, out)
        elif marker is not None and isinstance(item, int | float) and not isinstance(item, bool):
            out.append(Param(join_path([*path, key]), float(item), marker.role, *bounds))


def list_params(policy: Policy) -> list[Param]:
    """Every tunable number of ``policy`` with its path, value, role and allowed range.

    The range is the tighter of the rule's own constraint (a step must be > 0) and the range HR
    declared for the path under ``ranges``.
    """
    found: list[Param] = []
    _walk(policy, [], found)
    out = []
    for p in found:
        if p.path.startswith("ranges."):
            continue
        declared = policy.ranges.get(p.path)
        lo, hi, lo_x, hi_x = p.min, p.max, p.min_exclusive, p.max_exclusive
        if declared is not None:
            if declared.min is not None and (lo is None or declared.min >= lo):
                lo, lo_x = declared.min, False
            if declared.max is not None and (hi is None or declared.max <= hi):
                hi, hi_x = declared.max, False
        out.append(Param(p.path, p.value, p.role, lo, hi, lo_x, hi_x))
    return out


def apply_params(policy: Policy, changes: dict[str, Any]) -> Policy:
    """A new policy with ``changes`` applied and validated (PolicyError on any problem).

    Changing numbers is what sliders and solvers do hundreds of times, so a change of plain
    numbers re-validates only the top-level parts it touches (a KPI, the grading, the pay) and
    the ranges declared for the changed paths, sharing every other part with ``policy``; names
    cannot change this way, so the cross-part checks still hold. Anything else — or any
    problem — goes through the whole-policy validation, which reports it with its path.
    """
    fast = _apply_numbers(policy, changes)
    return fast if fast is not None else _apply_whole(policy, changes)


def _apply_whole(policy: Policy, changes: dict[str, Any]) -> Policy:
    from calib.errors import PolicyError, PolicyIssue
    from calib.policy.load import validate_policy

    data = copy.deepcopy(policy.to_dict())
    issues = []
    for path, value in changes.items():
        try:
            old = get_path(data, path)
        except KeyError as exc:
            issues.append(PolicyIssue(path, str(exc.args[0])))
            continue
        if _is_number(old):
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                issues.append(PolicyIssue(path, f"needs a number, got {value!r}"))
                continue
        set_path(data, path, value)
    if issues:
        raise PolicyError(issues)
    return validate_policy(data)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_ADAPTERS: dict[tuple[str, bool], TypeAdapter] = {}


def _adapter(field_name: str, item: bool) -> TypeAdapter:
    """Validator of a top-level field of the policy (or of one item of a dict field)."""
    from calib.policy.model import Policy

    key = (field_name, item)
    if key not in _ADAPTERS:
        annotation = Policy.model_fields[field_name].annotation
        if item:
            annotation = typing.get_args(annotation)[1]
        _ADAPTERS[key] = TypeAdapter(annotation)  # type: ignore[arg-type]  # a field always has one
    return _ADAPTERS[key]


def _units(policy: Policy, changes: dict[str, Any]) -> dict[tuple, list[tuple[list, Any]]] | None:
    """Changes grouped by the top-level part they touch (``('grading',)``, ``('kpis', 'x')``);
    None when one is not a number at a path inside such a part.
    """
    fields = type(policy).model_fields
    parts: dict[tuple, list[tuple[list, Any]]] = {}
    for path, value in changes.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None
        try:
            steps = split_path(path)
        except KeyError:
            return None
        top = steps[0]
        if top == "ranges" or top not in fields or len(steps) < 2:
            return None
        is_dict = typing.get_origin(fields[top].annotation) is dict
        if is_dict and (len(steps) < 3 or not isinstance(steps[1], str)):
            return None
        unit = (top, steps[1]) if is_dict else (top,)
        parts.setdefault(unit, []).append((steps[len(unit):], value))
    return parts


def _apply_numbers(policy: Policy, changes: dict[str, Any]) -> Policy | None:
    """``policy`` with numbers replaced, re-validating only the parts touched; None when a
    change is not a number replacing a number (the caller then validates the whole policy).
    """
    from pydantic import ValidationError

    from calib.errors import PolicyError

    units = _units(policy, changes)
    if units is None:
        return None
    update: dict[str, Any] = {}
    values: dict[str, Any] = {}  # each changed path's validated value
    try:
        for unit, edits in units.items():
            container = update.get(unit[0], getattr(policy, unit[0]))
            current = container.get(unit[1]) if len(unit) == 2 else container
            if not isinstance(current, BaseModel):
                return None
            data = current.model_dump(mode="json", by_alias=True)
            for rest, value in edits:
                where = join_path(rest)
                if not _is_number(get_path(data, where)):
                    return None
                set_path(data, where, value)
            new = _adapter(unit[0], len(unit) == 2).validate_python(data)
            ranged = [rest for rest, _ in edits if join_path([*unit, *rest]) in policy.ranges]
            if ranged:  # the validated values ("20%" is 0.2) of paths with a declared range
                dumped = new.model_dump(mode="json", by_alias=True)
                for rest in ranged:
                    values[join_path([*unit, *rest])] = get_path(dumped, join_path(rest))
            update[unit[0]] = {**container, unit[1]: new} if len(unit) == 2 else new
    except (KeyError, ValidationError, PolicyError, ValueError, TypeError):
        return None
    out = policy.model_copy(update=update)
    return out if _within_declared(out, values) else None


def _within_declared(policy: Policy, values: dict[str, Any]) -> bool:
    """Every changed value inside the range declared for its path (if any)."""
    for path, value in values.items():
        declared = policy.ranges.get(path)
        if declared is None:
            continue
        if (declared.min is not None and value < declared.min) or (
                declared.max is not None and value > declared.max):
            return False
    return True
