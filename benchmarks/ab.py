"""Paired A/B of this tree's calib against another commit's, in alternating processes.

The machine's speed moves by ±25% from minute to minute, more than most single changes gain, so
one benchmark run before and one after a change decide nothing. This script checks the other
commit out into a temporary git worktree and runs the same measurement in alternating processes
— the commit, then this tree, then the commit again — each pinned to the same CPU, and reports
every process's figures, the medians of both sides and the median of the paired ratios (this
tree / the commit; below 1 is faster). Three measurements (``--bench``):

- ``slider`` (the default; ``scenario_ab.py`` is this script): the ``scenario.py`` scenario (the
  10-KPI scheme with grading and pay) for ``--people`` (1,000) people × 12 months; ``--moves``
  distinct moves of one ``--change`` back to back (after 50 to warm up); median ms per move, to
  new grade counts and payout total.
- ``run``: the full engine run of ``policy_10kpi.yaml`` on ``--people`` (100,000) people × 12
  months of ``data.py``, written once as Parquet into a temporary folder that every process
  reads: ``calib.load_data`` of the folder, ``calib.run``, the scores and roll-up tables read
  (they are built when first read). Medians of ``--repeat`` runs after one warm-up (garbage
  collected between runs, outside the timing): wall seconds (and of them the load), CPU seconds,
  and the process's peak RSS. The scores of both sides must be the same.
- ``simulate``: the Monte Carlo of ``simulate.py``'s two schemes (thresholds on the year;
  forced distribution in teams every month with a pool) at ``--scenarios`` (2,000) ×
  ``--people`` (5,000), seed 1, on its 24-month history; medians of ``--repeat`` runs after one
  warm-up, wall and CPU seconds, and the peak RSS. Both sides must give the same totals, bit for
  bit: where a scheme's totals differ the model changed, and its times are printed but not
  compared.

    .venv/bin/python benchmarks/ab.py HEAD~3                      # the slider
    .venv/bin/python benchmarks/ab.py a147f82 --people 10000 --change "grade ratios"
    .venv/bin/python benchmarks/ab.py 98adbc3 --bench run        # 100,000 people × 12 months
    .venv/bin/python benchmarks/ab.py 98adbc3 --bench simulate   # 2,000 × 5,000

The data, the policies and the measurement come from this tree's ``benchmarks/`` in both
processes; only ``calib`` is the commit's, and the measurement uses only what both have
(``calib.load_policy``, ``calib.load_data``, ``calib.run``, ``calib.policy.load.validate_policy``,
``calib.simulate.monte_carlo.simulate``, ``Scenario.with_params``). Uncommitted changes in this
tree are measured as they are. A process's CPU seconds count all its threads: pinned to one CPU,
the Monte Carlo's threads share it (``--no-pin`` lets them spread, at the cost of noisier pairs).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WARM_UP = 50  # slider moves before the timed ones


@dataclass(frozen=True)
class Metric:
    """One figure a child process reports: its key, how the table names it, its decimals, and
    the check both sides must agree on for the figure to be compared (None: always compared)."""

    key: str
    label: str
    digits: int = 3
    check: str | None = None


@dataclass(frozen=True)
class Bench:
    """One measurement: the people it defaults to, what the parent prepares once in the shared
    folder, what a child measures (figures by key, checks by name) and how the table reads."""

    people: int
    measure: Callable[[argparse.Namespace], tuple[dict[str, float], dict[str, str]]]
    metrics: Callable[[argparse.Namespace], list[Metric]]
    title: Callable[[argparse.Namespace], str]
    prepare: Callable[[Path, argparse.Namespace], None] | None = None


# --- in the child process ----------------------------------------------------------------------


def _calib(tree: Path) -> ModuleType:
    """``calib`` imported from ``tree``, this tree's ``benchmarks/`` ahead of it on the path."""
    sys.path.insert(0, str(tree))
    sys.path.insert(0, str(HERE))
    import calib

    assert Path(calib.__file__).resolve().is_relative_to(tree.resolve()), calib.__file__
    return calib


