"""``Policy.with_params`` re-validates only the parts a change of numbers touches: it must give
exactly what validating the whole changed document gives, and refuse exactly what that refuses.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import examples

import calib
from calib.errors import PolicyError
from calib.policy.paths import _apply_numbers, _apply_whole

EXAMPLES = sorted(p.parent.name for p in Path("datasets").glob("*/policy.yaml"))


def _outcome(apply, policy, changes):
    try:
        return "ok", apply(policy, changes)
    except PolicyError as exc:
        return "refused", sorted(i.path for i in exc.issues)


def _moves(p) -> list[float]:
    """Values people type around the current one, some outside the allowed range."""
    v = p.value
    return [round(v * 1.07, 6), round(v - 0.5, 6), round(v + 0.025, 6), 0.0, -1.0]


@pytest.mark.parametrize("name", examples())
def test_each_number_of_every_example_matches_whole_validation(name):
    policy = calib.load_policy(f"datasets/{name}/policy.yaml")
    checked = 0
    for p in policy.params():
        for value in _moves(p):
            fast = _apply_numbers(policy, {p.path: value})
            whole = _outcome(_apply_whole, policy, {p.path: value})
            if fast is not None:  # the fast path never accepts what the whole check refuses
                assert whole[0] == "ok", (p.path, value, whole)
                assert fast == whole[1], (p.path, value)
                assert fast.to_dict() == whole[1].to_dict()
                checked += 1
            assert _outcome(calib.Policy.with_params, policy, {p.path: value}) == whole
    assert checked > 0


def test_a_ratio_row_moved_together_and_refused_alone():
    policy = calib.load_policy("datasets/gas_cs/policy.yaml")
    rows = [p for p in policy.params() if ".ratios." in p.path]
    assert len(rows) >= 2
    a, b = rows[0], rows[1]
    together = {a.path: round(a.value + 0.05, 6), b.path: round(b.value - 0.05, 6)}
    fast = _apply_numbers(policy, together)
    assert fast is not None and fast == _apply_whole(policy, together)
    assert _apply_numbers(policy, {a.path: round(a.value + 0.05, 6)}) is None
    with pytest.raises(PolicyError):
        policy.with_params({a.path: round(a.value + 0.05, 6)})


def test_unchanged_parts_are_shared():
    policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    p = next(p for p in policy.params() if p.path.startswith("kpis."))
    kpi = p.path.split(".")[1]
    new = policy.with_params({p.path: round(p.value * 1.07, 6)})
    assert new.kpis[kpi] != policy.kpis[kpi]
    assert all(new.kpis[k] is policy.kpis[k] for k in policy.kpis if k != kpi)
    assert new.scorecards is policy.scorecards and new.inputs is policy.inputs


@pytest.mark.parametrize("value", ["2.5%", "0.92", "1,000", 1.07])
def test_typed_numbers_match(value):
    policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    for p in policy.params()[:12]:
        whole = _outcome(_apply_whole, policy, {p.path: value})
        assert _outcome(calib.Policy.with_params, policy, {p.path: value}) == whole


def test_not_numbers_take_the_whole_path():
    policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
    assert _apply_numbers(policy, {"name": "x"}) is None
    assert _apply_numbers(policy, {"ranges.x.min": 1}) is None
    assert _apply_numbers(policy, {"kpis.nope.rule.step": 1}) is None
    assert _apply_numbers(policy, {policy.params()[0].path: True}) is None
