"""The cycle's record: one SQLite file per cycle, append-only, every row hash-chained to the one before.

Why: a calibration cycle ends in people's pay. Who overrode what, who appealed, who decided and who
approved must stay as it was written; an edit or a deletion has to show, even when made with a
plain SQLite tool by someone who first drops the triggers.

How:

- Every table has ``seq`` (one sequence across all the tables, so the order of events is total),
  ``prev_hash`` and ``hash = sha256(prev_hash, a newline, canonical JSON of {table, seq, row})``.
  ``verify`` recomputes the chain from the rows: an edited row, a deleted row (a gap in ``seq``),
  a row moved to another ``seq`` or a broken link is reported with its table and ``seq``.
- Triggers refuse UPDATE and DELETE in the database itself (the chain catches anyone who drops them).
- Writes take ``BEGIN IMMEDIATE`` with a busy timeout, so processes writing at once wait for each
  other and lose nothing; each append reads the chain's head inside its own write transaction.
- The journal is SQLite's rollback journal (``journal_mode=DELETE``), not WAL: after every commit
  the one ``.sqlite`` file is the whole record, so it can be copied, mailed or kept on a shared
  drive (WAL needs shared memory, which network drives do not give). Writers are few and short.
- A locked cycle (``calib.cycle.lock``) refuses every append.

Deleting the newest rows leaves a chain that still links; what catches it is an anchor kept
outside: the lock's bundle (its manifest names the head and the count), an approval's recorded head,
or the head hash a reviewer wrote down (``calib cycle log`` prints it).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from calib.errors import CalibError

FORMAT = 1
GENESIS = "0" * 64
BUSY_MS = 30_000

Value = str | int | None


class CycleError(CalibError):
    """A cycle command that cannot be done as asked (a locked cycle, a late appeal, a bad record)."""


#: each table's own columns (besides seq, prev_hash, hash) and their SQLite types
TABLES: dict[str, dict[str, str]] = {
    "meta": {"key": "TEXT NOT NULL", "value": "TEXT"},
    "runs": {"policy_sha256": "TEXT NOT NULL", "policy_path": "TEXT", "data_fingerprint": "TEXT NOT NULL",
             "data_path": "TEXT", "results_sha256": "TEXT NOT NULL", "out": "TEXT NOT NULL",
             "overrides": "INTEGER NOT NULL", "overrides_upto": "INTEGER NOT NULL",
             "by": "TEXT NOT NULL", "at": "TEXT NOT NULL", "note": "TEXT"},
    "overrides": {"id": "TEXT NOT NULL", "period": "TEXT NOT NULL", "field": "TEXT NOT NULL",
                  "value": "TEXT NOT NULL", "reason": "TEXT NOT NULL", "note": "TEXT",
                  "by": "TEXT NOT NULL", "at": "TEXT NOT NULL", "supersedes": "INTEGER"},
    "appeals": {"id": "TEXT NOT NULL", "period": "TEXT NOT NULL", "filed": "TEXT NOT NULL",
                "grounds": "TEXT NOT NULL", "results_date": "TEXT NOT NULL",
                "filing_deadline": "TEXT NOT NULL", "decision_deadline": "TEXT NOT NULL",
                "late_reason": "TEXT", "by": "TEXT NOT NULL", "at": "TEXT NOT NULL"},
    "appeal_decisions": {"appeal": "INTEGER NOT NULL", "outcome": "TEXT NOT NULL",
                         "reason": "TEXT NOT NULL", "decided": "TEXT NOT NULL", "run": "INTEGER",
                         "changes": "TEXT", "changes_sha256": "TEXT", "by": "TEXT NOT NULL",
                         "at": "TEXT NOT NULL"},
    "approvers": {"name": "TEXT NOT NULL", "role": "TEXT NOT NULL", "key_id": "TEXT NOT NULL",
                  "public_key": "TEXT NOT NULL", "by": "TEXT NOT NULL", "at": "TEXT NOT NULL"},
    "approvals": {"name": "TEXT NOT NULL", "role": "TEXT NOT NULL", "run": "INTEGER NOT NULL",
                  "policy_sha256": "TEXT NOT NULL", "data_fingerprint": "TEXT NOT NULL",
                  "results_sha256": "TEXT NOT NULL", "ledger_head": "TEXT NOT NULL",
                  "ledger_seq": "INTEGER NOT NULL", "note": "TEXT", "key_id": "TEXT",
                  "signature": "TEXT", "at": "TEXT NOT NULL"},
    "locks": {"bundle": "TEXT NOT NULL", "manifest_sha256": "TEXT NOT NULL", "head_hash": "TEXT NOT NULL",
              "head_seq": "INTEGER NOT NULL", "by": "TEXT NOT NULL", "at": "TEXT NOT NULL"},
}


def canonical(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept (the same text for the same content)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def row_hash(prev_hash: str, table: str, seq: int, row: Mapping[str, Value]) -> str:
    """The hash of one row: sha256 of the previous row's hash and the row's canonical content."""
    body = canonical({"table": table, "seq": seq, "row": dict(row)})
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def now() -> str:
    """The time now, ISO 8601 with the local time zone (``2026-02-13T09:30:05+08:00``)."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def user(by: str | None = None) -> str:
    """Who does it: ``by`` when given, else the operating system's user name."""
    if by is not None and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in a bare container
        return "unknown"


