"""R19 in pay: ``team_mean`` (a call-centre lead's 考核工资 = 客服人员考核平均值 × 1.2).

Hand-computed on the call_centre policy: a team of a lead and four members in March 2025 (one
member absent, so not rated), a second team whose members are all absent, and the kernel on a
population built by hand (a team with no rated member, a blank team, another period). Every
figure is worked out in the comments.
"""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calib
from calib.engine.components import PayContext, kind_of
from calib.engine.components.team_mean import amount
from calib.engine.grading import Population
from calib.engine.payout import component_units
from calib.errors import PolicyError
from calib.policy.load import validate_policy

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
CALL_CENTRE = calib.load_policy(DATASETS / "call_centre" / "policy.yaml")
LEAD_PAY = CALL_CENTRE.pay.components["lead_pay"]  # of: piece_rate, factor 1.2, members: [member]


def tables() -> dict[str, pd.DataFrame]:
    """客服一组: lead LA and members M1–M4 (M4 absent: not rated); 客服二组: lead LB, members
    N1 and N2 both absent. March 2025 (31 days); LA present 31 days, LB 31.
    """
    ids = ["LA", "M1", "M2", "M3", "M4", "LB", "N1", "N2"]
    team = ["客服一组"] * 5 + ["客服二组"] * 3
    role = ["组长", "客服专员", "客服专员", "客服专员", "客服专员", "组长", "客服专员", "客服专员"]
    people = pd.DataFrame({"employee_id": ids, "team": team, "role": role, "post_level": "中级",
                           "gender": "女", "hired": "2020-01-01", "left": None})
    absent = [False, False, False, False, True, False, True, True]
    records = pd.DataFrame({
        "employee_id": ids, "period": "2025-03", "probation": False, "absent": absent,
        "days_present": [31, 31, 31, 31, 0, 31, 0, 0],
        "phone_tickets": [200, 1000, 1234, 777, 900, 300, 500, 500],
        "messaging_tickets": [100, 500, 567, 335, 400, 100, 200, 200],
        "violation_points": 0, "complaints": [0, 0, 0, 1, 0, 0, 0, 0],
        "verified_complaints": 0})
    return {"people": people, "records": records}


def paid(policy: calib.Policy = CALL_CENTRE, data: dict | None = None) -> pd.DataFrame:
    """The payouts by id."""
    return calib.run(policy, data or tables()).payouts.set_index("id")


