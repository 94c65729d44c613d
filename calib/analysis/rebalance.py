"""Ratio rows that must add up to 100 %: move one share and rebalance the others of its row.

A forced distribution (``grading.rules.<rule>.forced.ratios.<grade>``) and each leader-grade row
of a cascade (``grading.rules.<rule>.cascade.ratios.<leader grade>.<grade>``) must add up to 100 %
within 1e-9 (``calib.policy.grading``); a share may be 0 and a grade may be left out of a row.
Moving one share alone is therefore always refused, so the panels move it with ``row_changes``:
the other shares of the row make room (``rebalance``) and the whole row goes in as one change.

The arithmetic is exact (fractions of the decimal numbers people type), so ``20%`` stays 0.2 and
the row adds up to 1 to the last digit a float can show.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from calib._util.tolerance import REL
from calib.errors import CalibError
from calib.policy.paths import join_path, split_path

__all__ = ["ratio_row", "rebalance", "rebalance_note", "row_changes"]

Bounds = Mapping[str, tuple[float, float]]


def ratio_row(path: str) -> str | None:
    """The row a share belongs to, or None when ``path`` is not a share of a ratio row.

    ``grading.rules.shops.forced.ratios.A`` → ``grading.rules.shops.forced.ratios``;
    ``grading.rules.teams.cascade.ratios.B.A`` → ``grading.rules.teams.cascade.ratios.B``.
    """
    try:
        parts = split_path(path)
    except KeyError:
        return None
    if len(parts) < 6 or parts[:2] != ["grading", "rules"] or parts[4] != "ratios":
        return None
    if (parts[3], len(parts)) in (("forced", 6), ("cascade", 7)):
        return join_path(parts[:-1])
    return None


def _exact(x: float) -> Fraction:
    """The decimal a person typed: 0.1 → 1/10, not the binary float next to it."""
    return Fraction(repr(round(float(x), 12)))


def _box(name: str, bounds: Bounds) -> tuple[Fraction, Fraction]:
    lo, hi = bounds.get(name, (0.0, 1.0))
    box = (max(_exact(lo), Fraction(0)), min(_exact(hi), Fraction(1)))
    if box[0] > box[1]:
        raise CalibError(f"the range of share '{name}' is empty: {lo:g} to {hi:g} within 0 to 1")
    return box


def _proportional(current: Mapping[str, Fraction], total: Fraction,
                  box: Mapping[str, tuple[Fraction, Fraction]]) -> dict[str, Fraction]:
    """``total`` shared in proportion to ``current`` (equally when all are 0), within ``box``.

    Shares that would leave their range are pinned to its end and the rest is shared again among
    the others (the side that overshoots most is pinned first).
    """
    pinned: dict[str, Fraction] = {}
    free = list(current)
    while free:
        left = total - sum(pinned.values())
        weight = sum(current[k] for k in free)
        share = {k: left * current[k] / weight if weight else left / len(free) for k in free}
        over = {k: share[k] - box[k][1] for k in free if share[k] > box[k][1]}
        under = {k: box[k][0] - share[k] for k in free if share[k] < box[k][0]}
        if not over and not under:
            pinned.update(share)
            break
        pin, end = (over, 1) if sum(over.values()) >= sum(under.values()) else (under, 0)
        pinned.update({k: box[k][end] for k in pin})
        free = [k for k in free if k not in pin]
    return {k: pinned[k] for k in current}


def _on_steps(shares: Mapping[str, Fraction], total: Fraction, step: Fraction,
              box: Mapping[str, tuple[Fraction, Fraction]]) -> dict[str, Fraction]:
    """Each share rounded to a multiple of ``step`` (halves to the even multiple) within its range;
    what the rounding leaves over goes to the largest share (then the next largest, as far as
    their ranges allow).
    """
    out = dict(shares)
    if step > 0:
        for k, x in shares.items():
            lo, hi = box[k]
            out[k] = min(max(round(x / step) * step, lo), hi)
    residual = total - sum(out.values())
    for k in sorted(out, key=lambda k: out[k], reverse=True):
        if residual == 0:
            break
        lo, hi = box[k]
        new = min(max(out[k] + residual, lo), hi)
        residual -= new - out[k]
        out[k] = new
    return out


def rebalance(row: Mapping[str, float], moved: str, value: float, bounds: Bounds | None = None,
              step: float = 0.01) -> dict[str, float]:
    """The row with share ``moved`` set to ``value`` and the other shares changed to keep 100 %.

    Parameters
    ----------
    row : mapping
        Grade → share of one ratio row (shares 0–1 that add up to 1).
    moved : str
        The share that moved.
    value : float
        Its new value.
    bounds : mapping, optional
        Grade → (min, max) of each share (the sliders' ranges); a share is always within 0–1.
    step : float
        The sliders' step (0.01 for whole percent); 0 leaves the shares unrounded.

    Returns
    -------
    dict
        Grade → share, in the row's order, adding up to 1 within 1e-12.

    Notes
    -----
    The rule:

    1. If ``value`` cannot be met while each other share stays in its range (the others' minimums
       leave less room, or their maximums cannot fill the rest), the moved share is clamped to the
       nearest value that can; the result then shows the clamped value.
    2. The rest (1 − the moved share) is shared among the other shares in proportion to their
       current values (equally when they are all 0). A share that would leave its range is pinned
       at the end of it and the others share what is left, again in proportion.
    3. Each other share is rounded to a multiple of ``step`` (a half to the even multiple, so
       12.5 and 37.5 become 12 and 38 and still add up), so the numbers stay the ones people type
       (28 %, not 28.125 %); the residual of the rounding goes to the largest other share (to the
       next largest when the largest is at the end of its range).

    Examples
    --------
    20/30/40/10 with A moved to 25 %: the others get 75 % in proportion 30:40:10, that is 28.125,
    37.5 and 9.375, rounded to 28, 38 and 9 (which add up to 75: no residual).

    >>> rebalance({"A": 0.2, "B": 0.3, "C": 0.4, "D": 0.1}, "A", 0.25)
    {'A': 0.25, 'B': 0.28, 'C': 0.38, 'D': 0.09}
    """
    if moved not in row:
        raise CalibError(f"'{moved}' is not a share of this row; the shares are: {', '.join(row)}")
    bounds = bounds or {}
    box = {k: _box(k, bounds) for k in row}
    current = {k: _exact(v) for k, v in row.items()}
    others = [k for k in row if k != moved]
    lo = max(box[moved][0], 1 - sum((box[k][1] for k in others), Fraction(0)))
    hi = min(box[moved][1], 1 - sum((box[k][0] for k in others), Fraction(0)))
    if lo > hi:
        raise CalibError("no share of this row keeps it at 100% within the ranges of its shares: "
                         + ", ".join(f"{k} {float(a):g}–{float(b):g}" for k, (a, b) in box.items()))
    target = min(max(_exact(value), lo), hi)
    if target == current[moved] and sum(current.values()) == 1:
        return {k: float(v) for k, v in row.items()}
    rest = _proportional({k: current[k] for k in others}, 1 - target, box)
    rest = _on_steps(rest, 1 - target, _exact(step), box)
    return {k: float(target if k == moved else rest[k]) for k in row}


def row_changes(values: Mapping[str, float], path: str, value: float, bounds: Bounds | None = None,
                step: float = 0.01) -> dict[str, float]:
    """The changes (path → value) that set the share at ``path`` and rebalance its row.

    ``values`` holds a policy's numbers by path (``{p.path: p.value for p in policy.params()}``
    or any subset that holds the whole row) and ``bounds`` their ranges by path. The moved path is
    always in the answer (with its clamped value when ``value`` could not be met); other shares
    only when they change, and nothing outside the row. A path that is not a share of a ratio row
    comes back alone, as given.
    """
    row = ratio_row(path)
    if row is None:
        return {path: value}
    members = {p: p[len(row) + 1:] for p in values if ratio_row(p) == row}
    members.setdefault(path, path[len(row) + 1:])
    bounds = bounds or {}
    new = rebalance({g: values.get(p, value) for p, g in members.items()}, members[path], value,
                    {g: bounds[p] for p, g in members.items() if p in bounds}, step)
    return {p: new[g] for p, g in members.items() if p == path or new[g] != values[p]}


def _percent(share: float) -> str:
    return f"{round(share * 100, 6):g}%"


def rebalance_note(before: Mapping[str, float], after: Mapping[str, float], moved: str,
                   asked: float) -> str:
    """What a rebalance did, in a line: ``B 30% → 28%, C 40% → 38% to keep the row at 100%``,
    after the clamped value when the moved share could not be met.
    """
    notes = []
    if abs(after[moved] - asked) > REL:
        notes.append(f"{moved} {_percent(asked)} is not possible within the other shares' ranges: "
                     f"set to {_percent(after[moved])}.")
    changed = [f"{k} {_percent(before[k])} → {_percent(after[k])}" for k in after
               if k != moved and after[k] != before[k]]
    if changed:
        notes.append(f"{', '.join(changed)} to keep the row at 100%.")
    return " ".join(notes)
