"""Building blocks shared by every part of the policy model: strict models, numbers, conditions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import AllowInfNan, BaseModel, BeforeValidator, ConfigDict, model_validator


class Strict(BaseModel):
    """A policy part: unknown keys are refused (a typo must not pass silently) and values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def parse_number(value: Any) -> Any:
    """Accept the numbers HR types: ``0.92``, ``"2.5%"`` (= 0.025), ``"2‰"`` (= 0.002), ``"1,000"``.

    Percent and per-mille strings are converted through ``Decimal`` so that ``"2.5%"`` becomes the
    float nearest to 0.025, exactly as if ``0.025`` had been typed.
    """
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        scale = Decimal(1)
        if text.endswith("%"):
            text, scale = text[:-1], Decimal(100)
        elif text.endswith("‰"):
            text, scale = text[:-1], Decimal(1000)
        try:
            return float(Decimal(text.strip()) / scale)
        except InvalidOperation:
            return value  # let pydantic report "not a number" with the path
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
