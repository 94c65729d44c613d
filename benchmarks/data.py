"""Synthetic people + records for benchmarks/policy_10kpi.yaml (numpy, fixed seed, fast).

``make_data(n)`` gives ``n`` person-months: ``n // 12`` people × 12 months of 2025. Ids are strings
("E0000001"), the period is a "2025-03" string, the cooperation label is a string column (优秀/良好/
一般/较差) — the shapes an HR export has. Zero denominators, exact tier bounds and probation months
are all present, so every branch of the scheme is exercised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MONTHS = 12
LABELS = np.array(["优秀", "良好", "一般", "较差"], dtype=object)
DEPARTMENTS = np.array(["售前", "售后", "投诉", "回访", "大客户"], dtype=object)
POSITIONS = np.array(["staff", "senior", "lead"], dtype=object)


def _counts(rng: np.random.Generator, lam: float, n: int, zero_share: float) -> np.ndarray:
    """Poisson counts with an extra share of exact zeros (nobody surveyed this month)."""
    out = rng.poisson(lam, n)
    out[rng.random(n) < zero_share] = 0
    return out


def _part(rng: np.random.Generator, total: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """A binomial part of ``total`` with a per-row success probability in [lo, hi]."""
    return rng.binomial(total, rng.uniform(lo, hi, len(total)))


def make_data(n: int, seed: int = 20250301) -> dict[str, pd.DataFrame]:
    """People and records for ``n`` person-months (``n`` is rounded down to whole years)."""
    people_n = max(1, n // MONTHS)
    n = people_n * MONTHS
    rng = np.random.default_rng(seed)
    ids = np.char.add("E", np.char.zfill(np.arange(1, people_n + 1).astype(str), 7)).astype(object)
    people = pd.DataFrame({
        "employee_id": ids,
        "department": DEPARTMENTS[rng.integers(0, len(DEPARTMENTS), people_n)],
        "position": POSITIONS[rng.integers(0, len(POSITIONS), people_n)],
    })
    periods = np.array([f"2025-{m:02d}" for m in range(1, MONTHS + 1)], dtype=object)

    inquiries = _counts(rng, 200, n, 0.03)
    served = _counts(rng, 300, n, 0.02)
    surveyed = _counts(rng, 40, n, 0.05)
    very = _part(rng, surveyed, 0.3, 0.7)
    planned = _counts(rng, 20, n, 0.05)
    work = _counts(rng, 500, n, 0.02)
    required = _counts(rng, 4, n, 0.3)
    target = np.round(rng.uniform(50_000, 150_000, n), -3)
    # probation: the first three months of about 5% of people (new hires)
    new_hire = rng.random(people_n) < 0.05
    month = np.tile(np.arange(MONTHS), people_n)
    records = pd.DataFrame({
        "employee_id": np.repeat(ids, MONTHS),
        "period": np.tile(periods, people_n),
        "inquiries": inquiries,
        "orders": _part(rng, inquiries, 0.4, 0.9),
        # whole seconds, so 30 / 45 / 55 s (the tier bounds) occur exactly
        "response_seconds": np.round(rng.gamma(6.0, 6.0, n)),
        "served": served,
        "complaints": _part(rng, served, 0.0, 0.05),
        "surveyed": surveyed,
        "very_satisfied": very,
        "satisfied": _part(rng, surveyed - very, 0.5, 1.0),
        "planned_visits": planned,
        "revisited": _part(rng, planned, 0.7, 1.0),
        "sales": np.round(target * rng.uniform(0.5, 1.4, n), 2),
        "sales_target": target,
        "work_items": work,
        "errors": _part(rng, work, 0.0, 0.02),
        "training_required": required,
        "training_attended": _part(rng, required, 0.6, 1.0),
        "late_arrivals": rng.poisson(0.8, n),
        "cooperation": LABELS[rng.choice(4, n, p=[0.2, 0.45, 0.25, 0.1])],
        "probation": np.repeat(new_hire, MONTHS) & (month < 3),
    })
    return {"people": people, "records": records}


if __name__ == "__main__":
    import sys
    import time

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 12_000
    t0 = time.perf_counter()
    data = make_data(size)
    print(f"{len(data['records']):,} person-months in {time.perf_counter() - t0:.2f} s")
    print(data["records"].head())
    print(data["records"].dtypes)
