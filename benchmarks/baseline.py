"""The same scheme as benchmarks/policy_10kpi.yaml, written the way an analyst writes it in pandas.

One Python function scores one row (``df.apply(score_row, axis=1)``), with the tier, step and label
logic in plain Python; ``groupby`` makes the roll-ups. The numbers are copied from the policy by
hand, as an analyst would. Bounds follow the scheme's own reading, stated in the policy docs: a
value within a relative 1e-9 of a bound is on the bound, and a step count within 1e-9 of a whole
number is that number (so 3% − 2% over 0.5% steps is 2 steps, not 2.0000000000000004 → 3).
Scores are not rounded here (calib rounds to 9 decimals), so the two agree within 1e-9.

Run it directly to check it against calib on the 12k set:
``.venv/bin/python benchmarks/baseline.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

NAN = float("nan")
LABEL_POINTS = {"优秀": 3.0, "良好": 1.0, "一般": 0.0, "较差": -2.0}
WEIGHTS = {"conversion": 20, "response": 15, "complaint_rate": 15, "satisfaction": 15,
           "revisit": 10, "achievement": 10}
KPI_WEIGHT = 85.0


def tol(bound: float) -> float:
    return 1e-9 * max(1.0, abs(bound))


def ratio(num: float, den: float) -> float:
    """num / den; a zero denominator leaves the KPI out (NaN)."""
    return num / den if den != 0 else NAN


def tier_lower(value: float, bands: list[tuple[float, float]], otherwise: float) -> float:
    """Higher is better: the first band with value ≥ bound."""
    if value != value:
        return NAN
    for at, points in bands:
        if value >= at - tol(at):
            return points
    return otherwise


def tier_upper(value: float, bands: list[tuple[float, float]], otherwise: float) -> float:
    """Lower is better: the first band with value ≤ bound."""
    if value != value:
        return NAN
    for at, points in bands:
        if value <= at + tol(at):
            return points
    return otherwise


def step(value: float, excess: float, threshold: float, size: float, deduct: float,
         points: float, floor: float) -> float:
    """Deduct per started step beyond the threshold, not below the floor."""
    if value != value:
        return NAN
    steps = 0 if excess <= tol(threshold) else math.ceil(round(excess / size, 9))
    return max(points - steps * deduct, floor)


def kpi_points(row: pd.Series) -> dict[str, float]:
    conv = ratio(row["orders"], row["inquiries"])
    complaint = ratio(row["complaints"], row["served"])
    sat = ratio(row["very_satisfied"] + row["satisfied"], row["surveyed"])
    revisit = ratio(row["revisited"], row["planned_visits"])
    achieve = ratio(row["sales"], row["sales_target"])
    errors = ratio(row["errors"], row["work_items"])
    training = ratio(row["training_attended"], row["training_required"])
    return {
        "conversion": tier_lower(conv, [(0.75, 100), (0.65, 80), (0.50, 60)], 0),
        "response": tier_upper(row["response_seconds"], [(30, 100), (45, 80), (55, 60)], 0),
        "complaint_rate": step(complaint, complaint - 0.02, 0.02, 0.005, 10, 100, 0),
        "satisfaction": step(sat, 0.90 - sat, 0.90, 0.01, 5, 100, 0),
        "revisit": tier_lower(revisit, [(1.0, 100), (0.95, 90), (0.80, 80), (0.75, 70)], 50),
        "achievement": NAN if achieve != achieve else min(max(100 * achieve, 0), 120),
        "attendance": max(10 - 2 * row["late_arrivals"], 0),
        "cooperation": LABEL_POINTS[row["cooperation"].strip()],
        "error_rate": tier_upper(errors, [(0, 0), (0.004, -2), (0.01, -4), (0.015, -6)], -10),
        "training": step(training, 0.90 - training, 0.90, 0.01, 1, 0, -5),
    }


def score_row(row: pd.Series) -> float:
    """Monthly score: weighted KPI part (85, re-weighted over what is present) + add/deduct items."""
    if row["probation"]:
        return NAN
    pts = kpi_points(row)
    num = den = 0.0
    for name, weight in WEIGHTS.items():
        if pts[name] == pts[name]:
            num += weight * pts[name]
            den += weight
    kpi = num / den * KPI_WEIGHT / 100 if den > 0 else NAN
    parts = [kpi, pts["attendance"], pts["cooperation"], pts["error_rate"], pts["training"]]
    present = [p for p in parts if p == p]
    return sum(present) if present else NAN


def run_baseline(data: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Monthly scores plus quarterly and annual means, as an analyst builds them."""
    df = data["records"].copy()
    df["score"] = df.apply(score_row, axis=1)
    df["status"] = np.where(df["score"].notna(), "rated", "not_rated")
    year = df["period"].str[:4]
    df["quarter"] = year + "Q" + ((df["period"].str[5:7].astype(int) - 1) // 3 + 1).astype(str)
    df["year"] = year
    out = {"scores": df[["employee_id", "period", "status", "score"]]}
    for name in ("quarter", "year"):
        out[name] = (df.groupby(["employee_id", name], sort=True)["score"].mean()
                     .rename("score").reset_index())
    return out


def compare(result, base: dict[str, pd.DataFrame], atol: float = 1e-9) -> list[str]:
    """Differences between a calib Result and the baseline (empty list: they match)."""
    problems = []
    tables = [("scores", result.scores, base["scores"], "period")]
    tables += [(name, result.rollups[name], base[name], name) for name in ("quarter", "year")]
    for name, ours, theirs, period in tables:
        left = ours[["id", "period", "score"]].rename(columns={"id": "employee_id"})
        left = left.astype({"employee_id": str, "period": str})
        right = theirs.rename(columns={period: "period"}).astype({"employee_id": str,
                                                                  "period": str})
        merged = left.merge(right, on=["employee_id", "period"], how="outer",
                            suffixes=("_calib", "_pandas"), indicator=True)
        if (merged["_merge"] != "both").any():
            problems.append(f"{name}: rows differ ({(merged['_merge'] != 'both').sum()})")
            continue
        a = merged["score_calib"].to_numpy(dtype=float)
        b = merged["score_pandas"].to_numpy(dtype=float)
        bad = ~((np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= atol))
        if bad.any():
            problems.append(f"{name}: {bad.sum()} scores differ, e.g.\n"
                            f"{merged[bad].head().to_string()}")
        if name == "scores":
            status = result.scores["status"].to_numpy()
            if (status != base["scores"]["status"].to_numpy()).any():
                problems.append("scores: status differs")
    return problems


if __name__ == "__main__":
    import sys
    import time
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from data import make_data

    import calib

    policy = calib.load_policy(Path(__file__).with_name("policy_10kpi.yaml"))
    data = make_data(12_000)
    t0 = time.perf_counter()
    base = run_baseline(data)
    print(f"baseline: {time.perf_counter() - t0:.2f} s")
    issues = compare(calib.run(policy, data), base)
    print("\n".join(issues) if issues else "calib matches the pandas baseline (12k, atol 1e-9)")
