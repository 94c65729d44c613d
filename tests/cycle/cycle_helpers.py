"""What the cycle tests share: a small record, and the tools of someone tampering with it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from calib.cycle.ledger import GENESIS, TABLES, Ledger, row_hash

RUN = {"policy_sha256": "p" * 64, "policy_path": "policy.yaml", "data_fingerprint": "d" * 64,
       "data_path": "data", "results_sha256": "r" * 64, "out": "nowhere", "overrides": 0,
       "overrides_upto": 0, "by": "hr", "at": "2026-02-09T10:00:00+08:00", "note": None}


def override(i: int, value: str = "A") -> dict:
    return {"id": f"E{i:03d}", "period": "2025-12", "field": "grade", "value": value, "reason": "evidence",
            "note": None, "by": "hr", "at": "2026-02-10T10:00:00+08:00", "supersedes": None}


def new_ledger(tmp_path: Path, name: str = "c.sqlite") -> Ledger:
    return Ledger.init(tmp_path / name, "2026H1", {"policy_sha256": "p" * 64}, by="hr")


def _untriggered(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    for table in TABLES:
        conn.execute(f'DROP TRIGGER IF EXISTS "{table}_no_update"')
        conn.execute(f'DROP TRIGGER IF EXISTS "{table}_no_delete"')
    return conn


def tamper(path: Path, sql: str, *params: object) -> None:
    """Run ``sql`` on the record as someone with a plain SQLite tool would: triggers dropped first."""
    conn = _untriggered(path)
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def rechain(path: Path) -> None:
    """Recompute every hash in seq order, as an attacker who knows the scheme would after an edit."""
    with Ledger.open(path) as ledger:
        rows = ledger.chain()
    conn = _untriggered(path)
    prev = GENESIS
    for r in rows:
        digest = row_hash(prev, r.table, r.seq, r.row)
        conn.execute(f'UPDATE "{r.table}" SET prev_hash = ?, hash = ? WHERE seq = ?', (prev, digest, r.seq))
        prev = digest
    conn.commit()
    conn.close()
