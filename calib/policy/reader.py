"""Reading policy text exactly, or refusing it: YAML (ruamel.yaml) and JSON into plain data.

What is refused, and why (README, "Decisions"):

- a key given twice in one mapping (YAML or JSON): which one was meant cannot be known, and the
  later one silently winning once raised total pay by 115 %; both lines are named;
- YAML aliases (``*name``) and merge keys (``<<``): a policy is short enough to write out, and an
  alias can make a 1 KB document expand to gigabytes (the "billion laughs"); refusing them at the
  parser's event makes that impossible instead of merely bounded;
- explicit tags other than YAML's own (``!!python/object``, ``!custom``): nothing but plain data
  is read;
- nesting deeper than ``MAX_DEPTH``: a real policy is a few levels deep, and deep nesting is how
  a document exhausts the stack;
- more than one document in a file.

The YAML is read in ONE pass over the parser's events (libyaml through ruamel.yaml.clib when
installed, else ruamel's own parser): each key and list item gets its line, aliases and tags are
refused as they come, and nothing is ever expanded. ruamel's round-trip loader gives the same
line numbers but took 35 s on a 2.6 MB policy; the event pass takes a few seconds. Scalars are
typed by ruamel's YAML 1.2 resolver (only true/false are booleans, so ``on: year`` keeps the key
``on``) and built by its safe constructor.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import ScalarNode

from calib.errors import PolicyError, PolicyIssue
from calib.policy.base import out_of_bounds
from calib.policy.paths import join_path

MAX_DEPTH = 64
"""The deepest nesting a policy may have (a real one is under 10 levels)."""

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_NO_KEY = object()
_ALIAS_FIX = ("write the values out instead of using &anchors and *aliases (calib refuses aliases "
              "so that a small file cannot expand to an enormous one)")


@dataclass
class _Frame:
    """An open mapping or list while the events are read."""

    obj: dict[Any, Any] | list[Any]
    path: list[str | int]
    key: Any = _NO_KEY
    key_text: str = ""
    key_lines: dict[Any, int] = field(default_factory=dict)


class _YamlReader:
    """Builds plain data and the line map from the parser's events (see the module docstring)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.yaml = YAML(typ="safe")
        self.resolver = self.yaml.resolver
        self.constructor = self.yaml.constructor
        self.constructors = {t: f for t, f in type(self.constructor).yaml_constructors.items()
                             if t in _SCALAR_TAGS}
        self.lines: dict[str, int] = {}
        self.tags: dict[str, str] = {}
        self.duplicates: list[PolicyIssue] = []
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0

    def fail(self, path: list[str | int], message: str, line: int | None) -> PolicyError:
        """A fatal problem at ``path``: reading stops here."""
        return PolicyError([PolicyIssue(join_path(path), message, line)], self.source)

    def read(self, text: str) -> tuple[Any, dict[str, int]]:
        """The document as plain data, and path → line of every key and list item."""
        for event in self.yaml.parse(text):
            self.event(event)
        if self.duplicates:
            raise PolicyError(self.duplicates, self.source)
        return self.root, self.lines

    def here(self) -> list[str | int]:
        """The path of the value being read."""
        if not self.stack:
            return []
        top = self.stack[-1]
        if isinstance(top.obj, list):
            return [*top.path, len(top.obj)]
        return [*top.path, top.key_text] if top.key is not _NO_KEY else list(top.path)

    def event(self, event: Any) -> None:
        """Handle one parser event."""
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.fail([], "the file holds more than one YAML document (a second '---'); "
                                "a policy is one document: remove the extra '---' and what follows "
                                "or put it in its own file", line)
        elif isinstance(event, AliasEvent):
            raise self.fail(self.here(), f"uses the alias *{event.anchor}; {_ALIAS_FIX}", line)
        elif isinstance(event, ScalarEvent):
            self.check_tag(event, line, scalar=True)
            self.place(self.scalar(event, line), line, event.value)
        elif isinstance(event, MappingStartEvent | SequenceStartEvent):
            self.open(event, line)
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            self.stack.pop()

    def check_tag(self, event: Any, line: int | None, scalar: bool) -> None:
        """Only YAML's own tags: ``!!python/object`` and custom tags could mean code or objects."""
        tag = event.tag
        if tag is None or tag == "!":
            return
        allowed = _SCALAR_TAGS if scalar else {f"{_CORE}map", f"{_CORE}seq"}
        if str(tag) not in allowed:
            shown = str(tag).replace(_CORE, "!!")
            raise self.fail(self.here(), f"has the tag {shown}; a policy holds plain values only "
                            "(text, numbers, true/false, lists and mappings): remove the tag", line)

    def scalar(self, event: Any, line: int | None) -> Any:
        """The scalar's value, typed by the YAML 1.2 rules (only true/false are booleans)."""
        if event.tag == "!":
            return event.value
        tag = str(event.tag) if event.tag is not None else self.resolve(event)
        if tag == f"{_CORE}str":
            return event.value
        if tag == f"{_CORE}merge":
            raise self.fail(self.here(), f"uses a merge key '<<'; {_ALIAS_FIX}", line)
        build = self.constructors.get(tag)
        if build is None:
            return event.value
        return build(self.constructor, ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                                                  style=event.style))

    def resolve(self, event: Any) -> str:
        """The implicit tag of an untagged scalar (quoted: text; plain: by the YAML 1.2 rules),
        remembered per text because a policy repeats the same words and numbers many times.
        """
        if not event.implicit[0]:
            return f"{_CORE}str"
        tag = self.tags.get(event.value)
        if tag is None:
            tag = str(self.resolver.resolve(ScalarNode, event.value, event.implicit))
            self.tags[event.value] = tag
        return tag

    def open(self, event: Any, line: int | None) -> None:
        """A mapping or list starts: place it in its parent, then read into it."""
        self.check_tag(event, line, scalar=False)
        path = self.here()
        if len(self.stack) >= MAX_DEPTH:
            raise self.fail(_short(path), f"is nested more than {MAX_DEPTH} levels deep; a policy is "
                            "only a few levels deep: check for unclosed or repeated brackets [ {", line)
        obj: dict[Any, Any] | list[Any] = {} if isinstance(event, MappingStartEvent) else []
        if self.stack and isinstance(self.stack[-1].obj, dict) and self.stack[-1].key is _NO_KEY:
            raise self.fail(path, "has a list or mapping as a key; keys are plain words", line)
        self.place(obj, line, None)
        self.stack.append(_Frame(obj, path))

    def place(self, value: Any, line: int | None, text: str | None) -> None:
        """Put a value where the reading is: the root, a list item, a key, or a key's value."""
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.obj, list):
            self.lines[join_path([*top.path, len(top.obj)])] = line or 0
            top.obj.append(value)
        elif top.key is _NO_KEY:
            self.key(top, value, line, text)
        else:
            top.obj.setdefault(top.key, value)  # a repeated key keeps its first value (refused)
            top.key = _NO_KEY

    def key(self, top: _Frame, key: Any, line: int | None, text: str | None) -> None:
        """A mapping's key: its line, and a refusal when the mapping already has it."""
        text = text if text is not None else str(key)
        path = [*top.path, text]
        if key in top.key_lines:
            first = top.key_lines[key]
            where = f"both on line {line}" if first == line else f"lines {first} and {line}"
            self.duplicates.append(PolicyIssue(
                join_path(path), f"the key '{text}' is given twice in the same place ({where}); "
                "calib will not guess which one you meant: keep one and delete or merge the other",
                line))
        else:
            top.key_lines[key] = line or 0
            self.lines[join_path(path)] = line or 0
        top.key, top.key_text = key, text


