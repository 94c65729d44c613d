"""Pay (SCHEMES.md R11, R22, R27–R36): components that add up to each person's payout, a bonus
pool shared to the cent, and a merit matrix for next year's raises.

Every amount ends in whole currency units (``unit: 0.01`` for cents, ``1`` for whole yuan),
rounded by the stated rule; a pool is shared by largest remainder so it adds up exactly.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import BeforeValidator, Field, field_validator, model_validator

from calib.policy.base import (
    Condition,
    Finite,
    Number,
    Strict,
    Threshold,
    Tunable,
    check_min_max,
    parse_number,
)
from calib.policy.grading import Ratio

Money = Annotated[float, BeforeValidator(parse_number), Finite, Tunable("money")]
Rate = Annotated[float, BeforeValidator(parse_number), Finite, Tunable("rate")]
Coefficient = Annotated[float, BeforeValidator(parse_number), Finite, Tunable("factor"), Ge(0)]
Raise = Annotated[float, BeforeValidator(parse_number), Finite, Tunable("ratio"), Ge(-1), Le(1)]
"""A raise of pay, −100 % to +100 % (``8%``, ``-3%``); a cut only down to the matrix's ``min_raise``."""


class Amount(Strict):
    """A money base: a constant ``amount``, a ``column`` (people or records), or an amount per
    value of a column (``by: level, amounts: {初级: 200, 中级: 300}``).
    """

    amount: Money | None = None
    column: str | None = None
    by: str | None = None
    amounts: dict[str, Money] | None = None

    @model_validator(mode="after")
    def _one(self) -> Amount:
        kinds = [self.amount is not None, self.column is not None,
                 self.by is not None or self.amounts is not None]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of 'amount', 'column', or 'by' with 'amounts'")
        if (self.by is None) != (self.amounts is None):
            raise ValueError("'by' and 'amounts' go together")
        return self


class _Component(Strict):
    label: str | None = None
    deduct: bool = False
    prorate: bool = True
    when: Condition | None = None

    @property
    def reads_grades(self) -> bool:
        """Whether the amount depends on the person's grade (a re-run after a grading change
        keeps the components that do not).
        """
        return False

    @property
    def row_wise(self) -> bool:
        """Whether a row's amount depends on that row alone (its score, grade and data columns,
        not a KPI's values, other rows or events): a re-run then recomputes it only on the rows
        whose score or grade moved.
        """
        return False


class _RowWise(_Component):
    @property
    def row_wise(self) -> bool:
        """A row's own score, grade and data columns decide its amount."""
        return True


class Fixed(_RowWise):
    """R34: a fixed part of pay (base 800, post pay by level, allowance, full attendance 50)."""

    kind: Literal["fixed"]
    base: Amount


class ScorePercent(_RowWise):
    """R11: base × score / 100 (750 × score%: score 50 → 375), optionally capped at ``max_percent``."""

    kind: Literal["score_percent"]
    base: Amount
    max_percent: Number | None = None


class ScoreBand(Strict):
    """A score band: scores ≥ ``min`` get ``share`` of the base."""

    min: Threshold
    share: Ratio


class ScoreBands(_RowWise):
    """R28: score bands → share of performance pay (100 → 100%, [95, 100) → 95%, …), with a floor
    share per group (frontline never below 75%).
    """

    kind: Literal["score_bands"]
    base: Amount
    bands: list[ScoreBand] = Field(min_length=1)
    otherwise: Ratio = 0.0
    floor_by: str | None = None
    floors: dict[str, Ratio] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> ScoreBands:
        mins = [b.min for b in self.bands]
        for i in range(1, len(mins)):
            if mins[i] >= mins[i - 1]:
                raise ValueError(f"score bands overlap: band {i} has min {mins[i]:g}, not below "
                                 f"{mins[i - 1]:g}; list the bands from the highest score down")
        if self.floors and self.floor_by is None:
            raise ValueError("'floors' need 'floor_by' (the column whose values they name)")
        return self


