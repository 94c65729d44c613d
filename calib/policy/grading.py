"""Grades (SCHEMES.md R13, R21, R23–R26): thresholds, forced distribution, cascaded quotas, ranks,
and consecutive-period flags.

The grade scale lists grades best first. Rules say how each population (a set of scorecards) is
graded; a cascade (R25) grades a team with the ratio row that its leader's grade picks.
"""

from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import BeforeValidator, Field, model_validator

from calib._util.tolerance import REL
from calib.policy.base import Finite, Number, Strict, Threshold, Tunable, parse_number

Ratio = Annotated[float, BeforeValidator(parse_number), Finite, Tunable("ratio"), Ge(0), Le(1)]
"""A share of a group, 0–1; type it as ``20%`` or ``0.2``."""

TOLERANCE = REL  # ratios add up to 100 % within it (calib._util.tolerance)


class Grade(Strict):
    """One grade: its short name (A+), its label (优秀) and, on a threshold scale, its minimum."""

    name: str
    label: str | None = None
    min: Threshold | None = None


class GradeScale(Strict):
    """R23: grades best first. With thresholds a score ≥ ``min`` (> when ``inclusive: false``)
    gets the first grade whose minimum it reaches; the last grade has no minimum.
    """

    grades: list[Grade] = Field(min_length=2)
    inclusive: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> GradeScale:
        names = [g.name for g in self.grades]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"grade names must be unique; repeated: {', '.join(dup)}")
        mins = [g.min for g in self.grades[:-1]]
        if self.grades[-1].min is not None:
            raise ValueError(f"the last grade ('{names[-1]}') takes everyone below the others: "
                             "it has no 'min'")
        if any(m is None for m in mins) and not all(m is None for m in mins):
            missing = [g.name for g in self.grades[:-1] if g.min is None]
            raise ValueError(f"either every grade but the last has a 'min' or none does; "
                             f"missing for: {', '.join(missing)}")
        given = [m for m in mins if m is not None]
        for i in range(1, len(given)):
            if given[i] >= given[i - 1]:
                raise ValueError(
                    f"score bands overlap: grade '{names[i]}' has min {given[i]:g}, not below "
                    f"'{names[i - 1]}' ({given[i - 1]:g}); minimums must strictly decrease")
        return self

    def names(self) -> list[str]:
        """Grade names, best first."""
        return [g.name for g in self.grades]

    def has_thresholds(self) -> bool:
        """Whether the scale gives grades from scores (every grade but the last has a min)."""
        return self.grades[0].min is not None


class SortKey(Strict):
    """A column that orders people who tie on score (tenure, then id)."""

    column: str
    order: Literal["asc", "desc"] = "desc"


class Ties(Strict):
    """How people with equal scores on a quota boundary are placed.

    - ``order`` (default): break the tie by the ``by`` columns, then by id (ascending), so the
      quotas hold exactly;
    - ``share_better``: everyone tied on the boundary gets the better grade; the quota flexes and
      the group's report says by how much.
    """

    rule: Literal["order", "share_better"] = "order"
    by: list[SortKey] = Field(default_factory=list)


class SmallGroups(Strict):
    """Groups of at most ``max_size`` people: ``round`` as usual, grade by ``thresholds``, or
    ``pool`` them into one group per period (named ``pool_name``) before applying the ratios.
    """

    max_size: int = Field(default=4, ge=1)
    rule: Literal["round", "thresholds", "pool"] = "round"
    pool_name: str = "(small groups pooled)"


Ratios = dict[str, Ratio]


def _check_ratios(ratios: Ratios, where: str) -> None:
    total = sum(ratios.values())
    if abs(total - 1.0) > TOLERANCE:
        shown = ", ".join(f"{k} {v:.4g}" for k, v in ratios.items())
        raise ValueError(f"{where} add up to {total * 100:.6g}%, not 100% ({shown})")


class ForcedDistribution(Strict):
    """R24: grades by rank inside each group with fixed ratios; quotas that add up to the group.

    ``by`` names the group columns (department, team, position; empty: everyone of the period).
    ``method`` rounds the quotas: ``hamilton`` (largest remainder, default), ``webster`` or
    ``dhondt``. Largest remainder can show the Alabama paradox: a group one person larger can
    get one place fewer in a grade (5/25/60/10 %: 10 people → one A+, 11 → none); the quota
    table's ``alabama`` column and ``calib.analysis.diagnostics.alabama`` say where it happened,
    and ``webster`` never does it.
    """

    by: list[str] = Field(default_factory=list)
    ratios: Ratios
    method: Literal["hamilton", "webster", "dhondt"] = "hamilton"
    ties: Ties = Field(default_factory=Ties)
    small_groups: SmallGroups = Field(default_factory=SmallGroups)

    @model_validator(mode="after")
    def _sums(self) -> ForcedDistribution:
        _check_ratios(self.ratios, "the ratios")
        return self


