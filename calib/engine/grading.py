"""Engine side of grading (SCHEMES.md R13, R23–R25): thresholds, forced distribution in groups,
cascaded quotas, and the veto that caps a grade at the lowest.

Grading works on a ``Population``: the rows to grade (period scores, or a roll-up's rows) with
their score, scorecard, person and a way to read group columns. Rules run in dependency order:
a cascade runs after the rule that grades its leaders.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calib._util.columns import LabelColumn, coded
from calib._util.memo import array_key, fingerprint, json_key, remember, stored_key
from calib._util.text import text_codes
from calib._util.tolerance import tol
from calib.engine.result import Lazy
from calib.errors import DataError
from calib.kernels.apportion import apportion, exact_quotas
from calib.kernels.ranking import (
    Ranked,
    boundary_ties,
    group_layout,
    quota_grades,
    rank_in_groups,
    shared_ties,
)
from calib.policy.grading import Cascade, ForcedDistribution, GradeScale, Grading, GradingRule


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


def _group_codes(pop: Population, rows: np.ndarray, by: list[str]
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


def _ratio_row(ratios: dict[str, float], scale: GradeScale) -> np.ndarray:
    return np.array([ratios.get(name, 0.0) for name in scale.names()], dtype=np.float64)


def _small_groups(pop: Population, rows: np.ndarray, codes: np.ndarray, names: list,
                  settings: ForcedDistribution | Cascade) -> tuple[np.ndarray, list, np.ndarray]:
    """Apply the small-group rule; returns codes, names and a mask of rows to grade by threshold."""
    small = settings.small_groups
    sizes = np.bincount(codes)
    is_small = sizes[codes] <= small.max_size
    by_threshold = np.zeros(len(rows), dtype=bool)
    if not is_small.any() or small.rule == "round":
        return codes, names, by_threshold
    if small.rule == "thresholds":
        return codes, names, is_small
    period = pop.period[rows]
    pooled = pd.Index(period[is_small]).unique()
    new_codes = codes.copy()
    for i, p in enumerate(pooled):
        new_codes[is_small & (period == p)] = len(names) + i
    names = names + [small.pool_name] * len(pooled)
    codes, uniques = pd.factorize(new_codes)
    return codes.astype(np.int64), [names[u] for u in uniques], by_threshold


@dataclass
class _Ranking:
    """Rows ranked in their groups, with what grading them by quotas needs: each sorted row's
    index in the population, and each group's size. Kept between re-runs on the same scores
    (a ratio slider only re-counts quotas).
    """

    ranked: Ranked
    idx: np.ndarray
    sizes: np.ndarray


def _ranking(pop: Population, rows: np.ndarray, codes: np.ndarray, names: list,
             settings: ForcedDistribution | Cascade) -> _Ranking:
    ties = [np.asarray(pop.column(k.column), dtype=np.float64)[rows] for k in settings.ties.by]
    desc = [k.order == "desc" for k in settings.ties.by]
    # groups, tie columns, people and group sizes do not move with the scores: laid out once
    # for re-runs (the rows and codes are kept arrays, so their keys are hashed once)
    rows_key = (json_key(settings.ties), pop.rows_key, stored_key(pop.memo, rows, codes))
    layout = None if pop.memo is None else remember(
        pop.memo, ("layout", *rows_key), lambda: group_layout(codes, ties, desc, pop.person[rows]))
    sizes = remember(pop.memo, ("group sizes", len(names), *rows_key),
                     lambda: np.bincount(codes, minlength=len(names)))
    # with a layout the people's order is in it: no need to gather them again
    person = pop.person[rows] if layout is None else layout.person
    ranked = rank_in_groups(codes, pop.score[rows], ties, desc, person, layout)
    return _Ranking(ranked, rows[ranked.order], sizes)


def _assign(pop: Population, rows: np.ndarray, names: list, ratio_rows: np.ndarray,
            settings: ForcedDistribution | Cascade, scale: GradeScale, rule_name: str,
            out: Grades, ranking: _Ranking, extra: dict | None = None,
            leaders: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Give ``rows`` (ranked in their groups by ``ranking``) grades by the groups' quotas;
    ``leaders`` (a cascade's): each group's leader row and the ratio table by leader grade.
    """
    ranked, idx, sizes = ranking.ranked, ranking.idx, ranking.sizes
    # the quotas and the grades by place follow from the groups' sizes and the ratios alone
    # (rows sorted group by group, in code order): kept while a KPI slider moves the scores
    quotas, plain = remember(
        pop.memo, ("quotas", settings.method, stored_key(pop.memo, sizes),
                   stored_key(pop.memo, ratio_rows, kept=False)),
        lambda: _quotas_and_places(ranked, sizes, ratio_rows, settings.method))
    grade = shared_ties(ranked, plain) if settings.ties.rule == "share_better" else plain
    out.grade[idx] = grade

    def details(d: GradeDetails) -> None:
        d.rank[idx] = ranked.place + 1
        d.group_size[idx] = sizes[ranked.group]
        d.group[idx] = ranked.group + len(d.group_names)  # codes into d.group_names
        d.group_names.extend(names)
        d.boundary[idx] = boundary_ties(ranked, plain)
        d.rule.set_rows(idx, rule_name)

    out.later(details)
    out.groups.append(QuotaGroups(rule_name, settings.method, idx, ranked.group, ranked.place,
                                  sizes, quotas, names, *(leaders or (None, None))))
    out.quotas.append(Lazy(lambda: _quota_table(pop, idx, ranked.group, grade, sizes, quotas,
                                                ratio_rows, names, scale, rule_name, extra)))


