"""R19 in pay: ``factor`` × the mean, over the rated members of the row's team in the same period,
of their score or of another component's amounts as paid to them (a call-centre lead's 考核工资 =
the members' mean 考核工资 × 1.2).

It reads other people's rows, so the Monte Carlo pays it as the person's historical mean (form
``history``, said in the simulation's notes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib._util.memo import remember
from calib._util.text import text_codes
from calib.engine.components.context import PayContext
from calib.engine.components.kind import ComponentKind, Reads
from calib.engine.grading import Population
from calib.policy import pay as P


def team_groups(pop: Population, team: str) -> np.ndarray:
    """A code per row for its (team, period) pair, −1 where the team cell is blank (no team):
    the data's alone, kept for re-runs.
    """
    codes, _ = text_codes(pop.column(team))
    period = pd.factorize(pop.period)[0].astype(np.int64)
    key = np.where(codes >= 0, period * (int(codes.max(initial=0)) + 1) + codes, -1)
    group = np.full(pop.n, -1, dtype=np.int64)
    has = key >= 0
    group[has] = pd.factorize(key[has])[0]
    return group


def member_values(c: PayContext, comp: P.TeamMean, path: str) -> np.ndarray:
    """What is averaged, per row: the score, or the units (whole cents or yuan, signed) paid by
    the component ``of`` names (which the engine pays first, whatever the order listed).
    """
    if comp.of == "score":
        return c.pop.score
    paid = c.paid.get(comp.of)
    if paid is None:  # the engine pays it first (``calib.engine.payout.paying_order``)
        raise RuntimeError(f"{path}.of: component '{comp.of}' has not been paid on these rows; "
                           "pay it first and put its units in PayContext.paid")
    return paid.astype(np.float64)


def team_means(c: PayContext, comp: P.TeamMean, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the mean value over its team's rated members in its period (NaN where there is
    none, or no team) and how many members were averaged.
    """
    pop = c.pop
    group = remember(pop.memo, ("team groups", comp.team, pop.rows_key),
                     lambda: team_groups(pop, comp.team))
    cards = [i for i, name in enumerate(c.policy.scorecards) if name in comp.members]
    member = pop.rated & np.isin(pop.card, cards) & (group >= 0)
    values = member_values(c, comp, path)
    size = int(group.max(initial=-1)) + 1
    total = np.bincount(group[member], weights=values[member], minlength=size)
    count = np.bincount(group[member], minlength=size)
    mean = np.full(pop.n, np.nan)
    has = group >= 0
    n = np.zeros(pop.n, dtype=np.int64)
    n[has] = count[group[has]]
    ok = n > 0
    mean[ok] = total[group[ok]] / n[ok]
    return mean, n


def amount(c: PayContext, comp: P.TeamMean, path: str) -> np.ndarray:
    """The team's mean × ``factor`` (a mean of units × the unit: no binary noise in the money);
    0 where the team has no rated member that period.
    """
    mean, _ = team_means(c, comp, path)
    scale = 1.0 if comp.of == "score" else c.policy.pay.unit
    return np.nan_to_num(mean * comp.factor * scale, nan=0.0)


def reads(comp: P.TeamMean) -> Reads:
    """Other rows (the team's members): their scores, or the amounts of the component ``of``."""
    of_score = comp.of == "score"
    return Reads(score=of_score, other_rows=True, amounts=() if of_score else (comp.of,))


KIND = ComponentKind(P.TeamMean, amount, reads=reads)
