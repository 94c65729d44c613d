"""Checking a cycle's record as a whole: the chain, the lock's bundle, and every approval.

Why: one command an auditor runs to know whether the record is as it was written, and if not,
every place where it is not (table and row), not just the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from calib.cycle.approvals import ApprovalCheck, check_approvals
from calib.cycle.ledger import Ledger
from calib.cycle.lock import bundle_of, check_bundle


@dataclass
class CycleReport:
    """What ``verify_cycle`` found: the rows, the head, every problem, each approval's status."""

    path: Path
    rows: int
    head: str
    locked: bool
    bundle: Path | None
    problems: list[str] = field(default_factory=list)
    approvals: list[ApprovalCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def lines(self) -> list[str]:
        """The report as lines of text for the terminal."""
        state = "locked" if self.locked else "open"
        out = [f"cycle {self.path}: {self.rows} rows, head {self.head}, {state}"
               + (f", bundle {self.bundle}" if self.bundle else "")]
        out += [f"  {a}" for a in self.approvals]
        if self.ok:
            out.append("  the chain, the bundle and the approvals check out")
        else:
            out.append(f"  {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}:")
            out += [f"  - {p}" for p in self.problems]
        return out


def verify_cycle(path: str | Path, trusted: dict[str, Ed25519PublicKey] | None = None,
                 bundle: str | Path | None = None) -> CycleReport:
    """Check the cycle's record at ``path``: the hash chain (every row), the lock's bundle when
    the cycle is locked (or a bundle is found or given), and each approval's signature and hashes.
    """
    with Ledger.open(path) as ledger:
        seq, head = ledger.head()
        report = CycleReport(Path(path), seq, head, ledger.locked() is not None, bundle_of(ledger, bundle))
        report.problems += [str(p) for p in ledger.verify_chain()]
        if report.bundle is not None:
            report.problems += check_bundle(ledger, report.bundle)
        report.approvals = check_approvals(ledger, trusted)
        report.problems += [f"approval {a.seq}: {p}" for a in report.approvals for p in a.problems]
    return report
