"""Approvals (审批): who approved which run, in what role, when, and the hashes they approved,
optionally signed with the approver's Ed25519 key.

Why: a hash chain shows an edit only to someone who did not recompute it; a person with write
access to the file can rebuild the whole chain. A signature made with the approver's private key
over the approved content cannot be rebuilt without that key, so with public keys held outside the
cycle file (``verify --trusted``) an approval cannot be forged or moved to other results.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from calib.cycle.ledger import CycleError, Ledger, Row, canonical, now, user
from calib.cycle.runs import resolve, sha256_file

SIGNED = ("name", "role", "at", "run", "policy_sha256", "data_fingerprint", "results_sha256",
          "ledger_head", "ledger_seq", "note", "key_id")
"""The approval's fields its signature covers (with the cycle's name)."""


# --- keys -----------------------------------------------------------------------------------------
def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable name of a public key: the first 16 hex digits of the sha256 of its raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    """A public key as PEM text (as ``NAME.pub`` holds it)."""
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def keygen(name: str | Path) -> tuple[Path, Path, str]:
    """Write a new key pair: ``NAME.key`` (private, readable by its owner only) and ``NAME.pub``.

    Returns the two paths and the key's id. Existing files are never overwritten.
    """
    base = Path(name)
    private, public = base.with_name(base.name + ".key"), base.with_name(base.name + ".pub")
    for path in (private, public):
        if path.exists():
            raise CycleError(f"{path} already exists: a key is never overwritten (approvals signed with "
                             f"it would no longer verify). Give another --out name")
    if not private.parent.is_dir():
        raise CycleError(f"the folder {private.parent} does not exist: create it or give another --out")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public.write_text(public_pem(key.public_key()), encoding="ascii")
    return private, public, key_id(key.public_key())


def load_private(path: str | Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM file (as ``keygen`` writes it)."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CycleError(f"cannot read the private key {path}: {exc}. Give the NAME.key file written by "
                         f"calib cycle keygen") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CycleError(f"{path} is not an Ed25519 key: make one with calib cycle keygen --out NAME")
    return key


def load_public(path: str | Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (``NAME.pub``)."""
    return _public_from(Path(path).read_bytes() if Path(path).is_file() else b"", str(path))