def _peak_rss_mb() -> float:
    """The process's resident-set high-water mark so far (Linux reports it in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds (all threads) of ``repeat`` calls after one warm-up, and the
    last call's result; garbage is collected before each call, outside the timing."""
    out = fn()
    walls, cpus = [], []
    for _ in range(repeat):
        del out
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), out


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def measure_slider(args: argparse.Namespace) -> tuple[dict[str, float], dict[str, str]]:
    """Median ms per move of one slider (``Scenario.with_params``, grade counts, payout total)."""
    _calib(args.child)
    from grading_pay import dataset, policy
    from scenario import changes

    from calib.scenario import Scenario

    pol = policy()
    steps = changes(pol)[args.change]
    scenario = Scenario(pol, dataset(args.people, 12, teams=max(args.people // 50, 1)))
    times = []
    for i in range(WARM_UP + args.moves):
        # distinct values: the change's steps in turn, each pass nudged a little further
        values = {path: value - 1e-7 * (i // len(steps)) if isinstance(value, float) else value
                  for path, value in steps[i % len(steps)].items()}
        start = time.perf_counter()
        moved = scenario.with_params(values)
        moved.result.grade_counts()
        moved.total_payout()
        if i >= WARM_UP:
            times.append((time.perf_counter() - start) * 1000)
    return {"ms": statistics.median(times)}, {}


def prepare_run(folder: Path, args: argparse.Namespace) -> None:
    """``data.py``'s people and records for ``args.people`` people, once, as Parquet files."""
    sys.path.insert(0, str(HERE))
    from data import make_data

    for name, table in make_data(args.people * 12).items():
        table.to_parquet(folder / f"{name}.parquet", index=False)


def measure_run(args: argparse.Namespace) -> tuple[dict[str, float], dict[str, str]]:
    """Wall, load and CPU seconds of the full run of the 10-KPI scheme on the shared folder."""
    calib = _calib(args.child)
    policy = calib.load_policy(HERE / "policy_10kpi.yaml")
    loads: list[float] = []

    def once():
        start = time.perf_counter()
        data = calib.load_data(args.data, policy)
        loads.append(time.perf_counter() - start)
        result = calib.run(policy, data)
        assert result.scores is not None and all(t is not None for t in result.rollups.values())
        return result

    wall, cpu, result = _timed(once, args.repeat)
    scores = result.scores
    check = _digest("\n".join(scores["status"].astype(str)).encode()
                    + scores["score"].round(9).to_numpy("float64").tobytes())
    return ({"wall": wall, "load": statistics.median(loads[1:]), "cpu": cpu,
             "rss": _peak_rss_mb()},
            {"scores": f"{len(scores):,} rows, mean score {scores['score'].mean():.6f}, "
                       f"sha256 {check}"})


def measure_simulate(args: argparse.Namespace) -> tuple[dict[str, float], dict[str, str]]:
    """Wall and CPU seconds of ``simulate.py``'s annual and monthly Monte Carlo, and its totals."""
    calib = _calib(args.child)
    import simulate as bench  # this tree's benchmarks/simulate.py: its policies and history

    from calib.simulate.monte_carlo import simulate

    data = bench.history(args.people)
    values, checks = {}, {}
    for scheme in ("annual", "monthly"):
        pol = bench.policy(scheme)
        result = calib.run(pol, data)
        wall, cpu, sim = _timed(lambda pol=pol, result=result: simulate(
            pol, result, n=args.scenarios, seed=1, progress=False), args.repeat)
        values[f"{scheme} wall"], values[f"{scheme} cpu"] = wall, cpu
        checks[scheme] = f"mean total {sim.totals.mean():,.2f}, sha256 {_digest(sim.totals.tobytes())}"
    values["rss"] = _peak_rss_mb()
    return values, checks


BENCHES = {
    "slider": Bench(
        people=1_000, measure=measure_slider,
        metrics=lambda a: [Metric("ms", "ms per move")],
        title=lambda a: f"{a.change}, {a.people:,} people × 12 months, {a.moves} moves per process"),
    "run": Bench(
        people=100_000, measure=measure_run, prepare=prepare_run,
        metrics=lambda a: [Metric("wall", "wall s, load + run", check="scores"),
                           Metric("load", "of which load_data s", check="scores"),
                           Metric("cpu", "CPU s", check="scores"),
                           Metric("rss", "peak RSS MB", 0, check="scores")],
        title=lambda a: f"full run of policy_10kpi.yaml from Parquet, {a.people:,} people × 12 "
                        f"months, median of {a.repeat} runs per process after a warm-up"),
    "simulate": Bench(
        people=5_000, measure=measure_simulate,
        metrics=lambda a: [Metric("annual wall", "annual: wall s", check="annual"),
                           Metric("annual cpu", "annual: CPU s", check="annual"),
                           Metric("monthly wall", "monthly: wall s", check="monthly"),
                           Metric("monthly cpu", "monthly: CPU s", check="monthly"),
                           Metric("rss", "peak RSS MB", 0)],
        title=lambda a: f"Monte Carlo, {a.scenarios:,} scenarios × {a.people:,} people, annual "
                        f"and monthly grading, median of {a.repeat} runs per process after a "
                        "warm-up"),
}


# --- in the parent process ---------------------------------------------------------------------


def _pin() -> None:
    """Run on the machine's last CPU (where it can be chosen), so both sides share one core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})


def _child(tree: Path, args: argparse.Namespace, data: Path) -> dict:
    """One measuring process with ``calib`` from ``tree``: its figures and checks."""
    command = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:], "--bench",
               args.bench, "--people", str(args.people), "--child", str(tree), "--data", str(data)]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"the process measuring {tree} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _checks(bench: Bench, args: argparse.Namespace, commit: str, before: list[dict],
            after: list[dict]) -> set[str]:
    """Print whether both sides agree on each check; the names of those that do not."""
    names = {m.check for m in bench.metrics(args) if m.check}
    differ = set()
    for name in sorted(names):
        old = {b["checks"][name] for b in before}
        new = {a["checks"][name] for a in after}
        if len(old) == 1 and old == new:
            print(f"{name}: the same on both sides ({old.pop()})")
            continue
        differ.add(name)
        print(f"{name}: DIFFERENT — {commit}: {'; '.join(sorted(old))} | this tree: "
              f"{'; '.join(sorted(new))}\n  -> the sides compute different results (the model "
              f"changed): they do different work, and the figures that hang on {name} are "
              "printed but their speed is NOT compared")
    if names:
        print()
    return differ


def report(bench: Bench, args: argparse.Namespace, before: list[dict], after: list[dict]) -> None:
    """The header, the checks and the table of both sides' figures and the paired ratios."""
    pinned = "all CPUs" if args.no_pin else f"pinned to CPU {max(os.sched_getaffinity(0))}"
    processes = "process" if args.rounds == 1 else "processes"
    print(f"{bench.title(args)}; {args.rounds} {processes} per side in turn, {pinned}\n")
    differ = _checks(bench, args, args.commit, before, after)
    print(f"| measure | side | each process | median | paired ratio, this tree / {args.commit}"
          " (range) |")
    print("|---|---|---|---|---|")
    for m in bench.metrics(args):
        old = [b["values"][m.key] for b in before]
        new = [a["values"][m.key] for a in after]
        ratios = [n / o for n, o in zip(new, old, strict=True)]
        paired = ("not compared" if m.check in differ else
                  f"{statistics.median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f})")
        for side, figures, cell in ((args.commit, old, ""), ("this tree", new, paired)):
            print(f"| {m.label} | {side} | {' '.join(f'{f:.{m.digits}f}' for f in figures)} | "
                  f"{statistics.median(figures):.{m.digits}f} | {cell} |")
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{time.strftime('%Y-%m-%d %H:%M %Z')}; load average at the end (1/5/15 min): {load}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commit", nargs="?", help="the commit to compare this tree against")
    parser.add_argument("--bench", default="slider", choices=sorted(BENCHES))
    parser.add_argument("--people", type=int,
                        help="people: slider 1,000 and run 100,000 (× 12 months), simulate 5,000")
    parser.add_argument("--rounds", type=int, default=6, help="processes per side")
    parser.add_argument("--no-pin", action="store_true", help="let each process use every CPU")
    parser.add_argument("--change", default="one KPI tier bound",
                        choices=["one KPI tier bound", "grade ratios", "pay coefficient"],
                        help="slider: the change moved")
    parser.add_argument("--moves", type=int, default=300, help="slider: timed moves per process")
    parser.add_argument("--repeat", type=int, default=3,
                        help="run, simulate: timed runs per process (after one warm-up)")
    parser.add_argument("--scenarios", type=int, default=2_000, help="simulate: scenarios")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    bench = BENCHES[args.bench]
    if args.people is None:
        args.people = bench.people
    if args.child is not None:
        if not args.no_pin:
            _pin()
        values, checks = bench.measure(args)
        print(json.dumps({"values": values, "checks": checks}))
        return
    if args.commit is None:
        parser.error("name the commit to compare against")
    work = Path(tempfile.mkdtemp(prefix="calib-ab-"))
    base, data = work / "base", work / "data"
    data.mkdir()
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), args.commit],
                   check=True, cwd=ROOT)
    try:
        if bench.prepare is not None:
            bench.prepare(data, args)
        before, after = [], []
        for i in range(args.rounds):
            before.append(_child(base, args, data))
            after.append(_child(ROOT, args, data))
            print(f"round {i + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], check=False, cwd=ROOT)
        shutil.rmtree(work, ignore_errors=True)
    report(bench, args, before, after)


if __name__ == "__main__":
    main()
