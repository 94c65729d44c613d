"""The result of a run: one table per stage, every records row accounted for."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from calib.policy.model import Policy


@dataclass
class Result:
    """Tables of one run of a policy over a data set.

    - ``scores``: one row per records row: id, period, scorecard, status (rated / not_rated),
      reason, score, and the parts the policy's scorecards have: ``base`` (the score tree's
      result), ``added``/``deducted`` (R16 events), ``bonus`` (R17), ``capped``, ``veto`` and
      ``lowest_grade`` (R13), ``proration`` (R22);
    - ``measures``, ``kpi_points``, ``sections``: id, period and one column per measure, KPI or
      section (empty where excluded);
    - ``rollups``: one table per roll-up of the policy;
    - ``adjustments``: the add/deduct events with their approval flags (R16);
    - ``group_caps``: the units whose average exceeded the cap, and what was done (R16);
    - ``grades``: one row per graded row (period or roll-up, as the policy grades): grade and
      label, the rule, the quota group, place and size, boundary ties, rank (R26);
    - ``quotas``: per rule, period, group and grade: ratio, exact share, quota, count, flex;
    - ``flags``: consecutive-period flags (R21) with the periods that raised them;
    - ``payouts``: each component, the pool share and the total payout, exact to the unit;
    - ``merit``: next year's raise per person by the merit matrix (R35).
    """

    policy: Policy
    scores: pd.DataFrame
    measures: pd.DataFrame
    kpi_points: pd.DataFrame
    sections: pd.DataFrame
    rollups: dict[str, pd.DataFrame] = field(default_factory=dict)
    adjustments: pd.DataFrame | None = None
    group_caps: pd.DataFrame | None = None
    grades: pd.DataFrame | None = None
    quotas: pd.DataFrame | None = None
    flags: pd.DataFrame | None = None
    payouts: pd.DataFrame | None = None
    merit: pd.DataFrame | None = None
    rollup_rows: dict = field(default_factory=dict, repr=False)
    frame: object = field(default=None, repr=False)

    def explain(self, person_id: object, period: str):
        """One person's statement for a period (or a roll-up period such as ``2024``): every
        number from raw inputs to payout, with the rule and policy path behind it (R37).
        """
        from calib.explain import explain

        return explain(self, person_id, period)

    def rated(self) -> pd.DataFrame:
        """The rows of ``scores`` that were rated."""
        return self.scores[self.scores["status"] == "rated"]

    def not_rated(self) -> pd.DataFrame:
        """The rows of ``scores`` that were not rated, with the reason."""
        return self.scores[self.scores["status"] != "rated"]

    def summary(self) -> pd.DataFrame:
        """Rows, rated rows, mean and spread of scores per period."""
        s = self.scores
        rated = s["status"] == "rated"
        out = s.assign(rated=rated).groupby("period", sort=True).agg(
            rows=("id", "size"), rated=("rated", "sum"), mean=("score", "mean"),
            std=("score", "std"), min=("score", "min"), max=("score", "max"))
        return out.round(3)

    def person(self, person_id: object) -> pd.DataFrame:
        """Every period's score row of one person."""
        return self.scores[self.scores["id"].astype(str) == str(person_id)]
