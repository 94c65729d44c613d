"""call_centre (seed 004, 四川连连客户服务人员绩效考核制度): ticket counts for the piece rate
(R31), conduct points, verified complaints (R26); team leads score mean × 1.2 (R19)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from _gen import common as c

SEED = 6000
TEAMS = {f"客服{n}组": 1.0 for n in "一二三四五六七八"}
SMALL_TEAM = "客服九组"  # the R19 worked example: CC0001 leads CC0002..CC0005
BUSY = {1: 1.15, 2: 1.1, 7: 1.1, 8: 1.15, 10: 0.9}
EXAMPLE_PERIOD = "2025-02"
# (phone, messaging, violation points, complaints, verified complaints) of the small team
PLANTED = {"CC0002": (1400, 1200, 2, 0, 0), "CC0003": (1200, 800, 0, 0, 0),
           "CC0004": (1600, 1000, 5, 2, 1), "CC0005": (1000, 1400, 0, 0, 0),
           "CC0001": (300, 200, 0, 0, 0)}


def build() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    people = c.staff(rng, 236, "CC", join_share=0.3, leave_share=0.25)
    people["team"] = [SMALL_TEAM] * 5 + list(c.assign_groups(rng, len(people) - 5, TEAMS))
    people.loc[:4, "hired"] = c.random_dates(rng, dt.date(2018, 1, 1), dt.date(2022, 12, 31), 5)
    people.loc[:4, "left"] = None
    lead = ~people["team"].duplicated()
    people["role"] = np.where(lead, "组长", "客服专员")
    people["post_level"] = np.where(lead, "高级", rng.choice(["初级", "中级", "高级"], len(people),
                                                           p=[0.45, 0.4, 0.15]))
    team_fx = c.effects(rng, [*TEAMS, SMALL_TEAM], 0.25)
    rows = c.person_periods(people, rng)
    rows = rows.merge(people[["employee_id", "team", "role", "ability"]], on="employee_id")
    n = len(rows)
    z = 0.7 * rows["ability"] + rows["team"].map(team_fx) + rng.normal(0, 0.5, n)
    z = z.to_numpy() - np.where(rows["probation"], 0.6, 0.0)
    work = np.where(rows["absent"], 0, rows["days_employed"] - rows["leave_days"])
    rows["days_present"] = work
    share = work / rows["period_days"] * c.season(rows["period"], BUSY)
    share = share * np.where(rows["role"] == "组长", 0.25, 1.0) * np.exp(0.12 * z)
    rows["phone_tickets"] = rng.poisson(1450 * share)
    rows["messaging_tickets"] = rng.poisson(1000 * share)
    rows["violation_points"] = rng.poisson(1.2 * np.exp(-0.5 * z) * (work > 0))
    rows["complaints"] = rng.poisson(0.2 * np.exp(-0.4 * z) * share)
    rows["verified_complaints"] = c.binom(rng, rows["complaints"], 0.55)
    cols = ["phone_tickets", "messaging_tickets", "violation_points", "complaints",
            "verified_complaints"]
    for pid, values in PLANTED.items():
        at = (rows.employee_id == pid) & (rows.period == EXAMPLE_PERIOD)
        rows.loc[at, ["probation", "absent", "days_present"]] = [False, False, 28]
        rows.loc[at, cols] = values
    records = ["employee_id", "period", "probation", "absent", "days_present", *cols]
    people_cols = ["employee_id", "team", "role", "post_level", "gender", "hired", "left"]
    return {"people": c.public_people(people, people_cols), "records": rows[records]}