class TestCallCentreLead:
    """The lead's 考核工资 from the members' piece rate, on the call_centre policy."""

    def test_lead_gets_the_members_mean_piece_rate_times_1_2(self) -> None:
        """Members' piece rate (0.20 a phone ticket, 0.10 a messaging ticket; the team's mean is
        far below the 500 cap): M1 1000 × 0.2 + 500 × 0.1 = 250.00, M2 246.80 + 56.70 = 303.50,
        M3 155.40 + 33.50 = 188.90; M4 is absent, not rated, and not averaged.
        Mean (250.00 + 303.50 + 188.90) / 3 = 742.40 / 3 = 247.4666…; × 1.2 = 296.96 exactly
        (742.40 × 0.4). Counting M4 as 0 would give 742.40 / 4 × 1.2 = 222.72.
        """
        pay = paid()
        assert pay.loc[["M1", "M2", "M3"], "piece_rate"].tolist() == [250.00, 303.50, 188.90]
        assert pay.loc["M4", "status"] == "not_rated" and pay.loc["M4", "payout"] == 0
        assert pay.loc["LA", "lead_pay"] == 296.96
        assert pay.loc["LA", "piece_rate"] == 0  # a lead is not paid by the ticket
        assert (pay.loc[["M1", "M2", "M3"], "lead_pay"] == 0).all()  # when: role 组长
        # LA: 296.96 + no complaints 100 = 396.96
        assert pay.loc["LA", "payout"] == 396.96

    def test_a_team_with_no_rated_member_leaves_its_lead_not_rated(self) -> None:
        """客服二组's members are both absent: the lead's score (R19 scorecard) has nothing to
        average, so the lead is not rated and paid nothing, whatever the pay component says.
        """
        pay = paid()
        assert pay.loc["LB", "status"] == "not_rated"
        assert pay.loc["LB", "payout"] == 0

    def test_a_part_month_lead_is_prorated(self) -> None:
        """LA present 10 of 31 days: 296.96 × 10 / 31 = 95.7935… → 95.79 (half up); the
        members' amounts, hence the mean, do not move.
        """
        data = tables()
        data["records"].loc[0, "days_present"] = 10
        assert paid(data=data).loc["LA", "lead_pay"] == 95.79

    def test_the_mean_follows_the_members_amounts_as_paid(self) -> None:
        """A factor of 1.0 and a phone rate of 0.25: M1 250 + 50 = 300.00, M2 308.50 + 56.70 =
        365.20, M3 194.25 + 33.50 = 227.75; mean 892.95 / 3 = 297.65 → LA 297.65.
        """
        policy = CALL_CENTRE.with_params({"pay.components.lead_pay.factor": 1.0,
                                          "pay.components.piece_rate.rates.phone_tickets": 0.25})
        assert paid(policy).loc["LA", "lead_pay"] == 297.65

    def test_the_order_listed_does_not_matter(self) -> None:
        """lead_pay listed before piece_rate (as a JSON dump sorts them) pays the same: the
        engine pays a component after the one it averages; the columns keep the policy's order.
        """
        data = copy.deepcopy(CALL_CENTRE.to_dict())
        comps = data["pay"]["components"]
        data["pay"]["components"] = {"lead_pay": comps["lead_pay"],
                                     **{k: v for k, v in comps.items() if k != "lead_pay"}}
        flipped = validate_policy(data)
        pay = paid(flipped)
        assert pay.loc["LA", "lead_pay"] == 296.96
        assert list(pay.columns).index("lead_pay") < list(pay.columns).index("piece_rate")
        again = calib.parse_policy(calib.dump_policy(CALL_CENTRE, "json"), fmt="json")
        assert paid(again).loc["LA", "lead_pay"] == 296.96

    def test_a_live_rerun_pays_the_moved_mean(self) -> None:
        """Re-run live with the piece rate's phone rate 0.30: M1 300 + 50 = 350.00, M2 370.20 +
        56.70 = 426.90, M3 233.10 + 33.50 = 266.60; mean 1043.50 / 3 × 1.2 = 417.40. The kept
        amounts of lead_pay must not be the last run's (296.96).
        """
        first = calib.Scenario(CALL_CENTRE, tables())
        assert first.result.payouts.set_index("id").loc["LA", "lead_pay"] == 296.96
        moved = first.with_params({"pay.components.piece_rate.rates.phone_tickets": 0.30})
        assert moved.result.payouts.set_index("id").loc["LA", "lead_pay"] == 417.40


def population(team: list, card: list[int], rated: list[bool], score: list[float],
               period: list[int] | None = None) -> Population:
    """Rows built by hand (scorecards of call_centre: 0 team_lead, 1 member)."""
    n = len(team)
    cols = {"team": np.array(team, dtype=object)}
    period = period or [0] * n
    return Population(person=np.arange(n), period=np.array(period),
                      period_label=np.array([f"p{p}" for p in period], dtype=object),
                      score=np.array(score), rated=np.array(rated), card=np.array(card),
                      lowest=np.zeros(n, dtype=bool), ids=np.arange(n).astype(str),
                      column=lambda name: cols[name], row_numbers=np.arange(n))


def context(pop: Population, units: list[int] | None = None) -> PayContext:
    """A pay context on ``pop`` with the piece rate's units already paid."""
    c = PayContext(SimpleNamespace(policy=CALL_CENTRE), pop, None, None, {})
    if units is not None:
        c.paid["piece_rate"] = np.array(units, dtype=np.int64)
    return c


