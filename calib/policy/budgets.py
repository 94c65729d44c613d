"""Budgets per group for the whole payout (issue 21, item 8): an envelope per branch or
department that finance holds the scheme's pay to.

A budget is not a rule of the scheme: it changes nobody's pay. It is what the paid amounts are
read against (``calib.analysis.budget.envelopes``: paid, over or under, share used per group),
what the Monte Carlo gives the chance of overspending for (``Simulation.envelopes``) and what
the per-envelope solver meets (``calib.analysis.budget.solve_envelopes``). It lives in the
policy so that the scheme and the money it is meant to cost are signed off and frozen together::

    budgets:
      by: branch            # a records or people column: the groups
      per: year             # each amount is a year's (or: period, each pay period's)
      amounts: {北区: 1200000, 南区: 800000}

The amounts are not tunable numbers (``Policy.params()`` does not list them): a slider or a
solver moves the scheme to meet a budget, not the budget. A policy without ``budgets`` has the
same canonical JSON, and so the same sha256, as before the section existed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from annotated_types import Ge
from pydantic import BeforeValidator, Field, field_validator

from calib.policy.base import Finite, Strict, parse_number

if TYPE_CHECKING:
    from calib.policy.references import _Checker

Amount = Annotated[float, BeforeValidator(parse_number), Finite, Ge(0)]
"""A budget in the policy's currency (``"1,200,000"`` and ``1_200_000`` read as 1200000)."""


class Budgets(Strict):
    """Each group's budget for the whole payout (every component and the pool), per year or
    per pay period.

    ``by`` names the column of groups (a records or people column; for pay on a roll-up, the
    latest records row of the roll-up speaks for it, as for the engine's groups); ``per`` says
    what one amount covers: ``year`` (the pay periods of one calendar year, the year the period's
    label starts with: ``2025-03``, ``2025-Q1`` and ``2025`` are all in 2025) or ``period`` (each
    pay period); ``amounts`` the budget of each group. A group with pay and no amount is not an
    error: the envelope table lists it with no budget, so that nothing paid goes unseen.
    """

    by: str
    per: Literal["year", "period"] = "year"
    amounts: dict[str, Amount] = Field(min_length=1)
    label: str | None = None

    @field_validator("amounts")
    @classmethod
    def _names(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k in value if not k.strip() or k != k.strip()]
        if bad:
            raise ValueError(f"group names must be non-blank text without surrounding spaces: {bad}")
        return value


def check_budgets(c: _Checker) -> None:
    """The references ``budgets`` makes: its column exists, and there is pay to hold to it."""
    budgets = c.p.budgets
    if budgets is None:
        return
    c.row_column("budgets.by", budgets.by)
    if c.p.pay is None:
        c.add("budgets", "budgets hold the payout to an amount per group, but the policy has no "
              "pay section; add pay, or remove budgets")
