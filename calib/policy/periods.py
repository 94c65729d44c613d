"""Eligibility, proration and roll-ups (SCHEMES.md R20, R22)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from calib._util.tolerance import tol
from calib.policy.base import Condition, Number, Strict, Weight, check_min_max


class NotRated(Strict):
    """R22: a person-period matching ``when`` is not rated, with ``reason`` (probation, absence,
    suspension). ``pay`` records what the pay stage does with it (none, prorate).
    """

    when: Condition
    reason: str
    label: str | None = None
    pay: Literal["none", "prorate"] = "none"


class Proration(Strict):
    """R22: the share of a period a person was present, for paying leavers pro rata.

    From a records column of days present (``days``, over the period's calendar days, or over
    ``period_days`` when given), or from people's ``hired``/``left`` dates.
    """

    days: str | None = None
    period_days: int | None = Field(default=None, gt=0)
    hired: str | None = None
    left: str | None = None

    @model_validator(mode="after")
    def _source(self) -> Proration:
        if self.days is None and self.hired is None and self.left is None:
            raise ValueError("give 'days' (a records column) or 'hired'/'left' (people columns)")
        return self


class Eligibility(Strict):
    """Who is rated in a period, and the share of the period each person was present."""

    not_rated: list[NotRated] = Field(default_factory=list)
    proration: Proration | None = None


class RollupPart(Strict):
    """One weighted part of a roll-up: the mean of the period scores (``source: score``) or of a
    column of an event table (weekly checks, the year-end evaluation) within the roll-up period.
    """

    source: str = "score"
    column: str | None = None
    weight: Weight = 100.0
    label: str | None = None

    @model_validator(mode="after")
    def _column_for_tables(self) -> RollupPart:
        if self.source != "score" and self.column is None:
            raise ValueError(f"a part read from table '{self.source}' needs 'column'")
        return self


class RollupAdd(Strict):
    """Points added to a roll-up's score after the weighting (issue 21, item 2): the sum over the
    roll-up period of a records column (``source: records``) or of an event table's column
    (commendation points: 在正常考评完毕后在员工的总考评分中加1~10分), times ``factor`` (−1
    deducts).
    """

    source: str = "records"
    column: str
    factor: Number = 1.0
    label: str | None = None


class RollupVeto(Strict):
    """A condition on the records rows: a roll-up period in which any row meets it gets the
    lowest grade (a fatal accident in any month of the year caps the year's grade).
    """

    when: Condition
    label: str | None = None
    effect: Literal["lowest_grade"] = "lowest_grade"


class Rollup(Strict):
    """R20: combine period scores into quarters or years.

    ``parts`` default to the plain mean of the period scores. The annual 20/30/50 rule is three
    parts. A person with more than ``max_not_rated`` periods not rated in the roll-up period is not
    rated for it (absent more than 2 months → not rated); a part with no value is excluded and the
    others re-weighted.

    After the weighting, ``add`` adds (or deducts) points summed over the roll-up period, the
    score is held within ``min`` and ``max``, and ``vetoes`` give the lowest grade to a roll-up
    period in which any row meets their condition: "added after the annual weighting".
    """

    to: Literal["quarter", "year"]
    label: str | None = None
    parts: list[RollupPart] = Field(default_factory=lambda: [RollupPart()])
    max_not_rated: int | None = Field(default=None, ge=0)
    add: list[RollupAdd] = Field(default_factory=list)
    min: Number | None = None
    max: Number | None = None
    vetoes: list[RollupVeto] = Field(default_factory=list)

    @model_validator(mode="after")
    def _weights(self) -> Rollup:
        total = sum(p.weight for p in self.parts)
        if abs(total - 100.0) > tol(100.0):
            raise ValueError(f"parts' weights add up to {total:g}, not 100")
        check_min_max(self.min, self.max, "the roll-up's ")
        return self

    @property
    def adjusts(self) -> bool:
        """Whether anything is applied after the weighting (points, bounds or vetoes)."""
        return bool(self.add or self.vetoes) or self.min is not None or self.max is not None
