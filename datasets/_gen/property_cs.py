"""property_cs (seed 004, 物业服务中心员工绩效考核细则): base-100 add/deduct R16, R29 inputs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from _gen import common as c

SEED = 4000
DEPARTMENTS = {"客服前台": 0.8, "管家组": 1.2, "工程维修部": 1.2, "秩序维护部": 1.6,
               "保洁绿化部": 1.4, "收费组": 0.5, "车场管理组": 0.7}
ADDITIONS = {1: "业主表扬", 2: "收到表扬信", 3: "拾金不昧", 5: "合理化建议被采纳", 8: "突发事件处置得力"}
DEDUCTIONS = {-1: "仪容仪表不规范", -2: "服务用语不规范", -3: "迟报漏报", -5: "业主有效投诉",
              -10: "违反操作规程", -20: "重大服务事故"}
CAP_EXAMPLE = ("收费组", "2025-02")
#: levels a 领班 may confirm on site (seed 5.1.2: 一级、二级奖励和一级至三级处罚); 主管 any level
ON_SITE = (1, 2, -1, -2, -3)
#: PC0006 2024-11, the hand-computed month: 5 short cases of 3 minutes (exactly 15) and one of 7
LATE_EXAMPLE = [("2024-11-04", 3), ("2024-11-06", 3), ("2024-11-11", 3), ("2024-11-13", 3),
                ("2024-11-18", 3), ("2024-11-25", 7)]


def build() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    people = c.staff(rng, 190, "PC", join_share=0.3, leave_share=0.25)
    people["department"] = c.assign_groups(rng, len(people), DEPARTMENTS)
    lead = ~people["department"].duplicated()
    people["position"] = np.where(lead, "主管", "专员")
    people["post_level"] = np.where(lead, "高级", rng.choice(["初级", "中级", "高级"], len(people),
                                                           p=[0.5, 0.35, 0.15]))
    people["perf_pay_base"] = np.where(lead, 500, 300)
    for pid in ("PC0005", "PC0006"):
        at = people.employee_id == pid
        people.loc[at, ["hired", "left", "position", "perf_pay_base"]] = [
            dt.date(2019, 4, 1), None, "专员", 300]
    dept_fx = c.effects(rng, DEPARTMENTS, 0.3)
    rows = c.person_periods(people, rng, absence_rate=0.01)
    rows = rows.merge(people[["employee_id", "department", "ability"]], on="employee_id")
    rows = _measures(rng, rows, dept_fx)
    adjustments = _adjustments(rng, rows)
    rows, adjustments = _plant(rows, adjustments)
    adjustments["confirmed_by"] = _confirmers(adjustments)
    late = _plant_late(_late_arrivals(rows, people))
    cols = ["employee_id", "department", "position", "post_level", "gender", "hired", "left",
            "perf_pay_base"]
    return {"people": c.public_people(people, cols), "records": rows[RECORD_COLUMNS],
            "adjustments": adjustments, "late_arrivals": late}


RECORD_COLUMNS = ["employee_id", "period", "probation", "absent", "days_present", "failed_checks",
                  "complaints", "late_cases", "late_minutes", "short_late_cases",
                  "short_late_minutes", "discipline_violations", "inspection_deduction"]


def _measures(rng: np.random.Generator, rows: pd.DataFrame, dept_fx) -> pd.DataFrame:
    n = len(rows)
    z = 0.6 * rows["ability"] + rows["department"].map(dept_fx) + rng.normal(0, 0.6, n)
    rows["z"] = z.to_numpy() - np.where(rows["probation"], 0.4, 0.0)
    work = np.where(rows["absent"], 0, rows["days_employed"] - rows["leave_days"])
    rows["days_present"] = work
    share = work / rows["period_days"]
    risk = rows["department"].map(DEPARTMENTS).to_numpy() * np.exp(-0.5 * rows["z"]) * share
    rows["failed_checks"] = rng.poisson(0.5 * risk)
    rows["complaints"] = rng.poisson(0.15 * risk)
    short = rng.poisson(0.8 * share)
    short_cases = [rng.integers(1, 5, k) for k in short]
    rows["short_late_cases"] = short
    rows["short_late_minutes"] = [int(m.sum()) for m in short_cases]
    longer = rng.poisson(0.35 * np.exp(-0.3 * rows["z"]) * share)
    long_cases = [rng.integers(5, 40, k) for k in longer]
    rows["late_cases"] = short + longer
    rows["late_minutes"] = rows["short_late_minutes"] + [int(m.sum()) for m in long_cases]
    rows["cases"] = [[int(x) for x in (*a, *b)] for a, b in zip(short_cases, long_cases,
                                                                  strict=True)]
    rows["discipline_violations"] = rng.poisson(0.04 * risk)
    found = rng.random(n) < 0.06 * share
    rows["inspection_deduction"] = np.where(found, rng.choice([10, 20, 30, 50], n), 0)
    return rows


def _late_arrivals(rows: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """R29 event table: one row per late arrival or early leave with its minutes, on a day of
    the period the person was employed (dates from a second generator, so the other tables
    do not move). The records' late_* columns are the monthly totals of these rows."""
    rng = np.random.default_rng(SEED + 1)
    span = people.set_index("employee_id")[["hired", "left"]]
    out = []
    for row in rows.itertuples(index=False):
        if not row.cases:
            continue
        first, last = c.window(row.period)
        hired, left = span.loc[row.employee_id]
        lo, hi = max(first, hired), min(last, left or last)
        days = rng.integers(0, (hi - lo).days + 1, len(row.cases))
        for d, minutes in sorted(zip(days, row.cases, strict=True)):
            out.append((row.employee_id, (lo + dt.timedelta(days=int(d))).isoformat(), minutes))
    late = pd.DataFrame(out, columns=["employee_id", "date", "minutes"])
    return late.sort_values(["date", "employee_id"], kind="stable").reset_index(drop=True)