def _quotas_and_places(ranked: Ranked, sizes: np.ndarray, ratio_rows: np.ndarray, method: str
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Each group's quota per grade, and the grade of each place in rank order (ties not
    shared).
    """
    quotas = apportion(sizes, ratio_rows, method)
    return quotas, quota_grades(ranked, quotas)


def _quota_table(pop: Population, idx: np.ndarray, group: np.ndarray, grade: np.ndarray,
                 sizes: np.ndarray, quotas: np.ndarray, ratio_rows: np.ndarray, names: list,
                 scale: GradeScale, rule_name: str, extra: dict | None) -> pd.DataFrame:
    """One row per group and grade: ratio, exact share, quota, count and flex."""
    counts = np.zeros_like(quotas)
    np.add.at(counts, (group, grade), 1)
    exact = exact_quotas(sizes, ratio_rows)
    n_groups, n_grades = quotas.shape
    first = np.zeros(n_groups, dtype=np.int64)
    first[group[::-1]] = idx[::-1]  # a row of each group, for its period
    name_codes, distinct = pd.factorize(pd.Series(names, dtype=object).astype(str))
    table = {
        "rule": coded([rule_name], np.zeros(n_groups * n_grades, dtype=np.int64)),
        "period": pd.Categorical(pop.period_label.take(np.repeat(first, n_grades))),
        "group": coded(distinct, np.repeat(name_codes, n_grades)),
        "size": np.repeat(sizes, n_grades),
    }
    for key, values in (extra or {}).items():
        table[key] = np.repeat(values, n_grades)
    table.update({
        "grade": coded(scale.names(), np.tile(np.arange(n_grades), n_groups)),
        "ratio": np.broadcast_to(ratio_rows, quotas.shape).ravel(),
        "exact": exact.ravel(), "quota": quotas.ravel(), "count": counts.ravel(),
        "flex": (counts - quotas).ravel(),
    })
    return pd.DataFrame(table)


def _forced(pop: Population, rows: np.ndarray, rule: GradingRule, name: str, scale: GradeScale,
            out: Grades) -> None:
    settings = rule.forced
    assert settings is not None
    # which rows, which groups and their order do not depend on the ratios: kept for sliders
    key = ("forced", name, json_key(settings, exclude={"ratios", "method"}),
           json_key(rule, include={"scorecards"}), pop.rows_key, stored_key(pop.memo, rows))
    # which rows go by threshold, which groups: the rows' status and columns decide, not
    # the scores (a KPI slider keeps them); the ranking is kept per scores
    by_threshold, rows, codes, names = remember(
        pop.memo, key, lambda: _forced_groups(pop, rows, settings))
    ranking = remember(pop.memo, (*key, pop.key), lambda: (
        _ranking(pop, rows, codes, names, settings) if len(rows) else None))
    if len(by_threshold):
        _by_threshold(pop, by_threshold, name, scale, out)
    if len(rows) == 0:
        return
    ratio = np.broadcast_to(_ratio_row(settings.ratios, scale), (len(names), len(scale.grades)))
    _assign(pop, rows, names, ratio, settings, scale, name, out, ranking)


def _forced_groups(pop: Population, rows: np.ndarray, settings: ForcedDistribution
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Rows of small groups graded by thresholds; the other rows, their group codes and the
    groups' names.
    """
    codes, names = _group_codes(pop, rows, settings.by)
    codes, names, by_threshold = _small_groups(pop, rows, codes, names, settings)
    threshold_rows = rows[by_threshold]
    if by_threshold.any():
        rows, codes = rows[~by_threshold], codes[~by_threshold]
        codes, uniques = pd.factorize(codes)
        names = [names[u] for u in uniques]
    return threshold_rows, rows, codes, names