class GradeCoefficient(_RowWise):
    """R27: base × the coefficient of the person's grade (A+ 1.2, A 1.1, B 1.0, C 0.8, C− 0.5)."""

    kind: Literal["grade_coefficient"]
    base: Amount
    coefficients: dict[str, Coefficient] = Field(min_length=1)

    @property
    def reads_grades(self) -> bool:
        """The coefficient is the grade's."""
        return True


class PerUnit(_Component):
    """R29/R31/R34: ``rate`` per unit of a column (20 per discipline violation, 0.20 per ticket),
    optionally capped at ``max`` per person.
    """

    kind: Literal["per_unit"]
    column: str
    rate: Rate
    max: Money | None = None


class PointsBelow(_RowWise):
    """R29: ``rate`` per score point below ``threshold`` (2 yuan per point below 85)."""

    kind: Literal["points_below"]
    threshold: Threshold
    rate: Rate


class Grace(Strict):
    """R29: lateness under ``under`` minutes is ignored when the period's such cases are few:
    at most ``max_cases`` of them, at most ``max_total`` minutes in all, or both.

    The seeds word it "不超过三次, 或者累计不超过15分钟", which HR reads either way, so a grace
    giving both limits must say how they join (``combine: and``: both must hold; ``or``: either
    is enough); calib does not guess a reading that moves money.
    """

    under: Number = 5.0
    max_cases: int | None = Field(default=None, ge=0)
    max_total: Number | None = Field(default=None, ge=0)
    combine: Literal["and", "or"] | None = None

    @model_validator(mode="after")
    def _reading(self) -> Grace:
        if self.max_cases is None and self.max_total is None:
            raise ValueError("a grace needs a limit: give max_cases (e.g. 3), max_total (minutes, "
                             "e.g. 15) or both with combine")
        if self.max_cases is not None and self.max_total is not None and self.combine is None:
            raise ValueError(
                f"the grace gives max_cases ({self.max_cases}) and max_total ({self.max_total:g}) "
                "but not how they join, and the wording (不超过三次, 或者累计不超过15分钟) is read "
                f"both ways: add combine: and (forgiven only with at most {self.max_cases} cases "
                f"and at most {self.max_total:g} minutes) or combine: or (forgiven when either "
                "holds)")
        if self.combine is not None and (self.max_cases is None or self.max_total is None):
            given = "max_cases" if self.max_cases is not None else "max_total"
            raise ValueError(f"combine joins max_cases and max_total, but only {given} is given; "
                             "remove combine or give the other limit")
        return self


class Lateness(_Component):
    """R29: ``rate`` per late minute, at most ``max``, from an event table of late arrivals (one
    row per case, with its minutes) or from records columns, with the grace rule.
    """

    kind: Literal["lateness"]
    table: str
    minutes: str = "minutes"
    rate: Rate = 1.0
    max: Money | None = None
    grace: Grace | None = None
    deduct: bool = True


class Workload(_Component):
    """R30: benchmark bonus − (benchmark workload − actual workload) × rate, × a multiplier KPI
    (the QC multiplier), + extra columns (contribution), clipped to [min, max].

    ``benchmark_bonus`` is a constant (300) or a money base per person (``{column:
    benchmark_bonus}``: 对应各业务量之基准奖金). ``per: period`` (the default) takes ``benchmark``
    as the period's workload; ``per: day`` takes it as a daily amount times the days in the
    ``days`` column (seed 004: 每日工作量基准, 当月按照实际上班天数计算), so a part month is
    measured against the days worked, not against a full month.
    """

    kind: Literal["workload"]
    benchmark_bonus: Money | Amount
    benchmark: Amount
    per: Literal["period", "day"] = "period"
    days: str | None = None
    workload: str
    rate: Rate = 1.0
    multiplier: str | None = None
    extra: list[str] = Field(default_factory=list)
    min: Money | None = None
    max: Money | None = None

    @model_validator(mode="after")
    def _range(self) -> Workload:
        check_min_max(self.min, self.max, "the bonus's ")
        if self.per == "day" and self.days is None:
            raise ValueError("per: day takes the benchmark as a daily amount, which needs the "
                             "days worked: add days: <a records column of days present>, e.g. "
                             "days: days_present")
        if self.per == "period" and self.days is not None:
            raise ValueError(f"days ({self.days}) is read only with per: day (a daily benchmark "
                             "× days); add per: day, or remove days for a benchmark per period")
        return self


