"""Benchmark: live recompute of a Scenario after one parameter change (the slider's latency).

Sizes: 1,000 and 10,000 people × 12 months of the 10-KPI scheme with grading every month
(forced distribution in teams of 50) and pay (two components and a pool by department, to the
cent). Changes: the grade ratios (re-grades and re-pays; scoring reused), a pay coefficient
(re-pays one component; scoring, grades and pool reused), a KPI tier bound (re-scores one KPI,
re-ranks, re-grades and re-pays). Each change visits 80 distinct values on one scenario, as a
slider would, so no re-run finds its own result remembered. Prints medians in milliseconds, to
new grades and payouts (``with_params`` then the grade counts and the payout total, read from
the stages' arrays).

Moves run back to back, as a dragged slider sends them, with Python's garbage collector on as
usual: a collection that a move sets off is timed with it. Over values 1–20 (a fresh session:
the scenario's memory of stage results is still growing, and new memory costs page faults) and
over values 41–60 (a long session: the memory is at its budget and re-used); over values 21–40
the grades and payouts tables are built too (what a table view reads). Over values 61–80 each
move comes right after a full collection (``gc.collect()``), which walks every object of the
process (~80,000 here: pandas, pydantic, the data) and leaves the CPU caches cold: the slowest
a move gets when the process did other work in between. Earlier rounds timed every move that
way, so their figures compare with the last column.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from grading_pay import dataset, policy  # noqa: E402

from calib.scenario import Scenario  # noqa: E402

STEPS = 80  # distinct values per change: no re-run finds its own result already remembered
FRESH, TABLES, LONG, COLD = 20, 20, 20, 20  # in this order


def changes(pol) -> dict[str, list[dict]]:
    """``STEPS`` distinct values of each change, in the order a slider would visit them."""
    tier = next(p.path for p in pol.params() if p.path.endswith("bands[0].at"))
    base_value = pol.get(tier)
    return {
        "grade ratios": [{"grading.rules.teams.forced.ratios.A": round(0.10 + 0.003 * i, 3),
                          "grading.rules.teams.forced.ratios.C": round(0.50 - 0.003 * i, 3)}
                         for i in range(STEPS)],
        "pay coefficient": [{"pay.components.bonus.coefficients.A": round(1.11 + 0.003 * i, 3)}
                            for i in range(STEPS)],
        "one KPI tier bound": [{tier: base_value * (0.99 - 0.0015 * i)} for i in range(STEPS)],
    }


def main() -> None:
    pol = policy()
    print("| people | person-months | change | values 1–20: median ms | values 41–60: median ms "
          "| values 21–40 + grades and payouts tables: median ms "
          "| values 61–80, each after a full collection: median ms | first build s |")
    print("|---|---|---|---|---|---|---|---|")
    for people in (1_000, 10_000):
        tables = dataset(people, 12, teams=people // 50)
        start = time.perf_counter()
        scenario = Scenario(pol, tables)
        build = time.perf_counter() - start
        for name, values in changes(pol).items():
            times = []
            for i, change in enumerate(values):
                with_tables = FRESH <= i < FRESH + TABLES
                if i >= FRESH + TABLES + LONG:
                    gc.collect()
                t0 = time.perf_counter()
                moved = scenario.with_params(change)
                moved.result.grade_counts()
                moved.total_payout()
                if with_tables:
                    assert len(moved.result.grades) and len(moved.result.payouts)
                times.append((time.perf_counter() - t0) * 1000)
            spans = np.split(np.array(times), np.cumsum([FRESH, TABLES, LONG]))
            fresh, tabled, long, cold = (statistics.median(t) for t in spans)
            print(f"| {people:,} | {len(tables['records']):,} | {name} | {fresh:.1f} | "
                  f"{long:.1f} | {tabled:.1f} | {cold:.1f} | {build:.2f} |", flush=True)


if __name__ == "__main__":
    main()
