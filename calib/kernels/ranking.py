"""Ranking inside groups and grading by rank with quotas (SCHEMES.md R24–R26), vectorised.

Rows are sorted once by (group, score descending, tie columns, id); a row's place in its group
is its position minus the group's first position. Quotas per group and grade come from
``calib.kernels.apportion``; a row's grade is the number of cumulative quotas its place reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calib._util.tolerance import REL


@dataclass
class Ranked:
    """Rows in rank order: ``order`` (row indices), each row's group and place (0-based), and
    ``run``: which run of equal scores (within 1e-9 relative) inside its group each sorted row is
    in — found when first asked for, from ``scores`` (the rounded scores, by row): only ties on a
    quota boundary need it, and a slider re-ranks on every move.
    """

    order: np.ndarray
    group: np.ndarray
    place: np.ndarray
    scores: np.ndarray

    @property
    def run(self) -> np.ndarray:
        """Run number of each sorted row (0, 1, …; a new group starts a new run)."""
        if "_run" not in self.__dict__:
            s = self.scores[self.order]
            new_run = self.place == 0
            tol = REL * np.maximum(1.0, np.abs(s))
            new_run[1:] |= np.abs(s[1:] - s[:-1]) > tol[1:]
            self.__dict__["_run"] = np.cumsum(new_run) - 1
        return self.__dict__["_run"]

    @property
    def run_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Each sorted row's first and last position in its run of tied scores (kept)."""
        if "_bounds" not in self.__dict__:
            starts = _run_starts(self.run)
            ends = np.append(starts[1:], len(self.run)) - 1
            self.__dict__["_bounds"] = (starts[self.run], ends[self.run])
        return self.__dict__["_bounds"]

    @property
    def group_sizes(self) -> np.ndarray:
        """Rows in each group (kept)."""
        if "_sizes" not in self.__dict__:
            self.__dict__["_sizes"] = np.diff(np.append(self.group_starts, len(self.order)))
        return self.__dict__["_sizes"]

    @property
    def group_starts(self) -> np.ndarray:
        """Position of each group's first sorted row (groups are codes 0..n−1, all present)."""
        if "_starts" not in self.__dict__:
            self.__dict__["_starts"] = np.flatnonzero(self.place == 0)
        return self.__dict__["_starts"]


@dataclass
class Layout:
    """What stays fixed while scores move: rows in (group, tie columns, person, row) order,
    each group one line of a padded table (``line``, ``column``), and each group's size.
    """

    order: np.ndarray
    line: np.ndarray
    column: np.ndarray
    sizes: np.ndarray
    person: np.ndarray
    """The rows' person codes, by row (the last tie-breaker)."""

    @property
    def starts(self) -> np.ndarray:
        """Where each line starts in the layout's order (kept)."""
        if "_starts" not in self.__dict__:
            self.__dict__["_starts"] = np.cumsum(self.sizes) - self.sizes
        return self.__dict__["_starts"]

    @property
    def line_of_row(self) -> np.ndarray:
        """The line (group) of each row, by row (kept)."""
        if "_line_of_row" not in self.__dict__:
            out = np.empty(len(self.order), dtype=np.int64)
            out[self.order] = self.line
            self.__dict__["_line_of_row"] = out
        return self.__dict__["_line_of_row"]


def group_layout(group: np.ndarray, ties: list[np.ndarray], tie_desc: list[bool],
                 person: np.ndarray) -> Layout | None:
    """The layout of ``rank_in_groups``' rows; None when the groups are too uneven for a padded
    table (it would be over four times the rows).
    """
    if len(group) == 0:
        return None
    sizes = np.bincount(group)
    if len(sizes) * int(sizes.max()) > 4 * len(group) + 4096:
        return None
    keys: list[np.ndarray] = [person]
    for values, desc in zip(reversed(ties), reversed(tie_desc), strict=True):
        v = np.asarray(values, dtype=np.float64)
        keys.append(-v if desc else v)
    order = np.lexsort([*keys, group])
    line = group[order]
    starts = np.cumsum(sizes) - sizes
    return Layout(order, line, np.arange(len(order)) - starts[line], sizes, person)


