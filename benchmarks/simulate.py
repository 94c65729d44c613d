"""Benchmark: Monte Carlo of next year's payouts (``calib.simulate.monte_carlo``) on a synthetic history.

History: ``people`` people in teams of 50 over 24 months (a points column scored by a linear KPI,
so the score is the typed points), run once through the engine. Two schemes on it:

- ``annual``: graded on the year roll-up by thresholds (R23), paid 750 × score% (R11) and
  1000 × the grade's coefficient (R27) on the year: 12 bootstrapped months per person, one
  grade per scenario;
- ``monthly``: graded every month by a forced distribution inside each team (R24, largest
  remainder), paid the same components every month plus a 100,000 pool per month (R33): 12
  gradings with a sort per scenario.

Each is simulated with group effects, noise, leavers and joiners; the table gives the median of
``--repeat`` runs after one warm-up, wall-clock and CPU seconds of the process (all threads: about
twice the wall time when both cores are free, near it when another process holds one). The plain
loop (``method="loop"``: each scenario-period graded by ``calib.engine.grading.grade`` and paid by
``calib.engine.payout.component_amount``, from the same draws) is timed at a small size for comparison,
and checked equal to the vectorised totals. With ``--dask``
the largest run of each scheme is also timed on a Dask ``LocalCluster`` of one single-threaded
worker process per CPU (``simulate(client=...)``; needs ``distributed``), checked equal to the
local totals; the cluster's start-up is not timed.

    .venv/bin/python benchmarks/simulate.py            # 10,000 × 5,000 and the loop at 20 × 5,000
    .venv/bin/python benchmarks/simulate.py --quick    # 1,000 × 5,000
    .venv/bin/python benchmarks/simulate.py --dask     # and on a local Dask cluster
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd

import calib
from calib.policy.load import validate_policy
from calib.simulate.monte_carlo import simulate

GRADES = [{"name": "A+", "min": 95}, {"name": "A", "min": 90}, {"name": "B", "min": 85},
          {"name": "C", "min": 80}, {"name": "C-"}]
COEF = {"A+": 1.2, "A": 1.1, "B": 1.0, "C": 0.8, "C-": 0.5}


def policy(scheme: str) -> calib.Policy:
    """The benchmark policy: ``annual`` (thresholds on the year) or ``monthly`` (forced in teams)."""
    grading = {"on": "year", "scale": {"grades": GRADES},
               "rules": {"all": {"method": "thresholds"}}}
    pay = {"on": "year", "unit": 0.01, "components": {
        "performance": {"kind": "score_percent", "base": {"amount": 750}, "max_percent": 110},
        "bonus": {"kind": "grade_coefficient", "base": {"amount": 1000}, "coefficients": COEF}}}
    if scheme == "monthly":
        grading.update({"on": "period", "scale": {"grades": [{"name": g["name"]} for g in GRADES]},
                        "rules": {"teams": {"method": "forced", "forced": {
                            "by": ["team"], "ratios": {"A+": 0.1, "A": 0.2, "B": 0.5, "C": 0.15,
                                                       "C-": 0.05}}}}})
        pay["on"] = "period"
        pay["pool"] = {"amount": 100_000, "base": {"amount": 1}, "coefficients": COEF}
    return validate_policy({
        "name": f"bench_simulate_{scheme}",
        "inputs": {"id": "employee_id",
                   "people": {"columns": {"team": {"type": "text"}}},
                   "records": {"period": "period",
                               "columns": {"period": {"type": "text"},
                                           "points": {"type": "float"}}}},
        "calendar": {"frequency": "month"},
        "kpis": {"points": {"column": "points", "rule": {"kind": "linear", "slope": 1}}},
        "scorecards": {"staff": {"root": "points"}},
        "rollups": {"year": {"to": "year"}},
        "grading": grading,
        "pay": pay,
    })


def history(people: int, months: int = 24, seed: int = 2025) -> dict[str, pd.DataFrame]:
    """``people`` current people in teams of 50 over ``months`` months (a tenth of them joined
    during the history), and a tenth as many again who left before its end.
    """
    rng = np.random.default_rng(seed)
    total = people + people // 10
    ids = np.char.add("E", np.char.zfill(np.arange(total).astype(str), 6)).astype(object)
    team = np.char.add("T", (np.arange(total) % (people // 50 or 1)).astype(str)).astype(object)
    level = rng.normal(88, 4, total)
    first = np.where(rng.random(total) < 0.1, rng.integers(1, months, total), 0)
    last = np.where(np.arange(total) < people, months - 1, rng.integers(0, months - 1, total))
    first = np.minimum(first, last)
    month = np.arange(months)
    keep = (month[None, :] >= first[:, None]) & (month[None, :] <= last[:, None])
    who, when = np.nonzero(keep)
    team_code = np.arange(total) % (people // 50 or 1)
    team_month = rng.normal(0, 1.5, (people // 50 or 1, months))
    points = level[who] + team_month[team_code[who], when] + rng.normal(0, 3, len(who))
    periods = np.array([f"{2024 + m // 12}-{m % 12 + 1:02d}" for m in range(months)], dtype=object)
    records = pd.DataFrame({"employee_id": ids[who], "period": periods[when],
                            "points": np.round(np.clip(points, 50, 105), 1)})
    return {"people": pd.DataFrame({"employee_id": ids, "team": team}), "records": records}


CPU: list[float] = []
"""Median CPU seconds (all threads of the process) of each ``timed`` row, in order."""


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall-clock seconds of ``repeat`` runs after one warm-up, and the last result; the
    median CPU seconds of the process (all its threads) goes to ``CPU``: on a shared machine it
    moves less than the wall time when another process holds a core.
    """
    out = fn()
    times, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    CPU.append(statistics.median(cpu))
    return statistics.median(times), out