class PieceRate(_Component):
    """R31: Σ rate × count over the piece columns, scaled down per group so that the group's
    average is at most ``max_mean`` (capped so the average is at most 500 a month).
    """

    kind: Literal["piece_rate"]
    rates: dict[str, Rate] = Field(min_length=1)
    max_mean: Money | None = None
    mean_by: str | None = None


class CommissionTier(Strict):
    """Per-capita output above ``above`` earns ``rate`` (2.5‰ above 410k)."""

    above: Threshold
    rate: Rate


class Commission(_Component):
    """R32: the rate of the tier that the group's per-capita output reaches, times ``base``
    (a measure computed with ``group_by``, e.g. department sales / headcount).
    """

    kind: Literal["commission"]
    output: str
    tiers: list[CommissionTier] = Field(min_length=1)
    base: Amount

    @model_validator(mode="after")
    def _ordered(self) -> Commission:
        aboves = [t.above for t in self.tiers]
        if any(b >= a for a, b in itertools.pairwise(aboves)):
            raise ValueError("tiers overlap: list them from the highest 'above' down")
        return self


class Award(_Component):
    """R36: ``amount`` to the top ``top`` people by rank in their group (quarterly outstanding
    employee), or to everyone meeting ``when`` (a quarter without complaints → 300; annual
    score above 100).
    """

    kind: Literal["award"]
    amount: Money
    top: int | None = Field(default=None, ge=1)
    score_above: Threshold | None = None
    prorate: bool = False


class TeamMean(_Component):
    """R19 in pay: ``factor`` × the mean, over the rated members of the row's team in the same
    period, of their score (``of: score``) or of what another component paid them (``of:
    piece_rate``): a call-centre lead's 考核工资 = the members' mean 考核工资 × 1.2.

    Members are the rated rows on the ``members`` scorecards with the same text in the ``team``
    column (a blank team is no team). The component ``of`` names must be listed before this one:
    its amounts as paid (condition, proration, rounding, sign and any override) are averaged.
    Every row of the team gets the amount (``when`` picks who is paid, e.g. the lead's role); a
    row whose team has no rated member that period gets 0, as does a row with a blank team.
    """

    kind: Literal["team_mean"]
    team: str
    members: list[str] = Field(min_length=1)
    of: str = "score"
    factor: Coefficient = 1.0


PayComponent = Annotated[
    Fixed | ScorePercent | ScoreBands | GradeCoefficient | PerUnit | PointsBelow | Lateness
    | Workload | PieceRate | Commission | Award | TeamMean,
    Field(discriminator="kind"),
]


