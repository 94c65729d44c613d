"""The frozen policy (a contract, see DESIGN.md): canonical JSON that names its own hash.

A frozen file is what next year's production run applies. It holds the policy, the calib and
format versions, when it was frozen, and its provenance — the fingerprint of the data it was
calibrated on and the figures it was signed off with. Its ``sha256`` covers everything else in the
file, so a hand edit is detected and refused. Freezing a loaded frozen file gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calib.errors import PolicyError, PolicyIssue
from calib.policy.hashing import policy_sha256
from calib.policy.load import validate_policy
from calib.policy.model import Policy
from calib.policy.reader import read_json

FORMAT_VERSION = 1
KEYS = {"format_version", "calib_version", "frozen_at", "policy", "policy_sha256", "provenance",
        "sha256"}


def canonical(obj: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, shortest round-trip floats, UTF-8 kept."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Frozen:
    """A frozen policy as loaded: the policy and the metadata stamped on it."""

    policy: Policy
    frozen_at: str
    provenance: dict[str, Any] = field(default_factory=dict)
    calib_version: str = ""
    format_version: int = FORMAT_VERSION
    sha256: str = ""

    @property
    def policy_sha256(self) -> str:
        """sha256 of the policy's canonical JSON (the hash results name)."""
        return policy_sha256(self.policy)


def freeze(policy: Policy | Frozen, provenance: dict[str, Any] | None = None,
           frozen_at: str | None = None) -> str:
    """The frozen file's text for ``policy`` (pretty-printed canonical JSON, keys sorted).

    Given a ``Frozen`` (a loaded frozen file) it keeps that file's time and provenance, so
    freezing it again gives the same bytes.
    """
    from calib._util.version import __version__

    if isinstance(policy, Frozen):
        provenance = policy.provenance if provenance is None else provenance
        frozen_at = frozen_at or policy.frozen_at
        version = policy.calib_version
        policy = policy.policy
    else:
        version = __version__
    body = {
        "format_version": FORMAT_VERSION,
        "calib_version": version,
        "frozen_at": frozen_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "policy": policy.to_dict(),
        "policy_sha256": policy_sha256(policy),
        "provenance": provenance or {},
    }
    body["sha256"] = _digest(body)
    return json.dumps(body, sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def write_frozen(policy: Policy | Frozen, path: str | Path, **kwargs: Any) -> str:
    """Freeze ``policy`` into ``path``; returns the file's sha256."""
    from calib._util.outputs import write_text_atomic

    text = freeze(policy, **kwargs)
    write_text_atomic(path, text)  # the old file stays whole until the new one is complete
    return json.loads(text)["sha256"]


def is_frozen(data: Any) -> bool:
    """Whether parsed JSON looks like a frozen file (rather than a plain policy)."""
    return isinstance(data, dict) and "format_version" in data and "policy" in data


def _refuse(source: str, message: str) -> PolicyError:
    return PolicyError([PolicyIssue("", message)], source)


def read_frozen(data: dict[str, Any], source: str = "<frozen>") -> Frozen:
    """Check a parsed frozen file (version, hash, policy hash) and build the policy."""
    version = data.get("format_version")
    if not isinstance(version, int):
        raise _refuse(source, "format_version is missing or not a whole number; this is not a "
                      "frozen policy file calib wrote")
    if version > FORMAT_VERSION:
        raise _refuse(source, f"the file is frozen in format {version}, newer than this calib "
                      f"understands ({FORMAT_VERSION}); upgrade calib to read it")
    if version < FORMAT_VERSION:
        raise _refuse(source, f"format {version} is older than any this calib can migrate; "
                      "freeze the policy again from its YAML")
    missing = sorted(KEYS - set(data))
    if missing:
        raise _refuse(source, f"the frozen file lacks {', '.join(missing)}")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise _refuse(source, f"the frozen file has unknown keys {', '.join(unknown)}")
    body = {k: v for k, v in data.items() if k != "sha256"}
    if _digest(body) != data["sha256"]:
        raise _refuse(source, "the file was changed after it was frozen (its sha256 does not "
                      "match its contents); do not edit a frozen file by hand: change the YAML "
                      "policy and freeze it again")
    policy = validate_policy(data["policy"], source)
    if policy_sha256(policy) != data["policy_sha256"]:
        raise _refuse(source, "the policy's sha256 does not match the one stamped in the file")
    return Frozen(policy, data["frozen_at"], data["provenance"], data["calib_version"], version,
                  data["sha256"])


def load_frozen(path: str | Path) -> Frozen:
    """Load and verify a frozen policy file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _refuse(str(path), f"file not found: {path}") from None
    data = read_json(text, str(path))  # a key given twice is refused, like in a policy
    if not is_frozen(data):
        raise _refuse(str(path), "not a frozen policy (no format_version and policy); freeze it "
                      "with `calib freeze`")
    return read_frozen(data, str(path))
