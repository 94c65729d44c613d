"""Remembering stage results between re-runs of a ``Scenario`` (a slider's latency).

A stage's result is kept under a key made of the policy part it reads and a fingerprint of the
arrays it reads; a re-run after a change elsewhere finds it and skips the work. Plain runs pass
no store and compute everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def fingerprint(*arrays: np.ndarray) -> int:
    """A cheap identity of array contents (shape, dtype and bytes)."""
    return hash(tuple((a.shape, a.dtype.str, np.ascontiguousarray(a).tobytes()) for a in arrays))


STORE_SIZE = 256
"""Results a store keeps; past it, the least recently used quarter goes."""


def remember(store: dict | None, key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, or its earlier result under ``key`` when a store is given.

    A slider visits many values, so the store is bounded; it forgets the results used least
    recently (a dict keeps insertion order: a result used again moves to the end), so what
    every re-run reads (groups, rankings, layouts) stays.
    """
    if store is None:
        return compute()
    try:
        value = store.pop(key)
    except KeyError:
        if len(store) >= STORE_SIZE:
            for old in list(store)[:STORE_SIZE // 4]:
                del store[old]
        value = compute()
    store[key] = value
    return value


def remember_for(store: dict | None, owner: object, key: tuple, compute: Callable[[], Any]) -> Any:
    """``remember`` for a result derived from ``owner`` (an object, not an array): kept under
    the owner's identity, and found only while that very owner is the one asked about (an id
    can be reused once its object is gone).
    """
    if store is None:
        return compute()
    entry = remember(store, (*key, id(owner)), lambda: (owner, compute()))
    if entry[0] is not owner:
        entry = store[(*key, id(owner))] = (owner, compute())
    return entry[1]
