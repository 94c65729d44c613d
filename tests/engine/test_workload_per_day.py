"""The workload component's benchmark per working day (R30, seed 004: 每日工作量基准, 当月按照实际
上班天数计算) and its benchmark bonus per person: amounts by hand, the policy's refusals, and the
Monte Carlo form decided by what the days column is (a person's or a period's).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from calib.engine.components import PayContext, kind_of
from calib.engine.grading import Population
from calib.policy import pay as P

COMPONENT = TypeAdapter(P.PayComponent)
# three people: a full month of 30 days, a leaver's 14 days, and nobody present
COLS = {
    "done": np.array([804.0, 287.6, 0.0]),
    "days": np.array([30.0, 14.0, 0.0]),
    "daily": np.array([18.0, 18.0, 13.0]),
    "bonus": np.array([300.0, 300.0, 250.0]),
    "qc": np.array([0.75, 1.0, np.nan]),
}


def _context() -> PayContext:
    n = 3
    pop = Population(person=np.arange(n), period=np.zeros(n, dtype=np.int64),
                     period_label=np.array(["2025-10"] * n, dtype=object), score=np.zeros(n),
                     rated=np.ones(n, dtype=bool), card=np.zeros(n, dtype=np.int64),
                     lowest=np.zeros(n, dtype=bool), ids=np.arange(n).astype(str),
                     column=lambda name: COLS[name], row_numbers=np.arange(n))
    return PayContext(SimpleNamespace(policy=None), pop, None, None, {})


def _amount(**spec) -> np.ndarray:
    comp = COMPONENT.validate_python({"kind": "workload", "workload": "done", **spec})
    return kind_of(comp).amount(_context(), comp, "pay.components.x")


def test_daily_benchmark_times_the_days_present() -> None:
    """benchmark = 18 × days: 540 for 30 days, 252 for 14 (support_team's ST0010 in 2025-10:
    300 − (252 − 287.6) = 335.60; against a month's 550 it was 300 − (550 − 287.6) = 37.60), and
    0 for nobody present (the bonus alone).
    """
    got = _amount(benchmark_bonus=300, benchmark={"column": "daily"}, per="day", days="days")
    assert got == pytest.approx([300 - (540 - 804), 300 - (252 - 287.6), 300])
    month = _amount(benchmark_bonus=300, benchmark={"amount": 550})
    assert month == pytest.approx([554, 37.6, -250])


def test_benchmark_bonus_per_person_and_the_multiplier() -> None:
    """The benchmark bonus from a people column (300, 300, 250), × the QC multiplier (a missing
    one is 1), clipped to 0–500: (300 + 264) × 0.75 = 423; (300 + 35.6) × 1 = 335.6; 250 × 1.
    """
    got = _amount(benchmark_bonus={"column": "bonus"}, benchmark={"column": "daily"}, per="day",
                  days="days", multiplier="qc", min=0, max=500)
    assert got == pytest.approx([423.0, 335.6, 250.0])


@pytest.mark.parametrize(("spec", "words"), [
    ({"per": "day"}, "add days: <a records column of days present>"),
    ({"days": "days_present"}, "add per: day, or remove days"),
])
def test_per_day_and_days_go_together(spec: dict, words: str) -> None:
    """A daily benchmark without its days, or days without ``per: day``, is refused with the fix."""
    with pytest.raises(ValidationError, match=words.replace("(", r"\(")):
        COMPONENT.validate_python({"kind": "workload", "workload": "done", "benchmark_bonus": 300,
                                   "benchmark": {"amount": 18}, **spec})


@pytest.mark.parametrize(("days", "form"), [("days", "constant"), ("days_present", "history")])
def test_monte_carlo_form_follows_the_days_column(days: str, form: str) -> None:
    """Days of the person (a people column) keep the form ``constant``; the days present of each
    period (a records column, not drawn) make it ``history``, and the reason names the column.
    """
    comp = COMPONENT.validate_python({"kind": "workload", "workload": "done", "benchmark_bonus": 300,
                                      "benchmark": {"amount": 18}, "per": "day", "days": days})
    people = {"done", "days"}
    kind = kind_of(comp)
    assert kind.form(comp, lambda column: column in people) == form
    why = kind.not_drawn(comp, lambda column: column in people)
    assert (why is None) == (form == "constant")
    if why is not None:
        assert "days_present" in why
