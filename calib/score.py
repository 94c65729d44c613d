"""From measures to KPI points, sections and each person-period's score (SCHEMES.md R5–R19).

NaN marks an excluded item; a section re-weights over what is present, and a section whose items
are all excluded is itself excluded. Every exclusion comes from an explicit ``exclude`` choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calib.conditions import holds
from calib.frame import Frame
from calib.kernels.dispatch import score_values
from calib.kernels.labels import label_points
from calib.missing import apply_missing
from calib.policy.rules import LabelPoints
from calib.policy.scoring import Kpi, Section


def kpi_value(name: str, kpi: Kpi, frame: Frame, measures: dict[str, np.ndarray],
              active: np.ndarray) -> np.ndarray:
    """The KPI's input value per row, with its ``on_missing`` choice applied."""
    if kpi.measure is not None:
        values = measures[kpi.measure]
    else:
        values = np.asarray(frame.column(kpi.column), dtype=np.float64)
    return apply_missing(values, np.isnan(values), kpi.on_missing, kpi.neutral,
                         f"KPI '{name}'", "missing value", frame, active)


def kpi_points(frame: Frame, measures: dict[str, np.ndarray],
               active: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Points of every KPI per row (NaN where the KPI is excluded).

    ``active`` says, per KPI, which rows are rated with a scorecard that uses it: only there does
    an ``error`` choice for a missing value stop the run.
    """
    out = {}
    for name, kpi in frame.policy.kpis.items():
        if isinstance(kpi.rule, LabelPoints):
            points, unknown = label_points(frame.column(kpi.column), kpi.rule)
            out[name] = apply_missing(points, unknown, kpi.rule.on_unknown, kpi.rule.neutral,
                                      f"KPI '{name}'", "unknown or empty label", frame,
                                      active[name])
        else:
            values = kpi_value(name, kpi, frame, measures, active[name])
            out[name] = score_values(values, kpi.rule)
    return out


def _combine(sec: Section, parts: list[np.ndarray], n: int) -> np.ndarray:
    if not parts:
        return np.full(n, np.nan)
    stack = np.column_stack(parts)
    present = ~np.isnan(stack)
    any_present = present.any(axis=1)
    filled = np.where(present, stack, 0.0)
    if sec.combine == "weighted":
        w = np.array(list(sec.weights.values()), dtype=np.float64)
        wp = present @ w
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (filled @ w) / 100.0 * (sec.total_weight / wp)
        out = np.where(wp > 0, out, np.nan)
    elif sec.combine == "sum":
        out = np.where(any_present, sec.base + filled.sum(axis=1), np.nan)
    elif sec.combine == "mean":
        with np.errstate(invalid="ignore"):
            out = filled.sum(axis=1) / present.sum(axis=1)
    elif sec.combine == "product":
        out = np.where(any_present, np.where(present, stack, 1.0).prod(axis=1), np.nan)
    else:
        out = np.where(any_present, np.where(present, stack, np.inf).min(axis=1), np.nan)
    return np.round(out, 9)


@dataclass
class SectionScores:
    """Section scores per row, and which rows a section veto zeroed."""

    values: dict[str, np.ndarray]
    vetoed: dict[str, np.ndarray]


def section_scores(frame: Frame, points: dict[str, np.ndarray]) -> SectionScores:
    """Every section, children first; clip to [min, max]; vetoes with effect ``zero`` give 0."""
    policy = frame.policy
    done: dict[str, np.ndarray] = {}
    vetoed: dict[str, np.ndarray] = {}

    def value(name: str) -> np.ndarray:
        if name in points:
            return points[name]
        if name not in done:
            sec = policy.sections[name]
            out = _combine(sec, [value(c) for c in sec.children()], frame.n)
            if sec.min is not None:
                out = np.maximum(out, sec.min)
            if sec.max is not None:
                out = np.minimum(out, sec.max)
            hit = np.zeros(frame.n, dtype=bool)
            for veto in sec.vetoes:
                if veto.effect == "zero":
                    hit |= holds(veto.when, frame.column(veto.when.column))
            if hit.any():
                out = np.where(hit, 0.0, out)
                vetoed[name] = hit
            done[name] = out
        return done[name]

    for name in policy.sections:
        value(name)
    return SectionScores(done, vetoed)
