"""The cycle's record: append-only in the database, and every edit, deletion or reordering found by
recomputing the chain (with the table and seq named), even after the triggers are dropped."""

from __future__ import annotations

import itertools
import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest
from cycle_helpers import RUN, new_ledger, override, rechain, tamper

from calib.cycle.ledger import CycleError, Ledger
from calib.cycle.verify import verify_cycle


def test_rows_chain_and_verify(tmp_path):
    with new_ledger(tmp_path) as ledger:
        seqs = ledger.append("overrides", [override(1), override(2)])
        run = ledger.append("runs", [RUN])
        meta = ledger.meta()
        chain = ledger.chain()
        assert ledger.verify_chain() == []
    assert meta["cycle"] == "2026H1" and meta["created_by"] == "hr"
    assert [r.seq for r in chain] == list(range(1, len(chain) + 1))  # one sequence over all tables
    assert seqs == [run[0] - 2, run[0] - 1]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
    assert "+" in meta["created"] or meta["created"].endswith("Z") or "-" in meta["created"][19:]


def test_init_refuses_an_existing_file(tmp_path):
    new_ledger(tmp_path).close()
    with pytest.raises(CycleError, match="already exists"):
        new_ledger(tmp_path)


def test_open_refuses_what_is_not_a_cycle(tmp_path):
    (tmp_path / "x.sqlite").write_text("hello")
    with pytest.raises(CycleError, match="not a"):
        Ledger.open(tmp_path / "x.sqlite")
    with pytest.raises(CycleError, match="no cycle record"):
        Ledger.open(tmp_path / "missing.sqlite")


@pytest.mark.parametrize("sql", ["UPDATE overrides SET value = 'S' WHERE seq = {seq}",
                                 "DELETE FROM overrides WHERE seq = {seq}"])