def _by_threshold(pop: Population, rows: np.ndarray, name: str, scale: GradeScale,
                  out: Grades) -> None:
    out.grade[rows] = thresholds(pop.score[rows], scale)
    out.set_rule(rows, name)


def _cascade(pop: Population, rows: np.ndarray, rule: GradingRule, name: str, scale: GradeScale,
             card_index: dict[str, int], out: Grades) -> None:
    """R25: the leader's grade in the same period picks the team's ratio row."""
    settings = rule.cascade
    assert settings is not None
    leaders = np.flatnonzero((pop.card == card_index[settings.leaders]) & (out.grade >= 0))
    # who leads whom, the teams and their ranking do not depend on the grades: kept for sliders
    key = ("cascade", name, json_key(settings, exclude={"ratios", "method", "ties"}),
           pop.rows_key, stored_key(pop.memo, leaders, rows, kept=False))
    teams = remember(pop.memo, key, lambda: _cascade_teams(pop, rows, leaders, settings))
    ranking = remember(pop.memo, (*key, json_key(settings.ties), pop.key), lambda: (
        _ranking(pop, teams.rows, teams.codes, teams.names, settings)
        if len(teams.rows) else None))
    if len(teams.missing):
        out.later(lambda d: d.note.set_rows(
            teams.missing, "not graded: the leader has no grade in this period"))
    if len(teams.rows) == 0:
        return
    leader_row = np.zeros(len(teams.names), dtype=np.int64)
    leader_row[teams.codes] = leaders[teams.found]
    group_grade = out.grade[leader_row]
    grade_names = scale.names()
    table = np.array([_ratio_row(settings.ratios[g], scale) for g in grade_names])
    _assign(pop, teams.rows, teams.names, table[group_grade], settings, scale, name, out,
            ranking, extra={"leader_grade": np.array(grade_names, dtype=object)[group_grade]},
            leaders=(leader_row, table))


@dataclass
class _Teams:
    """A cascade's rows with a graded leader: each one's leader row (index into the leaders),
    team code and name; and the rows whose leader has no grade (the data decide them all).
    """

    rows: np.ndarray
    found: np.ndarray
    codes: np.ndarray
    names: list
    missing: np.ndarray


