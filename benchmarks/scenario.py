"""Benchmark: live recompute of a Scenario after one parameter change (the slider's latency).

Sizes: 1,000 and 10,000 people × 12 months of the 10-KPI scheme with grading every month
(forced distribution in teams of 50) and pay (two components and a pool by department, to the
cent). Changes: the grade ratios (re-grades and re-pays; scoring reused), a pay coefficient
(re-pays one component; scoring, grades and pool reused), a KPI tier bound (re-scores one KPI,
re-ranks, re-grades and re-pays). Prints medians in milliseconds: to new grades and payouts
(``with_params`` then the grade counts and the payout total, which are read from the stages'
arrays), and the same plus building the grades and payouts tables (what a table view reads).
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from grading_pay import dataset, policy  # noqa: E402

from calib.scenario import Scenario  # noqa: E402

STEPS = 21  # distinct values per change: no re-run finds its own result already remembered
CHANGES = {
    "grade ratios": [{"grading.rules.teams.forced.ratios.A": round(0.12 + 0.01 * i, 2),
                      "grading.rules.teams.forced.ratios.C": round(0.48 - 0.01 * i, 2)}
                     for i in range(STEPS)],
    "pay coefficient": [{"pay.components.bonus.coefficients.A": 1.21 + 0.01 * i}
                        for i in range(STEPS)],
}


def main() -> None:
    pol = policy()
    tier = next(p.path for p in pol.params() if p.path.endswith("bands[0].at"))
    base_value = pol.get(tier)
    CHANGES["one KPI tier bound"] = [{tier: base_value * (0.99 - 0.005 * i)} for i in range(STEPS)]
    print("| people | person-months | change | to grades and payouts: median ms | "
          "+ grades and payouts tables: median ms | first build s |")
    print("|---|---|---|---|---|---|")
    for people in (1_000, 10_000):
        tables = dataset(people, 12, teams=people // 50)
        start = time.perf_counter()
        scenario = Scenario(pol, tables)
        build = time.perf_counter() - start
        for name, changes in CHANGES.items():
            arrays, full = [], []
            for change in changes:
                gc.collect()
                t0 = time.perf_counter()
                moved = scenario.with_params(change)
                moved.result.grade_counts()
                moved.total_payout()
                t1 = time.perf_counter()
                assert len(moved.result.grades) and len(moved.result.payouts)
                t2 = time.perf_counter()
                arrays.append((t1 - t0) * 1000)
                full.append((t2 - t0) * 1000)
            print(f"| {people:,} | {len(tables['records']):,} | {name} | "
                  f"{statistics.median(arrays):.1f} | {statistics.median(full):.1f} | {build:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
