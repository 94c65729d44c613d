"""The shared parts of grading: the population graded, the grades produced (with their
details and quota groups), group codes, and the scale's thresholds (R23).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calib._util.columns import LabelColumn
from calib._util.memo import array_key, fingerprint, remember, stored_key
from calib._util.text import text_codes
from calib._util.tolerance import tol
from calib.engine.result import Lazy
from calib.policy.grading import GradeScale


@dataclass
class Population:
    """Rows to grade, aligned arrays: person code, period key and label, score, whether the row
    is rated, its scorecard's index, the veto flag, and ``column(name)`` for group columns.
    """

    person: np.ndarray
    period: np.ndarray
    period_label: pd.Categorical
    score: np.ndarray
    rated: np.ndarray
    card: np.ndarray
    lowest: np.ndarray
    ids: np.ndarray
    column: Callable[[str], np.ndarray | pd.Series]
    row_numbers: np.ndarray
    memo: dict | None = None
    """Where a ``Scenario`` keeps stage results between re-runs (None: compute everything)."""
    kept: dict | None = None
    """Results kept for this very population (the same scoring run): pay components that a
    re-run did not change (None: compute everything)."""

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.person)

    @property
    def rows_key(self) -> int:
        """A fingerprint of who and when the rows are (people, periods), hashed once (0 when
        there is no store: a plain run remembers nothing, so it hashes nothing).
        """
        if self.memo is None:
            return 0
        if "_rows_key" not in self.__dict__:
            self.__dict__["_rows_key"] = hash((array_key(self.person), array_key(self.period)))
        return self.__dict__["_rows_key"]

    @property
    def status_key(self) -> int:
        """A fingerprint of who is graded on which scorecard (status, scorecards, vetoes, people,
        periods), hashed once: what a score change does not move (a KPI slider's re-run finds
        the rows to grade, their groups and layout under it). 0 when there is no store.
        """
        if self.memo is None:
            return 0
        if "_status_key" not in self.__dict__:
            self.__dict__["_status_key"] = hash((_flags_key(self.rated), _flags_key(self.lowest),
                                                 array_key(self.card), self.rows_key))
        return self.__dict__["_status_key"]

    @property
    def key(self) -> int:
        """A fingerprint of the rows (scores and ``status_key``), hashed once per population:
        stage results are remembered under it. 0 when there is no store.
        """
        if self.memo is None:
            return 0
        if "_key" not in self.__dict__:
            self.__dict__["_key"] = hash((fingerprint(self.score), self.status_key))
        return self.__dict__["_key"]


def _flags_key(flags: np.ndarray) -> int:
    """``fingerprint`` of a column of flags, hashed as bits (an eighth of the bytes) when it is
    boolean: a KPI slider makes new flags with every move.
    """
    flags = np.asarray(flags)
    if flags.dtype == np.bool_ and flags.ndim == 1:
        return hash((len(flags), fingerprint(np.packbits(flags))))
    return fingerprint(flags)


@dataclass
class GradeDetails:
    """What a grades table shows besides the grade: the rule that graded each row, its place
    and group size, its group's name (codes into ``group_names``), boundary ties and notes.
    """

    rule: LabelColumn
    rank: np.ndarray
    group_size: np.ndarray
    group: np.ndarray
    boundary: np.ndarray
    note: LabelColumn
    group_names: list[str] = field(default_factory=list)

    @classmethod
    def empty(cls, n: int) -> GradeDetails:
        """No row graded yet."""
        return cls(LabelColumn(n), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
                   np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=bool), LabelColumn(n))


@dataclass
class QuotaGroups:
    """The groups one rule graded by quotas, kept for the re-check after overrides: the rows in
    rank order (``idx``), each one's group and place, each group's size, the quotas and the
    ratio row per group. For a cascade also each group's leader row and the ratio table by the
    leader's grade, so a leader's overridden grade picks the team's new quotas.
    """

    rule: str
    method: str
    idx: np.ndarray
    group: np.ndarray
    place: np.ndarray
    sizes: np.ndarray
    quotas: np.ndarray
    names: list
    leaders: np.ndarray | None = None
    ratio_table: np.ndarray | None = None


class Grades:
    """Grading output: grade index per row (−1: not graded), one quota table per rule that used
    quotas, and the details (rule, place, group, boundary ties, notes).

    Only the grades are needed to pay; the details are written when first read (a slider that
    moves a ratio re-grades 120k rows without writing five more columns nobody looks at).
    """

    def __init__(self, n: int):
        self.n = n
        self.grade = np.full(n, -1, dtype=np.int64)
        self.quotas: list[Lazy] = []
        """One table per rule that used quotas, built when read."""
        self.groups: list[QuotaGroups] = []
        """The quota groups of each rule that used quotas (the re-check after overrides)."""
        self._writes: list[Callable[[GradeDetails], None]] = []
        self._details: GradeDetails | None = None

    def later(self, write: Callable[[GradeDetails], None]) -> None:
        """Record a write of the details, done (in order) when they are first read (at once if
        they have been read already).
        """
        if self._details is not None:
            write(self._details)
        else:
            self._writes.append(write)

    @property
    def details(self) -> GradeDetails:
        """The details, written on first read."""
        if self._details is None:
            details = GradeDetails.empty(self.n)
            for write in self._writes:
                write(details)
            self._details, self._writes = details, []
        return self._details

    rule = property(lambda self: self.details.rule, doc="The rule that graded each row.")
    rank = property(lambda self: self.details.rank, doc="1-based place in the group (0: none).")
    group_size = property(lambda self: self.details.group_size, doc="The group's size (0: none).")
    group = property(lambda self: self.details.group, doc="Code into ``group_names`` (−1: none).")
    boundary = property(lambda self: self.details.boundary, doc="A tie across a quota boundary.")
    note = property(lambda self: self.details.note, doc="Why a row was not graded.")
    group_names = property(lambda self: self.details.group_names, doc="Names of the groups.")

    @property
    def key(self) -> int:
        """A fingerprint of the grades, hashed once (pay remembers components under it)."""
        if "_key" not in self.__dict__:
            grade = self.grade
            if len(grade) and -128 <= grade.min() and grade.max() < 128:
                grade = grade.astype(np.int8)  # the same grades in an eighth of the bytes to hash
            self.__dict__["_key"] = fingerprint(grade)
        return self.__dict__["_key"]

    def set_rule(self, rows: np.ndarray, name: str) -> None:
        """Record which rule graded ``rows``."""
        self.later(lambda d: d.rule.set_rows(rows, name))


def thresholds(score: np.ndarray, scale: GradeScale) -> np.ndarray:
    """R23: index of the first grade whose minimum the score reaches (ties on a bound go up)."""
    idx = np.zeros(len(score), dtype=np.int64)
    for grade in scale.grades[:-1]:
        bound = grade.min
        assert bound is not None, "grading by thresholds needs a min on every grade but the last"
        t = tol(bound)
        idx += score < bound - t if scale.inclusive else score <= bound + t
    return idx


def column_codes(values: np.ndarray | pd.Series | pd.Categorical) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, distinct clean texts) of a column (``calib._util.text``): blank and missing
    cells are one last name, ''; categoricals reuse their codes.
    """
    codes, texts = text_codes(values)
    names = np.array([*texts, ""], dtype=object)
    return np.where(codes < 0, len(names) - 1, codes), names


