"""R16 approvals of add/deduct events: which events need written approval, and which were
confirmed by someone without the authority for their level.

Both only flag (``needs_approval`` with the reason in ``approval_note``): the score counts every
event, and HR settles the flagged ones before the results are approved.
"""

from __future__ import annotations

import numpy as np

from calib._util.text import text_codes
from calib.policy.scoring import Adjustments, Authority


def _levels(values: list[float]) -> str:
    return ", ".join(f"{v:+g}" for v in values)


def beyond_thresholds(points: np.ndarray, adj: Adjustments) -> np.ndarray:
    """Whether each event's points need written approval: above ``approval_above`` or below
    ``approval_below``, the thresholds themselves included when ``approval_bounds`` is
    ``inclusive`` (以上: "5分以上" includes 5).
    """
    out = np.zeros(len(points), dtype=bool)
    inclusive = adj.approval_bounds == "inclusive"
    if adj.approval_above is not None:
        out |= (points >= adj.approval_above) if inclusive else (points > adj.approval_above)
    if adj.approval_below is not None:
        out |= (points <= adj.approval_below) if inclusive else (points < adj.approval_below)
    return out


def unauthorised(roles: object, points: np.ndarray, authority: Authority
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(flag, note) per event: confirmed by a role that may not confirm its level, or by no one.

    A role the policy does not list is left unflagged here: the data checks refuse it
    (``checks.check_rules``), so a run never sees one.
    """
    codes, names = text_codes(roles)
    flag = np.zeros(len(points), dtype=bool)
    note = np.full(len(points), "", dtype=object)
    blank = codes < 0
    flag[blank] = True
    note[blank] = f"no confirmer recorded ({authority.column})"
    for k, name in enumerate(names):
        allowed = authority.roles.get(name)
        if allowed is None or allowed == "all":
            continue
        mine = codes == k
        bad = mine & ~np.isin(np.round(points, 9), np.round(np.asarray(allowed, dtype=float), 9))
        flag |= bad
        note[bad] = [f"{p:+g} confirmed by {name}, who may confirm {_levels(allowed)} only"
                     for p in points[bad]]
    return flag, note


def _written_note(p: float, adj: Adjustments) -> str:
    """Why an event needs written approval, in the policy's terms."""
    inclusive = adj.approval_bounds == "inclusive"
    if p > 0:
        where = f"{'at or above' if inclusive else 'above'} {adj.approval_above:+g}"
    else:
        where = f"{'at or below' if inclusive else 'below'} {adj.approval_below:+g}"
    return f"{p:+g} is {where}: needs written approval"


def approval_flags(points: np.ndarray, approved: np.ndarray | None, roles: object | None,
                   adj: Adjustments) -> tuple[np.ndarray, np.ndarray]:
    """(needs_approval, approval_note) per event: beyond a threshold without written approval
    (``approved``), or confirmed without authority (``roles``, when the policy has one); the
    note gives every reason, "" where none.
    """
    written = beyond_thresholds(points, adj)
    if approved is not None:
        written &= ~approved
    flag = np.zeros(len(points), dtype=bool)
    why = np.full(len(points), "", dtype=object)
    if adj.authority is not None and roles is not None:
        flag, why = unauthorised(roles, points, adj.authority)
    needs = written | flag
    note = np.full(len(points), "", dtype=object)
    for i in np.flatnonzero(needs):
        parts = [_written_note(float(points[i]), adj) if written[i] else "", why[i]]
        note[i] = "; ".join(t for t in parts if t)
    return needs, note
