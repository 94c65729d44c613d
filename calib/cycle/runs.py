"""A run inside the cycle: the policy over the data with the cycle's overrides, written as a run
folder and recorded with its hashes.

Why: an approval, an appeal's re-run and the lock all point at a run; the record keeps what makes
it reproducible and checkable (the policy's sha256, the data's fingerprint, the overrides applied
up to which row, and the sha256 of the results.csv it wrote).
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calib.cycle.ledger import Ledger, now, user
from calib.cycle.overrides import current_overrides
from calib.errors import DataError


@dataclass(frozen=True)
class CycleRun:
    """A recorded run: its number (row), the results' sha256, how many overrides it applied, the
    payout total (None without pay).
    """

    seq: int
    results_sha256: str
    overrides: int
    rows: int
    rated: int
    payout_total: float | None


def sha256_file(path: str | Path) -> str:
    """The sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stored_path(path: str | Path, ledger: Ledger) -> str:
    """A path as the record keeps it: relative to the cycle file's folder when inside it (the cycle
    and its runs can be moved together), else absolute.
    """
    real = Path(os.path.abspath(path))
    base = Path(os.path.abspath(ledger.path)).parent
    return str(real.relative_to(base)) if real.is_relative_to(base) else str(real)


def resolve(stored: str, ledger: Ledger) -> Path:
    """A path kept in the record, as a path to open (relative ones from the cycle file's folder)."""
    path = Path(stored)
    return path if path.is_absolute() else Path(os.path.abspath(ledger.path)).parent / path


def run_cycle(ledger: Ledger, policy_path: str, data_path: str, out: str, argv: list[str],
              by: str | None = None, note: str | None = None) -> CycleRun:
    """Run the policy over the data with the cycle's current overrides, write ``out`` whole as
    ``calib run`` does (with cycle_overrides.csv: the overrides applied; and changes.csv: the
    rows that changed since the cycle's last run, and why, when its results are still there)
    and record the run.

    A locked cycle is refused before anything runs. Bad data leaves ``out`` holding problems.csv
    and raises ``DataError`` (nothing is recorded).
    """
    from calib._util.outputs import RunFolder, refuse_out_over_inputs
    from calib._util.xlsx import write_csv
    from calib.analysis.compare import compare_results
    from calib.data.read import load_data
    from calib.engine.pipeline import run
    from calib.io.run_outputs import write_csv_into, write_run
    from calib.policy import load_policy
    from calib.policy.hashing import policy_sha256

    ledger.refuse_if_locked()
    refuse_out_over_inputs(out, {"--policy": policy_path, "--data": data_path, "--cycle": str(ledger.path)})
    policy = load_policy(policy_path)
    upto, _ = ledger.head()
    overrides = current_overrides(ledger)
    previous = _previous_results(ledger)
    facts: dict[str, Any] = {"policy": {"path": policy_path, "sha256": policy_sha256(policy)},
                             "data": {"path": data_path, "fingerprint": None},
                             "cycle": {"path": str(ledger.path), "overrides": len(overrides),
                                       "overrides_upto": upto}}
    with RunFolder(Path(out), ["calib", *argv]) as folder:
        try:
            dataset = load_data(data_path, policy)
            result = run(policy, dataset, overrides=overrides if len(overrides) else None)
            facts["data"]["fingerprint"] = dataset.fingerprint()
            results = write_run(result, folder, facts["data"]["fingerprint"])
            write_csv_into(folder, "cycle_overrides.csv", overrides)
            if previous is not None:  # what this run changed against the cycle's last run, and why
                write_csv_into(folder, "changes.csv", compare_results(previous, results))
        except DataError as exc:
            problems = exc.problems
            folder.write("problems.csv", lambda p: write_csv(problems, p, encoding="utf-8-sig"))
            folder.commit("failed", facts)
            print(f"the run failed: the problems are in {folder.out / 'problems.csv'}; nothing was "
                  f"recorded in the cycle", file=sys.stderr)
            raise
        folder.commit("complete", facts)
    digest = sha256_file(Path(out) / "results.csv")
    row = {"policy_sha256": facts["policy"]["sha256"], "policy_path": policy_path,
           "data_fingerprint": facts["data"]["fingerprint"], "data_path": data_path,
           "results_sha256": digest, "out": stored_path(out, ledger), "overrides": len(overrides),
           "overrides_upto": upto, "by": user(by), "at": now(), "note": note}
    seq = ledger.append("runs", [row])[0]
    rated = int((results["status"] == "rated").sum()) if "status" in results else len(results)
    total = float(result.payout_total()) if result.payouts is not None else None
    return CycleRun(seq, digest, len(overrides), len(results), rated, total)


def _previous_results(ledger: Ledger) -> Any:
    """The results table of the cycle's last run, read before this run may replace its folder
    (None for the first run, or when its folder is gone).
    """
    from calib.analysis.compare import read_results

    runs = ledger.rows("runs")
    if not runs:
        return None
    path = resolve(str(runs[-1].row["out"]), ledger) / "results.csv"
    return read_results(path) if path.is_file() else None
