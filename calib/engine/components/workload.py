"""R30: benchmark bonus − (benchmark workload − actual workload) × rate, × a multiplier KPI (the
QC multiplier), + extra columns (contribution), clipped to [min, max].
"""

from __future__ import annotations

import numpy as np

from calib.engine.components.context import PayContext
from calib.engine.components.kind import Bounds, ComponentKind, Reads
from calib.policy import pay as P


def before_bounds(c: PayContext, comp: P.Workload, path: str) -> np.ndarray:
    """The bonus for the workload done against the benchmark, before ``min`` and ``max``."""
    bench = c.amount(comp.benchmark, f"{path}.benchmark")
    out = comp.benchmark_bonus - (bench - np.nan_to_num(c.number(comp.workload))) * comp.rate
    if comp.multiplier is not None:
        out = out * np.nan_to_num(c.number(comp.multiplier), nan=1.0)
    for col in comp.extra:
        out = out + np.nan_to_num(c.number(col))
    return out


def amount(c: PayContext, comp: P.Workload, path: str) -> np.ndarray:
    """The bonus for the workload done against the benchmark, clipped to [min, max]."""
    out = before_bounds(c, comp, path)
    if comp.min is not None:
        out = np.maximum(out, comp.min)
    if comp.max is not None:
        out = np.minimum(out, comp.max)
    return out


def bounds(c: PayContext, comp: P.Workload, path: str) -> Bounds | None:
    """Where ``min`` or ``max`` bit, and the bonus before them."""
    if comp.min is None and comp.max is None:
        return None
    before = before_bounds(c, comp, path)
    bits = []
    if comp.min is not None:
        bits.append((before < comp.min, f"{path}.min"))
    if comp.max is not None:
        bits.append((before > comp.max, f"{path}.max"))
    return Bounds.of(before, *bits)


def reads(comp: P.Workload) -> Reads:
    """The workload, the multiplier and the extra columns, per row."""
    multiplier = (comp.multiplier,) if comp.multiplier is not None else ()
    return Reads(values=(comp.workload, *multiplier, *comp.extra))


KIND = ComponentKind(P.Workload, amount, reads=reads, bounds=bounds)
