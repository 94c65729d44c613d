"""Saving a tuned policy in the words of the file HR wrote: comments, key order and the way each
number was typed (``98%``) stay, and only the values that changed change.

The original text and the new policy are compared as policies (the original read and validated,
both in full form), so a value typed differently but equal (``98%`` and 0.98) is not a change.
When every change is a new value for a scalar the text already holds (what ``with_params``,
sliders and solvers make), each is replaced in place in the text, in the form it was typed: the
diff shows exactly the changed numbers' lines. Otherwise (a part added or removed, a default
given a value) the text is edited with ruamel.yaml's round-trip mode, which keeps comments and
key order but may re-wrap a long flow list. Either way the result is read back and must equal
the new policy; when it does not, ``None`` is returned and the caller writes a plain document.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.events import (
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from calib.errors import PolicyError

if TYPE_CHECKING:
    from calib.policy.model import Policy

Path = tuple[str | int, ...]
_DEL = object()
_COMPLEX = object()


def _changes(old: Any, new: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """(path, new value or ``_DEL``) of every difference between two full policy documents."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            if key not in new:
                yield (*path, key), _DEL
        for key, value in new.items():
            if key not in old:
                yield (*path, key), value
            else:
                yield from _changes(old[key], value, (*path, key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _changes(a, b, (*path, i))
    elif old != new or isinstance(old, bool) != isinstance(new, bool):
        yield path, new


def _spans(text: str) -> dict[Path, tuple[int, int, str | None]]:
    """Each scalar value's (start, end, quote style) in the text, by path (one pass of events)."""
    out: dict[Path, tuple[int, int, str | None]] = {}
    stack: list[list[Any]] = []  # [kind, path (None: not addressed), pending key or next index]
    for event in YAML(typ="safe").parse(text):
        if isinstance(event, MappingEndEvent | SequenceEndEvent):
            stack.pop()
            continue
        if not isinstance(event, MappingStartEvent | SequenceStartEvent | ScalarEvent):
            continue
        here: Path | None = ()
        if stack:
            kind, base, pending = stack[-1]
            if kind == "map" and pending is None:
                if isinstance(event, ScalarEvent):
                    stack[-1][2] = event.value  # a key
                    continue
                stack[-1][2], here = _COMPLEX, None  # a complex key: not addressed
            elif kind == "map":
                here = (*base, pending) if base is not None and isinstance(pending, str) else None
                stack[-1][2] = None
            else:
                here = (*base, pending) if base is not None else None
                stack[-1][2] = pending + 1
        if isinstance(event, ScalarEvent):
            if here is not None:
                out[here] = (event.start_mark.index, event.end_mark.index, event.style)
        else:
            stack.append(["map" if isinstance(event, MappingStartEvent) else "seq", here,
                          None if isinstance(event, MappingStartEvent) else 0])
    return out


def _number_text(value: float, typed: str) -> str:
    """A number written as the old one was typed: ``97%`` for ``98%``, ``90`` for ``85``."""
    body = typed.strip()
    for sign, scale in (("%", 100), ("‰", 1000)):
        if body.endswith(sign):
            shown = (Decimal(repr(float(value))) * scale).normalize()
            return f"{shown:f}{sign}"
    if isinstance(value, float) and value.is_integer() and not any(c in body for c in ".eE"):
        return str(int(value))
    return repr(value)


def _scalar_text(value: Any, typed: str, style: str | None) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        raw = typed[1:-1] if style in ('"', "'") else typed
        text = _number_text(value, raw)
        return f"{style}{text}{style}" if style in ('"', "'") else text
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    return None


def _splice(text: str, changes: list[tuple[Path, Any]]) -> str | None:
    """The text with each changed scalar replaced in place; None when one is not a scalar there."""
    spans = _spans(text)
    edits = []
    for path, value in changes:
        span = spans.get(path)
        if span is None or value is _DEL or isinstance(value, dict | list) or value is None:
            return None
        start, end, style = span
        new = _scalar_text(value, text[start:end], style)
        if new is None:
            return None
        edits.append((start, end, new))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _rt_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _dump(yaml: YAML, doc: Any) -> str:
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _patch(text: str, before: str, after: str) -> str:
    """The edits ruamel made (``before`` → ``after``, both its own layout) applied to the original
    ``text`` line by line, so lines ruamel only re-wrapped stay as HR wrote them; ``after`` when
    an edited line has no counterpart in the text.
    """
    orig, old, new = text.splitlines(True), before.splitlines(True), after.splitlines(True)
    same: dict[int, int] = {}
    for block in difflib.SequenceMatcher(None, old, orig, autojunk=False).get_matching_blocks():
        same.update({block.a + k: block.b + k for k in range(block.size)})
    out: list[str] = []
    pos = 0  # the next line of the original not yet copied
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if i1 < i2:
            first = same.get(i1)
            if first is None or any(same.get(i) != first + i - i1 for i in range(i1, i2)):
                return after
            start, end = first, first + i2 - i1
        else:
            anchor = same.get(i1 - 1) if i1 > 0 else -1
            if anchor is None:
                return after
            start = end = anchor + 1
        if start < pos:
            return after
        out += orig[pos:start] + new[j1:j2]
        pos = end
    return "".join(out + orig[pos:])


def _round_trip(text: str, changes: list[tuple[Path, Any]], minimal: dict[str, Any]) -> str:
    """The text edited with ruamel.yaml's round-trip mode (comments and key order kept)."""
    yaml = _rt_yaml()
    before = _dump(yaml, yaml.load(text))
    doc = yaml.load(text)
    for path, value in changes:
        node = doc
        for i, part in enumerate(path[:-1]):
            ok = (isinstance(node, CommentedMap) and part in node) or (
                isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node))
            if not ok or not isinstance(node[part], CommentedMap | CommentedSeq):
                path = path[:i + 1]
                value = _at(minimal, path)
                break
            node = node[part]
        last = path[-1]
        if value is _DEL:
            if isinstance(node, CommentedMap) and last in node:
                del node[last]
        else:
            node[last] = value
    return _patch(text, before, _dump(yaml, doc))


def _at(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return _DEL
    return data


def keep_layout(text: str, policy: Policy, source: str = "<template>") -> str | None:
    """``policy`` written in the layout of the YAML ``text`` (comments, key order, typed forms),
    or None when the text is not a policy or the edited text would not read back as ``policy``.
    """
    from calib.policy.load import parse_policy

    try:
        old = parse_policy(text, source)
    except PolicyError:
        return None
    changes = list(_changes(old.to_dict(), policy.to_dict()))
    if not changes:
        return text
    minimal = policy.to_dict(minimal=True)
    out = _splice(text, changes)
    if out is None:
        out = _round_trip(text, [(p, _fill(minimal, p, v)) for p, v in changes], minimal)
    try:
        return out if parse_policy(out, source) == policy else None
    except PolicyError:
        return None


def _fill(minimal: dict[str, Any], path: Path, value: Any) -> Any:
    """A new part as the minimal document writes it (defaults left out), where it has one."""
    if isinstance(value, dict | list):
        short = _at(minimal, path)
        return short if short is not _DEL else value
    return value
