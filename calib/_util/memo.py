"""Remembering stage results between re-runs of a ``Scenario`` (a slider's latency).

A stage's result is kept under a key made of the policy part it reads and a fingerprint of the
arrays it reads; a re-run after a change elsewhere finds it and skips the work. Plain runs pass
no store and compute everything.

A store is bounded by entries and, for a ``Memo``, by the bytes of the arrays it holds: every
new value of a KPI slider makes new scores and with them a new set of populations, rankings
and pay (about 27 columns of the data's length), and keeping them all would grow the process
by that much per move — and each new page costs a page fault. Forgetting the least recently
used results lets the next re-run reuse their memory instead.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

STORE_SIZE = 256
"""Results a store keeps; past it, the least recently used go."""
MIN_BYTES = 8 * 2**20
"""The least a ``Memo`` may hold in arrays before it forgets (see ``Memo.for_rows``)."""
COLUMNS = 64
"""A ``Memo`` for ``n`` rows may hold this many float columns of ``n`` rows (or ``MIN_BYTES``)."""


def fingerprint(*arrays: np.ndarray) -> int:
    """A cheap identity of array contents (shape, dtype and bytes)."""
    return hash(tuple((a.shape, a.dtype.str, np.ascontiguousarray(a).tobytes()) for a in arrays))


_SLOTS: dict[int, tuple[weakref.ref, dict]] = {}


def object_slot(obj: Any) -> dict:
    """A dict of what was worked out from ``obj`` (by content: its hash, its JSON, its terms),
    kept while that very object lives and dropped with it: for objects never changed once
    made (policy parts, the data's columns, a stage's outputs), which many re-runs share.
    """
    entry = _SLOTS.get(id(obj))
    if entry is None or entry[0]() is not obj:
        ident = id(obj)
        entry = _SLOTS[ident] = (weakref.ref(obj, _forget_slot(ident)), {})
    return entry[1]


def _forget_slot(ident: int, slots: dict = _SLOTS) -> Callable[[Any], None]:
    """The weakref callback that drops an object's slot when it is gone (``slots`` bound now:
    at interpreter exit the module's globals may already be cleared).
    """
    return lambda _: slots.pop(ident, None)


def array_key(array: np.ndarray) -> int:
    """``fingerprint(array)``, remembered while that very array lives: for arrays that are
    never changed in place once made (the data's columns, a stage's outputs), which many
    re-runs share — hashing a million rows again on every re-run costs milliseconds.
    """
    slot = object_slot(array)
    key = slot.get("fingerprint")
    if key is None:
        key = slot["fingerprint"] = fingerprint(array)
    return key


def stored_key(store: dict | None, *arrays: np.ndarray, kept: bool = True) -> int:
    """A memo key for the arrays' contents when there is a ``store`` to look them up in (0
    otherwise: a plain run remembers nothing, so it hashes nothing). ``kept``: the arrays are
    never changed in place, so each one's key is hashed once (``array_key``); else the contents
    are hashed on every call (``fingerprint``).
    """
    if store is None:
        return 0
    return hash(tuple(array_key(a) for a in arrays)) if kept else fingerprint(*arrays)


def json_key(model: Any, **options: Any) -> str:
    """``model.model_dump_json(**options)``, remembered while that very model lives: policy
    parts are frozen, and a re-run writes the same parts into its memo keys again and again.
    """
    slot = object_slot(model)
    how = ("json", *((k, tuple(sorted(v)) if isinstance(v, set | frozenset) else v)
                     for k, v in sorted(options.items()))) if options else "json"
    text = slot.get(how)
    if text is None:
        text = slot[how] = model.model_dump_json(**options)
    return text


class Memo(dict):
    """A store that also counts the bytes of the arrays in its results and forgets the least
    recently used ones past ``budget``.
    """

    def __init__(self, budget: int = MIN_BYTES):
        super().__init__()
        self.users = 0
        """Scenarios sharing this store (see ``join``)."""
        self.budget = budget
        self.sizes: dict[tuple, int] = {}
        self.bytes = 0

    @classmethod
    def for_rows(cls, n: int) -> Memo:
        """A store for a data set of ``n`` rows: ``COLUMNS`` columns' worth, at least
        ``MIN_BYTES``.
        """
        return cls(max(MIN_BYTES, COLUMNS * 8 * n))

    def join(self, user: object) -> None:
        """Count ``user`` (a ``Scenario``) among those sharing this store; when the last one is
        gone, every result is forgotten. Results refer to the frame they came from, and the
        frame to this store: without that, a dropped scenario's arrays would wait for the
        garbage collector's next full pass instead of being freed at once.
        """
        self.users += 1
        weakref.finalize(user, self._leave).atexit = False  # nothing to free at exit

    def _leave(self) -> None:
        self.users -= 1
        if self.users == 0:
            self.clear()
            self.sizes.clear()
            self.bytes = 0

    def forget_oldest(self) -> None:
        """Drop the least recently used result."""
        old = next(iter(self))
        del self[old]
        self.bytes -= self.sizes.pop(old, 0)


def remember(store: dict | None, key: tuple, compute: Callable[[], Any],
             size: Callable[[Any], int] | None = None) -> Any:
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
        value = compute()
        if isinstance(store, Memo):
            nbytes = (size or footprint)(value)
            store.sizes[key] = nbytes
            store.bytes += nbytes
            while store and store.bytes > store.budget:  # the new result is not in yet
                store.forget_oldest()
        while len(store) >= STORE_SIZE:
            if isinstance(store, Memo):
                store.forget_oldest()
            else:
                del store[next(iter(store))]
    store[key] = value
    return value


def replace(store: dict, key: tuple, value: Any,
            size: Callable[[Any], int] | None = None) -> None:
    """Put ``value`` under ``key`` in place of what was there, counted (by ``size``, else its
    ``footprint``) and bounded as ``remember`` counts (a slot that each re-run overwrites: the
    last run's result).
    """
    if key in store:
        del store[key]
        if isinstance(store, Memo):
            store.bytes -= store.sizes.pop(key, 0)
    remember(store, key, lambda: value, size)


def remember_for(store: dict | None, owner: object, key: tuple, compute: Callable[[], Any]) -> Any:
    """``remember`` for a result derived from ``owner`` (an object, not an array): kept under
    the owner's identity, and found only while that very owner is the one asked about (an id
    can be reused once its object is gone).
    """
    if store is None:
        return compute()
    # the owner is held weakly: it is kept (and counted) elsewhere, and a result that refers
    # back to its owner (flags to their population, whose store this may be) would otherwise
    # make a cycle that only the garbage collector frees
    entry = remember(store, (*key, id(owner)), lambda: (weakref.ref(owner), compute()),
                     lambda entry: footprint(entry[1]))
    if entry[0]() is not owner:
        entry = store[(*key, id(owner))] = (weakref.ref(owner), compute())
    return entry[1]


def footprint(value: Any, depth: int = 0, seen: set[int] | None = None) -> int:
    """About how many bytes of arrays ``value`` holds: arrays and tables found through tuples,
    lists, dicts and the fields of plain objects (a few levels deep; shared arrays once).

    What a result refers to but does not own — the data's frame, the policy, other stores,
    functions — is not counted. Every new stage result of a slider's move is measured, so what
    to do with each type is decided once per type (``_HOW``).
    """
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    how = _HOW.get(type(value))
    if how is None:
        how = _HOW[type(value)] = _how(type(value))
    if how == "array":
        return _array_bytes(value, seen)
    if how == "skip" or depth >= 4:
        return 0
    if how == "frame":
        return int(value.memory_usage(index=False, deep=False).sum())
    if how == "series":
        return int(value.memory_usage(deep=False))
    return sum(footprint(v, depth + 1, seen) for v in _parts(value, how))


_HOW: dict[type, str] = {}
"""What ``footprint`` does with a value of each type (see ``_how``)."""


def _how(kind: type) -> str:
    """"array", "frame", "series", "items" (a tuple, list or set), "dict", "lazy" (a built
    ``Lazy``'s value), "fields" (calib's own objects and dataclasses), or "skip": numbers, text,
    stores, and what is kept elsewhere (a frame, policy or population: the data).
    """
    if issubclass(kind, np.ndarray):
        return "array"
    if issubclass(kind, pd.DataFrame):
        return "frame"
    if issubclass(kind, pd.Series | pd.Index):
        return "series"
    if issubclass(kind, str | bytes | int | float | bool | Memo) or kind is type(None):
        return "skip"
    if issubclass(kind, tuple | list | set | frozenset):
        return "items"
    if issubclass(kind, dict):
        return "dict"
    if kind.__name__ == "Lazy":
        return "lazy"
    if kind.__name__ in ("Frame", "Policy", "Population") or not (
            dataclasses.is_dataclass(kind) or kind.__module__.startswith("calib.")):
        return "skip"
    return "fields"


def _array_bytes(array: np.ndarray, seen: set[int]) -> int:
    """The bytes of the array that owns ``array``'s memory, once."""
    base = array
    while isinstance(base.base, np.ndarray):
        base = base.base
    if base is not array and id(base) in seen:
        return 0
    seen.add(id(base))
    return int(base.nbytes)


def _parts(value: Any, how: str) -> list:
    """What ``footprint`` looks into: items, dict values, a built ``Lazy``'s value, the fields
    of calib's own objects (not functions or stores).
    """
    if how == "items":
        first = next(iter(value), None)
        if callable(first) or (len(value) > 16 and not isinstance(
                first, np.ndarray | tuple | list | dict)):
            return []  # functions; names, numbers: small beside the arrays, slow to walk
        return list(value)
    if how == "dict":
        return list(value.values())
    if how == "lazy":
        return [getattr(value, "_value", None)]
    if not hasattr(value, "__dict__"):
        return []
    return [v for k, v in vars(value).items() if not k.startswith("memo") and not callable(v)]
