"""What a result leads to (issue 21, item 9): named outcomes such as 晋升候选 (promotion
candidate), 降级/调岗 (demotion or transfer), 培训: <KPI> (training in a KPI), 改进计划
(improvement plan), 特殊嘉奖 (special commendation) or 劝退评审 (exit review), each raised by
grades, flags, scores or a KPI's shortfall.

An outcome is a recommendation HR acts on, not a decision calib takes: it is listed with what
raised it. A ``dismissal`` outcome always carries the caution that ranking last is not by
itself proof that an employee cannot do the job (不能胜任工作; Supreme People's Court Guiding
Case No. 18): the employer must show the incompetence, train or reassign, and only then may end
the contract.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from calib.policy.base import Number, Strict, Threshold

DISMISSAL_CAUTION = (
    "排名末位或考核等级最低本身不能证明劳动者“不能胜任工作”（最高人民法院指导案例18号）：须有"
    "不能胜任的事实，经培训或调整岗位后仍不能胜任，方可依法解除劳动合同。 Ranking last is not by "
    "itself proof that an employee cannot do the job (Supreme People's Court Guiding Case No. 18): "
    "show the incompetence, train or reassign first; only if it persists may the contract end.")
"""The caution every dismissal-type outcome carries, in Chinese and English."""


class OutcomeWhen(Strict):
    """What raises an outcome on a row: every condition given must hold (and at least one is
    given).

    ``kpi_below`` maps KPIs to the points below which the KPI falls short; the outcome is then
    raised once per KPI that falls short, and ``{kpi}`` in its label names the KPI (培训: {kpi}).

    ``rank`` is the row's place in the grading's ranking (R26, ``grading.ranking``: its groups,
    tie rule and demotions) in its period: ``first`` or ``last``. ``rank_by`` places the row in
    the same groups and period by records columns, higher first (``{sales_amount: last}``: the
    lowest sales of the shop that month); rows with an equal value share the place, so everyone
    tied at the bottom is last. Both read the rows graded per period: 当月绩效考核和实际销售额都
    排名最后的 is ``{rank: last, rank_by: {sales_amount: last}}``.
    """

    grade_in: list[str] | None = None
    flag: str | None = None
    score_below: Threshold | None = None
    score_at_least: Threshold | None = None
    kpi_below: dict[str, Number] | None = None
    rank: Literal["first", "last"] | None = None
    rank_by: dict[str, Literal["first", "last"]] | None = None

    @model_validator(mode="after")
    def _some(self) -> OutcomeWhen:
        if all(getattr(self, f) is None for f in type(self).model_fields):
            raise ValueError("give at least one of grade_in, flag, score_below, score_at_least, "
                             "kpi_below, rank, rank_by")
        if self.rank_by is not None and not self.rank_by:
            raise ValueError("rank_by names no column; map each column to first or last")
        if self.grade_in is not None and not self.grade_in:
            raise ValueError("grade_in lists no grade; name the grades that raise the outcome")
        if self.kpi_below is not None and not self.kpi_below:
            raise ValueError("kpi_below names no KPI; map each KPI to the points it must reach")
        return self


class Outcome(Strict):
    """One named outcome: its label, what raises it, and its kind.

    ``on`` is the rows it is judged on: the graded rows by default (``grading.on``), ``period``
    or a roll-up's name. ``kind`` sorts outcomes for HR (``development``, ``reward``,
    ``warning``, ``dismissal``); a ``dismissal`` carries ``DISMISSAL_CAUTION``.
    """

    label: str = Field(min_length=1)
    when: OutcomeWhen
    kind: Literal["development", "reward", "warning", "dismissal"] = "development"
    on: str | None = None