def _cascade_teams(pop: Population, rows: np.ndarray, leaders: np.ndarray,
                   settings: Cascade) -> _Teams:
    codes, leader_names = column_codes(pop.column(settings.leader))  # clean text already
    lead_ids = leader_names[codes[rows]]
    id_index = pd.Index(np.asarray(pop.ids, dtype=object).astype(str))
    lead_person = id_index.get_indexer(pd.Index(leader_names, dtype=object))[codes[rows]]
    periods = pd.factorize(pop.period)[0].astype(np.int64)
    n_periods = int(periods.max(initial=0)) + 1
    leader_key = pd.Index(pop.person[leaders].astype(np.int64) * n_periods + periods[leaders])
    found = leader_key.get_indexer(np.where(lead_person >= 0,
                                            lead_person.astype(np.int64) * n_periods
                                            + periods[rows], -1))
    missing = found < 0
    if missing.any() and settings.no_leader_grade == "error":
        bad = rows[missing]
        raise DataError(pd.DataFrame({
            "table": "records", "row": pop.row_numbers[bad], "id": pop.ids[pop.person[bad]],
            "column": settings.leader, "problem": "the leader has no grade in this period",
            "value": lead_ids[missing], "fix": f"grade the leader (scorecard "
            f"'{settings.leaders}') in that period, or set no_leader_grade: not_graded"}))
    missing_rows = rows[missing]
    rows, found, lead_ids = rows[~missing], found[~missing], lead_ids[~missing]
    if len(rows) == 0:
        return _Teams(rows, found, rows, [], missing_rows)
    codes, names = _group_codes(pop, rows, [settings.team])
    team_key = pd.MultiIndex.from_arrays([codes, lead_ids.astype(str)])
    codes, uniques = pd.factorize(team_key)
    names = [f"{names[u[0]]} (leader {u[1]})" for u in uniques]
    codes = codes.astype(np.int64)
    return _Teams(rows, found, codes, names, missing_rows)


def _rule_rows(pop: Population, cards: list[int], card_index: dict[str, int]) -> np.ndarray:
    """The rated rows, not capped at the lowest grade by a veto, on one of ``cards``."""
    if set(cards) == set(card_index.values()):
        return np.flatnonzero(pop.rated & ~pop.lowest)
    return np.flatnonzero(pop.rated & np.isin(pop.card, cards) & ~pop.lowest)


def rule_order(grading: Grading) -> list[str]:
    """Rules in the order they must run: a cascade after the rule grading its leaders."""
    done: list[str] = []
    pending = list(grading.rules)
    while pending:
        for name in pending:
            rule = grading.rules[name]
            if rule.method != "cascade":
                done.append(name)
                pending.remove(name)
                break
            assert rule.cascade is not None, "a cascade rule has its settings (GradingRule)"
            leaders = rule.cascade.leaders
            before = [n for n, r in grading.rules.items() if leaders in r.scorecards]
            if all(b in done for b in before):
                done.append(name)
                pending.remove(name)
                break
        else:  # pragma: no cover - the policy's reference checks refuse such cycles
            raise ValueError("grading rules depend on each other in a circle")
    return done


def grade(pop: Population, grading: Grading, card_names: list[str]) -> Grades:
    """Grade every rated row of ``pop`` under ``grading``; a veto caps a grade at the lowest."""
    key = ("grade", json_key(grading), tuple(card_names), pop.key)
    return remember(pop.memo, key, lambda: _grade(pop, grading, card_names))


def _grade(pop: Population, grading: Grading, card_names: list[str]) -> Grades:
    n = pop.n
    out = Grades(n)
    card_index = {c: i for i, c in enumerate(card_names)}
    scale = grading.scale
    vetoed = pop.rated & pop.lowest
    out.grade[vetoed] = len(scale.grades) - 1
    out.later(lambda d: d.rule.set(vetoed, "veto"))
    for name in rule_order(grading):
        rule = grading.rules[name]
        cards = [card_index[c] for c in rule.scorecards] if rule.scorecards else list(
            card_index.values())
        rows = remember(pop.memo, ("rule rows", tuple(cards), pop.status_key),
                        functools.partial(_rule_rows, pop, cards, card_index))
        if rule.method == "thresholds":
            _by_threshold(pop, rows, name, scale, out)
        elif rule.method == "forced":
            _forced(pop, rows, rule, name, scale, out)
        else:
            _cascade(pop, rows, rule, name, scale, card_index, out)
    return out
