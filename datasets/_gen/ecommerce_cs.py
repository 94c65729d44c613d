"""ecommerce_cs (seed 004, 客服部客服指标绩效考核表): tier tables R5, refund brackets, attendance."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from _gen import common as c

SEED = 3000
# shop → (share of staff, shop's average order value in yuan)
SHOPS = {"天猫旗舰店": (1.4, 180.0), "京东旗舰店": (1.2, 220.0), "拼多多店": (1.0, 65.0),
         "抖音小店": (1.0, 120.0), "唯品会店": (0.7, 150.0), "小红书店": (0.6, 200.0)}
RUSH = {11: 2.2, 12: 1.6, 6: 1.3, 1: 1.15, 2: 0.75}
PLANTED = ("EC0009", "EC0015")


def build() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    people = c.staff(rng, 210, "EC", join_share=0.3, leave_share=0.25)
    people["shop"] = c.assign_groups(rng, len(people), {k: v[0] for k, v in SHOPS.items()})
    shift = rng.random(len(people)) < 0.35
    people["shift"] = np.where(shift, "晚班", "白班")
    lead = ~people["shop"].duplicated()
    people["position"] = np.where(lead, "客服组长", "客服专员")
    people["perf_pay_base"] = 750
    for pid in PLANTED:
        people.loc[people.employee_id == pid, ["hired", "left"]] = [dt.date(2021, 3, 1), None]
    shop_fx = c.effects(rng, SHOPS, 0.3)
    rows = c.person_periods(people, rng)
    rows = rows.merge(people[["employee_id", "shop", "shift", "ability"]], on="employee_id")
    rows = _measures(rng, rows, shop_fx)
    rows = _plant(rows)
    cols = ["employee_id", "shop", "shift", "position", "gender", "hired", "left", "perf_pay_base"]
    return {"people": c.public_people(people, cols), "records": rows[RECORD_COLUMNS]}


RECORD_COLUMNS = ["employee_id", "period", "probation", "absent", "days_present", "inquiries",
                  "buyers", "placed_orders", "paid_orders", "avg_order_value",
                  "shop_avg_order_value", "sales_amount", "visitors", "replied",
                  "response_seconds", "refunds", "tasks_due", "tasks_done", "attitude",
                  "late_arrivals", "leave_days"]


def _measures(rng: np.random.Generator, rows: pd.DataFrame, shop_fx) -> pd.DataFrame:
    n = len(rows)
    z = 0.7 * rows["ability"] + rows["shop"].map(shop_fx) + rng.normal(0, 0.55, n)
    z = z.to_numpy() - np.where(rows["probation"], 0.6, 0.0)
    rush = c.season(rows["period"], RUSH)
    work = np.where(rows["absent"], 0, rows["days_employed"] - rows["leave_days"])
    rows["days_present"] = work
    share = work / rows["period_days"]
    rows["inquiries"] = rng.poisson(650 * rush * share)
    conv = 0.64 + 0.06 * z + 0.03 * (rush > 1.5)
    rows["buyers"] = c.binom(rng, rows["inquiries"], conv)
    rows["placed_orders"] = rows["buyers"] + rng.poisson(0.12 * rows["buyers"])
    rows["paid_orders"] = c.binom(rng, rows["placed_orders"], 0.88 + 0.03 * z)
    shop_aov = rows["shop"].map({k: v[1] for k, v in SHOPS.items()}) * np.where(rush > 1.5, 0.9, 1)
    rows["shop_avg_order_value"] = shop_aov.round(2)
    ratio = 1.07 + 0.03 * z + rng.normal(0, 0.02, n)
    rows["avg_order_value"] = np.where(rows["paid_orders"] > 0, shop_aov * ratio, 0.0).round(2)
    rows["sales_amount"] = (rows["avg_order_value"] * rows["paid_orders"]).round(2)
    rows["visitors"] = rows["inquiries"] + rng.poisson(0.3 * rows["inquiries"])
    rows["replied"] = c.binom(rng, rows["visitors"], 0.978 + 0.01 * z - 0.01 * (rush > 1.5))
    response = 34 - 5 * z + 9 * (rush - 1) + rng.normal(0, 4, n)
    rows["response_seconds"] = np.where(work > 0, np.clip(response, 8, 120), 0.0).round(1)
    rows["refunds"] = c.binom(rng, rows["paid_orders"], 0.012 * np.exp(-0.4 * z) * rush ** 0.5)
    rows["tasks_due"] = np.where(work > 0, rng.integers(4, 7, n), 0)
    rows["tasks_done"] = c.binom(rng, rows["tasks_due"], 0.85 + 0.08 * z)
    rows["attitude"] = c.label_from(z + rng.normal(0, 0.6, n))
    rows["attitude"] = np.where(rows["absent"], "", rows["attitude"])
    late = rng.poisson(np.where(rows["shift"] == "晚班", 0.3, 0.6) * np.exp(-0.3 * z) * share)
    rows["late_arrivals"] = late
    return rows


def _plant(rows: pd.DataFrame) -> pd.DataFrame:
    """EC0009 2024-05: SCHEMES.md B3 (weighted part 62, total 83); EC0015: two months of 33."""
    values = {
        ("EC0009", "2024-05"): [30, 1000, 700, 700, 651, 107.0, 100.0, 69657.0, 1000, 980, 40.0,
                                0, 5, 5, "良好", 1, 1],
        ("EC0015", "2025-03"): [29, 1000, 550, 700, 560, 100.0, 100.0, 56000.0, 1000, 960, 50.0,
                                28, 5, 2, "较差", 4, 2],
        ("EC0015", "2025-04"): [28, 1000, 550, 700, 560, 100.0, 100.0, 56000.0, 1000, 960, 50.0,
                                28, 5, 2, "较差", 4, 2],
    }
    for (pid, period), vals in values.items():
        at = (rows.employee_id == pid) & (rows.period == period)
        rows.loc[at, ["probation", "absent"]] = False
        rows.loc[at, RECORD_COLUMNS[4:]] = vals
    return rows
