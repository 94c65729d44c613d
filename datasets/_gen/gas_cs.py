"""gas_cs (seed 001): weighted staff KPI sheet; supervisors rated by branch and HQ (R18)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from _gen import common as c

SEED = 2000
# (branch, team, members); the first two teams are the worked examples' teams of 10 and 7.
TEAMS = [("城东分公司", "城东营业厅一组", 10), ("城东分公司", "城东营业厅二组", 7),
         ("城东分公司", "城东热线组", 22), ("城西分公司", "城西营业厅", 21),
         ("城西分公司", "城西热线组", 18), ("城南分公司", "城南营业厅", 24),
         ("城南分公司", "城南热线组", 20), ("城北分公司", "城北营业厅", 19),
         ("城北分公司", "城北热线组", 23), ("开发区分公司", "开发区营业厅", 17),
         ("开发区分公司", "开发区热线组", 16), ("开发区分公司", "开发区大客户组", 12)]
WINTER = {11: 1.25, 12: 1.4, 1: 1.45, 2: 1.2, 3: 1.05}
EXAMPLE_PERIOD = "2025-06"


def build() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    n = sum(size + 1 for _, _, size in TEAMS)
    people = c.staff(rng, n, "GS")
    branch, team, position, boss = [], [], [], []
    for b, t, size in TEAMS:
        lead = f"GS{len(branch) + 1:04d}"
        branch += [b] * (size + 1)
        team += [t] * (size + 1)
        position += ["客服主管", *rng.choice(["客服专员", "兼职客服"], size, p=[0.85, 0.15])]
        boss += ["", *[lead] * size]
    people["branch"], people["team"] = branch, team
    people["position"], people["supervisor_id"] = position, boss
    stable = (people["position"] == "客服主管") | people["team"].isin([t for _, t, _ in TEAMS[:2]])
    people.loc[stable, "hired"] = c.random_dates(rng, dt.date(2016, 1, 1), dt.date(2022, 12, 31),
                                                 int(stable.sum()))
    people.loc[stable, "left"] = None
    lead = people["position"] == "客服主管"
    people["perf_pay_base"] = np.where(lead, 500, 300)
    people["base_bonus"] = np.where(lead, 1000, np.where(people["position"] == "兼职客服",
                                                         300, 500))

    team_fx = c.effects(rng, [t for _, t, _ in TEAMS], 0.3)
    rows = c.person_periods(people, rng)
    example = rows["employee_id"].isin(people.loc[stable, "employee_id"]) & (
        rows["period"] == EXAMPLE_PERIOD)
    rows.loc[example, ["absent", "probation"]] = False
    rows.loc[example, "leave_days"] = 0
    rows = rows.merge(people[["employee_id", "team", "branch", "ability", "supervisor_id"]],
                      on="employee_id")
    rows = _measures(rng, rows, team_fx)
    ratings = _ratings(rng, rows, people)
    cols = ["employee_id", "branch", "team", "position", "supervisor_id", "gender", "hired", "left",
            "perf_pay_base", "base_bonus"]
    return {"people": c.public_people(people, cols), "records": rows[RECORD_COLUMNS],
            "ratings": ratings}


RECORD_COLUMNS = ["employee_id", "period", "probation", "absent", "days_present", "surveyed",
                  "satisfied", "work_orders", "closed_on_time", "complaints", "errors", "conduct"]


def _measures(rng: np.random.Generator, rows: pd.DataFrame, team_fx) -> pd.DataFrame:
    n = len(rows)
    z = 0.6 * rows["ability"] + rows["team"].map(team_fx) + rng.normal(0, 0.6, n)
    z = z.to_numpy() - np.where(rows["probation"], 0.5, 0.0)
    winter = c.season(rows["period"], WINTER)
    work = np.where(rows["absent"], 0, rows["days_employed"] - rows["leave_days"])
    rows["days_present"] = work
    share = work / rows["period_days"]
    rows["work_orders"] = rng.poisson(260 * winter * share)
    rows["closed_on_time"] = c.binom(rng, rows["work_orders"],
                                     1 - 0.04 * np.exp(-0.5 * z) * winter)
    rows["surveyed"] = np.where(rng.random(n) < 0.03, 0, c.binom(rng, rows["work_orders"], 0.12))
    rows["satisfied"] = c.binom(rng, rows["surveyed"], 1 / (1 + np.exp(-(2.8 + 0.6 * z))))
    rows["complaints"] = rng.poisson(0.25 * np.exp(-0.6 * z) * winter * share)
    rows["errors"] = rng.poisson(0.4 * np.exp(-0.5 * z) * share)
    # the conduct label is given by the team's supervisor, some of whom are lenient
    lenient = rows["supervisor_id"].map(c.effects(np.random.default_rng(SEED + 1),
                                                  sorted(set(rows["supervisor_id"])), 0.5))
    rows["conduct"] = c.label_from(z + lenient.fillna(0).to_numpy() + rng.normal(0, 0.5, n))
    rows["conduct"] = np.where(rows["absent"], "", rows["conduct"])
    return rows


def _ratings(rng: np.random.Generator, rows: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """Branch manager and HQ scores (0–100) for every supervisor month; a few HQ scores missing."""
    leads = rows[rows["employee_id"].isin(people.loc[people.position == "客服主管", "employee_id"])]
    leads = leads[~leads["absent"]]
    branch_fx = c.effects(rng, sorted(set(people["branch"])), 2.5)
    out = []
    for row in leads.itertuples(index=False):
        base = 88 + 3.5 * row.ability
        branch = base + branch_fx[row.branch] + rng.normal(0, 2.5)
        hq = base - 1.5 + rng.normal(0, 2.5)
        out.append((row.employee_id, row.period, "分公司", f"{row.branch}经理", branch))
        if rng.random() > 0.03:
            out.append((row.employee_id, row.period, "总部", "总部客户服务部", hq))
    out = pd.DataFrame(out, columns=["employee_id", "period", "rater", "rater_name", "score"])
    out["score"] = out["score"].clip(55, 100).round(1)
    for pid, scores in (("GS0001", (93.0, 98.0)), ("GS0012", (91.0, 92.0))):
        at = (out.employee_id == pid) & (out.period == EXAMPLE_PERIOD)
        out = out[~at]
        extra = pd.DataFrame([(pid, EXAMPLE_PERIOD, "分公司", "城东分公司经理", scores[0]),
                              (pid, EXAMPLE_PERIOD, "总部", "总部客户服务部", scores[1])],
                             columns=out.columns)
        out = pd.concat([out, extra], ignore_index=True)
    return out.sort_values(["period", "employee_id", "rater"], kind="stable").reset_index(drop=True)
