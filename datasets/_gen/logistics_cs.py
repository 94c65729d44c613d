"""logistics_cs (seed 000): ratio KPIs with step deductions, an SLA from a request log, R9 labels."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from _gen import common as c

SEED = 1000
DEPARTMENTS = {"华东客服组": 1.2, "华南客服组": 1.0, "华北客服组": 1.0, "华中客服组": 0.8,
               "西南客服组": 0.8, "西北客服组": 0.6, "东北客服组": 0.6}
GROWTH = ["显著提升", "有一定提升", "提升不明显", "无提升"]
PEAK = {1: 1.25, 2: 0.8, 11: 1.45, 12: 1.2, 6: 1.1}
PLANTED = {"LG0007": "2024-06", "LG0012": "2024-06", "LG0019": "2025-03"}
MIDPOINTS = {"客服主管": 9000, "高级客服专员": 6500, "客服专员": 5000}  # 元/月, R35 salary ranges


def build() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    people = c.staff(rng, 160, "LG")
    people["department"] = c.assign_groups(rng, len(people), DEPARTMENTS)
    senior = rng.random(len(people)) < 0.25
    lead = ~people["department"].duplicated()
    people["position"] = np.where(lead, "客服主管", np.where(senior, "高级客服专员", "客服专员"))
    people["perf_pay_base"] = np.where(lead, 500, 300)
    people["annual_bonus_base"] = np.select([lead, senior], [12000, 8000], default=6000)
    for pid in PLANTED:
        people.loc[people.employee_id == pid, ["hired", "left"]] = [dt.date(2020, 5, 11), None]

    dept_fx = c.effects(rng, DEPARTMENTS, 0.35)
    rows = c.person_periods(people, rng)
    rows = rows.merge(people[["employee_id", "department", "ability", "hired"]], on="employee_id")
    rows = _measures(rng, rows, dept_fx)
    requests = _requests(rng, rows)
    rows, requests = _plant(rows, requests)
    _salaries(people)
    people_out = c.public_people(people, ["employee_id", "department", "position", "gender",
                                          "hired", "left", "perf_pay_base", "annual_bonus_base",
                                          "base_salary", "salary_midpoint"])
    return {"people": people_out, "records": rows[RECORD_COLUMNS], "requests": requests}


def _salaries(people: pd.DataFrame) -> None:
    """R35 inputs: monthly base salary around the position's range midpoint (compa-ratio
    0.80–1.25), drawn from a second generator so the scoring tables do not move."""
    rng = np.random.default_rng(SEED + 1)
    mid = people["position"].map(MIDPOINTS).to_numpy(dtype=float)
    compa = rng.uniform(0.8, 1.25, len(people))
    people["salary_midpoint"] = mid.astype(int)
    people["base_salary"] = (np.round(mid * compa / 10) * 10).astype(int)


RECORD_COLUMNS = ["employee_id", "period", "probation", "absent", "days_present",
                  "customers_served", "complaints", "surveyed", "very_satisfied", "satisfied",
                  "tasks_due", "tasks_done", "work_items", "errors", "collab_surveyed",
                  "collab_satisfied", "training_required", "training_attended", "cooperation",
                  "growth"]


def _measures(rng: np.random.Generator, rows: pd.DataFrame, dept_fx) -> pd.DataFrame:
    n = len(rows)
    z = 0.6 * rows["ability"] + rows["department"].map(dept_fx) + rng.normal(0, 0.6, n)
    z = z.to_numpy() - np.where(rows["probation"], 0.5, 0.0)
    peak = c.season(rows["period"], PEAK)
    work = np.where(rows["absent"], 0, rows["days_employed"] - rows["leave_days"])
    rows["days_present"] = work
    share = work / rows["period_days"]
    rows["customers_served"] = rng.poisson(900 * peak * share)
    rows["complaints"] = c.binom(rng, rows["customers_served"],
                                 0.014 * np.exp(-0.45 * z) * (0.6 + 0.4 * peak))
    nobody = rng.random(n) < 0.04
    rows["surveyed"] = np.where(nobody, 0, c.binom(rng, rows["customers_served"], 0.05))
    happy = c.binom(rng, rows["surveyed"], 1 / (1 + np.exp(-(2.7 + 0.6 * z))))
    rows["very_satisfied"] = c.binom(rng, happy, 0.55)
    rows["satisfied"] = happy - rows["very_satisfied"]
    rows["tasks_due"] = rng.poisson(40 * share)
    rows["tasks_done"] = c.binom(rng, rows["tasks_due"], 1 - 0.012 * np.exp(-0.6 * z))
    rows["work_items"] = rng.poisson(600 * peak * share)
    rows["errors"] = c.binom(rng, rows["work_items"], 0.007 * np.exp(-0.5 * z))
    rows["collab_surveyed"] = np.where(rng.random(n) < 0.05, 0, rng.integers(4, 13, n))
    rows["collab_surveyed"] = np.where(work == 0, 0, rows["collab_surveyed"])
    rows["collab_satisfied"] = c.binom(rng, rows["collab_surveyed"],
                                       1 / (1 + np.exp(-(2.2 + 0.5 * z))))
    rows["training_required"] = np.where(rng.random(n) < 0.4, 0, rng.integers(1, 4, n))
    rows["training_required"] = np.where(work == 0, 0, rows["training_required"])
    rows["training_attended"] = c.binom(rng, rows["training_required"], 0.94)
    rows["cooperation"] = c.label_from(z + rng.normal(0, 0.5, n))
    rows["growth"] = c.label_from(z + rng.normal(0, 0.7, n), GROWTH, (1.2, 0.0, -1.3))
    for col in ("cooperation", "growth"):
        rows[col] = np.where(rows["absent"], "", rows[col])
    rows["z"] = z
    return rows


def _requests(rng: np.random.Generator, rows: pd.DataFrame) -> pd.DataFrame:
    """About five requests per person and month worked, a quarter of them urgent."""
    out = []
    counts = rng.poisson(5 * rows["days_present"] / rows["period_days"])
    for row, count in zip(rows.itertuples(index=False), counts, strict=True):
        if count == 0:
            continue
        first, last = c.window(row.period)
        first = max(first, row.hired)
        span = (last - first).days + 1
        urgent = rng.random(count) < 0.25
        median = np.where(urgent, 3.5, 11.0) * np.exp(-0.25 * row.z)
        wait = np.round(median * np.exp(rng.normal(0, 0.55, count)), 0) + 1
        days = rng.integers(0, span, count)
        starts = rng.integers(8 * 60, 20 * 60, count)
        lost = rng.random(count) < 0.004
        for u, w, d, s, x in zip(urgent, wait, days, starts, lost, strict=True):
            date = first + dt.timedelta(days=int(d))
            out.append((row.employee_id, _fmt(date, s), "" if x else _fmt(date, s + w),
                        "紧急请求" if u else "一般咨询"))
    return pd.DataFrame(out, columns=["employee_id", "received", "answered", "category"])


def _fmt(date: dt.date, minutes: float) -> str:
    return c.stamp(date, minutes)[:16]


def _plant(rows: pd.DataFrame, requests: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Worked examples: everything met except the complaint rate (3.1 %, 2.5 %, exactly 2 %)."""
    for pid, period, complaints in (("LG0007", "2024-06", 31), ("LG0012", "2024-06", 25),
                                    ("LG0019", "2025-03", 20)):
        at = (rows.employee_id == pid) & (rows.period == period)
        rows.loc[at, ["probation", "absent"]] = False
        rows.loc[at, RECORD_COLUMNS[4:]] = [
            30, 1000, complaints, 50, 30, 18, 100, 100, 500, 0, 10, 10, 2, 2, "一般", "提升不明显"]
        first, _ = c.window(period)
        mine = (requests.employee_id == pid) & requests.received.str.startswith(period)
        requests = requests[~mine]
        planted = [(pid, _fmt(first + dt.timedelta(days=i), 600), "", cat) for i, cat in
                   enumerate(["一般咨询"] * 8 + ["紧急请求"] * 2)]
        planted = pd.DataFrame(planted, columns=requests.columns)
        limit = np.where(planted.category == "紧急请求", 10, 30)  # answered exactly at the limit
        planted["answered"] = [_fmt(first + dt.timedelta(days=i), 600 + lim)
                               for i, lim in enumerate(limit)]
        requests = pd.concat([requests, planted], ignore_index=True)
    requests = requests.sort_values(["employee_id", "received"], kind="stable")
    return rows, requests.reset_index(drop=True)
