"""Benchmark calib against a plain pandas row-wise implementation of the same 10-KPI scheme.

Usage (from the repo root): ``./dev bench`` or ``.venv/bin/python benchmarks/run.py``
  --sizes 12000,120000   person-month sizes to run (default 12000,120000,1200000)
  --quick                12k only
  --record               write the figures into benchmarks/RESULTS.md (the committed record);
                         without it they go to out/benchmarks/RESULTS.md, outside git
  --no-write             write no results file

Per size it times calib from the DataFrames (load + validate + encode with
``calib.engine.frame.build_frame``, then scoring + roll-ups with
``calib.engine.pipeline.score_frame``), measures
peak memory in a fresh subprocess, and times ``baseline.run_baseline`` (``df.apply(axis=1)``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from baseline import compare, run_baseline  # noqa: E402
from data import make_data  # noqa: E402

import calib  # noqa: E402
from calib.data.read import load_data  # noqa: E402
from calib.engine.frame import build_frame  # noqa: E402
from calib.engine.pipeline import score_frame  # noqa: E402

POLICY = HERE / "policy_10kpi.yaml"
BASELINE_LIMIT = 60.0  # seconds: above this the 1.2M baseline is extrapolated, not run
TARGET_SECONDS, TARGET_SIZE, TARGET_SPEEDUP, SPEEDUP_SIZE = 0.4, 1_200_000, 100.0, 120_000


def calib_once(policy, data) -> tuple[float, float]:
    """(load + validate + encode, score + roll-ups) seconds of one run.

    The previous run's garbage is collected first, outside the timing: pandas tables hold
    reference cycles, and freeing a 1.2M-row result inside the next run would be timed as its work.
    """
    gc.collect()
    t0 = time.perf_counter()
    frame = build_frame(policy, load_data(data, policy))
    t1 = time.perf_counter()
    result = score_frame(frame)
    # tables are built when first read: read what the pandas baseline produces, so both sides
    # pay for their tables (scores, quarters, years)
    assert result.scores is not None and all(t is not None for t in result.rollups.values())
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def time_calib(policy, data, repeat: int) -> dict[str, float]:
    """Medians over ``repeat`` runs (after one warm-up run) of each stage and of the total."""
    calib_once(policy, data)
    runs = [calib_once(policy, data) for _ in range(repeat)]
    return {"build": statistics.median(r[0] for r in runs),
            "score": statistics.median(r[1] for r in runs),
            "total": statistics.median(r[0] + r[1] for r in runs)}


def time_child(size: int, repeat: int) -> None:
    """Run in a fresh process: calib's timings at ``size``, as JSON on the last line.

    A fresh process per size keeps the heap the pandas baseline leaves behind (millions of small
    Python objects) from slowing calib's large allocations in the same process.
    """
    policy = calib.load_policy(POLICY)
    print(json.dumps(time_calib(policy, make_data(size), repeat)))


def time_calib_fresh(size: int, repeat: int) -> dict[str, float]:
    """``time_calib`` in a subprocess."""
    proc = subprocess.run([sys.executable, __file__, "--time-child", str(size), "--repeat",
                           str(repeat)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def time_baseline(data, repeat: int) -> float:
    """Median seconds of the pandas row-wise baseline."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        run_baseline(data)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def memory_child(size: int) -> None:
    """Run in a fresh process: peak RSS growth and tracemalloc peak of one calib.run (MB)."""
    policy = calib.load_policy(POLICY)
    data = make_data(size)
    calib.run(policy, make_data(12))  # import and warm every code path first
    gc.collect()
    out = {}
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        before = _status_kb("VmRSS")
        result = calib.run(policy, data)
        out["rss"] = (_status_kb("VmHWM") - before) / 1024
        del result
    except OSError:
        out["rss"] = None
    gc.collect()
    tracemalloc.start()
    calib.run(policy, data)
    out["tracemalloc"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps(out))


