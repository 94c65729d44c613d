"""The policy's fingerprint: sha256 of its canonical JSON, named on every result it produces."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calib.policy.model import Policy


def canonical_json(policy: Policy) -> str:
    """Sorted keys, no spaces, UTF-8 text kept readable: the same policy always gives the same text."""
    return json.dumps(policy.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def policy_sha256(policy: Policy) -> str:
    """sha256 (hex) of the policy's canonical JSON."""
    return hashlib.sha256(canonical_json(policy).encode("utf-8")).hexdigest()
