"""Scoring rules (SCHEMES.md R5–R12): how one KPI's value becomes points.

Each rule is data; the matching kernel in ``calib.kernels`` turns an array of values into an array
of points.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import Field, model_validator

from calib.policy.base import MissingPolicy, Number, Points, Strict, Threshold, parse_number


def _check_floor(floor: float | None, points: float) -> None:
    if floor is None:
        return
    if floor > points:
        raise ValueError(
            f"floor ({floor}) is above the item's points ({points}); the floor is the lowest the "
            "item can fall to, so it must be at most the points"
        )
    if floor == points:
        raise ValueError(
            f"floor ({floor}) equals the item's points, so this rule can never deduct anything; "
            "for a pure deduction (points 0) set 'floor' to a negative number or to null (no floor)"
        )


class Band(Strict):
    """One band of a tier table: its bound (``at``) and the points it gives."""

    at: Threshold
    points: Points


class TierTable(Strict):
    """R5/R7 tier table or deduction brackets: value → points by bands.

    ``bound: lower`` reads each band as "value ≥ at" (higher is better: conversion ≥ 75% → 100);
    ``bound: upper`` as "value ≤ at" (lower is better: response ≤ 30 s → 100). ``inclusive: false``
    makes the comparisons strict (> or <). Bands are checked in order; the first that holds wins,
    and ``otherwise`` applies when none does. Deduction brackets are tier tables with negative points.
    """

    kind: Literal["tiers"]
    bound: Literal["lower", "upper"]
    inclusive: bool = True
    bands: list[Band] = Field(min_length=1)
    otherwise: Points = 0.0

    @model_validator(mode="after")
    def _ordered(self) -> TierTable:
        ats = [b.at for b in self.bands]
        for i in range(1, len(ats)):
            wrong = ats[i] >= ats[i - 1] if self.bound == "lower" else ats[i] <= ats[i - 1]
            if wrong:
                order = "decreasing" if self.bound == "lower" else "increasing"
                raise ValueError(
                    f"bands overlap: with bound '{self.bound}' the bands' 'at' values must be "
                    f"strictly {order}, but band {i} has at={ats[i]} after at={ats[i - 1]}"
                )
        self._points_follow_direction()
        return self

    def _points_follow_direction(self) -> None:
        """The bands run from the best values to the worst (``bound: lower``: higher is better,
        ``upper``: lower is better), so their points never rise down the list and ``otherwise``
        (the worst values) is at most the last band's. Deduction brackets follow the same rule:
        the worse the value, the more is deducted (0, −2, −4, …).
        """
        better, worse = ("higher", "lower") if self.bound == "lower" else ("lower", "higher")
        pts = [b.points for b in self.bands]
        for i in range(1, len(pts)):
            if pts[i] > pts[i - 1]:
                raise ValueError(
                    f"band {i} (at={self.bands[i].at:g}) gives {pts[i]:g} points, more than band "
                    f"{i - 1} (at={self.bands[i - 1].at:g}, {pts[i - 1]:g} points), but with bound "
                    f"'{self.bound}' a {better} value is better: give the bands points that never "
                    f"rise down the list, or change 'bound' if {worse} values are the better ones")
        if self.otherwise > pts[-1]:
            raise ValueError(
                f"'otherwise' gives {self.otherwise:g} points, more than the last band "
                f"(at={self.bands[-1].at:g}, {pts[-1]:g} points), but values that reach no band are "
                f"the worst ones (bound '{self.bound}': {better} is better): make 'otherwise' at most "
                f"{pts[-1]:g}, or change 'bound'")


def _default_floor(data: object) -> object:
    """No ``floor`` given: 0 for an item worth points (扣完为止), none for a pure deduction."""
    if isinstance(data, dict) and "floor" not in data:
        points = parse_number(data.get("points", 0.0))
        if isinstance(points, int | float) and points <= 0:
            return {**data, "floor": None}
    return data


class _Deduction(Strict):
    """What step and per-incident deductions share: full ``points`` and a ``floor``."""

    points: Points = 0.0
    floor: Points | None = 0.0

    _floor = model_validator(mode="before")(_default_floor)

    @model_validator(mode="after")
    def _floor_below_points(self) -> _Deduction:
        _check_floor(self.floor, self.points)
        return self


class StepDeduction(_Deduction):
    """R6: deduct ``deduct`` points for every ``step`` the value is on the wrong side of ``threshold``.

    ``direction: max`` means the value must stay at or below the threshold (complaint rate ≤ 2%);
    ``min`` means it must reach it (satisfaction ≥ 90%). ``partial`` says how a part step counts:
    ``started`` (a started step is a whole step, the default), ``proportional`` (1.1 pp over with a
    0.5 pp step is 2.2 steps), or ``completed`` (only whole steps count). Points start from ``points``
    (the item's full points, 0 for a pure deduction) and never go below ``floor`` (扣完为止;
    when not given, 0 for an item worth points and no floor for a pure deduction).
    """

    kind: Literal["step"]
    direction: Literal["max", "min"]
    threshold: Threshold
    step: Threshold = Field(gt=0)
    deduct: Points = Field(ge=0)
    partial: Literal["started", "proportional", "completed"] = "started"


class PerIncident(_Deduction):
    """R8: deduct ``each`` per incident (failed spot check, late arrival) from ``points``.

    The first ``free`` incidents cost nothing; the result never goes below ``floor`` (扣完为止).
    """

    kind: Literal["per_incident"]
    each: Points = Field(ge=0)
    free: int = Field(default=0, ge=0)


class LabelPoints(Strict):
    """R9: an ordinal rating label (优秀/良好/一般/较差, or English) → points.

    Labels are matched exactly after trimming spaces. An unknown label follows ``on_unknown``
    (default: a data error that names the rows, found before anything runs).
    """

    kind: Literal["labels"]
    points: dict[str, Points] = Field(min_length=1)
    on_unknown: MissingPolicy = "error"
    neutral: Number = 0.0


class Linear(Strict):
    """R11: points = intercept + slope × value, clipped to [min, max] when given (capped-linear)."""

    kind: Literal["linear"]
    slope: Points = 1.0
    intercept: Points = 0.0
    min: Points | None = None
    max: Points | None = None

    @model_validator(mode="after")
    def _range(self) -> Linear:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class Knot(Strict):
    """A point (x, y) of a piecewise-linear curve."""

    x: Threshold
    y: Points


class Piecewise(Strict):
    """R12: piecewise-linear curve through ``knots``, extended by ``slope_below``/``slope_above``.

    The QC multiplier of the support team is knots (0.70, 1) and (0.80, 1) with both slopes 5:
    QC 65% → 1 − 0.05 × 5 = 0.75; QC 84% → 1 + 0.04 × 5 = 1.20. A missing slope keeps the end
    value flat. ``min``/``max`` clip the result.
    """

    kind: Literal["piecewise"]
    knots: list[Knot] = Field(min_length=1)
    slope_below: Points | None = None
    slope_above: Points | None = None
    min: Points | None = None
    max: Points | None = None

    @model_validator(mode="after")
    def _increasing(self) -> Piecewise:
        xs = [k.x for k in self.knots]
        if any(b <= a for a, b in itertools.pairwise(xs)):
            raise ValueError(f"knots' x values must be strictly increasing, got {xs}")
        return self


ScoringRule = Annotated[
    TierTable | StepDeduction | PerIncident | LabelPoints | Linear | Piecewise,
    Field(discriminator="kind"),
]
