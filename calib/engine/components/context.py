"""What a pay component's kernel reads (``PayContext``): the population, grades, ranks, KPI,
measure and section values, money bases and the policy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from calib._util.memo import remember
from calib._util.text import as_text, text_codes
from calib.engine.grading import Population
from calib.errors import DataError
from calib.policy import pay as P


class RowsOf(Mapping[str, np.ndarray]):
    """``values`` (arrays by name) on ``rows`` only, each taken when first read: a row-wise
    component reads few or none of them.
    """

    def __init__(self, values: Mapping[str, np.ndarray], rows: np.ndarray):
        self._values, self._rows = values, rows
        self._taken: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._taken:
            self._taken[name] = self._values[name][self._rows]
        return self._taken[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class PayContext:
    """What a component reads: the population, grades, ranks, KPI/measure/section values.

    ``frame`` is the engine's ``Frame`` (its policy, events and columns); the Monte Carlo passes
    an object with the policy alone, for components that read no events.
    """

    def __init__(self, frame: Any, pop: Population, last: np.ndarray | None,
                 grades: np.ndarray | None, values: Mapping[str, np.ndarray],
                 rank: np.ndarray | None = None):
        self.frame, self.pop, self.last, self._grades = frame, pop, last, grades
        self.values = values
        self.rank = rank
        """Each row's rank in its group (R26), 0 where not ranked; None without a ranking."""
        self.policy = frame.policy
        self.read_grades = False
        """Set when a component reads the grades (its result then depends on them)."""
        self.paid: dict[str, np.ndarray] = {}
        """Each component's signed units already paid on these rows, in the policy's order
        (after any override): what a component reading another's amounts averages (R19)."""

    @classmethod
    def of_rows(cls, c: PayContext, rows: np.ndarray) -> PayContext:
        """``c`` on ``rows`` of its population only (a period population, no store): for
        row-wise components, whose amount on a row depends on that row alone.
        """
        pop = c.pop
        assert c.last is None

        def column(name: str) -> Any:
            values = pop.column(name)
            if isinstance(values, pd.Series):
                return values.iloc[rows].reset_index(drop=True)
            return values[rows]  # an array or a Categorical, as the whole column is

        sub = Population(pop.person[rows], pop.period[rows], pop.period_label[rows],
                         pop.score[rows], pop.rated[rows], pop.card[rows], pop.lowest[rows],
                         pop.ids, column, pop.row_numbers[rows])
        return cls(c.frame, sub, None, None if c._grades is None else c._grades[rows],
                   RowsOf(c.values, rows), None if c.rank is None else c.rank[rows])

    @property
    def grades(self) -> np.ndarray | None:
        """Each row's grade index (None when pay does not follow grading)."""
        self.read_grades = True
        return self._grades

    def scores(self) -> np.ndarray:
        """The scores as pay reads them: a missing score pays as 0 (``scores_or_zero``)."""
        return scores_or_zero(self.pop.score)

    def number(self, name: str) -> np.ndarray:
        """A KPI's points, a measure, a section, or a numeric column, per population row."""
        if name in self.values:
            v = self.values[name]
            return v if self.last is None else v[self.last]
        return np.asarray(self.pop.column(name), dtype=np.float64)

    def amount(self, amount: P.Amount, path: str) -> np.ndarray:
        """A money base per row."""
        if amount.amount is not None:
            return np.full(self.pop.n, amount.amount)
        if amount.column is not None:
            return np.nan_to_num(np.asarray(self.pop.column(amount.column), dtype=np.float64))
        assert amount.by is not None and amount.amounts is not None  # the model's rule
        mapped = by_value(self.pop, amount.by, amount.amounts, None)
        bad = np.isnan(mapped) & self.pop.rated
        if bad.any():
            rows = np.flatnonzero(bad)
            values = as_text(self.pop.column(amount.by))
            raise DataError(pd.DataFrame({
                "table": "people", "row": self.pop.row_numbers[rows],
                "id": self.pop.ids[self.pop.person[rows]], "column": amount.by,
                "problem": f"no amount for this value in {path}", "value": values[rows],
                "fix": f"add it under {path}.amounts ({', '.join(amount.amounts)})"}))
        return np.nan_to_num(mapped)

    def grade_names(self) -> list[str]:
        """The grading scale's grade names, best first (none without grading)."""
        return self.policy.grading.scale.names() if self.policy.grading else []

    def grade_table(self, table: dict[str, float]) -> np.ndarray:
        """Per row, the table's value for the row's grade (0 where not graded); a fresh array."""
        lookup = np.array([table.get(n, 0.0) for n in self.grade_names()] + [0.0])
        grades = self.grades
        if grades is None:
            return np.zeros(self.pop.n)
        return lookup[grades]  # −1 (not graded) takes the last entry, 0


def scores_or_zero(score: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(score)`` in a third of its time (a slider pays every row again on each
    move): one pass, and the full conversion only when some score is infinite.
    """
    out = np.where(score == score, score, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):  # inf − inf: some score is infinite
        finite = np.isfinite(out.sum())
    return out if finite else np.nan_to_num(score)


def by_value(pop: Population, column: str, table: dict[str, float], missing: float | None
             ) -> np.ndarray:
    """Per row, ``table``'s number for the row's text in ``column`` (``missing`` where the table
    has none; None: NaN): amounts by level, floors by group. The data's and the policy's alone, so
    kept for re-runs on the same rows.
    """
    def lookup() -> np.ndarray:
        codes, names = text_codes(pop.column(column))  # looked up once per distinct text
        absent = np.nan if missing is None else missing
        return np.array([table.get(n, absent) for n in names] + [absent], dtype=np.float64)[codes]

    return remember(pop.memo, ("by value", column, tuple(table.items()), missing, pop.rows_key),
                    lookup)