def same_totals(a, b) -> str:
    """'equal totals' when two simulations have the same totals, bit for bit."""
    return "equal totals" if a.totals.tobytes() == b.totals.tobytes() else "DIFFERENT totals"


def on_dask(scheme: str, pol, result, n: int, repeat: int, local) -> tuple:
    """The row of ``n`` scenarios on a local Dask cluster (one single-threaded process per CPU)."""
    from distributed import Client, LocalCluster

    workers = os.cpu_count() or 1
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        sec, sim = timed(lambda: simulate(pol, result, n=n, seed=1, progress=False, client=client),
                         repeat)
    return (scheme, f"Dask LocalCluster, {workers} processes", n, sim.people, sec, n / sec,
            same_totals(sim, local))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 scenarios, one repeat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop", type=int, default=20, help="scenarios for the plain loop")
    parser.add_argument("--dask", action="store_true", help="also on a local Dask cluster")
    args = parser.parse_args()
    if args.quick:
        args.scenarios, args.repeat = 1_000, 1
    print(f"machine: {os.cpu_count()} CPUs; numpy {np.__version__}, pandas {pd.__version__}")
    data = history(args.people)
    rows = []
    for scheme in ("annual", "monthly"):
        pol = policy(scheme)
        result = calib.run(pol, data)
        for n in sorted({1_000, args.scenarios}):
            def run(n=n, pol=pol, result=result):
                return simulate(pol, result, n=n, seed=1, progress=False)
            sec, sim = timed(run, args.repeat)
            rows.append((scheme, "vectorised", n, sim.people, sec, n / sec,
                         f"P50 {sim.quantiles()['P50']:,.0f}, P95 {sim.quantiles()['P95']:,.0f}"))
        def one_thread(pol=pol, result=result, n=args.scenarios):
            return simulate(pol, result, n=n, seed=1, progress=False, workers=1)
        sec, single = timed(one_thread, args.repeat)
        rows.append((scheme, "vectorised, 1 thread", args.scenarios, single.people, sec,
                     args.scenarios / sec, same_totals(single, sim)))
        if args.dask:
            rows.append(on_dask(scheme, pol, result, args.scenarios, args.repeat, sim))
        small = args.loop
        sec_v, fast = timed(lambda pol=pol, result=result, small=small: simulate(
            pol, result, n=small, seed=1, progress=False), 1)
        sec_l, slow = timed(lambda pol=pol, result=result, small=small: simulate(
            pol, result, n=small, seed=1, progress=False, method="loop"), 1)
        same = same_totals(fast, slow)
        rows.append((scheme, "vectorised", small, fast.people, sec_v, small / sec_v, ""))
        rows.append((scheme, "plain loop", small, slow.people, sec_l, small / sec_l,
                     f"{same}; {sec_l / sec_v:,.0f}× slower"))
    print()
    print("| scheme | method | scenarios × people | median s | CPU s | scenarios/s | note |")
    print("|---|---|---|---:|---:|---:|---|")
    for (scheme, method, n, people, sec, rate, note), cpu in zip(rows, CPU, strict=True):
        print(f"| {scheme} | {method} | {n:,} × {people:,} | {sec:.3f} | {cpu:.2f} | {rate:,.0f} "
              f"| {note} |")
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{time.strftime('%Y-%m-%d %H:%M %Z')}; load average at the end (1/5/15 min): {load} "
          "(other processes on the machine inflate wall times)")


if __name__ == "__main__":
    main()
