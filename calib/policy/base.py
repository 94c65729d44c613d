"""Building blocks shared by every part of the policy model: strict models, numbers, conditions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import AllowInfNan, BaseModel, BeforeValidator, ConfigDict, model_validator

from calib._util.written_numbers import without_thousands
from calib.bounds import MAX_INPUT


class Strict(BaseModel):
    """A policy part: unknown keys are refused (a typo must not pass silently) and values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def out_of_bounds(value: float) -> str | None:
    """Why a number is too large for a policy (README, "Decisions"), or None when it is not.

    Every number typed in a policy is at most ``MAX_INPUT`` (10^12) in size: nothing a scheme pays,
    counts or compares is that large, and a larger one is a stray exponent (1e308), an ID number
    pasted in or a unit mistake that would overflow exact money arithmetic.
    """
    if abs(value) > MAX_INPUT:
        return (f"{value:g} is larger than any number calib accepts in a policy (at most "
                f"{MAX_INPUT:,.0f} = 10^12 either way); no amount, threshold or count is that "
                "large: check for a stray exponent (1e308), an ID number pasted in or a unit "
                "mistake, and write the intended value")
    return None


def comma_problem(text: str) -> str:
    """Why a number written with a comma calib will not read is refused, with the readings as
    the fix (``calib._util.written_numbers``: a comma is read only between thousands).
    """
    body = text.strip()
    suffix = body[-1] if body.endswith(("%", "‰")) else ""
    digits = body[:len(body) - len(suffix)].replace("，", ",")
    plain = digits.replace(",", "") + suffix
    if digits.count(",") == 1:
        decimal = digits.replace(",", ".") + suffix
        return (f"'{text}' has a comma that is not between thousands, so it could be a decimal "
                f"comma ({decimal}) or a slip ({plain}); calib does not guess: write {decimal} "
                f"or {plain} (a point for decimals; a comma only between thousands, 1,234.5)")
    return (f"'{text}' has commas that are not between thousands; calib does not guess: write "
            f"it with a point for decimals and no separators ({plain}?)")


def check_min_max(low: float | None, high: float | None, what: str = "") -> None:
    """Refuse a ``min`` above its ``max``: nothing could satisfy both, so one of them is a typo."""
    if low is not None and high is not None and low > high:
        raise ValueError(f"{what}min ({low:g}) is above max ({high:g}), so no value could lie "
                         "between them; swap them or correct the one that is wrong")


def parse_number(value: Any) -> Any:
    """Accept the numbers HR types: ``0.92``, ``"2.5%"`` (= 0.025), ``"2‰"`` (= 0.002), ``"250_000"``.

    Percent and per-mille strings are converted through ``Decimal`` so that ``"2.5%"`` becomes the
    float nearest to 0.025, exactly as if ``0.025`` had been typed. A comma is read only between
    thousands (``"1,000,000.00"``, ``calib._util.written_numbers``); any other is refused as ambiguous
    (``"7,5"``: 7.5 or 75?) and a number beyond ``MAX_INPUT`` as implausible; both raise ValueError,
    which pydantic reports at the number's path (and line).
    """
    if isinstance(value, str):
        plain = without_thousands(value)
        if plain is None:
            raise ValueError(comma_problem(value))
        text = plain.replace("_", "")
        scale = Decimal(1)
        if text.endswith("%"):
            text, scale = text[:-1], Decimal(100)
        elif text.endswith("‰"):
            text, scale = text[:-1], Decimal(1000)
        try:
            value = float(Decimal(text.strip()) / scale)
        except InvalidOperation:
            return value  # let pydantic report "not a number" with the path
    if isinstance(value, int | float) and not isinstance(value, bool):
        problem = out_of_bounds(value)
        if problem is not None:
            raise ValueError(problem)
    return value


@dataclass(frozen=True)
class Tunable:
    """Marks a number HR may tune: it appears in ``Policy.params()`` with its path and range.

    ``role`` says what kind of number it is (threshold, points, weight, ratio, factor, money), so that
    a notebook can group sliders and a solver can pick the numbers it is allowed to move.
    """

    role: str


Finite = AllowInfNan(False)
"""NaN and infinity are refused: no rule can reach them, and canonical JSON cannot hold them."""

Number = Annotated[float, BeforeValidator(parse_number), Finite]
Threshold = Annotated[float, BeforeValidator(parse_number), Finite, Tunable("threshold")]
Points = Annotated[float, BeforeValidator(parse_number), Finite, Tunable("points")]
Weight = Annotated[float, BeforeValidator(parse_number), Finite, Tunable("weight"), Ge(0)]
Factor = Annotated[float, BeforeValidator(parse_number), Finite, Tunable("factor")]

MissingPolicy = Literal["exclude", "neutral", "zero", "error"]
"""What happens to a value that cannot be computed (zero denominator, missing value, unknown label).

- ``exclude``: the item is left out and the other items of its section are re-weighted;
- ``neutral``: the item takes the ``neutral`` value given next to it;
- ``zero``: the item takes 0;
- ``error``: the run stops with a data error naming the rows (checked before anything runs).
"""

OPS = ("eq", "ne", "gt", "ge", "lt", "le", "in", "not_in")


class Condition(Strict):
    """A test on one input column, written as data: ``{column: absent_months, gt: 2}``.

    Exactly one comparison is given. ``eq``/``ne``/``in``/``not_in`` compare with text or numbers,
    ``gt``/``ge``/``lt``/``le`` with numbers. No expression is ever evaluated.
    """

    column: str
    eq: Number | str | bool | None = None
    ne: Number | str | bool | None = None
    gt: Threshold | None = None
    ge: Threshold | None = None
    lt: Threshold | None = None
    le: Threshold | None = None
    in_: list[Number | str] | None = None
    not_in: list[Number | str] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              alias_generator=lambda name: "in" if name == "in_" else name)

    @model_validator(mode="after")
    def _one_comparison(self) -> Condition:
        given = [op for op in OPS if getattr(self, "in_" if op == "in" else op) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a condition on column '{self.column}' needs exactly one of {', '.join(OPS)}; "
                f"got {len(given)} ({', '.join(given) or 'none'})"
            )
        return self

    @property
    def op(self) -> str:
        """The comparison's name."""
        return next(op for op in OPS if getattr(self, "in_" if op == "in" else op) is not None)

    @property
    def operand(self) -> Any:
        """The value compared with."""
        return getattr(self, "in_" if self.op == "in" else self.op)

    def describe(self) -> str:
        """Human-readable form, for explanations: ``absent_months > 2``."""
        symbols = {"eq": "=", "ne": "≠", "gt": ">", "ge": "≥", "lt": "<", "le": "≤",
                   "in": "in", "not_in": "not in"}
        return f"{self.column} {symbols[self.op]} {self.operand}"
