"""Approvals: what they approve, their Ed25519 signatures, and what verify says of each (valid,
INVALID, untrusted key, unsigned), including against an attacker who edits and re-chains the file."""

from __future__ import annotations

import stat

import pytest
from cycle_helpers import RUN, new_ledger, rechain, tamper

from calib.cycle.approvals import approve, keygen, register_approver, trusted_keys
from calib.cycle.ledger import CycleError
from calib.cycle.verify import verify_cycle


@pytest.fixture
def keys(tmp_path):
    """Two approvers' key pairs (wang: registered, mallory: not)."""
    (tmp_path / "keys").mkdir()
    (tmp_path / "elsewhere").mkdir()
    wang = keygen(tmp_path / "keys" / "wang")
    mallory = keygen(tmp_path / "elsewhere" / "mallory")
    return {"wang": wang, "mallory": mallory}


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path, keys):
    private, public, kid = keys["wang"]
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----") and len(kid) == 16
    with pytest.raises(CycleError, match="already exists"):
        keygen(tmp_path / "keys" / "wang")


def _signed_cycle(tmp_path, keys):
    ledger = new_ledger(tmp_path)
    register_approver(ledger, "王芳", "HRBP", keys["wang"][1])
    run = ledger.append("runs", [RUN])[0]
    return ledger, run


def test_an_approval_records_the_run_and_the_head_and_its_signature_verifies(tmp_path, keys):
    ledger, run = _signed_cycle(tmp_path, keys)
    with ledger:
        head_seq, head = ledger.head()
        row = approve(ledger, None, None, key_path=keys["wang"][0], note="ok")
        unsigned = approve(ledger, "李总", "总经理")
    assert row.row["name"] == "王芳" and row.row["role"] == "HRBP"  # from the registered key
    assert row.row["run"] == run and row.row["results_sha256"] == RUN["results_sha256"]
    assert (row.row["ledger_seq"], row.row["ledger_head"]) == (head_seq, head)
    report = verify_cycle(tmp_path / "c.sqlite")
    assert report.ok, report.problems
    assert [a.status for a in report.approvals] == ["signed, valid", "unsigned"]
    assert unsigned.row["signature"] is None
    outside = verify_cycle(tmp_path / "c.sqlite", trusted_keys(tmp_path / "keys"))
    assert outside.ok and outside.approvals[0].status == "signed, valid"


def test_a_key_registered_to_someone_else_is_refused(tmp_path, keys):
    ledger, _ = _signed_cycle(tmp_path, keys)
    with ledger, pytest.raises(CycleError, match="registered in this cycle to 王芳"):
        approve(ledger, "张三", "CFO", key_path=keys["wang"][0])


def test_an_approval_edited_and_rechained_shows_as_invalid(tmp_path, keys):
    ledger, _ = _signed_cycle(tmp_path, keys)
    with ledger:
        seq = approve(ledger, None, None, key_path=keys["wang"][0]).seq
        ledger.append("runs", [{**RUN, "results_sha256": "f" * 64}])
    path = tmp_path / "c.sqlite"
    # the attacker moves the approval to other results and rebuilds the whole chain
    tamper(path, "UPDATE approvals SET results_sha256 = ? WHERE seq = ?", "f" * 64, seq)
    rechain(path)
    report = verify_cycle(path)
    assert [a.status for a in report.approvals] == ["signed, INVALID"]
    assert any(p.startswith(f"approval {seq}: its signature does not match") for p in report.problems)


def test_a_forged_approval_with_a_key_slipped_into_the_cycle_is_caught_by_trusted_keys(tmp_path, keys):
    ledger, _ = _signed_cycle(tmp_path, keys)
    with ledger:
        register_approver(ledger, "王芳", "HRBP", keys["mallory"][1])  # the attacker's key, her name
        approve(ledger, None, None, key_path=keys["mallory"][0])
    path = tmp_path / "c.sqlite"
    assert verify_cycle(path).ok  # inside the file, the attacker's key looks registered
    report = verify_cycle(path, trusted_keys(tmp_path / "keys" / "wang.pub"))
    assert [a.status for a in report.approvals] == ["signed, key not trusted"]
    assert any("not among the keys given with --trusted" in p for p in report.problems)


def test_an_approval_whose_run_hashes_were_changed_is_found(tmp_path, keys):
    ledger, run = _signed_cycle(tmp_path, keys)
    with ledger:
        approve(ledger, "李总", "总经理")
    path = tmp_path / "c.sqlite"
    tamper(path, "UPDATE runs SET results_sha256 = ? WHERE seq = ?", "e" * 64, run)
    rechain(path)
    report = verify_cycle(path)
    assert any("its results_sha256 is not that of run" in p for p in report.problems)


def test_there_is_nothing_to_approve_without_a_run(tmp_path):
    with new_ledger(tmp_path) as ledger, pytest.raises(CycleError, match="no run to approve"):
        approve(ledger, "李总", "总经理")
