"""Pay component types, one module each, and their registry.

``REGISTRY`` maps each policy class of ``calib.policy.pay`` to its ``ComponentKind`` (kernel,
what it reads, batched form); the engine (``calib.engine.payout``) and the Monte Carlo
(``calib.simulate.pay``) both dispatch through ``kind_of``. A new component type: its policy
class, one module here with ``KIND``, and one line below.
"""

from __future__ import annotations

from typing import Any

from calib.engine.components import (
    award,
    commission,
    fixed,
    grade_coefficient,
    lateness,
    per_unit,
    piece_rate,
    points_below,
    score_bands,
    score_percent,
    team_mean,
    workload,
)
from calib.engine.components.context import PayContext
from calib.engine.components.kind import ComponentKind, Form, Reads, Steps

REGISTRY: dict[type, ComponentKind] = {m.KIND.spec: m.KIND for m in (
    fixed, score_percent, score_bands, grade_coefficient, per_unit, points_below, lateness,
    workload, piece_rate, commission, award, team_mean)}


def kind_of(comp: Any) -> ComponentKind:
    """The registered kind of a pay component (a policy ``calib.policy.pay`` entry)."""
    try:
        return REGISTRY[type(comp)]
    except KeyError:
        raise TypeError(f"no pay component kind registered for {type(comp).__name__}; add its "
                        "module to calib.engine.components.REGISTRY") from None


__all__ = ["REGISTRY", "ComponentKind", "Form", "PayContext", "Reads", "Steps", "kind_of"]