def _public_from(pem: bytes, where: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise CycleError(f"cannot read the public key {where}: give the NAME.pub file written by "
                         f"calib cycle keygen ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CycleError(f"{where} is not an Ed25519 public key: make one with calib cycle keygen")
    return key


def trusted_keys(source: str | Path) -> dict[str, Ed25519PublicKey]:
    """Public keys given from outside the cycle: a ``.pub`` file, or a folder of them, by key id."""
    path = Path(source)
    files = sorted(path.glob("*.pub")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise CycleError(f"--trusted {source} is neither a public key file nor a folder holding .pub files")
    keys = [load_public(f) for f in files]
    return {key_id(k): k for k in keys}


def register_approver(ledger: Ledger, name: str, role: str, public_path: str | Path,
                      by: str | None = None) -> int:
    """Record an approver's public key in the cycle (``init --approver``, ``trust``); returns its row."""
    if not name.strip() or not role.strip():
        raise CycleError("an approver needs a name and a role (NAME:ROLE:KEY.pub)")
    key = load_public(public_path)
    row = {"name": name.strip(), "role": role.strip(), "key_id": key_id(key), "public_key": public_pem(key),
           "by": user(by), "at": now()}
    return ledger.append("approvers", [row])[0]


# --- approving ------------------------------------------------------------------------------------
def _content(row: dict[str, Any], cycle: str | None) -> bytes:
    return canonical({"cycle": cycle, **{k: row.get(k) for k in SIGNED}}).encode("utf-8")


def approve(ledger: Ledger, name: str | None, role: str | None, run: int | None = None,
            key_path: str | Path | None = None, note: str | None = None) -> Row:
    """Record an approval of a run (the last one by default) and, with a key, sign it.

    The approval keeps the run's policy sha256, data fingerprint and results sha256 and the
    record's head at that moment. With a key registered in the cycle, name and role default to
    the approver's; a key registered to someone else is refused.
    """
    key = load_private(key_path) if key_path is not None else None
    kid = key_id(key.public_key()) if key is not None else None
    with ledger.writing():
        runs = ledger.rows("runs")
        if not runs:
            raise CycleError("the cycle has no run to approve yet: run it first (calib cycle run)")
        target = runs[-1] if run is None else next((r for r in runs if r.seq == run), None)
        if target is None:
            raise CycleError(f"there is no run number {run} in the cycle; its runs are "
                             f"{', '.join(str(r.seq) for r in runs)} (see calib cycle log)")
        results = resolve(str(target.row["out"]), ledger) / "results.csv"
        if results.is_file() and sha256_file(results) != target.row["results_sha256"]:
            raise CycleError(f"{results} has changed since run {target.seq} wrote it (its sha256 differs): "
                             f"approve only results as calib wrote them; run again with calib cycle run")
        name, role = _who(ledger, kid, name, role)
        seq, head = ledger.head()
        row: dict[str, Any] = {"name": name, "role": role, "at": now(), "run": target.seq,
                               "policy_sha256": target.row["policy_sha256"],
                               "data_fingerprint": target.row["data_fingerprint"],
                               "results_sha256": target.row["results_sha256"], "ledger_head": head,
                               "ledger_seq": seq, "note": note, "key_id": kid, "signature": None}
        if key is not None:
            signature = key.sign(_content(row, ledger.meta().get("cycle")))
            row["signature"] = base64.b64encode(signature).decode("ascii")
        got = ledger.append_in("approvals", [row])[0]
    done = ledger.get("approvals", got)
    assert done is not None
    return done


def _who(ledger: Ledger, kid: str | None, name: str | None, role: str | None) -> tuple[str, str]:
    """The approver's name and role: as given, or from the registered key; a mismatch is refused."""
    registered = [a for a in ledger.rows("approvers") if kid is not None and a.row["key_id"] == kid]
    if registered:
        owner = registered[-1].row
        if name and name != owner["name"]:
            raise CycleError(f"the key given is registered in this cycle to {owner['name']} "
                             f"({owner['role']}), not to {name}: sign with your own key")
        name, role = name or str(owner["name"]), role or str(owner["role"])
    if not name or not role:
        raise CycleError("give the approver's --name and --role (or sign with a key registered in the "
                         "cycle, which names them)")
    return name, role


# --- checking -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApprovalCheck:
    """What ``verify`` found for one approval: ``status`` is ``signed, valid``, ``signed, INVALID``,
    ``signed, key not trusted`` or ``unsigned``; ``problems`` lists what is wrong.
    """

    seq: int
    name: str
    role: str
    run: int
    status: str
    problems: tuple[str, ...]

    def __str__(self) -> str:
        return f"approval {self.seq} by {self.name} ({self.role}) of run {self.run}: {self.status}"


def check_approvals(ledger: Ledger,
                    trusted: dict[str, Ed25519PublicKey] | None = None) -> list[ApprovalCheck]:
    """Check every approval: its signature against the trusted keys (given from outside, else those
    registered in the cycle), and that the hashes it approved are those of its run and of the record
    at that moment.
    """
    keys = trusted
    if keys is None:
        keys = {}
        for a in ledger.rows("approvers"):
            keys[str(a.row["key_id"])] = _public_from(str(a.row["public_key"]).encode("ascii"),
                                                      f"the approver row {a.seq}")
    cycle = ledger.meta().get("cycle")
    out = []
    for a in ledger.rows("approvals"):
        row, problems = a.row, []
        run = ledger.get("runs", int(row["run"] or 0))
        if run is None:
            problems.append(f"it approves run {row['run']}, which is not in the record")
        else:
            for field in ("policy_sha256", "data_fingerprint", "results_sha256"):
                if run.row[field] != row[field]:
                    problems.append(f"its {field} is not that of run {run.seq}")
        if row["ledger_head"] != a.prev_hash or row["ledger_seq"] != a.seq - 1:
            problems.append("the record's head it names is not the row before it")
        status = "unsigned"
        if row["signature"]:
            key = keys.get(str(row["key_id"]))
            if key is None:
                status = "signed, key not trusted"
                where = ("the keys given with --trusted" if trusted is not None
                         else "the approvers registered in the cycle")
                problems.append(f"it is signed with key {row['key_id']}, which is not among {where}")
            else:
                try:
                    key.verify(base64.b64decode(str(row["signature"])), _content(row, cycle))
                    status = "signed, valid"
                except (InvalidSignature, ValueError):
                    status = "signed, INVALID"
                    problems.append("its signature does not match what it approves (the approval or "
                                    "the cycle's name was changed after it was signed)")
        out.append(ApprovalCheck(a.seq, str(row["name"]), str(row["role"]), int(row["run"] or 0), status,
                                 tuple(problems)))
    return out
