"""Fail fast when the input is too large for this machine's memory, saying how much it needs.

A run holds the input tables, their typed columns, the stage arrays and the result tables at
once. Its peak resident memory is about ``BASE_BYTES`` (the interpreter, pandas and pyarrow)
plus ``BYTES_PER_FILE_BYTE`` times the input files' size, by file kind. Before anything is read,
this estimate is compared with the memory available; an input that cannot fit is refused at
once, naming the files, the estimate and what to do, instead of being killed by the system an
hour in or failing deep inside a parser. When memory still runs out (the machine got busier, the
shape of the data is heavier than measured), ``out_of_memory`` gives the same message in place
of a ``MemoryError`` or pyarrow's ``ArrowMemoryError``.

Measured (``benchmarks/scale_input.py``, ``calib run`` in a fresh process under ``/usr/bin/time
-v``, 2-core machine with 24 GB, 2026-12-07; input MB = 10^6 bytes of CSV, peak in MiB; see
``benchmarks/RESULTS.md``):

=========================  ========  ======  =========  ===========  ===============
shape                      input MB  rows    peak MiB   peak / byte  estimate MiB
=========================  ========  ======  =========  ===========  ===============
10 KPIs + grades + pay          52   0.54M       881         17.8        1,242
10 KPIs + grades + pay          96   1.0M      1,396         15.3        2,040
10 KPIs + grades + pay         259   2.7M      3,498         14.2        4,993
10 KPIs + grades + pay       1,037   10.7M    13,618         13.8       19,090
gas_cs (copies)                 32   0.46M       730         23.9          880
gas_cs (copies)                322   4.6M      5,388         17.5        6,135
gas_cs (copies)              1,031   14.6M    16,595         16.9       18,982
=========================  ========  ======  =========  ===========  ===============

The slope between sizes is 13.6 bytes per byte for the 10-KPI scheme (93 bytes a row) and 16.7
for gas_cs (55 bytes a row, a ratings table, grades by team): the cost goes with rows and
columns more than bytes, so short rows cost more per byte; the intercepts are 210–220 MiB. The
CSV factor is the heavier slope with a 14 % margin (19), on a base of 300 MiB: the estimate is
14–40 % above every peak measured, and the million-person-month benchmark (96 MB) is estimated
at 2.0 GB. ``calib validate`` peaks at about half of ``run`` (6.6–8.7 bytes per byte from 50 MB
up) but is held to the same estimate: an input that validates and then cannot run helps nobody. The Parquet
(30) and .xlsx (60) factors are not measured at scale: Parquet is typed and compressed (a few
times smaller than the CSV of the same table), an .xlsx is zipped XML read cell by cell.

The memory available is the least of the system's ``MemAvailable``, the container's memory limit
less its usage (cgroup v1 or v2) and the address-space limit (``ulimit -v``) less what the
process already maps. ``CALIB_AVAILABLE_MEMORY`` (bytes) overrides it (for tests, or to keep a
shared machine's headroom).
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable
from pathlib import Path

#: Peak memory of a run per byte of input file, by file kind (measured; see the module docstring).
BYTES_PER_FILE_BYTE = {".csv": 19.0, ".parquet": 30.0, ".xlsx": 60.0}
#: Peak memory of a run over a tiny input: the interpreter, pandas, pyarrow and calib.
BASE_BYTES = 300 * 2**20
ENV = "CALIB_AVAILABLE_MEMORY"
SUFFIXES = (".csv", ".xlsx", ".parquet")
FIX = ("run it in parts (by period or department), close other programs, or use a machine with more "
       "memory; Parquet files read leaner than CSV")


def available_memory() -> int | None:
    """Bytes of memory available to a new run, or None when unknown (see the module docstring)."""
    override = os.environ.get(ENV)
    if override:
        return int(float(override))
    found = [n for n in (_meminfo(), _cgroup(), _address_space()) if n is not None]
    return min(found) if found else None


def _meminfo() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup() -> int | None:
    """The container's memory limit less its usage (cgroup v2, else v1); None when unlimited."""
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                          "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            text = Path(limit).read_text(encoding="ascii").strip()
            if text == "max" or int(text) >= 2**60:
                return None
            return max(0, int(text) - int(Path(usage).read_text(encoding="ascii").strip()))
        except (OSError, ValueError):
            continue
    return None


def _address_space() -> int | None:
    """``ulimit -v`` less the address space this process already maps; None when unlimited."""
    try:
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (OSError, ValueError):  # pragma: no cover - not on Linux
        return None
    if soft == resource.RLIM_INFINITY:
        return None
    mapped = 0
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    mapped = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return max(0, soft - mapped)


def input_files(path: Path) -> list[Path]:
    """The table files a run over ``path`` (a folder or one file) may read."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
    return [path] if path.is_file() else []


def estimate(paths: Iterable[Path]) -> tuple[int, int]:
    """(total size of the files, estimated peak memory of a run over them), in bytes."""
    size = need = 0
    for path in paths:
        n = path.stat().st_size
        size += n
        need += int(n * BYTES_PER_FILE_BYTE.get(path.suffix.lower(), BYTES_PER_FILE_BYTE[".csv"]))
    return size, need + BASE_BYTES


def too_large(paths: list[Path]) -> str | None:
    """A message when the files will not fit in the memory available, else None."""
    available = available_memory()
    if available is None or not paths:
        return None
    size, need = estimate(paths)
    if need <= available:
        return None
    return (f"the input ({_names(paths)}: {_gb(size)}) needs about {_gb(need)} of memory to run, and "
            f"this machine has {_gb(available)} available")


def out_of_memory(source: str | Path | None, reading: bool = False) -> str:
    """What to say when calib ran out of memory part-way, running over the input at ``source``
    (a folder or a file) or ``reading`` that one file: the files, the memory a run over them
    needs and what is available (the fix is ``FIX``).
    """
    paths = input_files(Path(source)) if isinstance(source, (str, Path)) else []
    available = available_memory()
    has = f"; this machine has {_gb(available)} available now" if available is not None else ""
    if not paths:
        return f"calib ran out of memory{has}"
    size, need = estimate(paths)
    doing = "reading" if reading else "running over"
    alone = " alone" if reading else ""
    return (f"calib ran out of memory {doing} {_names(paths)} ({_gb(size)}): a run over it{alone} "
            f"needs about {_gb(need)} of memory{has}")


def _names(paths: list[Path]) -> str:
    return ", ".join(p.name for p in paths[:4]) + (" …" if len(paths) > 4 else "")


def _gb(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.1f} GB"
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB"