def _plant_late(late: pd.DataFrame) -> pd.DataFrame:
    """PC0006 2024-11's late arrivals replaced by LATE_EXAMPLE (the other rows, drawn before, do
    not move)."""
    mine = (late.employee_id == "PC0006") & late.date.str.startswith("2024-11")
    planted = pd.DataFrame([("PC0006", d, m) for d, m in LATE_EXAMPLE], columns=late.columns)
    late = pd.concat([late[~mine], planted], ignore_index=True)
    return late.sort_values(["date", "employee_id"], kind="stable").reset_index(drop=True)


def _confirmers(adj: pd.DataFrame) -> pd.Series:
    """Who confirmed each event (R16 authority, a third generator so no other column moves):
    on-site levels mostly a 领班, the rest a 主管; about 3 % of the larger levels slip through a
    领班 (no authority: flagged). The planted events keep the roles their examples need."""
    rng = np.random.default_rng(SEED + 2)
    u = rng.random(len(adj))
    small = adj["points"].isin(ON_SITE).to_numpy()
    role = np.where(small & (u < 0.7), "领班", "主管")
    role = np.where(~small & (u < 0.03), "领班", role)
    planted = {("PC0005", "2024-09-12"): "领班", ("PC0006", "2024-11-08"): "主管",
               ("PC0006", "2024-11-21"): "领班"}
    for (pid, date), who in planted.items():
        role[((adj.employee_id == pid) & (adj.date == date)).to_numpy()] = who
    return pd.Series(role, index=adj.index)


def _adjustments(rng: np.random.Generator, rows: pd.DataFrame) -> pd.DataFrame:
    """Add/deduct events: about one every two months; better people collect more additions."""
    out = []
    counts = rng.poisson(0.55 * rows["days_present"] / rows["period_days"])
    for row, count in zip(rows.itertuples(index=False), counts, strict=True):
        first, last = c.window(row.period)
        for _ in range(count):
            good = rng.random() < 1 / (1 + np.exp(-(0.2 + 0.8 * row.z)))
            table = ADDITIONS if good else DEDUCTIONS
            weights = np.array([8, 6, 3, 2, 1] if good else [8, 6, 4, 3, 1, 0.3])
            points = int(rng.choice(list(table), p=weights / weights.sum()))
            date = first + dt.timedelta(days=int(rng.integers(0, (last - first).days + 1)))
            approved = abs(points) < 8 or rng.random() < 0.8
            out.append((row.employee_id, date.isoformat(), points, table[points], approved))
    cap_dept, cap_period = CAP_EXAMPLE
    cap_rows = rows[(rows.department == cap_dept) & (rows.period == cap_period) & ~rows.absent]
    for pid in cap_rows["employee_id"]:
        out.append((pid, f"{cap_period}-20", 8, "春节收费攻坚", True))
    return pd.DataFrame(out, columns=["employee_id", "date", "points", "reason", "approved"])


def _plant(rows: pd.DataFrame, adj: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PC0005 2024-09: score 80, 12 late minutes in 2 cases of 6 (pay 278); PC0006: approval flags
    (2024-09: +8 and −20 without written approval, both flagged; 2024-10: +8 approved, not;
    2024-11: exactly +5 without written approval, flagged as 以上 includes 5, and −3 confirmed on
    site by a 领班)."""
    for pid in ("PC0005", "PC0006"):
        at = (rows.employee_id == pid) & (rows.period == "2024-09")
        rows.loc[at, ["probation", "absent"]] = False
        rows.loc[at, RECORD_COLUMNS[4:]] = [30, 0, 0, 2, 12, 0, 0, 0, 0]
        rows.loc[at, "cases"] = pd.Series([[6, 6]] * int(at.sum()), index=rows.index[at],
                                          dtype=object)
        adj = adj[~((adj.employee_id == pid) & adj.date.str.startswith("2024-09"))]
    # PC0006 2024-11 (hand-computed in the data card): 1 failed check, 2 discipline violations,
    # the late arrivals of LATE_EXAMPLE (its `cases` stay as drawn, so no later date moves)
    at = (rows.employee_id == "PC0006") & (rows.period == "2024-11")
    rows.loc[at, ["probation", "absent"]] = False
    rows.loc[at, RECORD_COLUMNS[4:]] = [30, 1, 0, 6, 22, 5, 15, 2, 0]
    adj = adj[~((adj.employee_id == "PC0006") & adj.date.str.startswith("2024-11"))]
    planted = pd.DataFrame([
        ("PC0005", "2024-09-05", -10, DEDUCTIONS[-10], True),
        ("PC0005", "2024-09-12", -5, DEDUCTIONS[-5], True),
        ("PC0005", "2024-09-19", -5, DEDUCTIONS[-5], True),
        ("PC0006", "2024-09-08", 8, ADDITIONS[8], False),
        ("PC0006", "2024-09-22", -20, DEDUCTIONS[-20], False),
        ("PC0006", "2024-10-15", 8, ADDITIONS[8], True),
        ("PC0006", "2024-11-08", 5, ADDITIONS[5], False),
        ("PC0006", "2024-11-21", -3, DEDUCTIONS[-3], True),
    ], columns=adj.columns)
    adj = pd.concat([adj, planted], ignore_index=True)
    adj = adj.sort_values(["date", "employee_id"], kind="stable").reset_index(drop=True)
    return rows, adj
