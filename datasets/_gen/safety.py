"""safety (seed 004, 安全部绩效考核指标量表 + 安全绩效考评实施细则): the security KPI table with
targets (R4, R14) as the production-safety part of four weighted parts (R15), with vetoes (R13)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from _gen import common as c

SEED = 8000
UNITS = {"安全生产部": 0.9, "综合部": 0.7, "经营发展部": 0.6, "财务部": 0.5, "风电一场": 1.3,
         "风电二场": 1.2, "风电三场": 1.1, "风电四场": 1.0}
SITES = {"风电一场", "风电二场", "风电三场", "风电四场"}
ALL_MET = [20, 20, 0, 50, 5, 5, 0, 0, 20, 20, 9000.0, 10000.0, 92.0, 2, 2,
           0, 0, 0, 0, 0, 0, 0, False, False, False]
# planted rows: (id, period, changes to ALL_MET by column)
PLANTED = [("SF0040", "2024-08", {}),
           ("SF0030", "2025-04", {"accidents": 1, "accidents_handled": 1, "major_accident": True}),
           ("SF0010", "2025-07", {"fatal_accident": True, "accidents": 1, "accidents_handled": 1}),
           ("SF0020", "2024-11", {"data_leak": True})]


def build() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    people = c.staff(rng, 176, "SF", join_share=0.22, leave_share=0.15)
    people["unit"] = c.assign_groups(rng, len(people), UNITS)
    lead = ~people["unit"].duplicated()
    people["position"] = np.where(lead, "部门负责人", np.where(people["unit"].isin(SITES),
                                                              "运维安全员", "管理人员"))
    people["perf_pay_base"] = np.where(lead, 500, 300)
    for pid, *_ in PLANTED:
        people.loc[people.employee_id == pid, ["hired", "left"]] = [c.day("2019-06-03"), None]
    unit_fx = c.effects(rng, UNITS, 0.3)
    rows = c.person_periods(people, rng)
    rows = rows.merge(people[["employee_id", "unit", "ability"]], on="employee_id")
    rows = _measures(rng, rows, unit_fx)
    rows = _rare_events(rng, rows)
    for pid, period, changes in PLANTED:
        at = (rows.employee_id == pid) & (rows.period == period)
        rows.loc[at, ["probation", "absent", "days_present"]] = [False, False, 30]
        values = dict(zip(RECORD_COLUMNS[5:], ALL_MET, strict=True)) | changes
        rows.loc[at, list(values)] = list(values.values())
    cols = ["employee_id", "unit", "position", "gender", "hired", "left", "perf_pay_base"]
    return {"people": c.public_people(people, cols), "records": rows[RECORD_COLUMNS]}


RECORD_COLUMNS = ["employee_id", "period", "probation", "absent", "days_present",
                  "checks_planned", "checks_done", "injuries", "workforce", "hazards_found",
                  "hazards_fixed", "accidents", "accidents_handled", "to_train", "trained",
                  "spend", "budget", "collab_score", "trainings_planned", "trainings_done",
                  "legal_violations", "asset_loss", "irregular_payments", "audit_findings",
                  "negative_reports", "env_incidents", "emergencies_mishandled",
                  "fatal_accident", "major_accident", "data_leak"]


def _measures(rng: np.random.Generator, rows: pd.DataFrame, unit_fx) -> pd.DataFrame:
    n = len(rows)
    z = 0.6 * rows["ability"] + rows["unit"].map(unit_fx) + rng.normal(0, 0.5, n)
    z = z.to_numpy() - np.where(rows["probation"], 0.5, 0.0)
    risk = rows["unit"].map(UNITS).to_numpy() * np.exp(-0.4 * z)
    work = np.where(rows["absent"], 0, rows["days_employed"] - rows["leave_days"])
    rows["days_present"] = work
    share = work / rows["period_days"]
    winter = c.season(rows["period"], {1: 1.3, 2: 1.3, 7: 1.2, 8: 1.2, 12: 1.2})
    rows["checks_planned"] = np.where(work > 0, rng.integers(8, 25, n), 0)
    rows["checks_done"] = c.binom(rng, rows["checks_planned"], 0.97 + 0.02 * z)
    rows["workforce"] = np.where(rows["unit"].isin(SITES), rng.integers(40, 120, n),
                                 rng.integers(20, 60, n))
    rows["injuries"] = rng.poisson(0.05 * risk * winter * rows["workforce"] / 100)
    rows["hazards_found"] = rng.poisson(3 * risk * share)
    rows["hazards_fixed"] = c.binom(rng, rows["hazards_found"], 0.9 + 0.04 * z)
    rows["accidents"] = rng.poisson(0.03 * risk * winter * share)
    rows["accidents_handled"] = c.binom(rng, rows["accidents"], 0.9)
    rows["to_train"] = np.where(work > 0, rng.integers(10, 40, n), 0)
    rows["trained"] = c.binom(rng, rows["to_train"], 0.96 + 0.02 * z)
    rows["budget"] = np.where(rows["unit"].isin(SITES), 12000.0, 6000.0)
    rows["spend"] = (rows["budget"] * np.exp(rng.normal(-0.04 - 0.02 * z, 0.05))).round(2)
    rows["collab_score"] = np.clip(88 + 4 * z + rng.normal(0, 3, n), 50, 100).round(1)
    rows["trainings_planned"] = np.where(work > 0, rng.integers(1, 4, n), 0)
    rows["trainings_done"] = c.binom(rng, rows["trainings_planned"], 0.93)
    rows["legal_violations"] = rng.poisson(0.01 * risk)
    loss = rng.random(n) < 0.015 * risk
    rows["asset_loss"] = np.where(loss, np.round(rng.lognormal(8.5, 1.2, n), -2), 0.0)
    rows["irregular_payments"] = rng.poisson(0.01 * risk)
    rows["audit_findings"] = rng.poisson(0.05 * risk)
    rows["negative_reports"] = rng.poisson(0.005 * risk)
    rows["env_incidents"] = rng.poisson(0.008 * risk * rows["unit"].isin(SITES))
    rows["emergencies_mishandled"] = rng.poisson(0.01 * risk)
    return rows


def _rare_events(rng: np.random.Generator, rows: pd.DataFrame) -> pd.DataFrame:
    """A handful of veto events in 24 months, at the wind farms, among rows with an accident."""
    rows["fatal_accident"] = False
    rows["major_accident"] = False
    rows["data_leak"] = False
    site = rows["unit"].isin(SITES) & (rows["days_present"] > 0)
    for column, count, pool in (("fatal_accident", 1, site), ("major_accident", 3, site),
                                ("data_leak", 2, rows["days_present"] > 0)):
        chosen = rng.choice(np.flatnonzero(pool.to_numpy()), count, replace=False)
        rows.loc[chosen, column] = True
        if column != "data_leak":
            rows.loc[chosen, "accidents"] = np.maximum(rows.loc[chosen, "accidents"], 1)
            rows.loc[chosen, "accidents_handled"] = rows.loc[chosen, "accidents"]
    return rows
