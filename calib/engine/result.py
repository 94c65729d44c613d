"""The result of a run: one table per stage, every records row accounted for."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from calib.policy.model import Policy

if TYPE_CHECKING:
    from calib.engine.explain import Statement


class Lazy:
    """A table built on first use and then kept: a slider's re-run computes grades and payouts
    as arrays and builds the DataFrames only if something reads them.
    """

    __slots__ = ("_build", "_value")

    def __init__(self, build: Callable[[], Any]):
        self._build: Callable[[], Any] | None = build
        self._value: Any = None

    def __call__(self) -> Any:
        """The value, built now if this is the first call."""
        if self._build is not None:
            self._value, self._build = self._build(), None
        return self._value


class Tables(dict):
    """Tables by name (the roll-ups), each built when first read."""

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if isinstance(value, Lazy):
            value = value()
            super().__setitem__(key, value)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """The table, or ``default``."""
        return self[key] if key in self else default

    def values(self) -> list:  # type: ignore[override]
        """Every table (built)."""
        return [self[k] for k in self]

    def items(self) -> list:  # type: ignore[override]
        """(name, table) pairs (built)."""
        return [(k, self[k]) for k in self]

    def copy(self) -> Tables:
        """A shallow copy: tables not built yet stay shared."""
        return Tables(dict.items(self))


class _Table:
    """A ``Result`` attribute that may hold a ``Lazy``: reading it builds the table once."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__.get(self.name)
        if isinstance(value, Lazy):
            value = value()
            obj.__dict__[self.name] = value
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.name] = value


TABLES = ("scores", "measures", "kpi_points", "sections", "adjustments", "group_caps", "grades",
          "quotas", "flags", "payouts", "merit", "outcomes")
