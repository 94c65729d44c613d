"""Benchmark: live recompute of a Scenario after one parameter change (the slider's latency).

Sizes: 1,000 and 10,000 people × 12 months of the 10-KPI scheme with grading (forced
distribution in teams) and pay. Changes: a grade ratio (re-grades and re-pays, reuses every KPI's
points), a KPI tier bound (re-scores one KPI). Prints medians in milliseconds.
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

CHANGES = {
    "grade ratios": [{"grading.rules.teams.forced.ratios.A": a,
                      "grading.rules.teams.forced.ratios.C": 0.6 - a} for a in (0.15, 0.18, 0.22)],
    "pay coefficient": [{"pay.components.bonus.coefficients.A": v} for v in (1.25, 1.3, 1.35)],
}


def main() -> None:
    pol = policy()
    tier = next(p.path for p in pol.params() if p.path.endswith("bands[0].at"))
    base_value = pol.get(tier)
    CHANGES["one KPI tier bound"] = [{tier: base_value * f} for f in (0.99, 0.98, 0.97)]
    print("| people | person-months | change | median ms | first build s |")
    print("|---|---|---|---|---|")
    for people in (1_000, 10_000):
        tables = dataset(people, 12)
        start = time.perf_counter()
        scenario = Scenario(pol, tables)
        build = time.perf_counter() - start
        for name, changes in CHANGES.items():
            times = []
            for _ in range(3):
                for change in changes:
                    gc.collect()
                    t0 = time.perf_counter()
                    scenario.with_params(change)
                    times.append((time.perf_counter() - t0) * 1000)
            print(f"| {people:,} | {len(tables['records']):,} | {name} | "
                  f"{statistics.median(times):.1f} | {build:.2f} |", flush=True)


if __name__ == "__main__":
    main()
