"""Sealing a cycle: the bundle (the last run's results and every table of the record, each file's
sha256 in manifest.json with the record's head hash and row count), then a lock row; and checking a
bundle against the record later.

Why: the record's newest rows could be deleted without breaking the chain that is left. The bundle
is the anchor kept outside the file: it names how many rows the record had and the hash of the last,
so a record that lost rows (or its lock) after sealing no longer matches it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from calib._util.outputs import RunFolder
from calib.cycle.ledger import TABLES, CycleError, Ledger, now, user
from calib.cycle.runs import resolve, sha256_file, stored_path


def tables(ledger: Ledger) -> dict[str, pd.DataFrame]:
    """Every table of the record as a DataFrame (seq, its columns, prev_hash, hash), by name."""
    out = {}
    for name, columns in TABLES.items():
        rows = [{"seq": r.seq, **r.row, "prev_hash": r.prev_hash, "hash": r.hash} for r in ledger.rows(name)]
        out[name] = pd.DataFrame(rows, columns=["seq", *columns, "prev_hash", "hash"])
    return out


def write_tables(ledger: Ledger, out: str | Path, argv: list[str]) -> Path:
    """Write each table of the record as CSV (UTF-8 with BOM, safe to open in Excel) into ``out``,
    whole, with a manifest; returns the folder (``calib cycle export``).
    """
    head_seq, head_hash = ledger.head()
    with RunFolder(Path(out), ["calib", *argv]) as folder:
        for name, frame in tables(ledger).items():
            _write_csv(folder, name, frame)
        folder.commit("complete", {"cycle": {"path": str(ledger.path), "head_seq": head_seq,
                                             "head_hash": head_hash}})
    return Path(out)


def _write_csv(folder: RunFolder, name: str, frame: pd.DataFrame) -> None:
    from calib._util.xlsx import write_csv

    folder.write(f"{name}.csv", lambda p: write_csv(frame, p, encoding="utf-8-sig"))


def default_bundle(cycle: str | Path) -> Path:
    """Where ``lock`` writes the bundle unless told: beside the cycle file, ``NAME.locked``."""
    path = Path(cycle)
    return path.with_name(path.stem + ".locked")


@dataclass(frozen=True)
class Sealed:
    """A lock: its row, the bundle written, and the record's head it sealed."""

    seq: int
    bundle: Path
    head_seq: int
    head_hash: str


def lock(ledger: Ledger, bundle: str | Path | None, argv: list[str], by: str | None = None) -> Sealed:
    """Seal the cycle: write the bundle, then the lock row; afterwards every append is refused.

    Refused when the cycle has no run, or the last run's results.csv is gone or changed.
    """
    from calib._util.outputs import file_facts

    target = Path(bundle) if bundle is not None else default_bundle(ledger.path)
    with ledger.writing():
        runs = ledger.rows("runs")
        if not runs:
            raise CycleError("the cycle has no run: there are no results to seal. Run it first "
                             "(calib cycle run)")
        last = runs[-1]
        results = resolve(str(last.row["out"]), ledger) / "results.csv"
        if not results.is_file() or sha256_file(results) != last.row["results_sha256"]:
            raise CycleError(f"the results of the last run ({results}, run {last.seq}) are "
                             f"{'missing' if not results.is_file() else 'changed since the run'}: the bundle "
                             f"must hold them as calib wrote them. Run again with calib cycle run, then lock")
        head_seq, head_hash = ledger.head()
        with RunFolder(target, ["calib", *argv]) as folder:
            folder.write("results.csv", lambda p: p.write_bytes(results.read_bytes()))
            for name, frame in tables(ledger).items():
                _write_csv(folder, name, frame)
            facts = {"cycle": {"name": ledger.meta().get("cycle"), "path": str(ledger.path),
                               "head_seq": head_seq, "head_hash": head_hash, "rows": head_seq,
                               "run": last.seq, "results_sha256": last.row["results_sha256"]}}
            folder.commit("complete", facts)
        manifest = file_facts(target / "manifest.json")["sha256"]
        row = {"bundle": stored_path(target, ledger), "manifest_sha256": manifest, "head_hash": head_hash,
               "head_seq": head_seq, "by": user(by), "at": now()}
        seq = ledger.append_in("locks", [row])[0]
    return Sealed(seq, target, head_seq, head_hash)


def check_bundle(ledger: Ledger, bundle: Path) -> list[str]:
    """What is wrong between a lock's bundle and the record ([] when they agree).

    The bundle's files against its manifest; the record must still hold every row the bundle
    sealed, with the same hashes, then the lock row naming this manifest and nothing after it.
    """
    from calib._util.outputs import file_facts, read_manifest, verify_run

    manifest = read_manifest(bundle)
    if manifest is None or not isinstance(manifest.get("cycle"), dict):
        return [f"the lock's bundle {bundle} is missing or has no calib manifest: the sealed state "
                f"cannot be checked"]
    problems = [f"bundle {bundle}: {p}" for p in verify_run(bundle)]
    sealed = manifest["cycle"]
    head_seq, head_hash = int(sealed.get("head_seq", -1)), str(sealed.get("head_hash"))
    chain = {r.seq: r for r in ledger.chain()}
    at_head = chain.get(head_seq)
    if at_head is None or at_head.hash != head_hash:
        have = max(chain, default=0)
        now_has = f"has only {have} rows" if at_head is None else f"holds another row {head_seq}"
        problems.append(f"the bundle sealed {head_seq} rows ending in hash {head_hash[:16]}…, but the record "
                        f"{now_has}: rows were deleted or replaced after the lock")
    for name in TABLES:
        path = bundle / f"{name}.csv"
        if not path.is_file():
            continue  # verify_run reported it
        sealed_rows = pd.read_csv(path, encoding="utf-8-sig", dtype=str, usecols=["seq", "hash"])
        for seq, digest in zip(sealed_rows["seq"], sealed_rows["hash"], strict=True):
            now_row = chain.get(int(seq))
            if now_row is None or now_row.table != name:
                problems.append(f"{name} seq {seq}: sealed in the bundle, missing from the record (deleted)")
            elif now_row.hash != digest:
                problems.append(f"{name} seq {seq}: differs from the row sealed in the bundle")
    digest = file_facts(bundle / "manifest.json")["sha256"] if (bundle / "manifest.json").is_file() else None
    locks = [r for r in ledger.rows("locks") if r.row["manifest_sha256"] == digest]
    if not locks:
        problems.append(f"the record has no lock row for the bundle {bundle} (the lock row was deleted, or "
                        f"the bundle's manifest was changed)")
    else:
        after = [r for r in chain.values() if r.seq > locks[0].seq]
        if after:
            problems.append(f"{len(after)} row(s) were added after the lock (from seq {after[0].seq}, "
                            f"{after[0].table})")
    return problems


def bundle_of(ledger: Ledger, given: str | Path | None) -> Path | None:
    """The bundle to check: as given, else the lock row's, else one at the default place (which shows
    a lock whose row was deleted); None when the cycle was never locked.
    """
    if given is not None:
        return Path(given)
    lock_row = ledger.locked()
    if lock_row is not None:
        return resolve(str(lock_row.row["bundle"]), ledger)
    default = default_bundle(ledger.path)
    return default if os.path.isdir(default) else None