def _short(path: list[str | int], keep: int = 6) -> list[str | int]:
    """The first steps of a very long path (a deep nesting would print hundreds)."""
    return path if len(path) <= keep else [*path[:keep], "..."]


def read_yaml(text: str, source: str = "<text>") -> tuple[Any, dict[str, int]]:
    """Plain data from YAML text and the line of every key and list item (see module docstring).

    Raises ``PolicyError`` for text that is not YAML, duplicate keys, aliases, tags, deep nesting.
    """
    reader = _YamlReader(source)
    try:
        return reader.read(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or exc.context or str(exc)) + _yaml_hint(text, line)
        raise PolicyError([PolicyIssue("", f"not valid YAML: {problem}", line)], source) from None
    except YAMLError as exc:
        raise PolicyError([PolicyIssue("", f"not valid YAML: {exc}")], source) from None


#: characters a Chinese input method types in place of YAML's own, with what YAML needs
_LOOKALIKE_SYNTAX = {"：": "':' and a space", "，": "','", "－": "'-'", "　": "plain spaces",
                     "\t": "spaces (YAML indents with spaces, not tabs)"}


def _yaml_hint(text: str, line: int | None) -> str:
    """What to change when the lines around a YAML error hold look-alike syntax (a full-width
    colon from a Chinese input method, a tab), which the parser reports only as a bare error.
    """
    if line is None:
        return ""
    lines = text.splitlines()
    for n in (line, line - 1, line + 1):
        if 1 <= n <= len(lines):
            for char, need in _LOOKALIKE_SYNTAX.items():
                if char in lines[n - 1]:
                    return (f"; line {n} has {'a tab' if char == chr(9) else repr(char)}: "
                            f"write {need} instead")
    return ""


