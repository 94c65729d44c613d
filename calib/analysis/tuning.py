"""A tuning change worth trying on a scheme: the tuned copy notebook 06 compares with last year's
and freezes (no scheme logic lives in a notebook).

The change is one step a committee would discuss first, tried in this order:

1. the best grade's minimum score one point higher (one lower when its range has no room);
2. five percentage points moved from a grade's ratio to the next one's, in the first ratio row
   of a forced distribution or a cascade (the row still adds up to 100 %);
3. the first pay amount or coefficient 5 % higher (5 % lower when its range has no room).

Every value stays inside the parameter's range (``Policy.params``) and the changed policy is
validated before it is suggested.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal

from calib.errors import PolicyError
from calib.policy.model import Policy
from calib.policy.paths import Param, join_path, split_path

RATIO_STEP = Decimal("0.05")
"""Five percentage points."""
SCORE_STEP = 1.0
PAY_FACTOR = Decimal("1.05")


class Tuning(dict[str, float]):
    """New values by parameter path (``Policy.with_params`` takes it), with ``reason``: what the
    change is, or why there is none (then the dict is empty).
    """

    def __init__(self, changes: dict[str, float] | None = None, reason: str = "") -> None:
        super().__init__(changes or {})
        self.reason = reason


def suggest_tuning(policy: Policy) -> Tuning:
    """A tuning change worth trying on ``policy``, inside every parameter's range.

    Parameters
    ----------
    policy : Policy
        The scheme to tune (last year's).

    Returns
    -------
    Tuning
        ``{path: new value}`` for ``policy.with_params``, and ``reason`` saying what it does:
        the best grade's minimum one point higher (or lower, at the top of its range); else five
        percentage points moved from the first ratio of a forced distribution or cascade row to
        the next (less when the ranges leave less room, the row still adding up to 100 %); else
        the first pay amount or coefficient 5 % higher (or lower). Empty, with the reason, when
        the scheme has none of these with room to move.

    Examples
    --------
    >>> tuning = suggest_tuning(calib.load_policy("datasets/ecommerce_cs/policy.yaml"))
    >>> dict(tuning)
    {'grading.rules.shops.forced.ratios.优秀': 0.1, 'grading.rules.shops.forced.ratios.良好': 0.4}
    >>> tuning.reason
    '5 percentage points moved from 优秀 (15% → 10%) to 良好 (35% → 40%) in grading.rules.shops.forced.ratios'
    """
    params = policy.params()
    for changes, reason in (*_best_minimum(policy, params), *_ratio_moves(params),
                            *_pay_moves(policy, params)):
        try:
            policy.with_params(changes)
        except PolicyError:
            continue  # another rule of the policy refuses it: try the next change
        return Tuning(changes, reason)
    return Tuning({}, "nothing to tune: the scheme has no grade minimum, grade ratio or pay "
                      "amount with room to move inside its range")


def _fits(p: Param, value: float) -> bool:
    """``value`` inside ``p``'s range (its exclusive ends excluded)."""
    low = p.min is None or (value > p.min if p.min_exclusive else value >= p.min)
    high = p.max is None or (value < p.max if p.max_exclusive else value <= p.max)
    return low and high


def _number(value: float) -> str:
    return f"{value:g}"


def _best_minimum(policy: Policy, params: list[Param]) -> Iterator[tuple[dict[str, float], str]]:
    """The best grade with a minimum score: one point higher, else one lower."""
    if policy.grading is None:
        return
    by_path = {p.path: p for p in params}
    for i, grade in enumerate(policy.grading.scale.grades):
        p = by_path.get(f"grading.scale.grades[{i}].min")
        if p is None:
            continue
        for new, how in ((p.value + SCORE_STEP, "higher"), (p.value - SCORE_STEP, "lower")):
            if _fits(p, new):
                yield ({p.path: new}, f"the minimum score of grade {grade.name} one point {how}: "
                                      f"{_number(p.value)} → {_number(new)}")
        return  # only the best grade with a minimum


def _ratio_rows(params: list[Param]) -> dict[tuple[str | int, ...], list[Param]]:
    """The grading ratios by row (a forced rule's ratios, or a cascade's row for one leader
    grade), in the policy's order.
    """
    rows: dict[tuple[str | int, ...], list[Param]] = {}
    for p in params:
        if p.role == "ratio" and p.path.startswith("grading.rules."):
            rows.setdefault(tuple(split_path(p.path)[:-1]), []).append(p)
    return rows


def _room(p: Param, down: bool) -> Decimal:
    """How far ``p`` may move down (or up) inside its range and [0, 1]; one percentage point
    less when that end of the range is exclusive.
    """
    bound, exclusive = (p.min, p.min_exclusive) if down else (p.max, p.max_exclusive)
    share = 0.0 if down else 1.0  # a ratio is a share
    if bound is None or (bound < share if down else bound > share):
        bound, exclusive = share, False
    room = abs(Decimal(repr(p.value)) - Decimal(repr(bound)))
    return room - Decimal("0.01") if exclusive else room


def _ratio_moves(params: list[Param]) -> Iterator[tuple[dict[str, float], str]]:
    """Five points (or what the ranges leave) from each ratio to the next in its row, first row
    first.
    """
    for row, ratios in _ratio_rows(params).items():
        where = join_path(row)
        for give, take in itertools.pairwise(ratios):
            step = min(RATIO_STEP, _room(give, down=True), _room(take, down=False))
            if step <= 0:
                continue
            less = float(Decimal(repr(give.value)) - step)
            more = float(Decimal(repr(take.value)) + step)
            points = f"{float(step * 100):g}"
            yield ({give.path: less, take.path: more},
                   f"{points} percentage points moved from {split_path(give.path)[-1]} "
                   f"({give.value:.0%} → {less:.0%}) to {split_path(take.path)[-1]} "
                   f"({take.value:.0%} → {more:.0%}) in {where}")


def _pay_moves(policy: Policy, params: list[Param]) -> Iterator[tuple[dict[str, float], str]]:
    """Each pay amount or coefficient (not zero) 5 % higher, else 5 % lower: money to the pay
    unit, coefficients to four decimals.
    """
    unit = Decimal(repr(policy.pay.unit)) if policy.pay is not None else Decimal("0.01")
    for p in params:
        if not (p.path.startswith("pay.") and p.role in ("money", "factor")) or p.value == 0:
            continue
        quantum = unit if p.role == "money" else Decimal("0.0001")
        value = Decimal(repr(p.value))
        for factor, how in ((PAY_FACTOR, "higher"), (2 - PAY_FACTOR, "lower")):
            new = float((value * factor).quantize(quantum))
            if new != p.value and _fits(p, new):
                yield ({p.path: new}, f"{p.path} 5% {how}: {_number(p.value)} → {_number(new)}")
                break
