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
    """A frozen policy as loaded: the policy and the metadata stamped on it.

    ``load_frozen`` makes one after checking the file's hashes; ``freeze`` given one keeps its
    time and provenance, so a frozen file can be written again byte for byte.

    Attributes
    ----------
    policy : Policy
        The policy the file holds.
    frozen_at : str
        When it was frozen (UTC, ``YYYY-MM-DDTHH:MM:SSZ``).
    provenance : dict
        The data it was calibrated on and the figures it was signed off with (``provenance``).
    calib_version : str
        The calib version that froze it.
    format_version : int
        The frozen file's format.
    sha256 : str
        The hash of the whole file (everything but this field), which detects a hand edit.
    """

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

    Parameters
    ----------
    policy : Policy or Frozen
        The policy to freeze, or a loaded frozen file to write again.
    provenance : dict, optional
        What the policy was calibrated on and signed off with, usually ``calib.provenance(policy,
        data)``; default: a ``Frozen``'s own, else empty.
    frozen_at : str, optional
        The time to stamp (``YYYY-MM-DDTHH:MM:SSZ``); default: a ``Frozen``'s own, else now (UTC).

    Returns
    -------
    str
        The frozen file's text: JSON with the policy, the versions, the time, the provenance,
        the policy's hash and the ``sha256`` of all the rest.

    Examples
    --------
    >>> import json
    >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    >>> text = calib.freeze(policy, frozen_at="2025-01-01T00:00:00Z")
    >>> sorted(json.loads(text))[:3]
    ['calib_version', 'format_version', 'frozen_at']
    >>> calib.freeze(policy, frozen_at="2025-01-01T00:00:00Z") == text
    True
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
    """Freeze ``policy`` into ``path``; returns the file's sha256.

    The file is written atomically: until the new one is complete, the old file stays whole.

    Parameters
    ----------
    policy : Policy or Frozen
        The policy to freeze, or a loaded frozen file to write again.
    path : str or Path
        The frozen file to write (replaced if it exists).
    **kwargs
        ``provenance`` and ``frozen_at``, passed to ``freeze``.

    Returns
    -------
    str
        The file's ``sha256`` (hex), as stamped in it.

    Raises
    ------
    OutputError
        If the file cannot be written (a folder of that name, a full disk, no permission).

    Examples
    --------
    >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    >>> sha = calib.write_frozen(policy, "frozen.json")
    >>> calib.load_frozen("frozen.json").sha256 == sha
    True
    """
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
    """Load and verify a frozen policy file.

    Its format version, its ``sha256`` and the policy's own hash are checked before the policy
    is used, so a file edited by hand is refused rather than applied.

    Parameters
    ----------
    path : str or Path
        The frozen file (JSON, as ``write_frozen`` writes it).

    Returns
    -------
    Frozen
        The policy with the time, versions, provenance and hash stamped on it.

    Raises
    ------
    PolicyError
        If the file does not exist, is not a frozen policy, is in a format this calib cannot
        read, was changed after it was frozen, or holds an invalid policy.

    Examples
    --------
    >>> frozen = calib.load_frozen("frozen.json")
    >>> frozen.policy.name
    'ecommerce_cs'
    """
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
