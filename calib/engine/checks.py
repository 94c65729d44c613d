"""Data checks that depend on the rules: SLA categories, rater roles, add/deduct levels, bonus range."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import numpy as np

from calib._util.memo import json_key, remember
from calib._util.text import as_text, text_codes
from calib.errors import DataError
from calib.policy.measures import RatingMeasure, SlaMeasure

if TYPE_CHECKING:
    from calib.data.validate import Problems
    from calib.engine.frame import Frame
    from calib.policy.model import Policy


def _not_in(values: object, known: Collection[str]) -> np.ndarray:
    """Rows whose clean text is not one of ``known``; missing and blank cells are not reported.
    Only the distinct texts are looked up.
    """
    codes, names = text_codes(values)
    return np.array([n not in known for n in names] + [False], dtype=bool)[codes]  # −1: last


def check_rules(frame: Frame, p: Problems) -> None:
    """Add every rule-specific data problem of ``frame`` to ``p``."""
    policy = frame.policy
    for name, m in policy.measures.items():
        if m.__class__ is SlaMeasure and m.table in frame.events:
            if m.default_limit is None:
                cats = frame.events[m.table].typed.frame[m.category]
                p.rows(m.table, _not_in(cats, m.limits), m.category, f"category has no time "
                       f"limit in measure '{name}'", f"add it under measures.{name}.limits, or "
                       "set default_limit", as_text(cats))
        elif m.__class__ is RatingMeasure and m.table in frame.events:
            roles = frame.events[m.table].typed.frame[m.rater]
            p.rows(m.table, _not_in(roles, m.weights), m.rater, f"rater role not weighted in "
                   f"measure '{name}'", f"use one of: {', '.join(m.weights)}", as_text(roles))
    _check_cards_exclusive(frame, p)
    for cname, card in policy.scorecards.items():
        adj = card.adjustments
        if adj is not None and adj.levels is not None and adj.table in frame.events:
            pts = frame.events[adj.table].column(adj.points)
            ok = np.isin(np.round(np.asarray(pts, dtype=float), 9), np.round(adj.levels, 9))
            levels = ", ".join(f"{v:+g}" for v in adj.levels)
            p.rows(adj.table, ~ok & ~np.isnan(pts), adj.points, "points not an allowed level",
                   f"use one of {levels} (scorecards.{cname}.adjustments.levels)", pts)
        if adj is not None and adj.authority is not None and adj.table in frame.events:
            auth = adj.authority
            roles = frame.events[adj.table].typed.frame[auth.column]
            p.rows(adj.table, _not_in(roles, auth.roles), auth.column,
                   "role not in the approval authority list",
                   f"use one of: {', '.join(auth.roles)}, or add the role under "
                   f"scorecards.{cname}.adjustments.authority.roles", as_text(roles))
        if card.bonus is not None and frame.has_column(card.bonus.column):
            b = np.asarray(frame.column(card.bonus.column), dtype=float)
            out = (b < card.bonus.min) | (b > card.bonus.max)
            p.rows("records", out & (b != 0), card.bonus.column,
                   f"bonus points outside [{card.bonus.min:g}, {card.bonus.max:g}]",
                   f"commendation points must lie within scorecards.{cname}.bonus", b)


def _check_cards_exclusive(frame: Frame, p: Problems) -> None:
    """A records row may match one scorecard's ``when`` only (a card without one takes the
    rest): a row matching two is reported here, when the data are loaded, rather than when the
    run assigns the cards.
    """
    from calib.engine.cards import card_choice, clash_problem

    _, clashes = card_choice(frame)
    for name, other, rows in clashes:
        when = frame.policy.scorecards[name].when
        assert when is not None, "only a card with a condition clashes (card_choice)"
        column = when.column
        p.rows("records", rows, column, *clash_problem(name, other), frame.column(column))


def rules_key(policy: Policy) -> tuple:
    """The policy parts that ``check_rules`` reads: SLA and rating measures, and each scorecard's
    condition, add/deduct levels and bonus range. Two policies with equal parts accept the same
    data.
    """
    measures = tuple(json_key(m) for m in policy.measures.values()
                     if m.__class__ in (SlaMeasure, RatingMeasure))
    cards = tuple((json_key(c.when) if c.when is not None else None,
                   json_key(c.adjustments) if c.adjustments is not None else None,
                   json_key(c.bonus) if c.bonus is not None else None)
                  for c in policy.scorecards.values())
    return measures, cards


def check_rules_again(frame: Frame) -> None:
    """Check the data against the rules of ``frame.policy`` once more, for a policy derived from
    the one the data was loaded under (``Scenario.with_params``): a lowered bonus maximum or a
    changed add/deduct level can make recorded values invalid, and the re-run must refuse them
    as loading the data under the new policy does. Raises DataError naming the rows; the outcome
    is remembered per rules (a slider on anything else checks nothing again).
    """
    from calib.data.validate import Problems

    ds = frame.dataset
    if ds is None:
        return

    def problems() -> object:
        p = Problems(ds, frame.policy.inputs.id)
        check_rules(frame, p)
        try:
            p.raise_if_any()
        except DataError as exc:
            return exc.problems
        return None

    found = remember(frame.memo, ("rule checks", rules_key(frame.policy)), problems)
    if found is not None:
        raise DataError(found)
