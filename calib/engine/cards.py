"""Scorecards (SCHEMES.md R13, R16, R17, R19): from the root's points to each row's final score.

Steps, in order: root → add/deduct events → [min, max] → group-average cap → bonus points
→ whole-score vetoes. A team lead's card (R19) is computed after the members' cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calib._util.columns import LabelColumn
from calib._util.memo import remember, stored_key
from calib._util.text import text_codes
from calib._util.tolerance import REL
from calib.data.calendar import period_label
from calib.engine.approvals import approval_flags
from calib.engine.frame import Frame
from calib.errors import DataError
from calib.kernels.conditions import holds
from calib.policy.scoring import Adjustments, GroupAverageCap, Scorecard


@dataclass
class CardOutput:
    """Per-row score parts, filled card by card (NaN where a part does not apply)."""

    n: int
    base: np.ndarray = field(init=False)
    score: np.ndarray = field(init=False)
    capped: np.ndarray = field(init=False)
    vetoed: LabelColumn = field(init=False)
    lowest_grade: np.ndarray = field(init=False)
    group_caps: list[dict] = field(default_factory=list)
    adjustment_flags: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        self.base = np.full(self.n, np.nan)
        self.score = np.full(self.n, np.nan)
        self.capped = np.zeros(self.n, dtype=bool)
        self.vetoed = LabelColumn(self.n)
        self.lowest_grade = np.zeros(self.n, dtype=bool)

    def _part(self, name: str) -> np.ndarray:
        """A part only some scorecards have, all NaN until one writes it (made when first
        read: a scheme without adjustments or bonus points re-scores without them).
        """
        if name not in self.__dict__:
            self.__dict__[name] = np.full(self.n, np.nan)
        return self.__dict__[name]

    added = property(lambda self: self._part("added"), doc="Points added by events (R15).")
    deducted = property(lambda self: self._part("deducted"), doc="Points deducted by events (R15).")
    bonus = property(lambda self: self._part("bonus"), doc="Bonus points after scoring (R17).")


def card_choice(frame: Frame) -> tuple[np.ndarray, list[tuple[str, str, np.ndarray]]]:
    """Index of the scorecard whose ``when`` holds, per row (the default card takes the rest;
    −1: none applies), and the clashes: (card, other card, rows matching both) for each card
    whose condition holds on rows an earlier card's condition already took.
    """
    card = np.full(frame.n, -1, dtype=np.intp)
    names = list(frame.policy.scorecards)
    default = None
    clashes: list[tuple[str, str, np.ndarray]] = []
    for i, sc in enumerate(frame.policy.scorecards.values()):
        if sc.when is None:
            default = i
            continue
        hit = holds(sc.when, frame.column(sc.when.column))
        clash = hit & (card >= 0)
        if clash.any():
            other = names[int(card[np.flatnonzero(clash)[0]])]
            clashes.append((names[i], other, clash))
            hit &= ~clash
        card[hit] = i
    if default is not None:
        card[card < 0] = default
    return card, clashes


def clash_problem(name: str, other: str) -> tuple[str, str]:
    """The problem and fix of a row matching both scorecards' conditions."""
    return (f"matches both scorecards '{other}' and '{name}'",
            f"make the conditions exclusive (scorecards.{other}.when, scorecards.{name}.when)")


def assign_cards(frame: Frame) -> np.ndarray:
    """Index of the scorecard whose ``when`` holds, per row (see ``card_choice``). The data
    checks refuse a row matching two conditions when the data are loaded
    (``checks.check_rules``); a frame that skipped them still gets the DataError here.
    """
    card, clashes = card_choice(frame)
    if clashes:
        name, other, clash = clashes[0]
        rows = np.flatnonzero(clash)
        problem, fix = clash_problem(name, other)
        when = frame.policy.scorecards[name].when
        assert when is not None, "only a card with a condition clashes (card_choice)"
        raise DataError(pd.DataFrame({
            "table": "records", "row": frame.row_numbers()[rows],
            "id": frame.record_ids()[rows], "column": when.column,
            "problem": problem, "value": None, "fix": fix}))
    return card


def _adjustments(frame: Frame, adj: Adjustments) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    ev = frame.events[adj.table]
    pts = np.asarray(ev.column(adj.points), dtype=np.float64)
    ok = ev.row >= 0
    plus = np.bincount(ev.row[ok], weights=np.where(pts[ok] > 0, pts[ok], 0.0), minlength=frame.n)
    minus = np.bincount(ev.row[ok], weights=np.where(pts[ok] < 0, pts[ok], 0.0), minlength=frame.n)
    approved = None if adj.approved is None else np.asarray(ev.column(adj.approved), dtype=bool)
    roles = None if adj.authority is None else ev.column(adj.authority.column)
    needs, note = approval_flags(pts, approved, roles, adj)
    flags = ev.typed.frame.copy()
    flags.insert(0, "row", np.asarray(ev.typed.rows))
    flags["needs_approval"] = needs
    flags["approval_note"] = note
    return plus, minus, flags


