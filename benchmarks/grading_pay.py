"""Benchmark: grading and paying (forced distribution in 2,000 teams, grade coefficients, a bonus
pool to the cent) on top of the 10-KPI scheme.

Two cases: 100k people in one month (2,000 teams of 50), and the full run — score, grade, pay —
of 1.2M person-months (100k people × 12 months). Prints a markdown table with medians.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

import numpy as np
import yaml

import calib

try:
    from calib.engine.frame import build_frame
    from calib.engine.pipeline import score_frame
except ImportError:  # a tree from before the packages per layer (scenario_ab.py against it)
    from calib.frame import build_frame  # type: ignore[no-redef]

    from calib.engine import score_frame  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
TEAMS = 2_000

GRADING = {
    "scale": {"grades": [{"name": "A", "label": "优秀"}, {"name": "B", "label": "良好"},
                         {"name": "C", "label": "合格"}, {"name": "D", "label": "待改进"}]},
    "rules": {"teams": {"method": "forced", "forced": {
        "by": ["team"], "ratios": {"A": "20%", "B": "30%", "C": "40%", "D": "10%"},
        "method": "hamilton", "ties": {"rule": "order"}}}},
}
PAY = {
    "components": {
        "performance": {"kind": "score_percent", "base": {"amount": 750}, "max_percent": 120},
        "bonus": {"kind": "grade_coefficient", "base": {"amount": 1000},
                  "coefficients": {"A": 1.2, "B": 1.1, "C": 1.0, "D": 0.6}},
    },
    "pool": {"amount": 5_000_000, "base": {"amount": 1}, "by": "department",
             "coefficients": {"A": 1.2, "B": 1.1, "C": 1.0, "D": 0.6}},
}


def _pool_says_how_it_meets_the_groups(pay: dict) -> dict:
    """Today's pool ``by`` must say how the amount meets the groups (``split: each``: each
    department the whole amount, as before); a calib from before that rule (an A/B's other side)
    does not know the key.
    """
    from calib.policy.pay import BonusPool

    if "split" in BonusPool.model_fields:
        return {**pay, "pool": {**pay["pool"], "split": "each"}}
    return pay


def policy() -> calib.Policy:
    """The benchmark's 10-KPI policy with a team column, grading and pay added."""
    data = yaml.safe_load((HERE / "policy_10kpi.yaml").read_text(encoding="utf-8"))
    data["name"] = "bench_grade_pay"
    data["inputs"]["people"]["columns"]["team"] = {"type": "text"}
    data["grading"] = GRADING
    data["pay"] = _pool_says_how_it_meets_the_groups(PAY)
    return calib.parse_policy(yaml.safe_dump(data, allow_unicode=True))


def dataset(people: int, months: int, teams: int = TEAMS) -> dict:
    """``people`` people in ``teams`` teams, ``months`` months each."""
    from data import make_data

    tables = make_data(people * 12)
    tables["people"]["team"] = np.char.add(
        "T", np.char.zfill((np.arange(len(tables["people"])) % teams).astype(str), 4))
    if months < 12:
        keep = [f"2025-{m:02d}" for m in range(1, months + 1)]
        records = tables["records"]
        tables["records"] = records[records["period"].isin(keep)].reset_index(drop=True)
    return tables


def timed(pol: calib.Policy, tables: dict, repeat: int) -> dict[str, float]:
    """Median seconds: validate and encode, then score + grade + pay."""
    runs = []
    for _ in range(repeat + 1):
        gc.collect()
        t0 = time.perf_counter()
        frame = build_frame(pol, calib.load_data(tables, pol))
        t1 = time.perf_counter()
        result = score_frame(frame)
        built = (result.scores, result.grades, result.payouts)  # built when first read: timed
        assert all(t is not None for t in built)
        t2 = time.perf_counter()
        runs.append((t1 - t0, t2 - t1, result.payouts["payout"].sum()))
        del result, frame
    runs = runs[1:]
    return {"build": statistics.median(r[0] for r in runs),
            "run": statistics.median(r[1] for r in runs),
            "total": statistics.median(r[0] + r[1] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import sys

    sys.path.insert(0, str(HERE))
    pol = policy()
    rows = []
    for people, months in ((100_000, 1), (100_000, 12)):
        tables = dataset(people, months)
        t = timed(pol, tables, args.repeat)
        rows.append((len(tables["records"]), months, t))
        print(f"{len(tables['records']):>10,} person-months: {t['total']:.3f} s", flush=True)
    print("\n| person-months | months | teams | validate+encode (s) | score+grade+pay (s) | total (s) |")
    print("|---|---|---|---|---|---|")
    for n, months, t in rows:
        print(f"| {n:,} | {months} | {TEAMS:,} | {t['build']:.3f} | {t['run']:.3f} | "
              f"{t['total']:.3f} |")


if __name__ == "__main__":
    main()
