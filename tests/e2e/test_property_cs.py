"""property_cs end to end, true to its seed (seed 004, 重庆广德物业 and 客服部员工绩效考核奖惩规程):
approvals at +5 and −10 inclusive (以上), a 领班's authority by level, lateness grace read "or"
(或者), discipline a flat 20 in a month with any violation. Figures computed by hand.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

import calib

FOLDER = Path(__file__).resolve().parents[2] / "datasets" / "property_cs"
ON_SITE = [1, 2, -1, -2, -3]  # 普通员工一级、二级奖励和一级至三级处罚: what a 领班 may confirm


@cache
def run() -> tuple[calib.Dataset, calib.Result]:
    policy = calib.load_policy(FOLDER / "policy.yaml")
    data = calib.load_data(FOLDER, policy)
    return data, calib.run(policy, data)


def payout(person: str, period: str) -> pd.Series:
    pay = run()[1].payouts
    return pay[(pay["id"] == person) & (pay["period"] == period)].iloc[0]


def events(person: str, month: str) -> pd.DataFrame:
    adj = run()[1].adjustments
    return adj[(adj["employee_id"] == person) & adj["date"].astype(str).str.startswith(month)]


def test_pc0006_november_by_hand() -> None:
    """PC0006 2024-11, 专员, base 300, 30 days present:

    score = 100 − 2 (1 failed spot check × 2) + 5 (合理化建议, exactly +5) − 3 (迟报漏报) = 100;
    lateness: 5 cases of 3 minutes (under 5, exactly 15 minutes: forgiven under "or", as the
    seed's 或者 reads; "and" would count them, 4 cases > 3) + one 7-minute case (≥ 5: counted)
    → 7 × 1 元 = −7; discipline: 2 violations, one flat −20 (not 2 × 20); score 100 ≥ 85: no
    below_85; no inspection → 300 − 7 − 20 = 273.00.
    """
    p = payout("PC0006", "2024-11")
    assert (p["score"], p["performance"], p["lateness"], p["discipline"], p["below_85"],
            p["inspection"], p["payout"]) == (100.0, 300.0, -7.0, -20.0, 0.0, 0.0, 273.0)


def test_pc0006_november_flags() -> None:
    """Exactly +5 without written approval is flagged (5分以上 includes 5); the −3 a 领班
    confirmed on site is within the 领班's authority."""
    got = events("PC0006", "2024-11")[["points", "needs_approval", "approval_note"]]
    assert [tuple(r) for r in got.itertuples(index=False)] == [
        (5, True, "+5 is at or above +5: needs written approval"), (-3, False, "")]


def test_b4_unchanged_and_the_leader_s_minus_5_flagged() -> None:
    """B4 still 300 − 12 − 2·5 = 278.00 (score 80); its −5 of 2024-09-12 was confirmed by a 领班,
    who may not confirm a 四级处罚: flagged, still counted in the score."""
    p = payout("PC0005", "2024-09")
    assert (p["score"], p["payout"]) == (80.0, 278.0)
    got = events("PC0005", "2024-09")
    minus5 = got[got["date"].astype(str) == "2024-09-12"]
    assert minus5["needs_approval"].tolist() == [True]
    assert minus5["approval_note"].tolist() == [
        "-5 confirmed by 领班, who may confirm +1, +2, -1, -2, -3 only"]


def test_flags_agree_with_the_rules_read_from_the_csv() -> None:
    """Over all 1,852 events: flagged ⇔ (points ≥ 5 or ≤ −10 without written approval) or
    (confirmed by a 领班 outside +1 +2 −1 −2 −3), computed here from adjustments.csv alone."""
    raw = pd.read_csv(FOLDER / "adjustments.csv")
    written = ((raw["points"] >= 5) | (raw["points"] <= -10)) & ~raw["approved"]
    leader = (raw["confirmed_by"] == "领班") & ~raw["points"].isin(ON_SITE)
    adj = run()[1].adjustments
    assert len(adj) == len(raw) == 1852
    key = ["employee_id", "date", "points", "reason", "approved", "confirmed_by"]
    mine = adj.assign(date=adj["date"].astype(str)).set_index(key)  # ties: identical events
    expected = raw.assign(flag=written | leader).set_index(key)["flag"]
    assert mine["needs_approval"].sort_index().tolist() == expected.sort_index().tolist()
    assert (mine["approval_note"] != "").tolist() == mine["needs_approval"].tolist()
    assert (int(written.sum()), int(leader.sum())) == (20, 20)


def test_discipline_is_flat() -> None:
    """Every month with any violation deducts exactly 20; a month without, nothing."""
    data, result = run()
    records = data.tables["records"][["employee_id", "period", "discipline_violations"]]
    pay = result.payouts.merge(records.rename(columns={"employee_id": "id"}),
                               on=["id", "period"])
    paid = pay[pay["status"] == "rated"]
    assert (paid.loc[paid["discipline_violations"] > 0, "discipline"] == -20.0).all()
    assert (paid.loc[paid["discipline_violations"] == 0, "discipline"] == 0.0).all()
    assert (paid["discipline_violations"] > 1).sum() >= 6  # where "20 per violation" differed


def test_the_statement_gives_the_reason() -> None:
    """PC0005's statement for 2024-09 names why its −5 is flagged, and only that event."""
    statement = run()[1].explain("PC0005", "2024-09")
    events = statement.to_dict()["adjustments"]
    note = "-5 confirmed by 领班, who may confirm +1, +2, -1, -2, -3 only"
    assert [(e["points"], e["needs_approval"], e["approval_note"]) for e in events] == [
        (-10.0, False, ""), (-5.0, True, note), (-5.0, False, "")]
    assert f": -5 — {note}" in statement.to_text()
