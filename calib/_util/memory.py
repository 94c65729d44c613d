"""Keeping freed memory in the process for interactive re-runs (glibc's ``mallopt``).

A slider's re-run at 10,000 people × 12 months makes a few dozen temporary arrays of about
1 MB each. glibc hands such blocks back to the operating system when they are freed (blocks
above its mmap threshold, and free space above its trim threshold at the top of the heap), so
the next re-run takes the memory again page by page: on the virtual machines measured here a
page fault costs about 3 µs, a 1 MB array about 0.8 ms, a third of a re-run's time. Raising the
two thresholds keeps freed blocks in the process for the next re-run to reuse.

The setting is process-wide, so only what re-runs many times turns it on (``Scenario`` and the
Monte Carlo simulation); ``CALIB_KEEP_FREED_MEMORY=0`` in the environment leaves the
allocator alone. The cost is memory: up to ``TRIM_THRESHOLD`` of freed memory stays with the
process instead of going back to the system. Elsewhere than on glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

MMAP_THRESHOLD = 32 * 2**20
"""Blocks below this come from the heap, where freed memory is reused (glibc's maximum)."""
TRIM_THRESHOLD = 256 * 2**20
"""Free memory at the top of the heap kept before any is given back to the system."""

_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3
ENV = "CALIB_KEEP_FREED_MEMORY"

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; whether they are raised.

    Does nothing (and answers False) with ``CALIB_KEEP_FREED_MEMORY=0``, off Linux, or when
    the C library has no ``mallopt`` or refuses the values.
    """
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    if os.environ.get(ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


CHUNK = 8 * 2**20
"""Size of each block ``prefault`` takes (below ``MMAP_THRESHOLD``: from the heap)."""


def prefault(nbytes: int) -> None:
    """Take about ``nbytes`` of memory from the system at once, write it and free it: with the
    thresholds raised it stays in the process, so the first re-runs of a session (while a
    scenario's memo of stage results grows to its budget) reuse it instead of faulting in new
    pages one by one. At most half of ``TRIM_THRESHOLD`` (freed memory past it goes back to the
    system anyway); does nothing unless ``keep_freed_memory`` is in effect.
    """
    if not keep_freed_memory():
        return
    import numpy as np

    nbytes = min(max(0, nbytes), TRIM_THRESHOLD // 2)
    blocks = [np.ones(CHUNK, dtype=np.uint8) for _ in range(nbytes // CHUNK)]
    del blocks

