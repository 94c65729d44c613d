"""The cycle's rules (reason codes, appeal and decision days): from the policy given, or the one the
cycle was started with (kept in its record), or calib's defaults.

Why: an override's reason code and an appeal's deadlines must follow the scheme's own rules
(``calibration`` in the policy) without HR giving the policy to every command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from calib.cycle.ledger import CycleError, Ledger, Value
from calib.policy.calibration import Calibration
from calib.policy.hashing import policy_sha256
from calib.policy.model import Policy


@dataclass(frozen=True)
class Settings:
    """The rules a cycle's commands apply, and where they came from (for messages)."""

    reasons: dict[str, str]
    appeal_days: int
    decision_days: int
    source: str


def policy_meta(policy: Policy, path: str) -> dict[str, Value]:
    """The facts kept in a new cycle's record about the policy it is started with."""
    cycle = policy.cycle
    return {"policy_path": path, "policy_sha256": policy_sha256(policy), "policy_name": policy.name,
            "reasons": json.dumps(cycle.reasons, ensure_ascii=False, sort_keys=True),
            "appeal_days": cycle.appeal_days, "decision_days": cycle.decision_days}


def settings(ledger: Ledger, policy: Policy | None = None, policy_path: str | None = None) -> Settings:
    """The cycle's rules: the given policy's, else those recorded at ``init``, else the defaults."""
    if policy is not None:
        c = policy.cycle
        return Settings(dict(c.reasons), c.appeal_days, c.decision_days, f"the policy {policy_path}")
    meta = ledger.meta()
    if meta.get("reasons"):
        try:
            reasons = json.loads(meta["reasons"] or "{}")
            appeal, decision = int(meta["appeal_days"] or 0), int(meta["decision_days"] or 0)
        except (ValueError, TypeError) as exc:
            raise CycleError(f"the cycle record {ledger.path} holds unreadable rules ({exc}): "
                             f"give the policy with --policy") from exc
        return Settings(reasons, appeal, decision, f"the policy the cycle was started with "
                                                   f"({meta.get('policy_path')})")
    d = Calibration()
    return Settings(dict(d.reasons), d.appeal_days, d.decision_days, "calib's defaults (the cycle was "
                                                                     "started without a policy)")
