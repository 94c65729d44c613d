"""One order for every input table, whatever order its file had (DESIGN.md principle 6).

HR re-sorts people.csv in Excel, exports records in another order, or moves a column: none of it
may change a grade, a cent or a byte of the outputs. So every table is put in a canonical order
as soon as it is read, before anything else looks at it:

- rows by the person's id, then the period (or date) column, then, only when two rows still tie
  (event tables), by every other column; the people table's order (and so the person codes that
  break ties on a quota boundary) is therefore the order of the ids;
- ids and periods are compared as people read them: when they are not all of one length, digit
  runs compare as numbers (``E2`` before ``E10``); otherwise as text;
- columns: the id, the period or date, the policy's declared columns in the policy's order, then
  any other columns by name.

The row numbers people see (file lines) move with their rows, so messages still name the line of
the file; the data's fingerprint is computed on the canonical tables and so does not depend on
row or column order either.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from calib.policy.model import Policy

_DIGITS = re.compile(r"\d+")
_SEPARATORS = re.compile(r"[\s\-/._:]+")


def natural_ranks(values: pd.Series) -> np.ndarray:
    """Each value's rank in the order people read (missing last); equal values share a rank.

    Text is compared as it is when all values have one length (``A0012`` < ``A0100``); otherwise
    digit runs compare as numbers and separators as one, so ``E2`` comes before ``E10`` and
    ``2025/1`` before ``2025-02``.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = [str(u).strip() for u in uniques]
    if len({len(t) for t in texts}) > 1:
        # digit runs as numbers, any run of separators as one ("2025/1" before "2025-02"); the
        # text itself last, so that two spellings never tie
        keys = [_DIGITS.sub(lambda m: m.group().lstrip("0").zfill(24), _SEPARATORS.sub(" ", t))
                + "\x00" + t for t in texts]
    else:
        keys = texts
    order = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.empty(len(keys) + 1, dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(keys))
    rank[-1] = len(keys)  # missing (code -1) last
    return rank[codes]


def row_order(frame: pd.DataFrame, keys: list[str]) -> np.ndarray | None:
    """The permutation that puts ``frame`` in canonical row order, or None when it already is.

    Rows are ordered by ``keys`` (the id, the period or date); rows that tie on them are ordered
    by all the other columns, so the order is a function of the content alone.
    """
    n = len(frame)
    if n < 2:
        return None
    ranks = [natural_ranks(frame[k]) for k in keys if k in frame.columns]
    if not ranks:
        ranks = [natural_ranks(frame[c].astype("string")) for c in sorted(frame.columns)]
    order = np.lexsort(ranks[::-1])
    if _ties(ranks, order):
        rest = [c for c in sorted(frame.columns) if c not in keys]
        ranks += [natural_ranks(frame[c].astype("string")) for c in rest]
        order = np.lexsort(ranks[::-1])
    if np.array_equal(order, np.arange(n)):
        return None
    return order


def _ties(ranks: list[np.ndarray], order: np.ndarray) -> bool:
    """Whether two rows in ``order`` are equal on every key."""
    same = np.ones(len(order) - 1, dtype=bool)
    for r in ranks:
        s = r[order]
        same &= s[1:] == s[:-1]
    return bool(same.any())


def column_order(frame: pd.DataFrame, first: list[str]) -> list[str]:
    """The columns in canonical order: ``first`` (those present), then the others by name."""
    head = [c for c in dict.fromkeys(first) if c in frame.columns]
    return head + sorted((c for c in frame.columns if c not in set(head)), key=str)


def table_keys(policy: Policy, table: str) -> tuple[list[str], list[str]]:
    """(row sort keys, leading columns) of one table, as the policy declares it."""
    pid = policy.inputs.id
    try:
        spec = policy.inputs.table(table)
    except (KeyError, ValueError):
        return [pid], [pid]
    keys = [k for k in (pid, spec.period, spec.date) if k is not None]
    return keys, [*keys, *spec.columns]
