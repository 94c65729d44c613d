"""Who moved grade between two runs: one table, one vocabulary, the grade scale's order.

Every view of a change (the dashboard's "who moved" table, ``impact``, the ``moved`` chart, the
what-if panel, ``sensitivity``'s counts) reads :func:`moves`, so they list the same people with
the same words. A row *moved* when its grade differs between the two sides (not graded counts as
a grade of its own), and its ``move`` is one of:

- ``up``: a better grade after (earlier in the scale: A+ is better than A);
- ``down``: a worse grade after;
- ``new``: graded after only (not graded before, or not there);
- ``gone``: graded before only.

Grades are ordered by the policies' scales: the after policy's, with a grade that only the before
policy has placed after the nearest better grade the two share. Grades are matched by name, so
nobody whose grade is equal is ever listed. Two plain grades tables without a policy are ordered
by each grade's mean score.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calib._util.text import as_text
from calib.engine.result import Result
from calib.errors import CalibError
from calib.kernels.money import to_units, units_to_float
from calib.policy.model import Policy

MOVES = ("up", "down", "new", "gone")
"""The directions of a move, in the order counts list them."""

SAME = "same"
"""The ``move`` of a row whose grade did not change (listed only with ``everyone=True``)."""

KEYS = ["id", "period"]
COLUMNS = ["id", "period", "move", "grade_before", "grade_after", "score_before", "score_after",
           "score_change", "payout_before", "payout_after", "payout_change"]

__all__ = ["COLUMNS", "MOVES", "SAME", "grade_order", "move_counts", "moves"]

_LABELS = np.array([SAME, *MOVES], dtype=object)


def moves(before: Any, after: Any, policy: Policy | None = None, *,
          everyone: bool = False) -> pd.DataFrame:
    """The rows whose grade changed between two runs, with the direction of each change.

    Parameters
    ----------
    before, after : Result, Scenario or DataFrame
        The two runs (a ``Scenario`` stands for its result), or two grades tables with columns
        ``id``, ``period``, ``score`` and ``grade`` (and ``payout`` when there is one). A run
        whose policy does not grade has no graded rows.
    policy : Policy, optional
        The grade scale to order by; default: the scales of the two runs' policies (the after
        one first), or each grade's mean score for two plain tables.
    everyone : bool, default False
        Also list the rows whose grade is the same (their ``move`` is ``"same"``): every row of
        either side.

    Returns
    -------
    DataFrame
        One row per (id, period) that moved, in the after side's row order (rows only there
        before last): ``id``, ``period`` (text), ``move`` (``up``, ``down``, ``new``, ``gone``),
        ``grade_before``, ``grade_after`` (grade names; missing where not graded),
        ``score_before``, ``score_after``, ``score_change``, and ``payout_before``,
        ``payout_after``, ``payout_change`` where a run pays on the level it grades (NaN
        otherwise; the change is exact to the pay unit).

    Raises
    ------
    CalibError
        If a side is neither a run nor a grades table, a grades table lacks a column, or it
        holds one id and period twice.

    Examples
    --------
    >>> from calib.analysis.moves import move_counts, moves
    >>> s = calib.Scenario(calib.load_policy("datasets/gas_cs/policy.yaml"), "datasets/gas_cs")
    >>> moved = moves(s, s.with_params({"grading.scale.grades[0].min": 93}))  # A+ from 95
    >>> move_counts(moved)
    {'up': 67, 'down': 0, 'new': 0, 'gone': 0}
    """
    b, a = _result(before), _result(after)
    pairs = _by_row(b, a) if b is not None and a is not None else None
    if pairs is None:
        pairs = _by_table(_side(before, b), _side(after, a))
    scales = [policy] if policy is not None else [r.policy for r in (a, b) if r is not None]
    order = grade_order(*scales) if scales else pairs.mean_order()
    rank_b, rank_a = pairs.ranks(order)
    code = np.select([rank_b == rank_a, rank_b < 0, rank_a < 0, rank_a < rank_b], [0, 3, 4, 1], 2)
    keep = np.arange(len(code)) if everyone else np.flatnonzero(code)
    return pairs.table(_LABELS[code[keep]], keep)


def move_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many rows of a :func:`moves` table moved each way (every direction, 0 when none),
    and how many kept their grade when the table lists everyone.
    """
    counts = Counter(table["move"].tolist())  # a dashboard counts a few rows on every move
    names = [*MOVES, SAME] if SAME in counts else list(MOVES)
    return {m: counts.get(m, 0) for m in names}


