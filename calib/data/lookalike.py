"""Text that looks the same to a person but not to calib: ``East``/``east``, ``Ｅ1``/``E1``.

calib compares text exactly (a group, a condition, an id), so two spellings that differ only in
case, character width (full-width letters and digits from a Chinese input method) or spacing would
silently count as two teams, or fail a condition (``position: Lead`` against ``eq: lead``). A
person reading the sheet sees one value. Such spellings are refused in the columns the policy
reads and in the people table's ids, naming the rows and the spelling to use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from calib._util.text import clean_text

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """The form two spellings share when a person would read them as the same text."""
    import unicodedata

    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def _preferred(spellings: list[str], counts: dict[str, int], policy_text: set[str]) -> str:
    """The spelling to keep: the policy's, else the most frequent, else the first by text."""
    in_policy = sorted(s for s in spellings if s in policy_text)
    if in_policy:
        return in_policy[0]
    return sorted(spellings, key=lambda s: (-counts[s], s))[0]


def lookalikes(values: pd.Series, policy_text: Iterable[str] = ()) -> dict[str, str]:
    """Each spelling in ``values`` that differs only in case, width or spaces from another one
    (in the column or in ``policy_text``), mapped to the spelling to use instead.
    """
    text = clean_text(values)
    counts = text.value_counts(dropna=True)
    if counts.empty:
        return {}
    policy_text = set(policy_text)
    spellings = [str(s) for s in counts.index]
    folded = pd.Series([fold(s) for s in spellings], dtype=object)
    groups: dict[str, list[str]] = {}
    for spelling, key in zip(spellings, folded, strict=True):
        groups.setdefault(key, []).append(spelling)
    for literal in policy_text:
        key = fold(literal)
        if key in groups and literal not in groups[key]:
            groups[key].append(literal)
    count = {str(k): int(v) for k, v in counts.items()}
    count.update({p: 0 for p in policy_text if p not in count})
    out: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        keep = _preferred(members, count, policy_text)
        out.update({m: keep for m in members if m != keep and m in counts.index})
    return out


def lookalike_rows(values: pd.Series, policy_text: Iterable[str] = ()
                   ) -> tuple[np.ndarray, dict[str, str]]:
    """(rows holding a look-alike spelling, the spelling to use for each)."""
    found = lookalikes(values, policy_text)
    if not found:
        return np.zeros(len(values), dtype=bool), found
    text = clean_text(values)
    return text.isin(list(found)).fillna(False).to_numpy(dtype=bool), found


def describe(found: dict[str, str], limit: int = 5) -> str:
    """``'East' → 'east', 'Ｅ1' → 'E1'`` for a message (at most ``limit`` pairs)."""
    pairs = [f"'{a}' → '{b}'" for a, b in sorted(found.items())[:limit]]
    more = f" and {len(found) - limit} more" if len(found) > limit else ""
    return ", ".join(pairs) + more


_SCIENTIFIC = re.compile(r"^[+-]?\d(?:\.\d+)?[eE][+-]?\d+$")
_WHOLE = re.compile(r"^0*(\d+?)(?:\.0+)?$")


def id_key(text: str) -> str:
    """The form of an id that survives what spreadsheets do to it: case, width and spaces (``fold``),
    a ``.0`` added to a number (1001 → 1001.0) and leading zeros dropped (00123 → 123).
    """
    key = fold(text)
    whole = _WHOLE.match(key)
    return whole.group(1) if whole else key


def id_fixes(unknown: Iterable[str], known: pd.Index) -> dict[str, str]:
    """How to fix each id not in the people table that a spreadsheet changed (the others are left
    out): a near spelling of a known id, or an id in scientific notation.
    """
    keys: dict[str, str] = {}
    for k in known:
        keys.setdefault(id_key(str(k)), str(k))
    out: dict[str, str] = {}
    for text in unknown:
        if _SCIENTIFIC.match(text.strip()):
            out[text] = ("the id is in scientific notation (Excel shows long numbers so and loses "
                         "their last digits): format the id column as text and type the ids again")
            continue
        match = keys.get(id_key(text))
        if match is not None and match != text.strip():
            out[text] = (f"the people table has '{match}', the same id spelt differently (case, "
                         "width, spaces, or a '.0' or leading zeros a spreadsheet added or dropped):"
                         f" write it as '{match}' and keep the id column as text")
    return out
