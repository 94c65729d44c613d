"""Fail fast when the input is too large for this machine's memory, saying how much it needs.

A run holds the input tables, their typed columns, the stage arrays and the result tables at
once. Measured on the bundled examples scaled to a million person-months, the peak is about
``BYTES_PER_FILE_BYTE`` times the input files' size (per file kind: a CSV's text is smaller in
memory than on disk for numbers and larger for short texts; an .xlsx is compressed). Before
anything is read, the estimate is compared with the memory the system says is available; an
input that cannot fit is refused at once, naming the files, the estimate and what to do,
instead of being killed by the system an hour in or failing deep inside a parser.

``CALIB_AVAILABLE_MEMORY`` (bytes) overrides what the system reports (for tests, or to keep a
shared machine's headroom).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

#: Peak memory of a run per byte of input file, by file kind (measured; see benchmarks/).
BYTES_PER_FILE_BYTE = {".csv": 12.0, ".parquet": 30.0, ".xlsx": 60.0}
ENV = "CALIB_AVAILABLE_MEMORY"


def available_memory() -> int | None:
    """Bytes of memory available to a new run (``MemAvailable``), or None when unknown."""
    override = os.environ.get(ENV)
    if override:
        return int(float(override))
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def estimate(paths: Iterable[Path]) -> tuple[int, int]:
    """(total size of the files, estimated peak memory of a run over them), in bytes."""
    size = need = 0
    for path in paths:
        n = path.stat().st_size
        size += n
        need += int(n * BYTES_PER_FILE_BYTE.get(path.suffix.lower(), 12.0))
    return size, need


def too_large(paths: list[Path]) -> str | None:
    """A message when the files will not fit in the memory available, else None."""
    available = available_memory()
    if available is None or not paths:
        return None
    size, need = estimate(paths)
    if need <= available:
        return None
    names = ", ".join(p.name for p in paths[:4]) + (" …" if len(paths) > 4 else "")
    return (f"the input ({names}: {_gb(size)}) needs about {_gb(need)} of memory to run, and "
            f"this machine has {_gb(available)} available")


def _gb(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.1f} GB"
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB"