def group_codes(pop: Population, rows: np.ndarray, by: list[str]
                ) -> tuple[np.ndarray, list[str]]:
    """Group code per row in ``rows`` (period × the ``by`` columns) and each group's name.

    Each column is factorized once over all rows and the codes are combined as integers, so a
    1.2M-row population costs a few integer passes, not a factorize of text tuples.
    """
    return remember(pop.memo, ("groups", tuple(by), pop.rows_key, stored_key(pop.memo, rows)),
                    lambda: _compute_group_codes(pop, rows, by))


def _compute_group_codes(pop: Population, rows: np.ndarray, by: list[str]
                         ) -> tuple[np.ndarray, list[str]]:
    key = pd.factorize(pop.period[rows])[0].astype(np.int64)
    labels: list[tuple[np.ndarray, np.ndarray]] = []
    for col in by:
        codes, names = column_codes(pop.column(col))
        key = key * len(names) + codes[rows]
        labels.append((codes[rows], names))
    group, uniques = pd.factorize(key)
    first_row = np.zeros(len(uniques), dtype=np.int64)
    first_row[group[::-1]] = np.arange(len(group))[::-1]  # the first row of each group
    if not labels:
        return group.astype(np.int64), ["(all)"] * len(uniques)
    parts = [pd.Series(n[c[first_row]], dtype=object).astype(str) for c, n in labels]
    # pandas joins a list of Series; pandas-stubs types ``others`` without it
    joined = parts[0] if len(parts) == 1 else parts[0].str.cat(
        parts[1:], sep=" / ")  # type: ignore[arg-type]
    return group.astype(np.int64), joined.tolist()


def ratio_row(ratios: dict[str, float], scale: GradeScale) -> np.ndarray:
    """A ratio row over the scale's grades (0 for a grade the row leaves out)."""
    return np.array([ratios.get(name, 0.0) for name in scale.names()], dtype=np.float64)


def by_threshold(pop: Population, rows: np.ndarray, name: str, scale: GradeScale,
                 out: Grades) -> None:
    """Grade ``rows`` by the scale's thresholds, recorded as graded by rule ``name``."""
    out.grade[rows] = thresholds(pop.score[rows], scale)
    out.set_rule(rows, name)