def _ranked_in_layout(layout: Layout, rounded: np.ndarray) -> Ranked:
    """Rows by group, score descending, then the layout's order: each group's line of the
    padded table sorted on its own (small sorts), not one sort of every row. Groups and places
    are the layout's own; only the order and the runs of tied scores are new.
    """
    sizes = layout.sizes
    width = int(sizes.max())
    starts = layout.starts
    bits = max(1, int(width - 1).bit_length())
    last = layout.__dict__.get("_last")  # the scores and order of the previous call
    if last is not None and len(last[0]) == len(rounded):
        # a slider moves a few scores: only the lines (groups) holding one are sorted again
        changed = np.flatnonzero(last[0] != rounded)
        if len(changed) * 8 < len(rounded) and np.abs(rounded[changed]).max(initial=0.0) < 1e6:
            order = last[1].copy()
            hit = np.zeros(len(sizes), dtype=bool)  # the lines holding a moved score, in order
            hit[layout.line_of_row[changed]] = True
            lines = np.flatnonzero(hit)
            if len(lines):
                positions, rows = _lines_by_score(layout, rounded, lines, bits)
                order[positions] = rows
            layout.__dict__["_last"] = (rounded, order)
            return Ranked(order, layout.line, layout.column, rounded)
    layout.__dict__.pop("_last", None)
    values = rounded[layout.order]
    integer = bool(np.abs(values).max(initial=0.0) < 1e6) and bits <= 13
    if integer:
        # scores on the 1e-9 grid as integers (exact below a million), the column in the low
        # bits: one integer sort per line, ties kept in the layout's order
        key = (np.rint(values * -1e9).astype(np.int64) << bits) | layout.column
        table = np.full((len(sizes), width), np.iinfo(np.int64).max)
        table[layout.line, layout.column] = key
        by_score = np.sort(table, axis=1) & ((1 << bits) - 1)
    else:
        table = np.full((len(sizes), width), np.inf)
        table[layout.line, layout.column] = -values
        by_score = np.argsort(table, axis=1, kind="stable")
    inside = np.arange(width) < sizes[:, None]
    order = layout.order[(starts[:, None] + by_score)[inside]]
    if integer:  # kept for the next call, which may sort only the lines whose scores moved
        layout.__dict__["_last"] = (rounded, order)
    return Ranked(order, layout.line, layout.column, rounded)


