"""ethics_diligence (seed 003, 客户服务部员工绩效考核工作规程): 德勤能绩 sub-items monthly,
weekly checks and a year-end evaluation for the 20/30/50 annual roll-up, commendation points."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from _gen import common as c

SEED = 7000
DEPARTMENTS = {"客服一部": 1.0, "客服二部": 1.0, "回访组": 0.8, "投诉处理组": 0.7,
               "大客户服务组": 0.6, "客服培训组": 0.4}
LABEL_ITEMS = ["morality", "relations", "participation", "initiative", "coordination",
               "organisation", "management", "other_results"]
EXAMPLE = "ED0004"
# every sub-item scores 80 in these months (see _plant)
EXAMPLE_PERIODS = [*c.PERIODS[:12], "2025-03"]
# the rest of 2025: every sub-item 100 plus 5 commendation points (monthly 105), weekly checks
# and year-end 100 → annual 2025 = 20 + 0.3 × (11 × 105 + 85) / 12 + 50 = 101 > 100 (R36 award)
AWARD_PERIODS = [p for p in c.PERIODS[12:] if p != "2025-03"]


def build() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    people = c.staff(rng, 172, "ED", join_share=0.25, leave_share=0.18)
    people["department"] = c.assign_groups(rng, len(people), DEPARTMENTS)
    lead = ~people["department"].duplicated()
    people["position"] = np.where(lead, "客户经理", "客服专员")
    people["perf_pay_base"] = np.where(lead, 500, 300)
    people.loc[people.employee_id == EXAMPLE, ["hired", "left", "position", "perf_pay_base"]] = [
        dt.date(2020, 9, 1), None, "客服专员", 300]
    dept_fx = c.effects(rng, DEPARTMENTS, 0.3)
    rows = c.person_periods(people, rng)
    rows = rows.merge(people[["employee_id", "department", "ability", "hired", "left"]],
                      on="employee_id")
    example = (rows.employee_id == EXAMPLE) & rows.period.isin(EXAMPLE_PERIODS + AWARD_PERIODS)
    rows.loc[example, ["absent", "probation"]] = False
    # the manager of each department is a little lenient or strict with every label
    manager = rows["department"].map(c.effects(rng, DEPARTMENTS, 0.4)).to_numpy()
    z = 0.7 * rows["ability"] + rows["department"].map(dept_fx) + rng.normal(0, 0.5, len(rows))
    rows["z"] = z.to_numpy() - np.where(rows["probation"], 0.5, 0.0)
    rows = _monthly(rng, rows, manager)
    rows = _plant(rows)
    weekly = _weekly(rng, rows)
    year_end = _year_end(rng, rows)
    cols = ["employee_id", "department", "position", "gender", "hired", "left", "perf_pay_base"]
    return {"people": c.public_people(people, cols), "records": rows[RECORD_COLUMNS],
            "weekly_checks": weekly, "year_end": year_end}


RECORD_COLUMNS = ["employee_id", "period", "probation", "absent", "workdays", "days_worked",
                  "morality", "service_score", "discipline_violations", "relations",
                  "participation", "initiative", "coordination", "exam_score", "organisation",
                  "management", "suggestions", "tasks_due", "tasks_done", "training_score",
                  "quality_score", "other_results", "commendation"]


def _monthly(rng: np.random.Generator, rows: pd.DataFrame, manager: np.ndarray) -> pd.DataFrame:
    n = len(rows)
    z = rows["z"].to_numpy()
    firsts = [c.window(p)[0] for p in rows["period"]]
    ends = [c.window(p)[1] + dt.timedelta(days=1) for p in rows["period"]]
    rows["workdays"] = np.busday_count(firsts, ends)
    worked = np.round(rows["workdays"] * rows["days_employed"] / rows["period_days"])
    rows["days_worked"] = np.where(rows["absent"], 0,
                                   np.maximum(worked - rows["leave_days"], 0)).astype(int)
    for item in LABEL_ITEMS:
        rows[item] = c.label_from(z + manager + rng.normal(0, 0.6, n))
    rows["service_score"] = np.clip(82 + 6 * z + rng.normal(0, 4, n), 40, 100).round(1)
    rows["discipline_violations"] = rng.poisson(0.15 * np.exp(-0.6 * z))
    rows["exam_score"] = np.clip(80 + 7 * z + rng.normal(0, 6, n), 30, 100).round(0).astype(int)
    rows["suggestions"] = rng.poisson(1.2 * np.exp(0.3 * z))
    rows["tasks_due"] = rng.integers(8, 16, n)
    rows["tasks_done"] = c.binom(rng, rows["tasks_due"], 0.9 + 0.04 * z)
    trained = rng.random(n) < 0.35
    training = np.clip(78 + 8 * z + rng.normal(0, 6, n), 30, 100).round(0).astype(int)
    rows["training_score"] = pd.array(np.where(trained, training, 0), dtype="Int64")
    rows.loc[~trained, "training_score"] = pd.NA
    rows["quality_score"] = np.clip(84 + 5 * z + rng.normal(0, 4, n), 40, 100).round(1)
    bonus = rng.random(n) < 0.06
    rows["commendation"] = np.where(bonus, rng.choice([1, 2, 3, 5, 10], n, p=[.3, .3, .2, .15, .05]),
                                    0)
    absent = rows["absent"].to_numpy()
    for item in [*LABEL_ITEMS]:
        rows[item] = np.where(absent, "", rows[item])
    for item in ("service_score", "exam_score", "quality_score"):
        rows[item] = rows[item].astype(object).where(~absent, "")
    rows.loc[absent, ["discipline_violations", "suggestions", "tasks_due", "tasks_done",
                      "commendation"]] = 0
    rows.loc[absent, "training_score"] = pd.NA
    return rows


def _plant(rows: pd.DataFrame) -> pd.DataFrame:
    """ED0004: every sub-item at 80 in 2024 and 2025-03 (monthly 80); 2025-03 commendation 5;
    the other months of 2025 every sub-item 100 and commendation 5 (monthly 105)."""
    at = (rows.employee_id == EXAMPLE) & rows.period.isin(EXAMPLE_PERIODS)
    rows.loc[at, LABEL_ITEMS] = "良好"
    rows.loc[at, ["workdays", "days_worked", "service_score", "discipline_violations",
                  "exam_score", "suggestions", "tasks_due", "tasks_done", "training_score",
                  "quality_score", "commendation"]] = [20, 16, 80.0, 2, 80, 2, 10, 8, 80, 80.0, 0]
    rows.loc[at & (rows.period == "2025-03"), "commendation"] = 5
    best = (rows.employee_id == EXAMPLE) & rows.period.isin(AWARD_PERIODS)
    rows.loc[best, LABEL_ITEMS] = "优秀"
    rows.loc[best, "days_worked"] = rows.loc[best, "workdays"]
    rows.loc[best, ["service_score", "discipline_violations", "exam_score", "suggestions",
                    "tasks_due", "tasks_done", "training_score", "quality_score",
                    "commendation"]] = [100.0, 0, 100, 3, 10, 10, 100, 100.0, 5]
    return rows


def _weekly(rng: np.random.Generator, rows: pd.DataFrame) -> pd.DataFrame:
    """A weekly check (百分制) every Friday the person was at work."""
    out = []
    for row in rows.itertuples(index=False):
        if row.absent:
            continue
        first, last = c.window(row.period)
        end = c.LAST if row.left is None or pd.isna(row.left) else row.left
        day = max(first, row.hired)
        day += dt.timedelta(days=(4 - day.weekday()) % 7)
        while day <= min(last, end):
            score = 90.0 if row.employee_id == EXAMPLE and row.period in EXAMPLE_PERIODS else (
                round(float(np.clip(87 + 5 * row.z + rng.normal(0, 5), 40, 100)), 0))
            if row.employee_id == EXAMPLE and row.period[:4] == "2025":
                score = 100.0  # drawn above all the same, so nobody else's checks move
            out.append((row.employee_id, day.isoformat(), score))
            day += dt.timedelta(days=7)
    return pd.DataFrame(out, columns=["employee_id", "date", "score"])


def _year_end(rng: np.random.Generator, rows: pd.DataFrame) -> pd.DataFrame:
    """The year-end evaluation for everyone employed and not absent in December."""
    out = []
    for year, date in (("2024", "2024-12-27"), ("2025", "2025-12-26")):
        dec = rows[(rows.period == f"{year}-12") & ~rows.absent]
        dec = dec[[d.isoformat() >= date if d else True for d in dec["left"].fillna("")]]
        for row in dec.itertuples(index=False):
            score = {"2024": 95.0, "2025": 100.0}[year] if row.employee_id == EXAMPLE else round(
                float(np.clip(85 + 6 * row.z + rng.normal(0, 4), 40, 100)), 1)
            out.append((row.employee_id, date, score))
    return pd.DataFrame(out, columns=["employee_id", "date", "score"])
