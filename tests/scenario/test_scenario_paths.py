"""Random slider sessions: a ``Scenario`` moved along a random path of parameter changes (any
tunable number, ratios and weights of one row moved in pairs, the values people type, values on
another edge of the same rule, back to an earlier value or to the start) and branched (two
scenarios moved differently from the same parent, read in either order) gives, at every step,
the tables of a fresh ``calib.run`` of the same policy. A stale cache is a wrong number with exit
0; hypothesis prints the path that shows one (each step is noted), shrunk.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from same_results import assert_same

import calib
import calib.engine.score
from calib.policy.paths import Param
from calib.scenario import Scenario

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
EXAMPLES = sorted(p.parent.name for p in DATASETS.glob("*/policy.yaml"))

PATHS = 12
"""Random paths per example scheme (a path with its branch runs in about 0.4–1.3 s of CPU)."""
MORE_PATHS = 12
"""More random paths per example scheme, in the full suite only (marked slow): the whole file
takes about 2.5 min of one worker there (logistics_cs the longest), the fast subset about 15 s."""
TYPED = (2.5, 0.92, 1.07, 0.0, 1.0, 5.0, 10.0, 50.0, 60.0, 80.0, 90.0, 100.0)
"""Numbers people type into a slider's box, whatever the slider."""
TIGHT_BUDGET = 1_000_000
"""A memo budget (bytes) below one run's results: re-runs forget and compute again."""

PATH_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                          HealthCheck.data_too_large])


@functools.cache
def _example(name: str) -> tuple[calib.Policy, object, tuple[Param, ...]]:
    """An example's policy, its data (loaded once: a fresh scenario per path encodes it again)
    and its tunable numbers."""
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    return policy, calib.load_data(DATASETS / name, policy), tuple(policy.params())


def _summed(path: str) -> str | None:
    """The row whose values must keep their sum (a forced ratio row, a section's weights, a
    roll-up's parts), or None for a number that moves alone."""
    if ".ratios." in path or (path.startswith("sections.") and ".weights." in path):
        return path.rsplit(".", 1)[0]
    if path.startswith("rollups.") and ".parts[" in path:
        return path.split(".parts[")[0]
    return None


def _rule(path: str) -> str:
    """The rule a number belongs to (its band table, its scale, its component): a value landing
    on a sibling's edge is the case people hit by typing."""
    return re.split(r"\[\d+\]", path)[0] if "[" in path else path.rsplit(".", 1)[0]


@dataclass
class _Walk:
    """The state of one path: the tunable numbers, their values at each step so far."""

    params: tuple[Param, ...]
    start: dict[str, float]
    states: list[dict[str, float]] = field(default_factory=list)

    def values(self, p: Param, now: dict[str, float], lo: float | None = None,
               hi: float | None = None) -> st.SearchStrategy[float]:
        """In-range values for ``p`` (within ``lo``..``hi`` too): typed numbers, round numbers
        near the current value, the range's ends, a sibling's value in the same rule, earlier
        values of ``p`` on this path, or any number rounded as people round."""
        c = now[p.path]
        span = max(abs(c), 1.0) * 0.5
        low = max(x for x in (p.min, lo, c - span if p.min is None else None) if x is not None)
        high = min(x for x in (p.max, hi, c + span if p.max is None else None) if x is not None)
        if low > high:
            return st.just(c)
        picks = [*TYPED, round(c), round(c) + 1, round(c) - 1, round(c, -1), round(c * 1.07, 4),
                 round(c * 0.92, 4), round(c + 0.01, 4), round(c - 0.01, 4), low, high]
        picks += [now[q.path] for q in self.params
                  if q.path != p.path and q.role == p.role and _rule(q.path) == _rule(p.path)]
        earlier = [s[p.path] for s in self.states] + [self.start[p.path]]
        inside = sorted({float(v) for v in picks + earlier if low <= v <= high})
        back = sorted({float(v) for v in earlier if low <= v <= high})
        drawn = st.tuples(st.floats(low, high, allow_nan=False), st.integers(0, 4)).map(
            lambda t: min(max(round(t[0], t[1]), low), high))
        options = [drawn] + [st.sampled_from(x) for x in (inside, back) if x]
        return st.one_of(options)

    def change(self, data: st.DataObject, now: dict[str, float], label: str) -> dict[str, float]:
        """One move from the values ``now``: one or two numbers (a number of a summed row with
        a mate of its row, in the opposite direction), an earlier step's values, or the start."""
        kind = data.draw(st.sampled_from(["one", "one", "one", "two", "earlier", "start"]),
                         label=f"{label} kind")
        if kind in ("earlier", "start"):
            states = [self.start] if kind == "start" else [self.start, *self.states]
            target = data.draw(st.sampled_from(states), label=f"{label} back to")
            back = {k: v for k, v in target.items() if now[k] != v}
            if back:
                return back
        change: dict[str, float] = {}
        for _ in range(2 if kind == "two" else 1):
            p = data.draw(st.sampled_from(self.params), label=f"{label} number")
            if p.path in change:
                continue
            row = _summed(p.path)
            if row is None:
                change[p.path] = data.draw(self.values(p, now), label=f"{label} {p.path}")
                continue
            mates = [q for q in self.params if q.path != p.path and _summed(q.path) == row
                     and q.path not in change]
            if not mates:
                continue
            q = data.draw(st.sampled_from(mates), label=f"{label} mate")
            top = 1.0 if ".ratios." in p.path else None
            q_low = q.min if q.min is not None else 0.0
            q_high = q.max if q.max is not None else top
            # the mate moves by the opposite amount and stays in its range
            lo = now[p.path] - ((q_high - now[q.path]) if q_high is not None else float("inf"))
            hi = now[p.path] + (now[q.path] - q_low)
            value = data.draw(self.values(p, now, lo, hi), label=f"{label} {p.path}")
            change[p.path] = value
            change[q.path] = round(now[q.path] - (value - now[p.path]), 9)
        return change