SCORING = ("scores", "measures", "kpi_points", "sections", "adjustments", "group_caps")
"""The tables that only scoring writes (shared by results that differ in grading or pay)."""


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
    - ``merit``: next year's raise per person by the merit matrix (R35);
    - ``outcomes``: the named outcomes raised (晋升候选, 培训: <KPI>, 劝退评审 …), each with what
      raised it, and a dismissal's caution (``calib.engine.outcomes``).

    Each table is built the first time it is read (a ``Lazy`` until then), so a re-run that
    only needs the grade counts and the payout total does not pay for DataFrames.
    """

    scores = _Table()
    measures = _Table()
    kpi_points = _Table()
    sections = _Table()
    adjustments = _Table()
    group_caps = _Table()
    grades = _Table()
    quotas = _Table()
    flags = _Table()
    payouts = _Table()
    merit = _Table()
    outcomes = _Table()

    def __init__(self, policy: Policy, scores: Any, measures: Any = None, kpi_points: Any = None,
                 sections: Any = None, rollups: dict | None = None, adjustments: Any = None,
                 group_caps: Any = None, grades: Any = None, quotas: Any = None,
                 flags: Any = None, payouts: Any = None, merit: Any = None,
                 rollup_rows: dict | None = None, frame: Any = None):
        self.policy = policy
        self.scores, self.measures, self.kpi_points = scores, measures, kpi_points
        self.sections, self.adjustments, self.group_caps = sections, adjustments, group_caps
        self.grades, self.quotas, self.flags = grades, quotas, flags
        self.payouts, self.merit = payouts, merit
        self.outcomes = None
        self.rollups: Tables = Tables(rollups or {})
        self.rollup_rows: Tables = Tables(rollup_rows or {})
        """The rows of each roll-up (``calib.engine.rollup.RollupRows``), made when first read."""
        self.frame = frame
        self.overrides: pd.DataFrame | None = None
        """The overrides applied (``calib.engine.overrides``): id, period, field, computed and
        final value, reason (code and meaning), note, by, at; None when none were given."""
        self.quota_check: Any = None
        """After overrides, the quota groups they break and, when the policy balances, the
        proposed compensating moves (``calib.engine.quota_check.QuotaCheck``)."""
        self.arrays: dict[str, Any] = {}
        """Stage outputs as arrays (``score`` and ``rated`` per records row, ``grade``,
        ``grade_names``, ``payout_units``, ``unit``), for code that needs counts and totals
        without building tables."""

    def __repr__(self) -> str:
        built = [t for t in TABLES if not isinstance(self.__dict__.get("_" + t), Lazy | None)]
        return f"Result(policy={self.policy.name!r}, tables built: {', '.join(built) or 'none'})"

    def __getstate__(self) -> dict:
        """For pickling (a result sent to another process): every table built, and the frame
        without a ``Scenario``'s cache.
        """
        import dataclasses

        state = dict(self.__dict__)
        for name in TABLES:
            state["_" + name] = getattr(self, name)
        state["rollups"] = Tables(self.rollups.items())
        state["rollup_rows"] = Tables(self.rollup_rows.items())
        if getattr(self.frame, "memo", None) is not None:
            state["frame"] = dataclasses.replace(self.frame, memo=None)
        return state

    def with_scoring_of(self, policy: Policy) -> Result:
        """A result for ``policy`` sharing this one's scoring tables and roll-ups (built or not);
        grading and pay are left empty for the caller to fill.
        """
        out = Result(policy, None, rollups=self.rollups.copy(), rollup_rows=self.rollup_rows.copy(),
                     frame=self.frame)
        for name in SCORING:
            out.__dict__["_" + name] = self.__dict__.get("_" + name)
        out.arrays.update({k: self.arrays[k] for k in ("score", "rated") if k in self.arrays})
        return out

    def total_payout(self) -> float:
        """The sum of every payout, exact to the pay unit (0 when the policy does not pay);
        read from the pay stage's integer units, so no table is built.

        This is what a slider or a solver reads after each move; ``payout_total`` gives the same
        sum as an exact Decimal for printing and sign-off.

        Returns
        -------
        float
            The total payout, in the policy's currency.

        Raises
        ------
        MoneyError
            If the total is past 64-bit integers of the pay unit.

        Examples
        --------
        >>> result = calib.run(calib.load_policy("datasets/ecommerce_cs/policy.yaml"),
        ...                    "datasets/ecommerce_cs")
        >>> result.total_payout()
        1764936.05
        """
        return float(self.payout_total())

    def payout_total(self) -> Decimal:
        """The sum of every payout as an exact Decimal (for printing and sign-off); added as
        integers with an overflow check (``MoneyError`` rather than a wrapped-around total).

        Returns
        -------
        Decimal
            The total payout, in the policy's currency (``Decimal(0)`` when the policy does not
            pay).

        Raises
        ------
        MoneyError
            If the total is past 64-bit integers of the pay unit.

        Examples
        --------
        >>> result = calib.run(calib.load_policy("datasets/ecommerce_cs/policy.yaml"),
        ...                    "datasets/ecommerce_cs")
        >>> result.payout_total()
        Decimal('1764936.05')
        """
        units = self.arrays.get("payout_units")
        if units is None:
            return Decimal(0)
        from calib.kernels.money import total_units

        return Decimal(total_units(units)) * Decimal(str(self.arrays["unit"]))

    def grade_counts(self) -> pd.Series:
        """How many graded rows got each grade (every grade of the scale, 0 where none), from
        the grading stage's arrays (no table is built).

        Returns
        -------
        Series
            Counts indexed by grade name (index ``grade``, best grade first), named ``count``;
            empty when the policy does not grade.

        Examples
        --------
        >>> result = calib.run(calib.load_policy("datasets/ecommerce_cs/policy.yaml"),
        ...                    "datasets/ecommerce_cs")
        >>> counts = result.grade_counts()
        >>> int(counts.sum()), counts.index.name
        (3474, 'grade')
        """
        grade = self.arrays.get("grade")
        if grade is None:
            return pd.Series(dtype=np.int64, name="count")
        names = self.arrays["grade_names"]
        counts = np.bincount(grade + 1, minlength=len(names) + 1)[1:]  # −1: not graded
        return pd.Series(counts, index=_grade_index(tuple(names)), name="count")

    def explain(self, person_id: object, period: str) -> Statement:
        """One person's statement for a period (or a roll-up period such as ``2024``): every
        number from raw inputs to payout, with the rule and policy path behind it (R37).

        The statement reads this result's own tables and never recomputes them, so what HR
        shows a person is what was paid.

        Parameters
        ----------
        person_id : object
            The person's id, as in the data (compared as text, exactly).
        period : str
            A scoring period (``"2024-01"``) or a roll-up period (``"2024"``).

        Returns
        -------
        Statement
            The statement as data; ``to_text()``, ``to_html()``, ``to_excel(path)`` and
            ``to_dict()`` render it.

        Raises
        ------
        NotFound
            If the person or the period is not in the result; the message names ids that look
            alike, or the person's periods.

        Examples
        --------
        >>> result = calib.run(calib.load_policy("datasets/ecommerce_cs/policy.yaml"),
        ...                    "datasets/ecommerce_cs")
        >>> statement = result.explain("EC0001", "2024-01")
        >>> statement.to_dict()["person"]["status"]
        'rated'
        """
        from calib.engine.explain import explain

        return explain(self, person_id, period)

    def rated(self) -> pd.DataFrame:
        """The rows of ``scores`` that were rated."""
        return self.scores[self.scores["status"] == "rated"]

    def not_rated(self) -> pd.DataFrame:
        """The rows of ``scores`` that were not rated, with the reason."""
        return self.scores[self.scores["status"] != "rated"]

    def summary(self) -> pd.DataFrame:
        """Rows, rated rows, mean and spread of scores per period.

        Returns
        -------
        DataFrame
            One row per period (the index), columns ``rows``, ``rated``, ``mean``, ``std``,
            ``min`` and ``max``, rounded to 3 decimals.

        Examples
        --------
        >>> result = calib.run(calib.load_policy("datasets/ecommerce_cs/policy.yaml"),
        ...                    "datasets/ecommerce_cs")
        >>> result.summary().columns.tolist()
        ['rows', 'rated', 'mean', 'std', 'min', 'max']
        """
        s = self.scores
        rated = s["status"] == "rated"
        out = s.assign(rated=rated).groupby("period", sort=True).agg(
            rows=("id", "size"), rated=("rated", "sum"), mean=("score", "mean"),
            std=("score", "std"), min=("score", "min"), max=("score", "max"))
        return out.round(3)

    def person(self, person_id: object) -> pd.DataFrame:
        """Every period's score row of one person."""
        return self.scores[self.scores["id"].astype(str) == str(person_id)]


@functools.lru_cache(maxsize=64)
def _grade_index(names: tuple[str, ...]) -> pd.Index:
    """The grade counts' index (made once per scale: a slider reads the counts every move)."""
    return pd.Index(list(names), name="grade")