def measure_memory(size: int) -> dict[str, float | None]:
    """Peak memory of calib at ``size``, measured in a subprocess so earlier runs do not count.

    glibc's mmap threshold is pinned at 64 KiB there, so freed arrays go back to the OS and the
    RSS high-water mark reflects live memory, not the allocator's cache.
    """
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    proc = subprocess.run([sys.executable, __file__, "--memory-child", str(size)], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check_equal(policy) -> str:
    """Assert calib == the pandas baseline on the 12k set (within 1e-9)."""
    data = make_data(12_000)
    problems = compare(calib.run(policy, data), run_baseline(data))
    if problems:
        raise SystemExit("calib and the pandas baseline DIFFER on 12k:\n" + "\n".join(problems))
    return "calib matches the pandas baseline on 12k person-months (scores, quarters, years; 1e-9)"


def bench_size(policy, size: int, per_row: float | None) -> dict:
    """Every figure of one table row; ``per_row`` is the baseline's seconds per row so far."""
    data = make_data(size)
    repeat = 7 if size >= 1_000_000 else 9
    row = {"size": len(data["records"]), "repeat": repeat, **time_calib_fresh(size, repeat)}
    row.update(measure_memory(size))
    predicted = per_row * row["size"] if per_row is not None else None
    if size <= 120_000:
        row["baseline"] = time_baseline(data, 5 if size <= 12_000 else 3)
        row["extrapolated"] = False
    elif predicted is not None and predicted > BASELINE_LIMIT:
        row["baseline"], row["extrapolated"] = predicted, True
    else:
        row["baseline"] = time_baseline(data, 1)
        row["extrapolated"] = False
    return row


def _fmt_row(r: dict) -> list[str]:
    rss = "n/a" if r.get("rss") is None else f"{r['rss']:.0f}"
    base = f"{r['baseline']:.2f}" + (" (extrapolated)" if r["extrapolated"] else "")
    return [f"{r['size']:,}", f"{r['build']:.3f}", f"{r['score']:.3f}", f"{r['total']:.3f}",
            rss, f"{r['tracemalloc']:.0f}", base, f"{r['baseline'] / r['total']:.0f}×"]


HEADER = ["person-months", "calib load+validate+encode (s)", "calib score+roll-ups (s)",
          "calib total (s)", "peak RSS Δ (MB)", "tracemalloc peak (MB)", "pandas apply (s)",
          "baseline / calib"]


def table(rows: list[dict]) -> str:
    """The results as a markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_fmt_row(r)) + " |" for r in rows]
    return "\n".join(lines)


def verdicts(rows: list[dict]) -> list[str]:
    """Whether the targets are met, for the sizes that were run."""
    out = []
    by_size = {r["size"]: r for r in rows}
    if TARGET_SIZE in by_size:
        t = by_size[TARGET_SIZE]["total"]
        out.append(f"- 1.2M person-months in < {TARGET_SECONDS} s: {t:.3f} s → "
                   f"{'MET' if t < TARGET_SECONDS else 'NOT MET'}")
    if SPEEDUP_SIZE in by_size:
        r = by_size[SPEEDUP_SIZE]
        x = r["baseline"] / r["total"]
        out.append(f"- ≥ {TARGET_SPEEDUP:.0f}× the pandas row-wise apply at 120k: {x:.0f}× → "
                   f"{'MET' if x >= TARGET_SPEEDUP else 'NOT MET'}")
    return out


def machine() -> list[str]:
    """Date, CPU, versions: the context a reader needs to compare runs."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = os.environ.get("OPENBLAS_CORETYPE")
    return [
        f"- date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, "
        f"{platform.system()} {platform.release()}",
        f"- python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"calib {calib.__version__}" + (f", OPENBLAS_CORETYPE={blas}" if blas else ""),
        "- load average at the end (1/5/15 min): "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg())
        + " — other processes on the machine inflate wall times",
    ]


def write_results(rows: list[dict], match: str, path: Path | None = None) -> Path:
    """The results file (``benchmarks/RESULTS.md`` when recording, else ``out/benchmarks/``):
    machine, table, targets, method.
    """
    text = "\n".join([
        "# Benchmark results", "",
        "Scheme: `benchmarks/policy_10kpi.yaml` (10 KPIs, weighted section + sum root, probation, "
        "quarterly and annual roll-ups); data: `benchmarks/data.py` (12 months per person). "
        "Written by `benchmarks/run.py`.", "",
        *machine(), "",
        table(rows), "",
        "Targets:", *verdicts(rows), "",
        f"Check: {match}.", "",
        "Method: calib times are medians of the runs given below after one warm-up, each size in "
        "a fresh process (garbage collected between runs, outside the timing), from the "
        "DataFrames in memory (no file reading); *total* is the median of per-run totals. "
        "Peak RSS Δ is the growth of the resident set's high-water mark (VmHWM, reset through "
        "/proc/self/clear_refs) during one `calib.run` in a fresh process, result included; "
        "tracemalloc peak counts Python and numpy allocations only (not Arrow string buffers). "
        "The pandas baseline (`benchmarks/baseline.py`, `df.apply(score_row, axis=1)` + groupby) "
        "is the median of 5 runs at 12k, 3 at 120k, and one run at 1.2M when 10× the 120k time "
        f"is under {BASELINE_LIMIT:.0f} s, else extrapolated linearly from 120k.", "",
        "Runs: " + ", ".join(f"{r['size']:,}: calib ×{r['repeat']}" for r in rows) + ".", "",
    ])
    path = path or HERE / "RESULTS.md"
    kept = ""
    if path.exists():  # sections the other benchmark scripts' figures live in are kept
        old = path.read_text(encoding="utf-8")
        at = old.find("\n## ")
        kept = old[at:] if at >= 0 else ""
    path.write_text(text.rstrip("\n") + "\n" + kept, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="12000,120000,1200000")
    parser.add_argument("--quick", action="store_true", help="12k person-months only")
    parser.add_argument("--record", action="store_true",
                        help="write benchmarks/RESULTS.md (the committed record)")
    parser.add_argument("--no-write", action="store_true", help="write no results file")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--time-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.time_child:
        time_child(args.time_child, args.repeat)
        return
    if args.memory_child:
        memory_child(args.memory_child)
        return
    sizes = [12_000] if args.quick else sorted(int(s) for s in args.sizes.split(","))
    policy = calib.load_policy(POLICY)
    match = check_equal(policy)
    print(match)
    rows: list[dict] = []
    per_row = None
    for size in sizes:
        row = bench_size(policy, size, per_row)
        if not row["extrapolated"]:
            per_row = row["baseline"] / row["size"]
        rows.append(row)
        print(f"{row['size']:>10,}: calib {row['total']:.3f} s, pandas {row['baseline']:.2f} s",
              flush=True)
    print()
    print(table(rows))
    print("\n".join(verdicts(rows)))
    if not args.no_write:
        path = None
        if not args.record:  # a run for yourself leaves the committed record as it is
            path = HERE.parent / "out" / "benchmarks" / "RESULTS.md"
            path.parent.mkdir(parents=True, exist_ok=True)
        print(f"wrote {write_results(rows, match, path)}")


if __name__ == "__main__":
    main()
