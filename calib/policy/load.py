"""Reading and writing policy documents: YAML (plain data only) or JSON, with line numbers.

The text is read by ``calib.policy.reader``, which refuses what it cannot read exactly (duplicate
keys, aliases, tags, deep nesting). Every number is then checked against the bounds, and errors
from pydantic are rewritten as ``PolicyIssue`` objects whose path uses the same addressing as
``Policy.params()`` and, for YAML, carry the line of the offending key.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML

from calib.errors import PolicyError, PolicyIssue
from calib.policy.model import Policy
from calib.policy.paths import join_path
from calib.policy.reader import check_values, read_json, read_yaml

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
"""Suffixes read as a policy workbook (``calib.policy.workbook``)."""


def _clean_loc(loc: tuple[Any, ...], data: Any, missing: bool = False) -> list[str | int]:
    """Drop the parts pydantic adds that are not in the document (union tags, 'function-after')."""
    out: list[str | int] = []
    node = data
    tag_seen: int | None = None
    for part in loc:
        if (isinstance(node, dict) and isinstance(part, str) and part == node.get("kind")
                and tag_seen != id(node)):
            tag_seen = id(node)
            continue  # the union's tag (a rule's kind): not a key, even when a key has its name
        if isinstance(node, dict) and part in node:
            node = node[part]
            out.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            out.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and part == "in_" and "in" in node:
            node = node["in"]
            out.append("in")
    if missing and loc and isinstance(loc[-1], str) and isinstance(node, dict):
        out.append(loc[-1])  # a missing required key: name it, it is not in the data
    return out


def _message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    msg = err.get("msg", "")
    if kind == "extra_forbidden":
        return "unknown key (check its spelling; unknown keys are refused so a typo cannot pass)"
    if kind == "missing":
        return "is required"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "needs a 'kind'"
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    if "input" in err and not isinstance(err["input"], dict | list):
        msg += f"; got {err['input']!r}"
    return msg


def _issues_with_lines(issues: list[PolicyIssue], lines: dict[str, int]) -> list[PolicyIssue]:
    out = []
    for issue in issues:
        line = issue.line
        path = issue.path
        while line is None and path:
            line = lines.get(path)
            if line is None:
                path = path.rsplit(".", 1)[0] if "." in path else (
                    path.rsplit("[", 1)[0] if "[" in path else "")
        out.append(PolicyIssue(issue.path, issue.message, line))
    return out


def validate_policy(data: Any, source: str | None = None,
                    lines: dict[str, int] | None = None) -> Policy:
    """Validate plain data as a policy; every problem is collected into one PolicyError."""
    lines = lines or {}
    if data is None:
        raise PolicyError([PolicyIssue("", "the policy is empty: start from an example's "
                                       "policy.yaml (datasets/*/policy.yaml)")], source)
    if not isinstance(data, dict):
        got = "a list" if isinstance(data, list) else f"a single value ({str(data)[:40]!r})"
        raise PolicyError([PolicyIssue("", "a policy document must be a mapping of keys to "
                                       f"values (name: ..., kpis: ...), got {got}")], source)
    problems = check_values(data)  # every number bounded and finite, nesting shallow: before the model
    if problems:
        raise PolicyError(_issues_with_lines(problems, lines), source)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        issues = [PolicyIssue(join_path(_clean_loc(e["loc"], data, e.get("type") == "missing")),
                              _message(dict(e))) for e in exc.errors()]
        raise PolicyError(_issues_with_lines(issues, lines), source) from None
    except PolicyError as exc:
        raise PolicyError(_issues_with_lines(exc.issues, lines), source) from None


def parse_policy(text: str, source: str = "<text>", fmt: str = "yaml") -> Policy:
    """Build a policy from YAML or JSON text.

    The text is checked whole: every problem is reported at once, each with its path and, for
    YAML, its line. JSON text that is a frozen file has its hashes checked before it is used.

    Parameters
    ----------
    text : str
        The policy document (or, with ``fmt="json"``, a frozen file's text).
    source : str, optional
        Where the text came from, named in error messages (default ``"<text>"``).
    fmt : str, optional
        ``"yaml"`` (the default) or ``"json"``.

    Returns
    -------
    Policy
        The validated policy.

    Raises
    ------
    PolicyError
        If the text cannot be read exactly (duplicate keys, aliases, tags), a number is out of
        bounds, the document is not a valid policy, or a frozen file's hash does not match.

    Examples
    --------
    >>> from pathlib import Path
    >>> text = Path("datasets/ecommerce_cs/policy.yaml").read_text(encoding="utf-8")
    >>> policy = calib.parse_policy(text, "policy.yaml")
    >>> policy.name
    'ecommerce_cs'
    """
    if fmt == "json":
        data = read_json(text, source)
        from calib.policy.frozen import is_frozen, read_frozen

        if is_frozen(data):  # a frozen file: its hash is checked before anything is used
            return read_frozen(data, source).policy
        return validate_policy(data, source)
    data, lines = read_yaml(text, source)
    return validate_policy(data, source, lines)


def load_policy(path: str | Path) -> Policy:
    """Load a policy from a ``.yaml``/``.yml`` or ``.json`` file (a frozen file is JSON too), or
    from a policy workbook (``.xlsx``, ``calib.policy.workbook``).

    The format follows the suffix (``.json`` is JSON, ``.xlsx``/``.xlsm`` a policy workbook,
    anything else YAML); the text must be UTF-8. A workbook's problems name the sheet, row and
    column instead of the line.

    Parameters
    ----------
    path : str or Path
        The policy file.

    Returns
    -------
    Policy
        The validated policy (for a frozen file, the policy it holds, its hashes checked).

    Raises
    ------
    PolicyError
        If the path is a folder or does not exist, the file is not UTF-8, or the policy is
        invalid (every problem at once, each with its path and YAML line, or workbook place).

    Examples
    --------
    >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    >>> policy.name
    'ecommerce_cs'
    """
    path = Path(path)
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*")
                       if p.suffix.lower() in (".yaml", ".yml", ".json", *WORKBOOK_SUFFIXES))
        hint = f"; it holds {', '.join(found)}" if found else ""
        raise PolicyError([PolicyIssue("", f"{path} is a folder, not a policy file: name the "
                                           f"policy's .yaml or .json file{hint}")], str(path))
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        from calib.policy.workbook import workbook_to_policy

        return workbook_to_policy(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError([PolicyIssue("", f"file not found: {path}")], str(path)) from None
    except UnicodeDecodeError as exc:
        raise PolicyError([PolicyIssue("", f"not UTF-8 text (byte {exc.start}): save the policy "
                                           "file as UTF-8")], str(path)) from None
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    return parse_policy(text, str(path), fmt)


def dump_policy(policy: Policy, fmt: str = "yaml", like: str | Path | None = None) -> str:
    """The policy as YAML (readable, Chinese kept, defaults left out) or JSON; loading it back
    gives an equal policy.

    With ``like`` (the YAML file the policy was tuned from), the YAML is that file's text with
    only the changed values changed: HR's comments, key order and typed forms (``98%``) stay
    (``calib.policy.keep_yaml``). When ``like`` is not a readable policy, or the kept layout
    would not read back as ``policy``, the plain document is written instead.

    Parameters
    ----------
    policy : Policy
        The policy to write out.
    fmt : str, optional
        ``"yaml"`` (the default: values equal to their default left out, for people to read) or
        ``"json"`` (the same data, keys sorted, indented).
    like : str or Path, optional
        A YAML policy file whose comments and layout to keep (YAML only).

    Returns
    -------
    str
        The document's text, ending with a newline.

    Examples
    --------
    >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    >>> text = calib.dump_policy(policy)
    >>> text.splitlines()[0]
    'name: ecommerce_cs'
    >>> calib.parse_policy(text) == policy
    True
    """
    data = policy.to_dict(minimal=True)
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if like is not None:
        kept = _like(policy, Path(like))
        if kept is not None:
            return kept
    out = io.StringIO()
    writer = YAML(typ="safe", pure=True)
    writer.default_flow_style = False
    writer.allow_unicode = True
    writer.width = 100
    writer.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # ruamel types it None
    writer.dump(data, out)
    return out.getvalue()


def _like(policy: Policy, like: Path) -> str | None:
    """``policy`` in the layout of the YAML file ``like``, or None (see ``dump_policy``)."""
    from calib.policy.keep_yaml import keep_layout

    if like.suffix.lower() not in (".yaml", ".yml") or not like.is_file():
        return None
    try:
        text = like.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return keep_layout(text, policy, str(like))


def save_policy(policy: Policy, path: str | Path, like: str | Path | None = None) -> None:
    """Write the policy to ``path`` (format from the suffix).

    A ``.json`` suffix writes JSON, ``.xlsx`` a policy workbook, anything else YAML, as
    ``dump_policy`` makes them; the file is UTF-8 and ``load_policy`` reads it back as an equal
    policy. A YAML file keeps the comments, key order and typed forms of ``like`` (the file the
    policy was tuned from) or, without ``like``, of the YAML policy file it replaces: only the
    changed values' lines change.

    Parameters
    ----------
    policy : Policy
        The policy to write.
    path : str or Path
        The file to write (replaced if it exists).
    like : str or Path, optional
        The original YAML policy whose comments and layout to keep (default: ``path`` itself
        when it is an existing YAML policy).

    Examples
    --------
    >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    >>> calib.save_policy(policy, "tuned.yaml")
    >>> calib.load_policy("tuned.yaml") == policy
    True
    """
    path = Path(path)
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        from calib.policy.workbook import policy_to_workbook

        policy_to_workbook(policy, path)
        return
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    if like is None and fmt == "yaml" and path.is_file():
        like = path  # overwriting the YAML it came from: keep its comments
    path.write_text(dump_policy(policy, fmt, like=like), encoding="utf-8")


def json_schema() -> dict[str, Any]:
    """JSON Schema of the policy document (for editors and other tools).

    Editors use it to complete and check a policy file as it is typed; the full checks (bounds,
    references between parts) are ``load_policy``'s.

    Returns
    -------
    dict
        The schema, as plain JSON-compatible data.

    Examples
    --------
    >>> schema = calib.json_schema()
    >>> "properties" in schema
    True
    """
    return Policy.model_json_schema(by_alias=True)
