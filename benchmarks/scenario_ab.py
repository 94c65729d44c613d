"""Paired A/B of a slider's latency: this tree's calib against another commit's, in turn.

The machine's speed moves by ±25% from minute to minute, more than most single changes gain, so
one run of ``scenario.py`` before and one after a change decide nothing. This script checks the
other commit out into a temporary git worktree and runs the same measurement in alternating
processes — the commit, then this tree, then the commit again — each pinned to the same CPU,
and reports every process's median, the medians of both sides and the median of the paired
ratios (this tree / the commit; below 1 is faster).

A process builds the ``scenario.py`` scenario (the 10-KPI scheme with grading and pay) for
``--people`` people × 12 months, makes ``--moves`` distinct moves of one change back to back
(after 50 to warm up), and prints the median milliseconds per move, to new grade counts and
payout total::

    .venv/bin/python benchmarks/scenario_ab.py HEAD~3
    .venv/bin/python benchmarks/scenario_ab.py a147f82 --people 10000 --change "grade ratios"

The data and the moves come from this tree's ``benchmarks/`` in both processes; only ``calib`` is
the commit's. Uncommitted changes in this tree are measured as they are.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WARM_UP = 50


def measure(tree: Path, people: int, change: str, moves: int) -> float:
    """Median ms per move with ``calib`` imported from ``tree`` (run in a child process)."""
    sys.path.insert(0, str(tree))
    sys.path.insert(0, str(HERE))
    import time

    from grading_pay import dataset, policy
    from scenario import changes

    import calib
    from calib.scenario import Scenario

    assert Path(calib.__file__).resolve().is_relative_to(tree.resolve()), calib.__file__
    pol = policy()
    steps = changes(pol)[change]
    scenario = Scenario(pol, dataset(people, 12, teams=max(people // 50, 1)))
    times = []
    for i in range(WARM_UP + moves):
        # distinct values: the change's steps in turn, each pass nudged a little further
        values = {path: value - 1e-7 * (i // len(steps)) if isinstance(value, float) else value
                  for path, value in steps[i % len(steps)].items()}
        start = time.perf_counter()
        moved = scenario.with_params(values)
        moved.result.grade_counts()
        moved.total_payout()
        if i >= WARM_UP:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _child(tree: Path, args: argparse.Namespace) -> float:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(tree),
               "--people", str(args.people), "--change", args.change, "--moves", str(args.moves)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return float(out.stdout.split()[-1])


def _pin() -> None:
    """Run on the machine's last CPU (where it can be chosen), so both sides share one core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commit", nargs="?", help="the commit to compare this tree against")
    parser.add_argument("--people", type=int, default=1_000)
    parser.add_argument("--change", default="one KPI tier bound",
                        choices=["one KPI tier bound", "grade ratios", "pay coefficient"])
    parser.add_argument("--moves", type=int, default=300, help="timed moves per process")
    parser.add_argument("--rounds", type=int, default=6, help="processes per side")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _pin()
        print(f"{measure(args.child, args.people, args.change, args.moves):.4f}")
        return
    if args.commit is None:
        parser.error("name the commit to compare against")
    work = Path(tempfile.mkdtemp(prefix="calib-ab-"))
    base = work / "base"
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), args.commit],
                   check=True, cwd=ROOT)
    try:
        before, after = [], []
        for _ in range(args.rounds):
            before.append(_child(base, args))
            after.append(_child(ROOT, args))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], check=False, cwd=ROOT)
        shutil.rmtree(work, ignore_errors=True)
    ratios = [a / b for a, b in zip(after, before, strict=True)]
    print(f"{args.change}, {args.people:,} people × 12 months, {args.moves} moves per process, "
          f"{args.rounds} processes per side in turn (ms per move, medians)\n")
    print("| side | each process | median |")
    print("|---|---|---|")
    print(f"| {args.commit} | {' '.join(f'{t:.2f}' for t in before)} | "
          f"{statistics.median(before):.3f} |")
    print(f"| this tree | {' '.join(f'{t:.2f}' for t in after)} | "
          f"{statistics.median(after):.3f} |")
    print(f"\npaired ratio, this tree / {args.commit}: median {statistics.median(ratios):.3f} "
          f"(range {min(ratios):.3f}–{max(ratios):.3f})")


if __name__ == "__main__":
    main()
