"""The calibration cycle's part of a policy: why a grade or a number may be overridden, what a
broken quota after overrides does, and how long an employee has to appeal (SCHEMES.md R37).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from calib.policy.base import Strict


class Calibration(Strict):
    """What a calibration session (校准会) and the appeals (申诉, 复议) that follow may do.

    ``reasons`` is the list a committee picks from when it overrides a grade, a score, a pay
    component or a payout (code → what it means); an override with any other code is refused.
    ``quotas`` says what happens when overrides break a forced distribution or a cascade:
    ``report`` lists every breach and the run goes on; ``balance`` also proposes the fewest
    compensating moves, next in rank order, for HR to accept or reject (nothing moves by itself).
    ``appeal_days`` is the number of working days (China's calendar, make-up working days
    included) an employee has to appeal after the results are given (5: SCHEMES.md R37; the seed
    leaves it as "[X]个工作日内"); ``decision_days`` the working days the committee has to decide
    an appeal once filed (15: our completion, the seeds are silent).
    """

    reasons: dict[str, str] = Field(default_factory=lambda: {
        "evidence": "new evidence of performance",
        "error": "a data or scoring error corrected",
        "quota": "a forced-distribution quota balanced",
        "appeal": "an appeal upheld",
        "other": "other (explained in the note)",
    })
    quotas: Literal["report", "balance"] = "report"
    appeal_days: int = Field(default=5, ge=1, le=250)
    decision_days: int = Field(default=15, ge=1, le=250)

    @model_validator(mode="after")
    def _reasons(self) -> Calibration:
        if not self.reasons:
            raise ValueError("give at least one reason code under 'reasons' (code: what it means)")
        bad = [c for c in self.reasons if not c.strip() or c != c.strip()]
        if bad:
            raise ValueError(f"reason codes must be non-blank text without surrounding spaces: {bad}")
        return self
