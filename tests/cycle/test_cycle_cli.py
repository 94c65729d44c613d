"""``calib cycle`` and ``calib verify`` end to end on the gas company's scheme: init, run, override,
run again, approve (signed), lock, verify, then a changed byte makes verify fail (exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from calib.cli import main

GAS = Path(__file__).resolve().parents[2] / "datasets" / "gas_cs"


def calib(capsys, *argv: str) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    got = capsys.readouterr()
    return code, got.out + got.err


@pytest.mark.slow
def test_a_cycle_from_init_to_lock_and_a_changed_byte(tmp_path, capsys):
    cycle, keys = tmp_path / "2026H1.sqlite", tmp_path / "keys"
    keys.mkdir()
    policy = GAS / "policy.yaml"
    assert calib(capsys, "cycle", "keygen", "--out", keys / "wang")[0] == 0
    code, out = calib(capsys, "cycle", "init", "--cycle", cycle, "--name", "2026H1", "--policy", policy,
                      "--approver", f"王芳:HRBP:{keys / 'wang.pub'}", "--by", "hr")
    assert code == 0 and "1 approver key(s) registered" in out
    code, out = calib(capsys, "cycle", "run", "--cycle", cycle, "--policy", policy, "--data", GAS,
                      "--out", tmp_path / "run1")
    assert code == 0 and "run 12 recorded" in out and "0 override(s) applied" in out, out
    first = pd.read_csv(tmp_path / "run1" / "results.csv", dtype=str)
    who = first[first["status"] == "rated"].iloc[0]

    # a reason code the policy does not have is refused; a good one is recorded
    code, out = calib(capsys, "cycle", "override", "--cycle", cycle, "--id", who["id"], "--period",
                      who["period"], "--field", "grade", "--value", "C", "--reason", "mood")
    assert code == 1 and "reason code 'mood'" in out and "nothing was recorded" in out
    (tmp_path / "ov.csv").write_text(
        f"id,period,field,value,reason,note,by\n{who['id']},{who['period']},grade,C,error,"
        f"评分录入错误,校准委员会\n", encoding="utf-8")
    code, out = calib(capsys, "cycle", "override", "--cycle", cycle, "--file", tmp_path / "ov.csv")
    assert code == 0 and "1 override(s) recorded" in out, out
    code, out = calib(capsys, "cycle", "run", "--cycle", cycle, "--policy", policy, "--data", GAS,
                      "--out", tmp_path / "run2")
    assert code == 0 and "1 override(s) applied" in out, out
    second = pd.read_csv(tmp_path / "run2" / "results.csv", dtype=str)
    mine = second[(second["id"] == who["id"]) & (second["period"] == who["period"])]
    assert (mine["grade"] == "C").all()

    code, out = calib(capsys, "cycle", "approve", "--cycle", cycle, "--key", keys / "wang.key")
    assert code == 0 and "王芳 (HRBP) approves run 14 (signed" in out, out
    code, out = calib(capsys, "cycle", "lock", "--cycle", cycle)
    assert code == 0 and "cycle locked" in out
    bundle = tmp_path / "2026H1.locked"
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert {"results.csv", "overrides.csv", "appeals.csv", "approvals.csv"} <= set(manifest["files"])
    assert manifest["cycle"]["head_seq"] == 15
    assert (bundle / "results.csv").read_bytes() == (tmp_path / "run2" / "results.csv").read_bytes()

    code, out = calib(capsys, "cycle", "override", "--cycle", cycle, "--id", who["id"], "--period",
                      who["period"], "--field", "grade", "--value", "A", "--reason", "error")
    assert code == 1 and "is locked" in out and "Start a new cycle" in out
    code, out = calib(capsys, "verify", "--cycle", cycle, "--trusted", keys)
    assert code == 0 and "signed, valid" in out and "check out" in out, out
    code, out = calib(capsys, "cycle", "log", "--cycle", cycle)
    assert code == 0 and "LOCKED: 15 rows sealed" in out and "评分录入错误" in out
    code, out = calib(capsys, "cycle", "export", "--cycle", cycle, "--out", tmp_path / "export")
    assert code == 0
    exported = pd.read_csv(tmp_path / "export" / "overrides.csv", encoding="utf-8-sig", dtype=str)
    assert list(exported["note"]) == ["评分录入错误"] and list(exported["by"]) == ["校准委员会"]

    # one byte of the record changed (the override's value C -> D, in the file itself)
    data = bytearray(cycle.read_bytes())
    at = data.find("评分录入错误".encode())
    assert at > 0
    assert data[at - len("error") - 1:at] == b"Cerror"  # the row's cells sit side by side
    data[at - len("error") - 1] = ord("D")
    cycle.write_bytes(bytes(data))
    code, out = calib(capsys, "verify", "--cycle", cycle, "--trusted", keys)
    assert code == 1 and "overrides seq 13: its content does not match its hash" in out, out


def test_verify_a_frozen_policy(tmp_path, capsys):
    frozen = tmp_path / "frozen.json"
    assert main(["freeze", str(GAS / "policy.yaml"), "--out", str(frozen)]) == 0
    capsys.readouterr()
    code, out = calib(capsys, "verify", "--policy", frozen)
    assert code == 0 and "ok" in out
    frozen.write_text(frozen.read_text().replace('"currency": "CNY"', '"currency": "USD"', 1))
    code, out = calib(capsys, "verify", "--policy", frozen)
    assert code == 1 and "NOT OK" in out
    assert calib(capsys, "verify")[0] == 2


def test_the_appeal_commands(tmp_path, capsys):
    cycle = tmp_path / "c.sqlite"
    assert calib(capsys, "cycle", "init", "--cycle", cycle, "--name", "2026H1")[0] == 0
    code, out = calib(capsys, "cycle", "appeal", "file", "--cycle", cycle, "--id", "GS0001", "--period",
                      "2025-12", "--grounds", "漏算了客户表扬", "--filed", "2026-02-12", "--results-date",
                      "2026-02-09")
    # calib's defaults (no policy): 15 working days from Thu 02-12: 1 Fri 13, 2 Sat 14 (调休),
    # [15-23 Spring Festival], 3-6 Tue 24 .. Fri 27, 7 Sat 28 (调休), 8-12 Mon 03-02 .. Fri 03-06,
    # 13 Mon 03-09, 14 Tue 03-10, 15 Wed 03-11
    assert code == 0 and "appeal 5 filed" in out and "decision due by 2026-03-11" in out, out
    code, out = calib(capsys, "cycle", "appeal", "file", "--cycle", cycle, "--id", "GS0002", "--period",
                      "2025-12", "--grounds", "x", "--filed", "2026-12-30", "--results-date", "2026-12-01")
    assert code == 1 and "after the deadline" in out and "--late-reason" in out
    code, out = calib(capsys, "cycle", "appeal", "file", "--cycle", cycle, "--id", "GS0002", "--period",
                      "2025-12", "--grounds", "x", "--filed", "2026-12-30", "--results-date", "2026-12-01",
                      "--late-reason", "病假")
    # its decision deadline (15 working days after 2026-12-30) runs into 2027, not yet in the calendar
    assert code == 1 and "2027-01-" in out and "Update chinese-calendar" in out, out
    code, out = calib(capsys, "cycle", "appeal", "list", "--cycle", cycle, "--today", "2026-03-12")
    assert code == 0 and "overdue" in out and "GS0001" in out
    code, out = calib(capsys, "cycle", "appeal", "decide", "--cycle", cycle, "--appeal", "5", "--outcome",
                      "rejected", "--reason", "no new evidence", "--decided", "2026-03-10")
    assert code == 0 and "appeal 5 decided: rejected" in out
    code, out = calib(capsys, "cycle", "appeal", "list", "--cycle", cycle, "--status", "decided")
    assert code == 0 and "1 decided" in out
    assert calib(capsys, "verify", "--cycle", cycle)[0] == 0


@pytest.mark.slow
def test_a_cycle_where_an_override_breaks_a_cascade_and_the_balance_is_accepted(tmp_path, capsys):
    """Issue 20's cycle: run → a team leader's grade raised (the team's cascade quotas follow the
    leader's grade) → breach and the fewest compensating moves proposed → the moves accepted as
    overrides → the re-run keeps its quotas; changes.csv says who was overridden, by whom."""
    policy = tmp_path / "policy.yaml"
    policy.write_text((GAS / "policy.yaml").read_text(encoding="utf-8")
                      + "\ncalibration:\n  quotas: balance\n", encoding="utf-8")
    cycle = tmp_path / "c.sqlite"
    assert calib(capsys, "cycle", "init", "--cycle", cycle, "--name", "2024", "--policy", policy)[0] == 0
    run = ["cycle", "run", "--cycle", cycle, "--policy", policy, "--data", GAS, "--out"]
    assert calib(capsys, *run, tmp_path / "run1")[0] == 0
    (tmp_path / "lead.csv").write_text(
        "id,period,field,value,reason,note,by\nGS0001,2024-01,grade,A+,evidence,冬季抢修,校准委员会\n",
        encoding="utf-8")
    assert calib(capsys, "cycle", "override", "--cycle", cycle, "--file", tmp_path / "lead.csv")[0] == 0
    code, out = calib(capsys, *run, tmp_path / "run2")
    assert code == 0, out
    breaches = pd.read_csv(tmp_path / "run2" / "quota_breaches.csv", encoding="utf-8-sig")
    # a team of 10 under an A+ leader: A+ 20 % → 2, A 30 % → 3, B 50 % → 5 (it had 1, 3, 6)
    assert breaches[["grade", "target", "final"]].values.tolist() == [["A+", 2, 1], ["B", 5, 6]]
    moves = pd.read_csv(tmp_path / "run2" / "balance_proposals.csv", encoding="utf-8-sig")
    assert moves[["id", "from_grade", "to_grade"]].values.tolist() == [
        ["GS0004", "A", "A+"], ["GS0003", "B", "A"]]
    changes = pd.read_csv(tmp_path / "run2" / "changes.csv", encoding="utf-8-sig")
    lead = changes[(changes["id"] == "GS0001") & (changes["period"] == "2024-01")]
    assert lead["why"].iloc[0].startswith("overridden: grade: A → A+, evidence") and "校准委员会" in \
        lead["why"].iloc[0]

    accepted = moves.assign(period=moves["period"].astype(str), field="grade", value=moves["to_grade"],
                            reason="quota", note="balance after the leader's override", by="HR")
    accepted[["id", "period", "field", "value", "reason", "note", "by"]].to_csv(
        tmp_path / "moves.csv", index=False)
    assert calib(capsys, "cycle", "override", "--cycle", cycle, "--file", tmp_path / "moves.csv")[0] == 0
    assert calib(capsys, *run, tmp_path / "run3")[0] == 0
    again = pd.read_csv(tmp_path / "run3" / "quota_breaches.csv", encoding="utf-8-sig")
    assert again.empty
    results = pd.read_csv(tmp_path / "run3" / "results.csv", encoding="utf-8-sig", dtype=str)
    assert results["overridden"].eq("True").sum() == 3
    assert calib(capsys, "cycle", "approve", "--cycle", cycle, "--name", "李总", "--role", "GM")[0] == 0
    assert calib(capsys, "cycle", "lock", "--cycle", cycle)[0] == 0
    assert calib(capsys, "verify", "--cycle", cycle)[0] == 0