def _lines_by_score(layout: Layout, rounded: np.ndarray, lines: np.ndarray, bits: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``lines`` sorted as ``_ranked_in_layout`` sorts every line (the same integer
    keys), and their positions in the ranked order.
    """
    sizes = layout.sizes[lines]
    starts = layout.starts[lines]
    inside = np.arange(int(sizes.max())) < sizes[:, None]
    positions = (starts[:, None] + np.arange(inside.shape[1]))[inside]
    column = layout.column[positions]
    key = (np.rint(rounded[layout.order[positions]] * -1e9).astype(np.int64) << bits) | column
    table = np.full(inside.shape, np.iinfo(np.int64).max)
    table[inside] = key  # positions run line by line, column by column: the mask's order
    by_score = np.sort(table, axis=1) & ((1 << bits) - 1)
    return positions, layout.order[(starts[:, None] + by_score)[inside]]


def rank_in_groups(group: np.ndarray, score: np.ndarray, ties: list[np.ndarray],
                   tie_desc: list[bool], person: np.ndarray, layout: Layout | None = None
                   ) -> Ranked:
    """Sort rows by group, score (high first), the tie columns, then person code (ascending).

    ``layout`` (from ``group_layout`` on the same rows) does the part that does not depend on
    the scores once: a re-run after a score change then sorts within each group only.
    """
    rounded = np.round(score, 9)
    order = None
    if layout is not None and not np.isnan(rounded).any():
        return _ranked_in_layout(layout, rounded)
    if not ties:
        order = _fast_order(group, rounded, person)
    if order is None:
        keys: list[np.ndarray] = [person]
        for values, desc in zip(reversed(ties), reversed(tie_desc), strict=True):
            v = np.asarray(values, dtype=np.float64)
            keys.append(-v if desc else v)
        keys += [-rounded, group]
        order = np.lexsort(keys)
    g = group[order]
    n = len(order)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = g[1:] != g[:-1]
    starts = np.flatnonzero(new_group)
    first = np.repeat(starts, np.diff(np.append(starts, n)))
    return Ranked(order, g, np.arange(n) - first, rounded)


def _fast_order(group: np.ndarray, score: np.ndarray, person: np.ndarray) -> np.ndarray | None:
    """The (group, score desc, person) order as one int64 argsort, when the key fits in 63 bits.

    Scores become their rank among the distinct scores, so three sort keys pack into one integer:
    about three times faster than ``np.lexsort`` on a million rows.
    """
    if len(score) == 0 or np.isnan(score).any():
        return None
    by_score = np.argsort(-score, kind="stable")
    ordered = score[by_score]
    score_rank = np.empty(len(score), dtype=np.int64)
    score_rank[by_score] = np.cumsum(np.r_[0, ordered[1:] != ordered[:-1]])
    n_rank = int(score_rank.max()) + 1
    n_person = int(person.max()) + 1
    n_group = int(group.max()) + 1
    if float(n_group) * n_rank * n_person >= 2.0 ** 62:
        return None
    key = (group.astype(np.int64) * n_rank + score_rank) * n_person + person
    return np.argsort(key)  # keys are unique: no stability needed


def grade_by_quota(ranked: Ranked, quotas: np.ndarray, share_better: bool
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Grade index per sorted row from its group's quotas; and whether its score tie crosses a
    quota boundary. With ``share_better`` a tie on a boundary all takes the better grade.
    """
    plain = quota_grades(ranked, quotas)
    grade = shared_ties(ranked, plain) if share_better else plain
    return grade, boundary_ties(ranked, plain)


def quota_grades(ranked: Ranked, quotas: np.ndarray) -> np.ndarray:
    """Grade index per sorted row from its group's quotas (``quotas[g, k]`` rows of group ``g``
    get grade ``k``), ties not shared.

    Within a group the grade only steps down, so the grades are the quotas written out in
    order: one ``np.repeat``, whatever the number of grades (a slider re-grades without sorting
    again). The quotas must fill each group exactly, as ``apportion``'s do.
    """
    filled = quotas.sum(axis=1)
    if len(quotas) != len(ranked.group_sizes) or not np.array_equal(filled, ranked.group_sizes):
        raise ValueError("quotas must add up to each group's size")
    labels = np.tile(np.arange(quotas.shape[1], dtype=np.int64), len(quotas))
    return np.repeat(labels, quotas.ravel())


def shared_ties(ranked: Ranked, grade: np.ndarray) -> np.ndarray:
    """Grades (per sorted row) with each run of tied scores given its best grade (R24's
    ``share_better``: a tie on a boundary all goes up).
    """
    first, _ = ranked.run_bounds
    return grade[first]


def boundary_ties(ranked: Ranked, grade: np.ndarray) -> np.ndarray:
    """Whether each sorted row's run of tied scores spans two grades (``grade``: ties not
    shared), so that a quota boundary fell inside a tie.
    """
    first, last = ranked.run_bounds
    return grade[first] != grade[last]


def _run_starts(run: np.ndarray) -> np.ndarray:
    starts = np.ones(len(run), dtype=bool)
    starts[1:] = run[1:] != run[:-1]
    return np.flatnonzero(starts)


def demoted_order(group: np.ndarray, score: np.ndarray, person: np.ndarray,
                  demotions: np.ndarray, ties: list[np.ndarray] | None = None,
                  tie_desc: list[bool] | None = None) -> np.ndarray:
    """R26: rank by score, then move each person down one place per demotion.

    A person demoted k places goes just after whoever held the place k below theirs (ties in
    that effective place keep the score order). Returns the 1-based rank of every row.
    """
    ranked = rank_in_groups(group, score, ties or [], tie_desc or [], person)
    effective = ranked.place + np.asarray(demotions, dtype=np.float64)[ranked.order] + np.where(
        np.asarray(demotions)[ranked.order] > 0, 0.5, 0.0)
    order2 = np.lexsort((ranked.place, effective, ranked.group))
    g = ranked.group[order2]
    new_group = np.ones(len(g), dtype=bool)
    new_group[1:] = g[1:] != g[:-1]
    starts = np.flatnonzero(new_group)
    first = np.repeat(starts, np.diff(np.append(starts, len(g))))
    rank = np.empty(len(g), dtype=np.int64)
    rank[ranked.order[order2]] = np.arange(len(g)) - first + 1
    return rank
