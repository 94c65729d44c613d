"""KPIs, sections and scorecards (SCHEMES.md R13–R19): how points combine into a period score."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from calib._util.tolerance import tol
from calib.policy.base import Condition, Factor, MissingPolicy, Number, Points, Strict, Weight
from calib.policy.rules import ScoringRule


class Kpi(Strict):
    """One KPI: where its value comes from (a ``measure`` or a records ``column``) and its rule.

    A value that is missing (empty cell, or a measure excluded by its ``on_zero``) follows
    ``on_missing``: exclude and re-weight, neutral, zero, or error.
    """

    label: str | None = None
    measure: str | None = None
    column: str | None = None
    rule: ScoringRule
    on_missing: MissingPolicy = "exclude"
    neutral: Number = 0.0

    @model_validator(mode="after")
    def _one_source(self) -> Kpi:
        if (self.measure is None) == (self.column is None):
            raise ValueError("give exactly one of 'measure' (a measure's name) or 'column'")
        return self


class Veto(Strict):
    """R13: a veto indicator (fatal accident, leaked customer data).

    ``effect: zero`` sets the section (or, on a scorecard, the whole score) to 0; ``lowest_grade``
    keeps the score and caps the grade at the lowest (applied when grades are given).
    """

    when: Condition
    label: str | None = None
    effect: Literal["zero", "lowest_grade"] = "zero"


class Section(Strict):
    """R14/R15/R16: a node of the score tree combining KPIs and other sections.

    - ``weighted``: Σ weight × points / 100; weights are percentages and must add up to
      ``total_weight`` (100 unless the section is a part, as the e-commerce sheet's 75).
      An excluded item's weight is shared among the others in proportion.
    - ``sum``: ``base`` + Σ points (base-100 add/deduct sheets); an excluded item adds 0.
    - ``mean``: mean of the items present. ``min``: the lowest item present.
    - ``product``: the product of the items present (workload × QC multiplier, R12 × R30).
    The result is clipped to [min, max] when given; a veto sets it to 0.
    """

    label: str | None = None
    combine: Literal["weighted", "sum", "mean", "min", "product"]
    weights: dict[str, Weight] | None = None
    items: list[str] | None = None
    total_weight: Number = Field(default=100.0, gt=0)
    base: Points = 0.0
    min: Points | None = None
    max: Points | None = None
    vetoes: list[Veto] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> Section:
        if self.combine == "weighted":
            if self.weights is None or self.items is not None:
                raise ValueError("a 'weighted' section lists its items under 'weights'")
            if any(w < 0 for w in self.weights.values()):
                raise ValueError("weights must not be negative")
            total = sum(self.weights.values())
            if abs(total - self.total_weight) > tol(self.total_weight):
                raise ValueError(
                    f"weights add up to {total:g}, not {self.total_weight:g}; "
                    "change them or set 'total_weight'"
                )
        elif self.items is None or self.weights is not None:
            raise ValueError(f"a '{self.combine}' section lists its items under 'items'")
        if not self.children():
            raise ValueError("a section needs at least one item")
        if any(v.effect != "zero" for v in self.vetoes):
            raise ValueError("a section's veto sets the section to 0 ('effect: zero'); a veto that "
                             "caps the grade belongs on the scorecard")
        return self

    def children(self) -> list[str]:
        """Names of the KPIs and sections combined here, in order."""
        return list(self.weights) if self.weights is not None else list(self.items or [])


class TeamScore(Strict):
    """R19: a team lead's score = mean of the rated members of the same team × ``factor``."""

    team: str
    factor: Factor = Field(default=1.2, gt=0)
    max: Points | None = None


class GroupAverageCap(Strict):
    """R16: a unit's average score may not exceed ``max``: ``report`` flags the unit,
    ``scale`` shrinks that unit's additions until the average equals the cap.
    """

    by: str
    max: Points
    method: Literal["report", "scale"] = "report"


class Authority(Strict):
    """R16: who may confirm which levels (普通员工一级、二级奖励和一级至三级处罚, 可由领班等…现场确认).

    ``column`` (of the events table) names the role of whoever confirmed each event; ``roles``
    lists, per role, the levels it may confirm, or ``all``. An event whose level its confirmer
    may not confirm, or with no confirmer recorded, counts as not approved: it is flagged
    ``needs_approval`` with the reason in ``approval_note`` (the score counts it, as any event
    awaiting approval; HR settles it). A role the list does not name is a data error, so a typo
    never passes as "no authority".
    """

    column: str
    roles: dict[str, list[Number] | Literal["all"]] = Field(min_length=1)  # levels, not tunable


class Adjustments(Strict):
    """R16: add/deduct events (one row each: person, date or period, points, reason).

    ``levels`` lists the allowed point values (+1, +2, +3, +5, +8, −1, …, −20): any other value is
    a data error. A single addition above ``approval_above`` or deduction beyond
    ``approval_below`` is flagged as needing written approval, unless the yes/no column named by
    ``approved`` says it has it. ``approval_bounds: inclusive`` flags the thresholds themselves
    too (in Chinese drafting "5分以上" includes 5); ``exclusive``, the default, flags only values
    strictly beyond them. ``authority`` says which roles may confirm which levels.
    """

    table: str
    points: str = "points"
    approved: str | None = None
    levels: list[Number] | None = None
    approval_above: Points | None = None
    approval_below: Points | None = None
    approval_bounds: Literal["exclusive", "inclusive"] = "exclusive"
    authority: Authority | None = None
    group_average: GroupAverageCap | None = None


class BonusPoints(Strict):
    """R17: commendation points added after the normal score, from a records column.

    Each period's bonus must lie in [min, max] (a data error otherwise); the total may exceed 100.
    """

    column: str
    min: Points = 0.0
    max: Points = 10.0


class Scorecard(Strict):
    """How one population's period score is made: a root section or KPI (or a team's mean),
    then add/deduct events, caps, bonus points after scoring, and whole-score vetoes.

    A person-period takes the scorecard whose ``when`` holds; the one scorecard without
    ``when`` (if any) takes everyone else. Conditions must not overlap (a row matching two is a
    data error), so the order in which scorecards are written never matters. Order of steps:
    root → adjustments → [min, max] → group-average cap → bonus points → vetoes.
    """

    label: str | None = None
    when: Condition | None = None
    root: str | None = None
    team: TeamScore | None = None
    adjustments: Adjustments | None = None
    bonus: BonusPoints | None = None
    min: Points | None = None
    max: Points | None = None
    vetoes: list[Veto] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> Scorecard:
        if (self.root is None) == (self.team is None):
            raise ValueError("give exactly one of 'root' (a section or KPI) or 'team' (R19)")
        return self
