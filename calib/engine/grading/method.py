"""What a grading method declares (``GradingMethod``): its kernel, the rules it must run after,
and its form, which tells the Monte Carlo how to grade it over a leading scenario axis.

The engine grades a population rule by rule, calling each rule's method kernel on the rows of
its scorecards. The Monte Carlo grades scenarios × people in one array; it does not re-write
a method but asks how it grades:

- ``thresholds``: the scale's minimums on the score alone;
- ``quotas``: places in groups and each group's quotas by the ratios (forced distribution);
- ``cascade``: quotas whose ratio row is picked by the leader's grade in the same period;
- ``given``: grades read from the data, which the simulation does not draw: it refuses,
  naming the rule, rather than grade by another rule.

A new method is one module in ``calib.engine.grading`` (its kernel and ``METHOD``), one line
in ``REGISTRY``, its policy settings in ``calib.policy.grading``, and a form the Monte Carlo
knows; ``tests/simulate/test_grading_conformance.py`` checks every drawable form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from calib.policy.grading import GradeScale, GradingRule

if TYPE_CHECKING:
    from calib.engine.grading.core import Grades, Population

Form = Literal["thresholds", "quotas", "cascade", "given"]

Kernel = Callable[["Population", np.ndarray, GradingRule, str, GradeScale, dict[str, int],
                   "Grades"], None]
"""``kernel(pop, rows, rule, name, scale, card_index, out)`` grades ``rows`` of ``pop`` into
``out`` (grades and their details) under rule ``name``."""


def _no_one(rule: GradingRule) -> str | None:
    return None


@dataclass(frozen=True)
class GradingMethod:
    """One grading method: the policy's ``method`` name, its kernel, its batched form, and
    ``after``: the scorecard whose grades a rule of it reads (it runs after the rule grading
    that scorecard), or None.
    """

    name: str
    kernel: Kernel
    form: Form
    after: Callable[[GradingRule], str | None] = _no_one

    @property
    def drawn(self) -> bool:
        """Whether the Monte Carlo can grade it from drawn scores."""
        return self.form != "given"