class BonusPool(Strict):
    """R33: share ``amount`` among the graded people in proportion to base × coefficient × score,
    within per-person ``cap``/``floor`` (what a cap cuts off goes to the others), so the payouts
    add up to the pool exactly, in the currency's smallest unit.

    A pool is shared per period; with ``by`` (a column of groups: branch, department) also per
    group, and the policy says how the amount meets the groups (nothing is assumed):
    ``split: each`` gives every group the whole ``amount``; ``split: headcount`` shares the
    ``amount`` across the groups by their rated headcount (largest remainder, to the unit);
    ``envelopes`` gives each group its own amount (a budget per branch), with no ``amount``.
    """

    amount: Money | None = None
    base: Amount
    coefficients: dict[str, Coefficient] = Field(default_factory=dict)
    use_score: bool = True
    cap: Amount | None = None
    floor: Amount | None = None
    by: str | None = None
    split: Literal["each", "headcount"] | None = None
    envelopes: dict[str, Money] | None = None
    label: str | None = None

    @property
    def reads_grades(self) -> bool:
        """Whether the shares depend on the grades (through their coefficients)."""
        return bool(self.coefficients)

    @field_validator("amount")
    @classmethod
    def _not_negative(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError(f"the pool amount must not be negative; got {value:g}")
        return value

    @field_validator("envelopes")
    @classmethod
    def _envelopes(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            if not value:
                raise ValueError("envelopes names no group; give each group's amount")
            bad = [k for k, v in value.items() if v < 0]
            if bad:
                raise ValueError(f"an envelope must not be negative: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _groups(self) -> BonusPool:
        if self.by is None and (self.split is not None or self.envelopes is not None):
            raise ValueError("split and envelopes say how the amount meets the groups of 'by'; "
                             "give by (the column of groups), or remove them")
        if self.by is not None and (self.split is None) == (self.envelopes is None):
            raise ValueError(
                "with by, say how the amount meets the groups: split: each (every group gets "
                "the whole amount), split: headcount (the amount is shared across the groups by "
                "rated headcount) or envelopes: {group: amount} (each group its own)")
        if self.envelopes is None and self.amount is None:
            raise ValueError("give the pool's amount")
        if self.envelopes is not None and self.amount is not None:
            raise ValueError("give either amount (with split) or envelopes (each group's "
                             "amount), not both")
        return self


class MeritRow(Strict):
    """Raises for one grade by compa-ratio band (position in range: pay / range midpoint)."""

    grade: str
    raises: list[Raise] = Field(min_length=1)


class MeritMatrix(Strict):
    """R35: grade × compa-ratio band → raise %, applied to base pay; the total is reported.

    ``bands`` are the upper bounds of the compa-ratio bands but the last (e.g. [0.9, 1.1]: below
    0.9, 0.9–1.1, above 1.1); each row has one raise per band.

    ``min_raise`` is the lowest raise the matrix may give (0 by default: no cuts). A scheme that
    cuts the pay of a failing grade (seed 000: 绩效不达标的员工可能面临薪酬下调) declares how far,
    e.g. ``min_raise: -5%``, so that a cut is a stated decision and a typo such as ``-50%``
    for ``-5%`` is refused rather than paid.
    """

    pay: str
    midpoint: Amount
    bands: list[Threshold] = Field(min_length=1)
    rows: list[MeritRow] = Field(min_length=1)
    min_raise: Annotated[float, BeforeValidator(parse_number), Finite, Ge(-1), Le(0)] = 0.0

    @model_validator(mode="after")
    def _shape(self) -> MeritMatrix:
        if any(b <= a for a, b in zip(self.bands, self.bands[1:], strict=False)):
            raise ValueError("compa-ratio bands must strictly increase")
        for i, row in enumerate(self.rows):
            if len(row.raises) != len(self.bands) + 1:
                raise ValueError(f"grade '{row.grade}' has {len(row.raises)} raises; "
                                 f"{len(self.bands) + 1} bands need one each")
            for j, value in enumerate(row.raises):
                if value < self.min_raise:
                    floor = (f"min_raise {self.min_raise:.4g} ({self.min_raise:.2%})" if self.min_raise
                             else "min_raise 0 (the default: no pay cuts)")
                    raise ValueError(
                        f"rows[{i}].raises[{j}] (grade '{row.grade}') is {value:.4g} ({value:.2%}), "
                        f"below {floor}: raise it to at least min_raise, or declare a lower "
                        f"floor, e.g. pay.merit.min_raise: {value:.2%}, if the scheme means "
                        "such a cut")
        return self


class Pay(Strict):
    """What each graded person is paid for the period (or roll-up) named by ``on``.

    Components are summed (those with ``deduct: true`` subtracted), prorated for leavers by the
    eligibility proration where ``prorate`` is true, and the total clipped to [min, max]. A row
    that is not rated gets no pay unless its eligibility rule says ``pay: prorate``. Amounts are
    rounded to ``unit`` with ``rounding`` (half_up by default) per component.
    """

    on: str = "period"
    unit: Literal[0.01, 1.0] = 0.01  # type: ignore[valid-type]  # pydantic reads float literals
    rounding: Literal["half_up", "half_even", "down"] = "half_up"
    components: dict[str, PayComponent] = Field(default_factory=dict)
    min: Money | None = None
    max: Money | None = None
    pool: BonusPool | None = None
    merit: MeritMatrix | None = None

    @model_validator(mode="after")
    def _something(self) -> Pay:
        if not self.components and self.pool is None and self.merit is None:
            raise ValueError("pay needs components, a pool or a merit matrix")
        check_min_max(self.min, self.max, "the payout's ")
        return self