class TestKernel:
    """The kernel on rows built by hand: who is averaged, and the rows that get 0."""

    def test_three_members_a_lead_and_one_not_rated(self) -> None:
        """Team A: lead (card 0) and members of 400.00, 320.00, 421.10 and one not rated
        (999.99, ignored): (40000 + 32000 + 42110) / 3 = 38036.67 units × 1.2 = 456.44 (the
        float amount 456.44; rounded per component later). Every row of the team gets it.
        """
        pop = population(["A"] * 5, [0, 1, 1, 1, 1], [True, True, True, True, False],
                         [100.0] * 5)
        out = amount(context(pop, [0, 40000, 32000, 42110, 99999]), LEAD_PAY, "p")
        assert np.allclose(out, 114110 / 3 * 1.2 * 0.01)
        assert round(out[0], 2) == 456.44

    def test_no_rated_member_a_blank_team_and_another_period(self) -> None:
        """Team B's only member is not rated: 0 (nothing to average); a row with a blank team
        belongs to no team: 0, and its member row is not averaged into anyone's mean; team A in
        period 1 averages only its period-1 member (30000 → 360.00), not period 0's (50000).
        """
        pop = population(["A", "A", "B", "B", None, None, "A", "A"],
                         [0, 1, 0, 1, 0, 1, 0, 1],
                         [True, True, True, False, True, True, True, True],
                         [100.0] * 8, period=[0, 0, 0, 0, 0, 0, 1, 1])
        out = amount(context(pop, [0, 50000, 0, 70000, 0, 80000, 0, 30000]), LEAD_PAY, "p")
        assert np.allclose(out, [600.0, 600.0, 0.0, 0.0, 0.0, 0.0, 360.0, 360.0])

    def test_of_score_averages_the_members_scores(self) -> None:
        """``of: score``, factor 7.5 元 a point: members 99.2, 88, 91 (a lead's own 113.16 is
        not a member's) → mean 92.7333… × 7.5 = 695.50.
        """
        comp = LEAD_PAY.model_copy(update={"of": "score", "factor": 7.5})
        pop = population(["A"] * 4, [0, 1, 1, 1], [True] * 4, [113.16, 99.2, 88.0, 91.0])
        out = amount(context(pop), comp, "p")
        assert np.allclose(out, 695.5)
        assert kind_of(comp).reads(comp).score and kind_of(comp).reads(comp).other_rows

    def test_a_component_not_paid_yet_is_an_error(self) -> None:
        """Called outside the engine's pay order (piece_rate not paid on these rows)."""
        pop = population(["A", "A"], [0, 1], [True, True], [100.0, 100.0])
        with pytest.raises(RuntimeError, match=r"p\.of: component 'piece_rate' has not been paid"):
            amount(context(pop), LEAD_PAY, "p")


def refused(change) -> list[tuple[str, str]]:
    """The (path, message) of every problem of call_centre changed by ``change``."""
    data = copy.deepcopy(CALL_CENTRE.to_dict())
    change(data["pay"]["components"])
    with pytest.raises(PolicyError) as exc:
        validate_policy(data)
    return [(i.path, i.message) for i in exc.value.issues]


class TestReferences:
    """The columns, scorecards and components a team mean names, with their paths."""

    def test_unknown_team_column_and_scorecard(self) -> None:
        """An undeclared column and an undefined scorecard, each at its own path."""
        def change(comps):
            comps["lead_pay"].update(team="squad", members=["member", "agents"])
        found = refused(change)
        assert ("pay.components.lead_pay.members[1]", "scorecard 'agents' is not defined; "
                "defined: team_lead, member") in found
        assert any(p == "pay.components.lead_pay.team" and "'squad'" in m for p, m in found)
        assert len(found) == 2

    def test_unknown_component(self) -> None:
        """``of`` naming nothing lists the components."""
        assert refused(lambda comps: comps["lead_pay"].update(of="piece")) == [
            ("pay.components.lead_pay.of", "'piece' is neither 'score' nor a component of "
             "pay.components; components: piece_rate, lead_pay, outstanding, no_complaints")]

    def test_itself_and_a_circle(self) -> None:
        """A team mean of itself, and two that average each other, are refused at each."""
        assert refused(lambda comps: comps["lead_pay"].update(of="lead_pay")) == [
            ("pay.components.lead_pay.of", "components average each other's amounts in a "
             "circle: lead_pay → lead_pay; average the score or a component that averages "
             "nothing")]

        def circle(comps):
            comps["lead_pay"]["of"] = "second"
            comps["second"] = {**comps["lead_pay"], "of": "lead_pay"}
        assert [p for p, _ in refused(circle)] == ["pay.components.lead_pay.of",
                                                   "pay.components.second.of"]

    def test_missing_fields(self) -> None:
        """``team`` and ``members`` are required; ``members`` not empty."""
        paths = [p for p, _ in refused(lambda comps: comps["lead_pay"].pop("team"))]
        assert paths == ["pay.components.lead_pay.team"]
        paths = [p for p, _ in refused(lambda comps: comps["lead_pay"].update(members=[]))]
        assert paths == ["pay.components.lead_pay.members"]