def read_json(text: str, source: str = "<text>") -> Any:
    """Plain data from JSON text; a key given twice in one object is refused, naming its path
    and (when the text can be located) both lines. Used for policies and frozen files alike.
    """
    repeated: list[tuple[dict[str, Any], str]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                repeated.append((out, key))
            else:
                out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise PolicyError([PolicyIssue("", f"not valid JSON: {exc.msg}", exc.lineno)], source) from None
    except RecursionError:
        raise PolicyError([PolicyIssue("", "the JSON is nested too deeply to read (thousands of "
                                       f"levels; a policy needs fewer than {MAX_DEPTH}): check for "
                                       "repeated brackets [ {")], source) from None
    if repeated:
        raise _json_duplicates(text, data, repeated, source)
    return data


def _json_duplicates(text: str, data: Any, repeated: list[tuple[dict[str, Any], str]],
                     source: str) -> PolicyError:
    """The duplicate-key error of a JSON text: with both lines when the text reads as YAML 1.2
    (JSON nearly always does), else with the key's path alone.
    """
    try:
        read_yaml(text, source)
    except PolicyError as exc:
        if exc.issues and all("given twice" in i.message for i in exc.issues):
            return exc
    paths = _paths_of({id(obj) for obj, _ in repeated}, data)
    issues = [PolicyIssue(join_path([*paths.get(id(obj), []), key]),
                          f"the key '{key}' is given twice in the same object; calib will not guess "
                          "which one you meant: keep one and delete or merge the other")
              for obj, key in repeated]
    return PolicyError(issues, source)


def _paths_of(wanted: set[int], data: Any) -> dict[int, list[str | int]]:
    """Path of each object in ``wanted`` (by id) inside ``data``, walked without recursion."""
    found: dict[int, list[str | int]] = {}
    todo: list[tuple[Any, list[str | int]]] = [(data, [])]
    while todo:
        node, path = todo.pop()
        if id(node) in wanted:
            found[id(node)] = path
        if isinstance(node, dict):
            todo.extend((v, [*path, k]) for k, v in node.items())
        elif isinstance(node, list):
            todo.extend((v, [*path, i]) for i, v in enumerate(node))
    return found


def check_values(data: Any) -> list[PolicyIssue]:
    """Every number of plain policy data is finite and within ``MAX_INPUT``, and the nesting is
    within ``MAX_DEPTH``: one walk over the data (however it was read) before the model sees it,
    so no field can be forgotten. Problems come in document order, with their paths.
    """
    issues: list[PolicyIssue] = []
    todo: list[tuple[Any, list[str | int]]] = [(data, [])]
    while todo:
        node, path = todo.pop()
        if isinstance(node, dict | list):
            if len(path) >= MAX_DEPTH:
                issues.append(PolicyIssue(join_path(_short(path)), f"is nested more than {MAX_DEPTH} "
                                          "levels deep; a policy is only a few levels deep"))
                continue
            items = node.items() if isinstance(node, dict) else enumerate(node)
            todo.extend(reversed([(v, [*path, k]) for k, v in items]))
        elif isinstance(node, int | float) and not isinstance(node, bool):
            problem = _number_problem(node)
            if problem is not None:
                issues.append(PolicyIssue(join_path(path), problem))
    return issues


def _number_problem(value: float) -> str | None:
    """Why one number of a policy is refused, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return (f"{value} is not a number calib can use (NaN and infinity are refused); write the "
                "intended number")
    return out_of_bounds(value)
