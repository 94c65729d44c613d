"""support_team (seed 004, 客服部绩效考核标准): periods from the 26th to the 25th, workload per
channel from weekly exports (one row per person, week and channel), QC reviews for the pooled QC
rate and its multiplier (R12), contributions (R30); the workload benchmark is a daily one (每日工作量
基准: 18 weighted tickets for 组员, 13 for 组长, our completion), met over the days present."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from _gen import common as c

SEED = 5000
TEAMS = {"GS一组": 1.0, "GS二组": 1.0, "GS三组": 1.0, "GS四组": 0.9, "GS五组": 0.8, "GS六组": 0.7}
BUSY = {1: 1.2, 2: 0.8, 6: 1.1, 11: 1.3, 12: 1.25}  # by the month a period ends in
EXAMPLE = "ST0003"
CHANNELS = ["电话", "在线", "邮件"]


def build() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    people = c.staff(rng, 156, "ST", join_share=0.3, leave_share=0.22)
    people["team"] = c.assign_groups(rng, len(people), TEAMS)
    member = people.employee_id == EXAMPLE  # the worked example is a 组员, never a team's lead
    lead = ~member & ~people["team"].where(~member).duplicated()
    people["position"] = np.where(lead, "组长", "组员")
    people["benchmark_bonus"] = 300
    people["daily_benchmark"] = np.where(lead, 13, 18)  # ≈ 400 and 550 over a 30-day period
    people.loc[member, ["hired", "left"]] = [dt.date(2022, 7, 4), None]
    team_fx = c.effects(rng, TEAMS, 0.3)
    rows = c.person_periods(people, rng, start_day=26)
    example = (rows.employee_id == EXAMPLE) & rows.period.isin(["2024-04", "2024-05"])
    rows.loc[example, ["absent", "probation"]] = False
    rows = rows.merge(people[["employee_id", "team", "ability", "hired", "left"]],
                      on="employee_id")
    z = 0.7 * rows["ability"] + rows["team"].map(team_fx) + rng.normal(0, 0.5, len(rows))
    rows["z"] = z - np.where(rows["probation"], 0.6, 0.0)
    rows["days_present"] = np.where(rows["absent"], 0, rows["days_employed"] - rows["leave_days"])
    rows["suggestions_adopted"] = rng.poisson(0.12 * np.exp(0.4 * rows["z"]))
    per = rng.choice([50, 100, 150, 200], len(rows), p=[0.4, 0.3, 0.2, 0.1])
    rows["contribution"] = rows["suggestions_adopted"] * per
    rows["other_bonus"] = np.where(rng.random(len(rows)) < 0.03, 50, 0)
    rows.loc[rows.days_present == 0, ["suggestions_adopted", "contribution", "other_bonus"]] = 0
    tickets = _tickets(rng, rows)
    qc = _qc(rng, rows)
    tickets, qc = _plant(tickets, qc)
    cols = ["employee_id", "team", "position", "gender", "hired", "left", "benchmark_bonus",
            "daily_benchmark"]
    records = ["employee_id", "period", "probation", "absent", "days_present",
               "suggestions_adopted", "contribution", "other_bonus"]
    return {"people": c.public_people(people, cols), "records": rows[records],
            "tickets": tickets, "qc": qc}


def _worked_days(row, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date] | None:
    end = c.LAST if row.left is None or pd.isna(row.left) else row.left
    lo, hi = max(first, row.hired), min(last, end)
    return None if row.absent or lo > hi else (lo, hi)


def _tickets(rng: np.random.Generator, rows: pd.DataFrame) -> pd.DataFrame:
    """Weekly export (every Sunday): one row per person, week and channel with tickets, in the days
    worked (a channel without tickets that week has no row)."""
    out = []
    for row in rows.itertuples(index=False):
        first, last = c.window(row.period, 26)
        span = _worked_days(row, first, last)
        if span is None:
            continue
        busy = BUSY.get(int(row.period[5:]), 1.0) * np.exp(0.15 * row.z)
        day = span[0]
        while day <= span[1]:
            sunday = min(day + dt.timedelta(days=6 - day.weekday()), span[1])
            days = (sunday - day).days + 1
            mean = np.array([80.0, 60.0, 8.0]) * busy * days / 7 * (1 - row.leave_days / 30)
            for channel, count in zip(CHANNELS, rng.poisson(mean), strict=True):
                if count > 0:
                    out.append((row.employee_id, sunday.isoformat(), channel, count))
            day = sunday + dt.timedelta(days=1)
    return pd.DataFrame(out, columns=["employee_id", "date", "channel", "tickets"])


def _qc(rng: np.random.Generator, rows: pd.DataFrame) -> pd.DataFrame:
    """Two QC reviews a period (about 20 tickets each); a few periods with none."""
    out = []
    for row in rows.itertuples(index=False):
        first, last = c.window(row.period, 26)
        span = _worked_days(row, first, last)
        if span is None or rng.random() < 0.03:
            continue
        quality = np.clip(0.76 + 0.06 * row.z, 0.4, 0.98)
        for _ in range(2):
            date = span[0] + dt.timedelta(days=int(rng.integers(0, (span[1] - span[0]).days + 1)))
            sampled = int(rng.integers(15, 26))
            passed = int(rng.binomial(sampled, quality))
            out.append((row.employee_id, date.isoformat(), sampled, passed))
    out = pd.DataFrame(out, columns=["employee_id", "date", "sampled", "passed"])
    return out.sort_values(["employee_id", "date"], kind="stable").reset_index(drop=True)


def _plant(tickets: pd.DataFrame, qc: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ST0003: period 2024-04 (26 Mar – 25 Apr) QC 13/20 = 65 % → 0.75, workload 600/240/40;
    period 2024-05 (26 Apr – 25 May) QC 21/25 = 84 % → 1.20; reviews on the 25th and the 26th."""
    lo, hi = "2024-03-26", "2024-05-25"
    mine = lambda t: (t.employee_id == EXAMPLE) & (t.date >= lo) & (t.date <= hi)  # noqa: E731
    tickets, qc = tickets[~mine(tickets)], qc[~mine(qc)]
    dates = ["2024-03-26", "2024-04-05", "2024-04-15", "2024-04-25",
             "2024-04-26", "2024-05-05", "2024-05-15", "2024-05-25"]
    planted = pd.DataFrame([(EXAMPLE, d, ch, n) for d in dates
                            for ch, n in zip(CHANNELS, (150, 60, 10), strict=True)],
                           columns=tickets.columns)
    reviews = pd.DataFrame([(EXAMPLE, "2024-04-25", 20, 13),
                            (EXAMPLE, "2024-04-26", 25, 21)], columns=qc.columns)
    tickets = pd.concat([tickets, planted]).sort_values(["employee_id", "date"], kind="stable")
    qc = pd.concat([qc, reviews]).sort_values(["employee_id", "date"], kind="stable")
    return tickets.reset_index(drop=True), qc.reset_index(drop=True)