def _values(policy: calib.Policy, params: tuple[Param, ...]) -> dict[str, float]:
    return {p.path: float(policy.get(p.path)) for p in params}


def _move(scenario: Scenario, change: dict, data: object, context: str) -> Scenario | None:
    """``scenario.with_params(change)``, or None when the policy's own checks refuse it (a band
    overlapping the next) or the data breaks the changed rules (a fresh run refuses it too)."""
    try:
        return scenario.with_params(change)
    except calib.PolicyError:
        note(f"{context}: refused by the policy's checks")
        return None
    except calib.DataError:
        with pytest.raises(calib.DataError):
            calib.run(scenario.policy.with_params(change), data)
        note(f"{context}: refused by the data")
        return None


def _walk(name: str, data: st.DataObject) -> None:
    """One random session on an example: a path of 3–8 moves, then a branch. Sometimes under a
    tight memory budget (results forgotten and computed again), and sometimes recomputing only
    the moved rows as a re-run on large data does (sections, row-wise pay)."""
    delta = data.draw(st.sampled_from([None, 1 / 8, 1.0]), label="share of moved rows recomputed")
    saved = calib.engine.score.DELTA_ROWS, calib.engine.score.DELTA_SHARE
    if delta is not None:
        calib.engine.score.DELTA_ROWS, calib.engine.score.DELTA_SHARE = 0, delta
    try:
        _session(name, data)
    finally:
        calib.engine.score.DELTA_ROWS, calib.engine.score.DELTA_SHARE = saved


def _session(name: str, data: st.DataObject) -> None:
    policy, dataset, params = _example(name)
    walk = _Walk(params, _values(policy, params))
    scenario = Scenario(policy, dataset)
    if data.draw(st.integers(0, 4), label="tight memory budget") == 4:
        scenario._frame.memo.budget = TIGHT_BUDGET  # forgetting and computing again, too
    live = [("the start", scenario)]
    unread = []  # moves whose tables are first read after the later moves ran
    steps = data.draw(st.integers(3, 8), label="steps")
    for i in range(steps):
        label = f"step {i + 1}"
        change = walk.change(data, _values(scenario.policy, params), label)
        note(f"{label}: {change}")
        moved = _move(scenario, change, dataset, f"{name} {label}")
        if moved is None:
            continue
        if data.draw(st.booleans(), label=f"{label} read after the later moves"):
            unread.append((f"{label} {change}, read later", moved))
        else:
            assert_same(moved.result, calib.run(moved.policy, dataset), f"{name} {label} {change}")
        walk.states.append(_values(moved.policy, params))
        scenario = moved
        live.append((label, moved))
    for label, moved in unread:
        assert_same(moved.result, calib.run(moved.policy, dataset), f"{name} {label}")
    # a branch: two scenarios from the same parent moved differently, both made before either
    # is read (their tables are built when read, after the sibling's run), then one moved on
    at, parent = data.draw(st.sampled_from(live), label="branch from")
    now = _values(parent.policy, params)
    first, second = walk.change(data, now, "branch a"), walk.change(data, now, "branch b")
    note(f"branch from {at}: a {first}, b {second}")
    a = _move(parent, first, dataset, f"{name} branch a")
    b = _move(parent, second, dataset, f"{name} branch b")
    for label, moved in (("b", b), ("a", a)):
        if moved is not None:
            assert_same(moved.result, calib.run(moved.policy, dataset), f"{name} branch {label}")
    if a is not None:
        onward = walk.change(data, _values(a.policy, params), "branch a onward")
        note(f"branch a onward: {onward}")
        moved = _move(a, onward, dataset, f"{name} branch a onward")
        if moved is not None:
            assert_same(moved.result, calib.run(moved.policy, dataset), f"{name} a onward")
    assert_same(parent.result, calib.run(parent.policy, dataset), f"{name} the parent ({at})")


@pytest.mark.parametrize("name", examples())
@settings(max_examples=PATHS, **PATH_SETTINGS)
@given(data=st.data())
def test_random_paths_equal_fresh_runs(name: str, data: st.DataObject) -> None:
    _walk(name, data)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
@settings(max_examples=MORE_PATHS, **PATH_SETTINGS)
@given(data=st.data())
def test_many_random_paths_equal_fresh_runs(name: str, data: st.DataObject) -> None:
    _walk(name, data)