def _by_period(frame: Frame, column: str, rows: np.ndarray | slice
               ) -> tuple[np.ndarray, pd.Index]:
    """Code per row of ``rows`` for its (``column``, period) pair, and the pairs: the data's
    alone, kept for re-runs (teams of R19, groups of a group-average cap).
    """
    codes, names = text_codes(frame.column(column))  # blank and missing cells: one group
    pair, uniques = pd.factorize(pd.MultiIndex.from_arrays([codes[rows], frame.period[rows]]))
    text = np.array([*names, None], dtype=object)  # −1 takes the last entry
    return pair, pd.MultiIndex.from_arrays([text[uniques.get_level_values(0)],
                                            uniques.get_level_values(1)])


def _group_average(frame: Frame, rows: np.ndarray, out: CardOutput, cap: GroupAverageCap,
                   card_name: str, ceiling: float | None) -> None:
    codes, uniques = remember(frame.memo, ("cap groups", cap.by,
                                           stored_key(frame.memo, rows, kept=False)),
                              lambda: _by_period(frame, cap.by, rows))
    score = out.score[rows]
    n = np.bincount(codes, minlength=len(uniques))
    mean = np.bincount(codes, weights=score, minlength=len(uniques)) / n
    over = mean > cap.max + REL
    for g in np.flatnonzero(over):
        member = codes == g
        entry = {"scorecard": card_name, "group": uniques[g][0],
                 "period": period_label(uniques[g][1], frame.policy.calendar.frequency),
                 "size": int(n[g]), "mean_before": round(float(mean[g]), 9), "cap": cap.max,
                 "method": cap.method, "scale": 1.0}
        if cap.method == "scale":
            added = np.nan_to_num(out.added[rows][member])
            base = score[member] - added
            total_add = added.sum()
            factor = 0.0 if total_add <= 0 else float(
                np.clip((cap.max * n[g] - base.sum()) / total_add, 0.0, 1.0))
            new = np.round(base + factor * added, 9)
            if ceiling is not None:
                new = np.minimum(new, ceiling)
            idx = rows[member]
            out.score[idx] = new
            out.added[idx] = np.round(factor * added, 9)
            out.capped[idx] = True
            entry["scale"] = round(factor, 9)
            entry["mean_after"] = round(float(new.mean()), 9)
        else:
            entry["mean_after"] = entry["mean_before"]
        out.group_caps.append(entry)


def run_card(frame: Frame, card_name: str, card: Scorecard, rows: np.ndarray, root: np.ndarray,
             out: CardOutput) -> None:
    """Apply one scorecard's steps to its rows (``root`` is the root's value for every row)."""
    base = root[rows]
    out.base[rows] = base
    score = base  # the steps below make new arrays (``base`` is not changed)
    if card.adjustments is not None:
        plus, minus, flags = _adjustments(frame, card.adjustments)
        out.added[rows], out.deducted[rows] = plus[rows], minus[rows]
        score = score + plus[rows] + minus[rows]
        flags["scorecard"] = card_name
        out.adjustment_flags = pd.concat([out.adjustment_flags, flags], ignore_index=True) \
            if out.adjustment_flags is not None else flags
    if card.min is not None:
        out.capped[rows] |= score < card.min
        score = np.maximum(score, card.min)
    if card.max is not None:
        out.capped[rows] |= score > card.max
        score = np.minimum(score, card.max)
    out.score[rows] = np.round(score, 9)
    if card.adjustments is not None and card.adjustments.group_average is not None:
        rated = rows[~np.isnan(out.score[rows])]
        _group_average(frame, rated, out, card.adjustments.group_average, card_name, card.max)
    finish_card(frame, card, rows, out)


def finish_card(frame: Frame, card: Scorecard, rows: np.ndarray, out: CardOutput) -> None:
    """Bonus points after scoring (R17), then whole-score vetoes (R13)."""
    if card.bonus is not None:
        bonus = np.nan_to_num(np.asarray(frame.column(card.bonus.column), dtype=np.float64)[rows])
        out.bonus[rows] = bonus
        out.score[rows] = np.round(out.score[rows] + bonus, 9)
    for veto in card.vetoes:
        hit = holds(veto.when, frame.column(veto.when.column))[rows]
        label = veto.label or veto.when.describe()
        idx = rows[hit]
        mask = np.zeros(out.n, dtype=bool)
        mask[idx] = True
        out.vetoed.set(mask, label)
        if veto.effect == "zero":
            out.score[idx] = 0.0
        else:
            out.lowest_grade[idx] = True


def run_team_card(frame: Frame, card: Scorecard, rows: np.ndarray, member_rows: np.ndarray,
                  out: CardOutput) -> None:
    """R19: lead's score = mean of the rated members' scores in the same team and period × factor."""
    team = card.team
    assert team is not None
    codes = remember(frame.memo, ("team codes", team.team),
                     lambda: _by_period(frame, team.team, slice(None))[0])
    members = member_rows[~np.isnan(out.score[member_rows])]
    total = np.bincount(codes[members], weights=out.score[members], minlength=codes.max() + 1)
    count = np.bincount(codes[members], minlength=codes.max() + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    value = np.round(mean[codes[rows]] * team.factor, 9)
    if team.max is not None:
        out.capped[rows] |= value > team.max
        value = np.minimum(value, team.max)
    out.base[rows] = np.round(mean[codes[rows]], 9)
    out.score[rows] = value
    finish_card(frame, card, rows, out)