class Cascade(Strict):
    """R25: a leader's grade picks the ratio row for the team, then the team is ranked.

    ``leaders`` names the scorecard whose people lead teams (graded by another rule), ``team`` the
    column that names a member's team and ``leader`` the column that holds the member's leader's
    id. ``ratios`` has a row per leader grade. ``method`` rounds the quotas as in
    ``ForcedDistribution`` (``hamilton``, the default, can show the Alabama paradox: the quota
    table's ``alabama`` column flags it; ``webster`` never does).
    """

    leaders: str
    team: str
    leader: str
    ratios: dict[str, Ratios]
    method: Literal["hamilton", "webster", "dhondt"] = "hamilton"
    ties: Ties = Field(default_factory=Ties)
    small_groups: SmallGroups = Field(default_factory=SmallGroups)
    no_leader_grade: Literal["error", "not_graded"] = "error"

    @model_validator(mode="after")
    def _sums(self) -> Cascade:
        for grade, row in self.ratios.items():
            _check_ratios(row, f"the ratios for leader grade '{grade}'")
        return self


class GivenGrades(Strict):
    """Grades read from the data rather than computed: an external calibration session's, or
    last year's system's, so that a scheme can be re-paid from given grades.

    ``column`` holds a grade of the scale per row (its name or its label); a rated row whose
    cell is blank is refused with its place, unless ``missing: not_graded`` leaves it without
    a grade (and a note saying why). A veto still caps a given grade at the lowest.
    """

    column: str
    missing: Literal["error", "not_graded"] = "error"


_SETTINGS = {"forced": "forced", "cascade": "cascade", "given": "given"}
"""The methods that need settings, and the key they are under."""


class GradingRule(Strict):
    """How one population is graded: by ``thresholds``, ``forced`` distribution, ``cascade``,
    or ``given`` grades read from the data.

    ``scorecards`` names the population (all scorecards when empty).
    """

    scorecards: list[str] = Field(default_factory=list)
    method: Literal["thresholds", "forced", "cascade", "given"]
    forced: ForcedDistribution | None = None
    cascade: Cascade | None = None
    given: GivenGrades | None = None

    @model_validator(mode="after")
    def _settings(self) -> GradingRule:
        for method, key in _SETTINGS.items():
            if self.method == method and getattr(self, key) is None:
                raise ValueError(f"method '{method}' needs its settings under '{key}'")
            if self.method != method and getattr(self, key) is not None:
                raise ValueError(f"'{key}' is given but the method is '{self.method}'")
        return self


class Ranking(Strict):
    """R26: rank within groups by score (or by the value ``on``); each ``demote`` event moves a
    person down one place.

    Equal scores are ordered by ``ties`` (columns such as sales, then id), as in the forced
    distribution, so "first" means the same person for grades and for rank streaks.
    """

    by: list[str] = Field(default_factory=list)
    demote: str | None = None
    places: int = Field(default=1, ge=1)
    ties: list[SortKey] = Field(default_factory=list)
    on: str | None = None
    """Rank on this value instead of the score (issue 21, item 3): a KPI's points, a measure, a
    section or a records column of the period (sales this month); highest first, or lowest first
    with ``order: asc``. Ranks on a value are given on the period rows only."""
    order: Literal["desc", "asc"] = "desc"


class StreakWhen(Strict):
    """What a period must show to count in a streak (exactly one of the fields)."""

    score_below: Threshold | None = None
    score_at_least: Threshold | None = None
    grade_in: list[str] | None = None
    rank: Literal["first", "last"] | None = None

    @model_validator(mode="after")
    def _one(self) -> StreakWhen:
        given = [k for k in ("score_below", "score_at_least", "grade_in", "rank")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of score_below, score_at_least, grade_in, rank")
        return self


class Streak(Strict):
    """R21: a flag raised by ``periods`` consecutive periods meeting ``when`` (two consecutive
    scores below 35 → exit review; three consecutive first places → extra bonus).

    ``amount`` is a one-off payment the flag carries (two months first → 200); it is paid once
    per streak, in the period that completes it. ``periods: 1`` is a flag of a single period
    (issue 21, item 3): raised in every period that meets ``when`` (a month below 60 → a warning).
    """

    label: str | None = None
    when: StreakWhen
    periods: int = Field(ge=1)
    amount: Number | None = None


class Grading(Strict):
    """Grades for the period scores (``on: period``) or a roll-up (``on: annual``)."""

    on: str = "period"
    scale: GradeScale
    rules: dict[str, GradingRule] = Field(min_length=1)
    ranking: Ranking | None = None
    streaks: dict[str, Streak] = Field(default_factory=dict)

    @property
    def streaks_read_ranks(self) -> bool:
        """Whether some streak counts periods of being first or last in the group (R21 on R26)."""
        return any(s.when.rank is not None for s in self.streaks.values())