def grade_order(*policies: Policy | None) -> dict[str, int]:
    """Grade name → rank (0 best) over the scales of ``policies``: the first one's scale, then
    each grade only a later one has, placed after the nearest better grade already placed.
    """
    order: list[str] = []
    for policy in policies:
        if policy is None or policy.grading is None:
            continue
        at = 0
        for name in policy.grading.scale.names():
            if name in order:
                at = order.index(name) + 1
            else:
                order.insert(at, name)
                at += 1
    return {name: i for i, name in enumerate(order)}


# --- the two sides, matched ------------------------------------------------------------------
class _Coded:
    """A text column kept as distinct names (text) and a code per row (−1: none) until rows are
    picked: a slider's re-run compares 120,000 codes and writes out only the few that moved.
    """

    def __init__(self, names: Any, codes: np.ndarray):
        self.names = np.append(np.asarray(names, dtype=object), None)
        self.codes = np.asarray(codes, dtype=np.int64)

    @classmethod
    def of(cls, values: np.ndarray) -> _Coded:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return cls(uniques, codes)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return self.names[self.codes[rows]]  # −1 takes the last entry, None


@dataclass
class _Pairs:
    """Both sides' rows matched: keys, grade codes, scores and pay units, by side."""

    id: _Coded
    period: _Coded
    grade: dict[str, _Coded]
    score: dict[str, np.ndarray]
    units: dict[str, np.ndarray]
    paid: dict[str, np.ndarray]
    unit: dict[str, float]

    def ranks(self, order: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
        """Each row's grade rank on both sides (−1: not graded); a grade no scale knows ranks
        after the scale by name, so two different grades never share a rank.
        """
        known = {str(n) for g in self.grade.values() for n in g.names[:-1]}
        extra = {n: len(order) + i for i, n in enumerate(sorted(known - set(order)))}
        out = []
        for side in ("before", "after"):
            g = self.grade[side]
            table = np.array([order.get(n, extra.get(n)) for n in g.names[:-1]] + [-1],
                             dtype=np.int64)
            out.append(table[g.codes])
        return out[0], out[1]

    def mean_order(self) -> dict[str, int]:
        """Grade → rank by the grade's mean score over both sides (higher first)."""
        rows = np.arange(len(self.score["after"]))
        grades = np.concatenate([self.grade["before"][rows], self.grade["after"][rows]])
        scores = np.concatenate([self.score["before"], self.score["after"]])
        graded = grades != None  # noqa: E711
        means = pd.Series(scores[graded]).groupby(grades[graded]).mean()
        means = means.sort_values(ascending=False, kind="stable")
        return {str(g): i for i, g in enumerate(means.index)}

    def table(self, move: np.ndarray, rows: np.ndarray) -> pd.DataFrame:
        """The moves table of ``rows``; money compared in whole pay units."""
        unit = min(self.unit.values())
        money: dict[str, np.ndarray] = {}
        units = {}
        for side in ("before", "after"):
            u, own = self.units[side][rows], self.unit[side]
            money[f"payout_{side}"] = np.where(self.paid[side][rows], units_to_float(u, own), np.nan)
            units[side] = u if own == unit else to_units(units_to_float(u, own), unit)
        both = self.paid["before"][rows] & self.paid["after"][rows]
        money["payout_change"] = np.where(
            both, units_to_float(units["after"] - units["before"], unit), np.nan)
        score_b, score_a = self.score["before"][rows], self.score["after"][rows]
        return pd.DataFrame({
            "id": self.id[rows], "period": self.period[rows], "move": move,
            "grade_before": self.grade["before"][rows], "grade_after": self.grade["after"][rows],
            "score_before": score_b, "score_after": score_a, "score_change": score_a - score_b,
            **money,
        }, columns=COLUMNS)


def _result(side: Any) -> Result | None:
    """The run a side stands for (a ``Scenario`` by its result); None for a plain table."""
    result = getattr(side, "result", side)
    return result if isinstance(result, Result) else None


def _by_row(b: Result, a: Result) -> _Pairs | None:
    """Both runs' rows from the stages' arrays, when both grade the period rows of the same
    data (a slider's scenarios): no table is built or merged. None otherwise.
    """
    fb, fa, xb, xa = b.frame, a.frame, b.arrays, a.arrays
    if (fb is None or fa is None or xb.get("graded_on") != "period"
            or xa.get("graded_on") != "period" or fb.person is not fa.person
            or fb.period is not fa.period or len(xb.get("grade", ())) != fa.n
            or len(xa.get("grade", ())) != fa.n or "score" not in xb or "score" not in xa):
        return None
    periods = pd.Categorical(fa.period_labels)
    pairs = _Pairs(_Coded(fa.id_categories, fa.person), _Coded(periods.categories, periods.codes),
                   {}, {}, {}, {}, {})
    for side, x in (("before", xb), ("after", xa)):
        pairs.grade[side] = _Coded(x["grade_names"], x["grade"])
        pairs.score[side] = np.asarray(x["score"], dtype=np.float64)
        units = x.get("payout_units")
        paid = x.get("paid_on") == "period" and units is not None and len(units) == fa.n
        pairs.units[side] = units if paid else np.zeros(fa.n, dtype=np.int64)
        pairs.paid[side] = np.full(fa.n, paid)
        pairs.unit[side] = float(x.get("unit", 0.01))
    return pairs


def _side(side: Any, result: Result | None) -> pd.DataFrame:
    """A side's graded rows: id, period, grade (text, None where not graded), score, payout
    (when it pays on the level it grades, else NaN); with the pay unit as ``attrs["unit"]``.
    """
    if result is None:
        if not isinstance(side, pd.DataFrame):
            raise CalibError(f"who moved compares two results or two grades tables, not "
                             f"{type(side).__name__}")
        table, payout, unit = side, side.get("payout"), 0.01
    else:
        policy, table, payout = result.policy, result.grades, None
        unit = policy.pay.unit if policy.pay is not None else 0.01
        if table is None:
            table = pd.DataFrame({c: [] for c in ("id", "period", "score", "grade")})
        elif result.payouts is not None and policy.pay.on == policy.grading.on:
            payout = table[KEYS].astype(str).merge(
                result.payouts[[*KEYS, "payout"]].astype({"id": str, "period": str}),
                on=KEYS, how="left")["payout"]
    missing = [c for c in ("id", "period", "score", "grade") if c not in table.columns]
    if missing:
        raise CalibError("a grades table needs columns id, period, score, grade; "
                         f"missing: {', '.join(missing)}")
    out = pd.DataFrame({
        "id": as_text(table["id"]), "period": as_text(table["period"]),
        "grade": as_text(table["grade"]),
        "score": pd.to_numeric(table["score"], errors="coerce").to_numpy(dtype=np.float64),
        "payout": np.full(len(table), np.nan) if payout is None else
        pd.to_numeric(payout, errors="coerce").to_numpy(dtype=np.float64)})
    twice = out.duplicated(KEYS).to_numpy()
    if twice.any():
        row = out.iloc[int(np.argmax(twice))]
        raise CalibError(f"a grades table holds id {row['id']} in period {row['period']} more "
                         "than once: give one row per id and period")
    out.attrs["unit"] = unit
    return out


def _by_table(b: pd.DataFrame, a: pd.DataFrame) -> _Pairs:
    """Both sides matched on (id, period): the after side's rows in order, then the rows only
    before.
    """
    m = a.merge(b, on=KEYS, how="left", suffixes=("_after", "_before"))
    only = b[~pd.MultiIndex.from_frame(b[KEYS]).isin(pd.MultiIndex.from_frame(a[KEYS]))]
    m = pd.concat([m, only.rename(columns={c: f"{c}_before" for c in only.columns
                                           if c not in KEYS})], ignore_index=True)
    pairs = _Pairs(_Coded.of(m["id"].to_numpy(dtype=object)),
                   _Coded.of(m["period"].to_numpy(dtype=object)), {}, {}, {}, {}, {})
    for side, frame in (("before", b), ("after", a)):
        payout = m[f"payout_{side}"].to_numpy(dtype=np.float64, na_value=np.nan)
        unit = frame.attrs["unit"]
        pairs.grade[side] = _Coded.of(m[f"grade_{side}"].to_numpy(dtype=object))
        pairs.score[side] = m[f"score_{side}"].to_numpy(dtype=np.float64, na_value=np.nan)
        pairs.paid[side] = ~np.isnan(payout)
        pairs.units[side] = to_units(np.nan_to_num(payout), unit)
        pairs.unit[side] = unit
    return pairs
