"""Measures (SCHEMES.md R1–R4, R10, R18): how a KPI's value is computed from the input tables.

A measure reads the per-period records table, or aggregates an event table (requests, surveys,
ratings) to one value per person and period. What happens when the value cannot be computed is
always stated: ``on_zero`` for a zero denominator (or no events), never a silent NaN.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from calib.policy.base import Condition, Factor, MissingPolicy, Number, Strict, Threshold, Weight


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class ColumnMeasure(Strict):
    """The value of one records column as it is (calls handled, late minutes)."""

    kind: Literal["column"]
    column: str
    label: str | None = None

    def columns(self) -> list[str]:
        """Records columns read."""
        return [self.column]


class RatioMeasure(Strict):
    """R1/R2: Σ numerator columns / Σ denominator columns (complaint rate, mean resolution time).

    A zero denominator (nobody surveyed this month) follows ``on_zero``: ``exclude`` leaves the KPI
    out and re-weights the rest, ``neutral`` uses ``neutral``, ``zero`` uses 0, ``error`` stops.
    With ``table`` the columns are summed over that event table's rows of the person-period (QC =
    Σ passed / Σ sampled over the reviews). With ``group_by`` the ratio is the group's (Σ over all
    records rows of the group in the period): per-capita output of a department, injuries per
    thousand of a site; every member gets the group's value.

    A ratio is a share: a row whose numerator exceeds its denominator (answered > calls) is a data
    error, since it would score above 100 %. ``above_one: allow`` accepts it, for ratios that
    may exceed 1 by nature (spend / budget, minutes / cases).
    """

    kind: Literal["ratio"]
    numerator: list[str]
    denominator: list[str]
    table: str | None = None
    group_by: str | None = None
    scale: Number = 1.0
    on_zero: MissingPolicy = "exclude"
    neutral: Number = 0.0
    above_one: Literal["error", "allow"] = "error"
    label: str | None = None

    _lists = field_validator("numerator", "denominator", mode="before")(_as_list)

    @model_validator(mode="after")
    def _one_scope(self) -> RatioMeasure:
        if self.table is not None and self.group_by is not None:
            raise ValueError("'group_by' works on records columns; it cannot be combined with 'table'")
        return self

    def columns(self) -> list[str]:
        """Records columns read (none when the measure reads an event table)."""
        return [] if self.table else [*self.numerator, *self.denominator]


class TargetMeasure(Strict):
    """R4: achievement = actual / target (``direction: higher``) or target / actual (``lower``).

    The target is a records column (per person) or a constant ``target_value``.
    """

    kind: Literal["target"]
    actual: str
    target: str | None = None
    target_value: Threshold | None = None
    direction: Literal["higher", "lower"] = "higher"
    on_zero: MissingPolicy = "exclude"
    neutral: Number = 0.0
    label: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> TargetMeasure:
        if (self.target is None) == (self.target_value is None):
            raise ValueError("give exactly one of 'target' (a column) or 'target_value' (a number)")
        return self

    def columns(self) -> list[str]:
        """Records columns read."""
        return [self.actual] + ([self.target] if self.target else [])


class AggregateMeasure(Strict):
    """R2: sum, mean, count, min or max of a column, per person and period.

    With ``table`` it aggregates the rows of that event table (mean survey score, count of
    complaints); without, it combines several records columns of the same row (sum of two counts).
    ``where`` keeps only the event rows meeting a condition (tickets of one channel). An empty
    group (no surveys) follows ``on_zero``; ``count`` and ``sum`` of an empty group are 0.
    With ``group_by`` a ``sum`` or ``count`` is the group's: Σ over every records row of the
    group in the period (a unit's total accidents, 安全事故起数), given to each member.
    """

    kind: Literal["aggregate"]
    how: Literal["sum", "mean", "count", "min", "max"]
    columns_: list[str] = Field(default_factory=list, alias="columns")
    table: str | None = None
    where: Condition | None = None
    group_by: str | None = None
    on_zero: MissingPolicy = "exclude"
    neutral: Number = 0.0
    label: str | None = None

    _lists = field_validator("columns_", mode="before")(_as_list)

    @model_validator(mode="after")
    def _has_columns(self) -> AggregateMeasure:
        if self.group_by is not None and self.how not in ("sum", "count"):
            raise ValueError(f"group_by totals a group: it takes how: sum or count, not "
                             f"'{self.how}'")
        if self.how != "count" and not self.columns_:
            raise ValueError(f"'{self.how}' needs 'columns'")
        if self.table is None and self.how == "count":
            raise ValueError("'count' counts the rows of an event table: give 'table'")
        if self.table is None and self.where is not None:
            raise ValueError("'where' filters the rows of an event table: give 'table'")
        return self

    def columns(self) -> list[str]:
        """Records columns read (none when the measure reads an event table)."""
        return [] if self.table else list(self.columns_)


class SlaMeasure(Strict):
    """R3: share of requests answered within their category's time limit, from an event log.

    One row per request: person, time received, time answered, category. ``limits`` gives the limit
    per category in ``unit`` (general inquiry 30 minutes, urgent 10). A request answered exactly at
    the limit is on time. An unanswered request (empty answered time) is late. A category without a
    limit is a data error unless ``default_limit`` is given.
    """

    kind: Literal["sla"]
    table: str
    received: str
    answered: str
    category: str
    limits: dict[str, Threshold] = Field(min_length=1)
    default_limit: Threshold | None = None
    unit: Literal["seconds", "minutes", "hours"] = "minutes"
    on_zero: MissingPolicy = "exclude"
    neutral: Number = 0.0
    label: str | None = None

    def columns(self) -> list[str]:
        """Records columns read (none: the measure reads an event table)."""
        return []


class RatingMeasure(Strict):
    """R18: a score from several raters, weighted by the rater's role (50/20/30, or a plain mean).

    Reads a ratings table with one row per person, period and rater role. ``missing: reweight``
    averages the raters present with their weights re-scaled; ``error`` stops when one is missing.
    """

    kind: Literal["rating"]
    table: str
    rater: str = "rater"
    score: str = "score"
    weights: dict[str, Weight] = Field(min_length=1)
    missing: Literal["reweight", "error"] = "reweight"
    on_zero: MissingPolicy = "exclude"
    neutral: Number = 0.0
    label: str | None = None

    def columns(self) -> list[str]:
        """Records columns read (none: the measure reads a ratings table)."""
        return []


class ChecklistMeasure(Strict):
    """R10: sum of the points of the checklist items that are met (16 items worth 5 or 0)."""

    kind: Literal["checklist"]
    items: dict[str, Factor] = Field(min_length=1)
    label: str | None = None

    def columns(self) -> list[str]:
        """Records columns read: one yes/no column per item."""
        return list(self.items)


class CumulativeMeasure(Strict):
    """Across periods (issue 21, item 3): the running total of a records column over each
    person's periods up to and including the row, in period order — 每累计提5条经验加一分 counts the
    experiences submitted so far. ``reset`` starts again each quarter or year (``never``: over
    the whole history in the data). A missing cell adds nothing.
    """

    kind: Literal["cumulative"]
    column: str
    reset: Literal["never", "quarter", "year"] = "never"
    label: str | None = None

    def columns(self) -> list[str]:
        """Records columns read."""
        return [self.column]


class WindowMeasure(Strict):
    """Across periods (issue 21, item 3): the sum, mean or maximum of a records column over a
    window of each person's periods ending at the row — the last ``periods`` periods (a rolling
    window: this month and the two before), or the quarter or year to date (``within``:
    季度内迟到次数 < 9 reads the quarter's lateness so far). A period with no row for the person
    is absent from the window (the mean is over the periods present); a missing cell counts as
    0 in a sum and is left out of a mean or maximum.
    """

    kind: Literal["window"]
    column: str
    how: Literal["sum", "mean", "max"] = "sum"
    periods: int | None = Field(default=None, ge=1, le=520)
    within: Literal["quarter", "year"] | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _one_window(self) -> WindowMeasure:
        if (self.periods is None) == (self.within is None):
            raise ValueError("give the window as periods: N (the last N periods) or within: "
                             "quarter | year (to date), one of them")
        return self

    def columns(self) -> list[str]:
        """Records columns read."""
        return [self.column]


Measure = Annotated[
    ColumnMeasure | RatioMeasure | TargetMeasure | AggregateMeasure | SlaMeasure | RatingMeasure
    | ChecklistMeasure | CumulativeMeasure | WindowMeasure,
    Field(discriminator="kind"),
]