@dataclass(frozen=True)
class Row:
    """One row of the record: its table, place in the chain, content and hashes."""

    table: str
    seq: int
    row: dict[str, Value]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainProblem:
    """Something wrong with the chain, where (table and seq) and what it means."""

    table: str
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"{self.table} seq {self.seq}: {self.problem}"


def _schema() -> list[str]:
    sql = []
    for table, columns in TABLES.items():
        cols = ", ".join(f'"{c}" {t}' for c, t in columns.items())
        sql.append(f'CREATE TABLE "{table}" (seq INTEGER PRIMARY KEY, {cols}, '
                   f"prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE) STRICT")
        for verb in ("UPDATE", "DELETE"):
            sql.append(f'CREATE TRIGGER "{table}_no_{verb.lower()}" BEFORE {verb} ON "{table}" BEGIN '
                       f"SELECT RAISE(ABORT, 'the cycle record is append-only: rows of {table} cannot "
                       f"be changed or deleted; record a new row instead (a later override supersedes "
                       f"an earlier one)'); END")
    return sql


class Ledger:
    """The record of one calibration cycle (a SQLite file), opened with ``init`` or ``open``.

    Appends go through ``append``; reads through ``rows``/``chain``; ``verify_chain`` recomputes
    the hashes. A Ledger keeps one connection; use it as a context manager to close it.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn

    # --- opening ----------------------------------------------------------------------------------
    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=BUSY_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    @classmethod
    def init(cls, path: str | Path, cycle_name: str, meta: Mapping[str, Value] | None = None,
             by: str | None = None) -> Ledger:
        """Create the record of a new cycle at ``path`` (which must not exist yet).

        ``meta`` adds facts kept with the cycle (the policy's path and sha256, its reason codes);
        they are chained rows like any other, so they cannot be changed later either.
        """
        path = Path(path)
        if path.exists():
            raise CycleError(f"{path} already exists: a cycle's record is never started over. Give a "
                             f"new file name for a new cycle, or use the existing one with --cycle {path}")
        if not path.parent.is_dir():
            raise CycleError(f"cannot create {path}: the folder {path.parent} does not exist")
        if not cycle_name.strip():
            raise CycleError("give the cycle a name (e.g. --name 2026H1)")
        conn = cls._connect(path)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _schema():
                conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            path.unlink(missing_ok=True)
            raise
        ledger = cls(path, conn)
        facts: dict[str, Value] = {"format": str(FORMAT), "cycle": cycle_name.strip(),
                                   "created": now(), "created_by": user(by)}
        facts |= dict(meta or {})
        ledger.append("meta", [{"key": k, "value": None if v is None else str(v)} for k, v in facts.items()])
        return ledger

    @classmethod
    def open(cls, path: str | Path) -> Ledger:
        """Open an existing cycle's record; a missing file or one that is not a cycle is refused."""
        path = Path(path)
        if not path.is_file():
            raise CycleError(f"there is no cycle record at {path}: start one with "
                             f"calib cycle init --cycle {path} --name NAME")
        conn = sqlite3.connect(path, timeout=BUSY_MS / 1000, isolation_level=None)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            conn.close()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise CycleError(f"{path} is not a cycle record (not a SQLite database: {exc})") from exc
        conn = cls._connect(path)
        missing = set(TABLES) - names
        if missing:
            conn.close()
            raise CycleError(f"{path} is not a calib cycle record (tables missing: "
                             f"{', '.join(sorted(missing))})")
        return cls(path, conn)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ----------------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): other writers wait; refused on a locked cycle."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.refuse_if_locked()
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def refuse_if_locked(self) -> None:
        """Raise ``CycleError`` (what happened and what to do) when the cycle is locked."""
        lock = self.locked()
        if lock is not None:
            raise CycleError(
                f"the cycle {self.path} is locked (sealed at {lock.row['at']} by {lock.row['by']}, row "
                f"{lock.seq}, bundle {lock.row['bundle']}): nothing can be added to it. Start a new cycle "
                f"for further changes (calib cycle init --cycle NEW.sqlite), e.g. one for late appeals")

    def head(self) -> tuple[int, str]:
        """The newest row's seq and hash (0 and the genesis hash for an empty record)."""
        best = (0, GENESIS)
        for table in TABLES:
            got = self.conn.execute(f'SELECT seq, hash FROM "{table}" ORDER BY seq DESC LIMIT 1').fetchone()
            if got is not None and got[0] > best[0]:
                best = (int(got[0]), str(got[1]))
        return best

    def append(self, table: str, rows: Iterable[Mapping[str, Value]]) -> list[int]:
        """Append ``rows`` to ``table`` in one write transaction; returns their seq numbers."""
        with self.writing():
            return self.append_in(table, rows)

    def append_in(self, table: str, rows: Iterable[Mapping[str, Value]]) -> list[int]:
        """Append inside a transaction already opened with ``writing()`` (to read, then write)."""
        columns = TABLES[table]
        seq, prev = self.head()
        seqs = []
        for given in rows:
            unknown = set(given) - set(columns)
            if unknown:
                raise ValueError(f"{table} has no columns {sorted(unknown)}")
            row = {c: given.get(c) for c in columns}
            seq += 1
            digest = row_hash(prev, table, seq, row)
            names = ", ".join(f'"{c}"' for c in (*columns, "seq", "prev_hash", "hash"))
            marks = ", ".join("?" * (len(columns) + 3))
            self.conn.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                              [*row.values(), seq, prev, digest])
            prev = digest
            seqs.append(seq)
        return seqs

    # --- reading ----------------------------------------------------------------------------------
    def rows(self, table: str) -> list[Row]:
        """The rows of one table in seq order."""
        columns = list(TABLES[table])
        names = ", ".join(f'"{c}"' for c in columns)
        out = []
        for rec in self.conn.execute(f'SELECT seq, prev_hash, hash, {names} FROM "{table}" ORDER BY seq'):
            out.append(Row(table, rec[0], dict(zip(columns, rec[3:], strict=True)), rec[1], rec[2]))
        return out

    def chain(self) -> list[Row]:
        """Every row of every table, in seq order (the cycle's history)."""
        return sorted((r for t in TABLES for r in self.rows(t)), key=lambda r: r.seq)

    def meta(self) -> dict[str, str | None]:
        """The cycle's facts (name, creation, the policy it was started with), by key."""
        return {str(r.row["key"]): None if r.row["value"] is None else str(r.row["value"])
                for r in self.rows("meta")}

    def get(self, table: str, seq: int) -> Row | None:
        """The row of ``table`` at ``seq``, or None."""
        return next((r for r in self.rows(table) if r.seq == seq), None)

    def locked(self) -> Row | None:
        """The lock row when the cycle is locked, else None."""
        locks = self.rows("locks")
        return locks[-1] if locks else None

    # --- checking ---------------------------------------------------------------------------------
    def verify_chain(self) -> list[ChainProblem]:
        """Recompute the chain from the rows; every edit, gap, move or broken link found ([] if none).

        Works from the stored content only (it does not trust the stored hashes), so an edit made
        after dropping the triggers shows as a hash that does not match the row.
        """
        problems: list[ChainProblem] = []
        try:
            rows = self.chain()
        except sqlite3.DatabaseError as exc:
            return [ChainProblem("(file)", 0, f"the file cannot be read as a cycle record: {exc}")]
        prev_hash, prev_seq = GENESIS, 0
        for r in rows:
            if r.seq == prev_seq:
                problems.append(ChainProblem(r.table, r.seq, "a second row with the same seq (rows were "
                                                             "copied or moved between tables)"))
                continue
            if r.seq != prev_seq + 1:
                gap = (f"row {prev_seq + 1}" if r.seq == prev_seq + 2
                       else f"rows {prev_seq + 1}–{r.seq - 1}")
                problems.append(ChainProblem(r.table, r.seq, f"{gap} before it are missing (deleted)"))
            elif r.prev_hash != prev_hash:
                problems.append(ChainProblem(r.table, r.seq, "its link to the row before does not match "
                                                             "(a row before it was changed or replaced)"))
            if row_hash(r.prev_hash, r.table, r.seq, r.row) != r.hash:
                problems.append(ChainProblem(r.table, r.seq, "its content does not match its hash (the row "
                                                             "was edited after it was written)"))
            prev_hash, prev_seq = r.hash, r.seq
        return problems