# --- conformance: the vectorised kernel against a mean worked out row by row, to the cent -------

TEAMS = ["A", "B", "C", None]


@st.composite
def teams(draw):
    """Rows of two periods in teams A–C or none, on either scorecard, rated or not, with scores
    of up to 3 decimals and the units already paid by the averaged component (signed).
    """
    n = draw(st.integers(1, 14))
    rows = st.lists

    def column(strategy):
        return draw(rows(strategy, min_size=n, max_size=n))

    return {"team": column(st.sampled_from(TEAMS)), "card": column(st.integers(0, 1)),
            "rated": column(st.booleans()), "period": column(st.integers(0, 1)),
            "score": column(st.decimals(0, 120, places=3)),
            "units": column(st.integers(-50_000, 2_000_000))}


def by_hand(rows: dict, i: int, of: str, factor: Decimal, unit: Decimal) -> Decimal:
    """Row ``i``'s amount: the exact mean over its team's rated members (card 1) of the same
    period, × factor (× the unit for amounts), 0 without a team or a rated member.
    """
    if rows["team"][i] is None:
        return Decimal(0)
    values = [Decimal(rows["units"][j]) * unit if of != "score" else rows["score"][j]
              for j in range(len(rows["team"]))
              if rows["team"][j] == rows["team"][i] and rows["period"][j] == rows["period"][i]
              and rows["card"][j] == 1 and rows["rated"][j]]
    return sum(values, Decimal(0)) / len(values) * factor if values else Decimal(0)


@settings(max_examples=200, deadline=None)
@given(teams(), st.sampled_from(["score", "piece_rate"]),
       st.sampled_from(["1.2", "1", "0.92", "1.07", "7.5", "0"]) | st.decimals(0, 3, places=3).map(str),
       st.booleans(), st.sampled_from([0.01, 1.0]))
def test_engine_units_equal_the_mean_by_hand(rows, of, factor, deduct, unit) -> None:
    """``component_units`` of a team mean (score or a component's units; any factor; deducted
    or not; cents or whole yuan) equals, on every row, the exact mean worked out row by row,
    rounded half up to the unit and paid to rated rows only.
    """
    comp = LEAD_PAY.model_copy(update={"of": of, "factor": float(factor), "deduct": deduct,
                                       "when": None})
    policy = CALL_CENTRE.model_copy(update={"pay": CALL_CENTRE.pay.model_copy(
        update={"unit": unit})})
    pop = population(rows["team"], rows["card"], rows["rated"],
                     [float(s) for s in rows["score"]], rows["period"])
    c = PayContext(SimpleNamespace(policy=policy), pop, None, None, {})
    c.paid["piece_rate"] = np.array(rows["units"], dtype=np.int64)
    got = component_units(c, "lead_pay", comp, None, np.zeros(pop.n, dtype=bool))
    step = Decimal(str(unit))
    for i in range(pop.n):
        exact = by_hand(rows, i, of, Decimal(factor), step)
        units = int((exact / step).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        want = (-units if deduct else units) if rows["rated"][i] else 0
        assert got[i] == want, (i, exact)