def test_the_database_refuses_update_and_delete(tmp_path, sql):
    with new_ledger(tmp_path) as ledger:
        seq = ledger.append("overrides", [override(1)])[0]
    conn = sqlite3.connect(tmp_path / "c.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute(sql.format(seq=seq))
    conn.close()


def _problems(path: Path) -> list[str]:
    with Ledger.open(path) as ledger:
        return [str(p) for p in ledger.verify_chain()]


def test_an_edited_row_is_found_by_table_and_seq(tmp_path):
    with new_ledger(tmp_path) as ledger:
        seq = ledger.append("overrides", [override(1), override(2), override(3)])[1]
    tamper(tmp_path / "c.sqlite", "UPDATE overrides SET value = 'A+' WHERE seq = ?", seq)
    assert _problems(tmp_path / "c.sqlite") == [
        f"overrides seq {seq}: its content does not match its hash (the row was edited after it was "
        f"written)"]


def test_a_byte_changed_in_the_file_is_found(tmp_path):
    with new_ledger(tmp_path) as ledger:
        seq = ledger.append("overrides", [override(1, value="B"), override(777, value="C")])[1]
    path = tmp_path / "c.sqlite"
    data = bytearray(path.read_bytes())
    at = data.find(b"E777")
    assert at > 0 and data.count(b"E777") == 1
    data[at + 3] = ord("8")  # E777 -> E778, the same length: SQLite still reads the page
    path.write_bytes(bytes(data))
    problems = _problems(path)
    assert problems and problems[0].startswith(f"overrides seq {seq}:")


def test_a_deleted_row_is_found(tmp_path):
    with new_ledger(tmp_path) as ledger:
        seqs = ledger.append("overrides", [override(i) for i in range(5)])
    tamper(tmp_path / "c.sqlite", "DELETE FROM overrides WHERE seq = ?", seqs[2])
    assert _problems(tmp_path / "c.sqlite") == [
        f"overrides seq {seqs[3]}: row {seqs[2]} before it are missing (deleted)"]


def test_an_edit_rechained_from_that_row_on_still_breaks_the_link(tmp_path):
    """Someone recomputes the edited row's own hash but not the rows after it."""
    from calib.cycle.ledger import row_hash

    with new_ledger(tmp_path) as ledger:
        seqs = ledger.append("overrides", [override(i) for i in range(3)])
        edited = ledger.get("overrides", seqs[1])
    assert edited is not None
    new_row = {**edited.row, "value": "S"}
    tamper(tmp_path / "c.sqlite", "UPDATE overrides SET value = 'S', hash = ? WHERE seq = ?",
           row_hash(edited.prev_hash, "overrides", seqs[1], new_row), seqs[1])
    assert _problems(tmp_path / "c.sqlite") == [
        f"overrides seq {seqs[2]}: its link to the row before does not match (a row before it was changed "
        f"or replaced)"]


def test_reordered_rows_are_found(tmp_path):
    with new_ledger(tmp_path) as ledger:
        a, b = ledger.append("overrides", [override(1), override(2)])
    path = tmp_path / "c.sqlite"
    tamper(path, "UPDATE overrides SET seq = -1 WHERE seq = ?", a)
    tamper(path, "UPDATE overrides SET seq = ? WHERE seq = ?", a, b)
    tamper(path, "UPDATE overrides SET seq = ? WHERE seq = -1", b)
    problems = _problems(path)
    assert any(p.startswith(f"overrides seq {a}:") for p in problems)
    assert any(p.startswith(f"overrides seq {b}:") for p in problems)


def _append_many(path: str, who: str, n: int, start) -> None:
    with Ledger.open(path) as ledger:
        start.wait(60)  # both processes begin appending at the same moment
        for i in range(n):
            ledger.append("overrides", [{**override(i), "by": who}])
            time.sleep(0.002)  # as people do: SQLite's busy wait would else let one writer run on


@pytest.mark.slow
def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    new_ledger(tmp_path).close()
    path = str(tmp_path / "c.sqlite")
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    workers = [ctx.Process(target=_append_many, args=(path, who, 100, start)) for who in ("p1", "p2")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    with Ledger.open(path) as ledger:
        rows = ledger.rows("overrides")
        assert ledger.verify_chain() == []
    assert sorted(r.row["by"] for r in rows).count("p1") == 100
    assert len(rows) == 200
    # the writers really interleaved (one did not simply run after the other)
    order = [r.row["by"] for r in rows]
    assert sum(1 for x, y in itertools.pairwise(order) if x != y) > 1


def test_an_attacker_who_rechains_everything_passes_the_chain_alone(tmp_path):
    """The limit of a chain (why the lock's bundle and signatures exist): a full re-chain verifies."""
    with new_ledger(tmp_path) as ledger:
        seq = ledger.append("overrides", [override(1), override(2)])[0]
    tamper(tmp_path / "c.sqlite", "UPDATE overrides SET value = 'S' WHERE seq = ?", seq)
    rechain(tmp_path / "c.sqlite")
    assert _problems(tmp_path / "c.sqlite") == []


def test_a_locked_cycle_refuses_appends(tmp_path):
    from calib.cycle.lock import lock

    with new_ledger(tmp_path) as ledger:
        out = tmp_path / "run"
        out.mkdir()
        (out / "results.csv").write_text("id,grade\nE1,A\n")
        from calib.cycle.runs import sha256_file

        ledger.append("runs", [{**RUN, "out": "run", "results_sha256": sha256_file(out / "results.csv")}])
        sealed = lock(ledger, None, ["cycle", "lock"], by="hr")
        assert sealed.bundle == tmp_path / "c.locked"
        with pytest.raises(CycleError, match=r"locked .*Start a new cycle"):
            ledger.append("overrides", [override(1)])
        with pytest.raises(CycleError, match="locked"):
            lock(ledger, None, ["cycle", "lock"])
    report = verify_cycle(tmp_path / "c.sqlite")
    assert report.ok and report.locked, report.lines()


@pytest.mark.parametrize("sql", ["DELETE FROM locks", "DELETE FROM approvals",
                                 "DELETE FROM overrides WHERE seq = (SELECT max(seq) FROM overrides)"])
def test_deleting_the_last_rows_after_a_lock_is_found(tmp_path, sql):
    from calib.cycle.lock import lock
    from calib.cycle.runs import sha256_file

    with new_ledger(tmp_path) as ledger:
        (tmp_path / "run").mkdir()
        (tmp_path / "run" / "results.csv").write_text("id,grade\nE1,A\n")
        ledger.append("runs", [{**RUN, "out": "run", "results_sha256": sha256_file(tmp_path / "run" /
                                                                                   "results.csv")}])
        ledger.append("overrides", [override(1)])
        from calib.cycle.approvals import approve

        approve(ledger, "王芳", "HRBP")
        lock(ledger, None, ["cycle", "lock"])
    path = tmp_path / "c.sqlite"
    # the newest rows go, then the rest of the tail too, so the chain that is left still links
    tamper(path, "DELETE FROM locks")
    if sql != "DELETE FROM locks":
        tamper(path, "DELETE FROM approvals")
    if "overrides" in sql:
        tamper(path, sql)
    assert _problems(path) == []  # the chain alone cannot see a cut tail
    report = verify_cycle(path)
    assert not report.ok
    assert not report.locked  # the lock row is gone ...
    assert any("deleted" in p for p in report.problems), report.problems  # ... and the bundle shows it
    assert any("no lock row" in p for p in report.problems)


def test_a_changed_bundle_file_is_found(tmp_path):
    from calib.cycle.lock import lock
    from calib.cycle.runs import sha256_file

    with new_ledger(tmp_path) as ledger:
        (tmp_path / "run").mkdir()
        (tmp_path / "run" / "results.csv").write_text("id,grade\nE1,A\n")
        ledger.append("runs", [{**RUN, "out": "run", "results_sha256": sha256_file(tmp_path / "run" /
                                                                                   "results.csv")}])
        lock(ledger, None, ["cycle", "lock"])
    (tmp_path / "c.locked" / "results.csv").write_text("id,grade\nE1,S\n")
    report = verify_cycle(tmp_path / "c.sqlite")
    assert any("results.csv differs from the manifest" in p for p in report.problems)
