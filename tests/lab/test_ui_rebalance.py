"""Moving one share of a ratio row: the other shares make room so the row stays at 100 %."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import calib
from calib.analysis.rebalance import ratio_row, rebalance, rebalance_note, row_changes
from calib.lab import ui
from calib.policy.grading import TOLERANCE
from calib.policy.load import validate_policy

SHOPS = "grading.rules.shops.forced.ratios"
TEAMS = "grading.rules.teams.cascade.ratios"
TYPED = {"A": 0.2, "B": 0.3, "C": 0.4, "D": 0.1}


def assert_whole(row: dict[str, float]) -> None:
    """The row adds up to 100 % within the policy validator's tolerance."""
    assert abs(sum(row.values()) - 1) <= TOLERANCE


@pytest.fixture
def reruns(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The changes of every ``Scenario.with_params`` call (each one re-runs the scheme)."""
    calls: list[dict] = []
    original = calib.Scenario.with_params

    def spy(self: calib.Scenario, changes: dict) -> calib.Scenario:
        calls.append(dict(changes))
        return original(self, changes)

    monkeypatch.setattr(calib.Scenario, "with_params", spy)
    return calls


class TestRebalance:
    """The pure rule on the numbers people type."""

    def test_move_up_in_proportion(self) -> None:
        """A 20→25 %: the others share 75 % as 30:40:10 = 28.125/37.5/9.375 → 28/38/9 (adds up)."""
        row = rebalance(TYPED, "A", 0.25)
        assert row == {"A": 0.25, "B": 0.28, "C": 0.38, "D": 0.09}
        assert list(row) == list(TYPED)
        assert_whole(row)

    def test_rounding_residual_goes_to_the_largest(self) -> None:
        """A 20→27 %: 27.375/36.5/9.125 round to 27/36/9 = 72; the missing 1 % goes to C (largest)."""
        row = rebalance(TYPED, "A", 0.27)
        assert row == {"A": 0.27, "B": 0.27, "C": 0.37, "D": 0.09}
        assert_whole(row)

    def test_move_to_zero(self) -> None:
        """A → 0 %: 37.5/50/12.5; halves go to the even percent (38, 12), so the row adds up."""
        row = rebalance(TYPED, "A", 0.0)
        assert row == {"A": 0.0, "B": 0.38, "C": 0.5, "D": 0.12}
        assert_whole(row)

    def test_move_to_one_hundred(self) -> None:
        """A → 100 %: every other share goes to 0."""
        row = rebalance(TYPED, "A", 1.0)
        assert row == {"A": 1.0, "B": 0.0, "C": 0.0, "D": 0.0}
        assert_whole(row)

    def test_others_all_zero_share_equally(self) -> None:
        """From A 100 %: the others share the rest equally; 22.5/22.5 → 22/22 plus 1 on the first."""
        row = {"A": 1.0, "B": 0.0, "C": 0.0}
        assert rebalance(row, "A", 0.4) == {"A": 0.4, "B": 0.3, "C": 0.3}
        halves = rebalance(row, "A", 0.55)
        assert halves == {"A": 0.55, "B": 0.23, "C": 0.22}
        assert_whole(halves)

    def test_a_zero_share_stays_zero(self) -> None:
        """In proportion: a share at 0 stays at 0 while the others can make room."""
        assert rebalance({"A": 0.5, "B": 0.5, "C": 0.0}, "A", 0.2) == {"A": 0.2, "B": 0.8, "C": 0.0}

    def test_half_percent_step(self) -> None:
        """Step 0.005: A 20→21.5 %, B and C share 78.5 % as 3:5 = 29.4375/49.0625 → 29.5/49."""
        row = rebalance({"A": 0.2, "B": 0.3, "C": 0.5}, "A", 0.215, step=0.005)
        assert row == {"A": 0.215, "B": 0.295, "C": 0.49}
        assert_whole(row)

    def test_ranges_pin_a_share(self) -> None:
        """合格 → 60 %: 良好 and 待改进 would fall under their minimums, so they stop there."""
        bounds = {"优秀": (0.05, 0.3), "良好": (0.2, 0.5), "合格": (0.2, 0.6), "待改进": (0.05, 0.2)}
        row = {"优秀": 0.3, "良好": 0.29, "合格": 0.33, "待改进": 0.08}
        new = rebalance(row, "合格", 0.6, bounds)
        assert new == {"优秀": 0.15, "良好": 0.2, "合格": 0.6, "待改进": 0.05}
        assert_whole(new)

    def test_ranges_block_the_move(self) -> None:
        """A → 90 % needs B + C = 10 %, below their minimums (30 %): A is clamped to 70 %."""
        bounds = {"B": (0.2, 0.4), "C": (0.1, 0.3)}
        row = {"A": 0.5, "B": 0.3, "C": 0.2}
        up = rebalance(row, "A", 0.9, bounds)
        assert up == {"A": 0.7, "B": 0.2, "C": 0.1}
        assert rebalance_note(row, up, "A", 0.9) == (
            "A 90% is not possible within the other shares' ranges: set to 70%. "
            "B 30% → 20%, C 20% → 10% to keep the row at 100%.")
        down = rebalance(row, "A", 0.1, bounds)
        assert down == {"A": 0.3, "B": 0.4, "C": 0.3}
        assert_whole(up)
        assert_whole(down)

    def test_same_value_keeps_the_row(self) -> None:
        """Moving a share to its own value changes nothing (not even rounding)."""
        row = {"A": 0.125, "B": 0.375, "C": 0.5}
        assert rebalance(row, "A", 0.125) == row
        assert rebalance_note(row, row, "A", 0.125) == ""

    def test_impossible_ranges_are_refused(self) -> None:
        """Ranges whose minimums add up to more than 100 % leave no value: the message lists them."""
        with pytest.raises(calib.CalibError) as e:
            rebalance({"A": 0.2, "B": 0.4, "C": 0.4}, "A", 0.3, {"B": (0.6, 1), "C": (0.6, 1)})
        assert e.value.args == ("no share of this row keeps it at 100% within the ranges of its shares: "
                                "A 0–1, B 0.6–1, C 0.6–1",)
        with pytest.raises(calib.CalibError) as e:
            rebalance(TYPED, "E", 0.3)
        assert e.value.args == ("'E' is not a share of this row; the shares are: A, B, C, D",)

    def test_ratio_rows_by_path(self) -> None:
        """Forced and cascade shares have a row; other ratios (pay shares) and bad paths do not."""
        assert ratio_row(f"{SHOPS}.优秀") == SHOPS
        assert ratio_row(f"{TEAMS}.A+.B") == f"{TEAMS}.A+"
        assert ratio_row(f"{TEAMS}.A+") is None
        assert ratio_row("pay.components.performance.bands[1].share") is None
        assert ratio_row("grading..rules") is None

    def test_row_changes_touch_one_row(self) -> None:
        """The moved path is always in the changes, other shares of its row when they change.

        A.A 30→23 %: A+ and B share 77 % as 1:6 = 11/66. A.A → 31 %: 9.86/59.14 round to 10/59,
        so A+ keeps its 10 % and is not in the changes; row B and the threshold never are.
        """
        values = {f"{TEAMS}.A.A+": 0.1, f"{TEAMS}.A.A": 0.3, f"{TEAMS}.A.B": 0.6,
                  f"{TEAMS}.B.A": 0.4, f"{TEAMS}.B.B": 0.6, "grading.scale.grades[0].min": 95.0}
        assert row_changes(values, f"{TEAMS}.A.A", 0.23) == {
            f"{TEAMS}.A.A+": 0.11, f"{TEAMS}.A.A": 0.23, f"{TEAMS}.A.B": 0.66}
        assert row_changes(values, f"{TEAMS}.A.A", 0.31) == {f"{TEAMS}.A.A": 0.31, f"{TEAMS}.A.B": 0.59}
        assert row_changes(values, f"{TEAMS}.A.A+", 0.1) == {f"{TEAMS}.A.A+": 0.1}
        assert row_changes(values, "grading.scale.grades[0].min", 90.0) == {
            "grading.scale.grades[0].min": 90.0}


# --- properties -------------------------------------------------------------------------------
@st.composite
def moves(draw) -> tuple[dict[str, float], dict[str, tuple[float, float]], str, float, float]:
    """A row of 1–6 shares on a step of 1 % or 0.5 % adding up to 100 %, ranges around each share
    (on the same step) and a move of one share within its own range.
    """
    step = draw(st.sampled_from([Fraction(1, 100), Fraction(1, 200)]))
    units = int(1 / step)
    n = draw(st.integers(1, 6))
    cuts = sorted(draw(st.lists(st.integers(0, units), min_size=n - 1, max_size=n - 1)))
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, units], strict=True)]
    names = [f"g{i}" for i in range(n)]
    row = {k: float(s * step) for k, s in zip(names, sizes, strict=True)}
    bounds = {}
    for k, s in zip(names, sizes, strict=True):
        lo, hi = draw(st.integers(0, s)), draw(st.integers(s, units))
        bounds[k] = (float(lo * step), float(hi * step))
    moved = draw(st.sampled_from(names))
    lo, hi = bounds[moved]
    value = float(draw(st.integers(round(lo / step), round(hi / step))) * step)
    return row, bounds, moved, value, float(step)


@given(moves())
def test_rebalanced_rows_always_add_up(case) -> None:
    """Any move: the row adds up, every share is in its range and on the step, the moved share is
    the value asked when the others' ranges allow it and the nearest value they allow otherwise.
    """
    row, bounds, moved, value, step = case
    new = rebalance(row, moved, value, bounds, step)
    assert list(new) == list(row)
    assert_whole(new)
    for k, v in new.items():
        assert bounds[k][0] <= v <= bounds[k][1]
        assert abs(v / step - round(v / step)) < 1e-6
    others = [k for k in row if k != moved]
    lo = max(bounds[moved][0], 1 - sum(bounds[k][1] for k in others))
    hi = min(bounds[moved][1], 1 - sum(bounds[k][0] for k in others))
    assert new[moved] == pytest.approx(min(max(value, lo), hi), abs=1e-12)
    if lo - 1e-12 <= value <= hi + 1e-12:
        assert new[moved] == value


@given(st.data())
def test_moves_in_the_cascade_are_valid_policies(gas: calib.Scenario, data: st.DataObject) -> None:
    """Any share of any gas cascade row moved to any percent: the policy takes the changes, the
    moved row adds up and every other number is unchanged.
    """
    policy = gas.policy
    params = {p.path: p.value for p in policy.params()}
    shares = [p for p in params if ratio_row(p)]
    path = data.draw(st.sampled_from(shares))
    value = data.draw(st.integers(0, 100)) / 100
    changes = row_changes(params, path, value, {p: (0.0, 1.0) for p in shares})
    new = policy.with_params(changes)
    assert new.get(path) == value
    row = {p: new.get(p) for p in shares if ratio_row(p) == ratio_row(path)}
    assert_whole(row)
    assert all(new.get(p) == v for p, v in params.items() if p not in row)


# --- the panel --------------------------------------------------------------------------------
class TestPanel:
    """A share slider moves its row in one re-run."""

    def test_forced_share_slider_rebalances_its_row(self, shops: calib.Scenario, reruns: list) -> None:
        """优秀 15→20 %: the others share 80 % as 35:40:10 → 33/38/9, applied in one re-run."""
        seen = []
        panel = ui.ParamPanel(shops, roles=["ratio"], on_change=seen.append)
        panel.sliders[f"{SHOPS}.优秀"].value = 0.2
        want = {"优秀": 0.2, "良好": 0.33, "合格": 0.38, "待改进": 0.09}
        assert panel.error is None
        assert panel.scenario.policy.grading.rules["shops"].forced.ratios == want
        assert_whole(want)
        assert {path[len(SHOPS) + 1:]: s.value for path, s in panel.sliders.items()} == want
        assert len(reruns) == 1 and len(seen) == 1 and seen[0] is panel.scenario
        assert reruns[0] == {f"{SHOPS}.{k}": v for k, v in want.items()}
        assert "<b>shops</b>: 良好 35% → 33%, 合格 40% → 38%, 待改进 10% → 9% to keep the row at 100%." \
            in panel.message.value
        assert panel.changes()["path"].tolist() == [f"{SHOPS}.{k}" for k in want]
        quotas = ui.quota_table(panel.scenario.result).sum()
        assert quotas["优秀"] > ui.quota_table(shops.result).sum()["优秀"]

    def test_hidden_shares_of_a_cascade_row_follow(self, gas: calib.Scenario, reruns: list) -> None:
        """One cascade share shown alone: its hidden row mates make room, other rows stay."""
        path = f"{TEAMS}.B.A"
        panel = ui.ParamPanel(gas, paths=[path])
        panel.sliders[path].value = 0.35
        policy = panel.scenario.policy
        assert policy.grading.rules["teams"].cascade.ratios["B"] == {
            "A+": 0.04, "A": 0.35, "B": 0.52, "C": 0.09}
        assert policy.grading.rules["teams"].cascade.ratios["A"] == {"A+": 0.1, "A": 0.3, "B": 0.6}
        assert len(reruns) == 1
        assert "<b>teams · leader B</b>: A+ 5% → 4%, B 60% → 52%, C 10% → 9%" in panel.message.value

    def test_blocked_share_is_clamped(self, shops: calib.Scenario, reruns: list) -> None:
        """良好 ≥ 30 %, 合格 ≥ 40 %, 待改进 ≥ 5 %: 优秀 can reach 25 %, not 30 %; the slider stops there."""
        data = shops.policy.to_dict()
        data["ranges"][f"{SHOPS}.良好"] = {"min": 0.3, "max": 0.5}
        data["ranges"][f"{SHOPS}.合格"] = {"min": 0.4, "max": 0.6}
        panel = ui.ParamPanel(shops.with_policy(validate_policy(data)), roles=["ratio"])
        slider = panel.sliders[f"{SHOPS}.优秀"]
        assert panel.move(f"{SHOPS}.优秀", 0.3)
        assert slider.value == 0.25
        assert panel.scenario.policy.grading.rules["shops"].forced.ratios == {
            "优秀": 0.25, "良好": 0.3, "合格": 0.4, "待改进": 0.05}
        assert "优秀 30% is not possible within the other shares&#x27; ranges: set to 25%." \
            in panel.message.value
        assert len(reruns) == 1

    def test_pay_share_moves_alone(self, gas: calib.Scenario, reruns: list) -> None:
        """A ratio that is not in a row (a pay band's share) keeps today's behaviour."""
        path = "pay.components.performance.bands[1].share"
        panel = ui.ParamPanel(gas, paths=[path])
        panel.sliders[path].value = 0.9
        assert reruns == [{path: 0.9}]
        assert panel.scenario.policy.get(path) == 0.9 and panel.message.value == ""

    def test_set_from_code_stays_exact(self, shops: calib.Scenario, reruns: list) -> None:
        """``set`` applies what it is given: one share alone is still refused, a whole row is not."""
        panel = ui.ParamPanel(shops, roles=["ratio"])
        assert not panel.set({f"{SHOPS}.优秀": 0.2})
        assert "add up to 105%" in panel.message.value
        assert panel.set({f"{SHOPS}.优秀": 0.2, f"{SHOPS}.待改进": 0.05})
        assert panel.sliders[f"{SHOPS}.待改进"].value == 0.05
