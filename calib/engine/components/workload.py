"""R30: benchmark bonus − (benchmark workload − actual workload) × rate, × a multiplier KPI (the
QC multiplier), + extra columns (contribution), clipped to [min, max].

The benchmark is the period's (``per: period``) or a daily amount × the days worked (``per:
day``, seed 004: 每日工作量基准, 当月按照实际上班天数计算); the benchmark bonus a constant or a
money base per person.
"""

from __future__ import annotations

import numpy as np

from calib.engine.components.context import PayContext
from calib.engine.components.kind import Bounds, ComponentKind, Reads
from calib.policy import pay as P


def benchmark(c: PayContext, comp: P.Workload, path: str) -> np.ndarray:
    """The workload benchmark per row: the period's, or the daily one × the row's days (a
    missing day count is 0 days: no benchmark to meet).
    """
    bench = c.amount(comp.benchmark, f"{path}.benchmark")
    if comp.per == "day":
        assert comp.days is not None  # the model's rule
        bench = bench * np.nan_to_num(c.number(comp.days))
    return bench


def benchmark_bonus(c: PayContext, comp: P.Workload, path: str) -> np.ndarray | float:
    """The benchmark bonus: the constant, or the money base per row."""
    if isinstance(comp.benchmark_bonus, P.Amount):
        return c.amount(comp.benchmark_bonus, f"{path}.benchmark_bonus")
    return comp.benchmark_bonus


def before_bounds(c: PayContext, comp: P.Workload, path: str) -> np.ndarray:
    """The bonus for the workload done against the benchmark, before ``min`` and ``max``."""
    bench = benchmark(c, comp, path)
    done = np.nan_to_num(c.number(comp.workload))
    out = benchmark_bonus(c, comp, path) - (bench - done) * comp.rate
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
    """The workload, the multiplier, the days (``per: day``) and the extra columns, per row: a
    period's days worked (a records column) make the Monte Carlo form ``history``, a person's
    (a people column) keep it ``constant``.
    """
    multiplier = (comp.multiplier,) if comp.multiplier is not None else ()
    days = (comp.days,) if comp.per == "day" and comp.days is not None else ()
    return Reads(values=(comp.workload, *multiplier, *days, *comp.extra))


KIND = ComponentKind(P.Workload, amount, reads=reads, bounds=bounds)
