"""The overrides stage: a calibration session's final values, applied after grading.

A committee (校准会) or an upheld appeal sets a person's grade, score, a pay component or the
payout for one period (or roll-up row); each override carries a reason code from the policy's
``calibration.reasons``, who decided it and when. The stage runs after grading and before pay,
so pay, pools and flags are computed from the final values, exact to the unit; the computed
values are kept beside them and every override is listed with both.

What each field does:

- ``grade``: the final grade of that graded row (a name or label of the scale);
- ``score``: the final score of that row: the graded row of that period when there is one,
  else the paid row, else the period row. A period's final score rolls up again into the
  roll-ups that grade or pay (the year is graded again from its final months). On a row graded
  by thresholds the grade follows the new score (unless the grade is overridden too); a row
  graded by quota keeps its place's grade, as no one else is moved by it;
- a pay component's name: that component's final amount on the paid row;
- ``payout``: the final payout of the paid row (after the payout's own min and max).

Quotas are checked again after overrides (``calib.engine.rebalance``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from calib._util.written_numbers import without_thousands
from calib.data.overrides import problem, read_overrides
from calib.engine.grading import Population
from calib.errors import DataError
from calib.policy.model import Policy

FIELDS = ("grade", "score", "payout")
"""Fields every policy may override (besides its pay components)."""


@dataclass
class Fixes:
    """Rows and final values of one kind of override on one population."""

    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __bool__(self) -> bool:
        return len(self.rows) > 0

    def apply(self, array: np.ndarray) -> np.ndarray:
        """A copy of ``array`` with the final values at their rows."""
        out = np.array(array, copy=True)
        out[self.rows] = self.values
        return out


@dataclass
class Plan:
    """Validated overrides, located: which row of the graded or paid population each names."""

    table: pd.DataFrame
    """The overrides as given, with ``target`` (graded / paid) and ``at_row`` (the population row)."""
    grade: Fixes = field(default_factory=Fixes)
    score_graded: Fixes = field(default_factory=Fixes)
    score_paid: Fixes = field(default_factory=Fixes)
    score_period: Fixes = field(default_factory=Fixes)
    """Scores of period rows that are neither graded nor paid as such (grades and pay on
    roll-ups): the roll-ups are rolled up again from them."""
    components: dict[str, Fixes] = field(default_factory=dict)
    """Final amounts in whole pay units, by component."""
    payout: Fixes = field(default_factory=Fixes)
    """Final payouts in whole pay units."""

    def touches_pay(self) -> bool:
        """Whether pay must be computed twice (computed and final)."""
        return bool(self.grade or self.score_graded or self.score_paid or self.score_period
                    or self.payout
                    or any(self.components.values()))


def plan(source: Any, policy: Policy, graded: Population | None, paid: Population | None,
         periods: Population | None = None) -> Plan | None:
    """Read and check the overrides ``source`` against the policy and the populations; None
    when there are none. Every problem is reported at once (``DataError``), by row.
    """
    table = read_overrides(source)
    if table.empty:
        return None
    table["field"] = [field_name(f, policy) for f in table["field"]]
    check = _Check(policy, graded, paid, table, periods)
    for i, r in table.iterrows():
        check.row(int(i), r)  # type: ignore[call-overload]
    if check.problems:
        raise DataError(pd.DataFrame(check.problems, columns=list(DataError.COLUMNS)))
    out = Plan(table.assign(target=check.target, at_row=check.at_row))
    out.grade = _fixes(check.found["grade"], np.int64)
    out.score_graded = _fixes(check.found["score graded"], np.float64)
    out.score_paid = _fixes(check.found["score paid"], np.float64)
    out.score_period = _fixes(check.found["score period"], np.float64)
    out.payout = _fixes(check.found.pop("payout", []), np.int64)
    out.components = {k: _fixes(v, np.int64) for k, v in check.found.items()
                      if k not in ("grade", "score graded", "score paid", "score period")}
    return out


class _Check:
    """Checks each override row against the policy and the populations, collecting every
    problem and, for good rows, the population row and the final value.
    """

    def __init__(self, policy: Policy, graded: Population | None, paid: Population | None,
                 table: pd.DataFrame, periods: Population | None = None):
        self.policy, self.graded, self.paid, self.periods = policy, graded, paid, periods
        self.components = list(policy.pay.components) if policy.pay is not None else []
        scale = policy.grading.scale if policy.grading is not None else None
        self.grade_index = {} if scale is None else {
            **{(g.label or g.name): i for i, g in enumerate(scale.grades)},
            **{g.name: i for i, g in enumerate(scale.grades)}}
        self.located = {"graded": _locate(graded, table), "paid": _locate(paid, table),
                        "period": _locate(periods, table)}
        some = graded if graded is not None else paid
        self.ids = set() if some is None else set(np.asarray(some.ids, dtype=object).astype(str))
        self.problems: list[dict[str, Any]] = []
        self.found: dict[str, list] = {"grade": [], "score graded": [], "score paid": [],
                                       "score period": []}
        self.target = [""] * len(table)
        self.at_row = [-1] * len(table)
        self.seen: dict[tuple[str, str, str], int] = {}

    def bad(self, r: pd.Series, what: str, fix: str, column: str = "value",
            value: Any = None) -> None:
        self.problems.append(problem(int(r["row"]), column, what, fix,
                                     r[column] if value is None else value, r["id"]))

    def row(self, i: int, r: pd.Series) -> None:
        """Check one override; record its row and final value when it is good."""
        fld, key = r["field"], (r["id"], r["period"], r["field"])
        if key in self.seen:
            self.bad(r, f"{fld} of {r['id']} in {r['period']} is overridden twice (rows "
                     f"{self.seen[key]} and {r['row']})",
                     "keep one override per person, period and field (the final one)", "field")
            return
        self.seen[key] = int(r["row"])
        reasons = self.policy.cycle.reasons
        if r["reason"] not in reasons:
            self.bad(r, f"reason code {r['reason']!r} is not in the policy's list",
                     f"use one of: {', '.join(reasons)} (calibration.reasons in the policy)",
                     "reason")
        if r["at"] and not _is_time(r["at"]):
            self.bad(r, f"'{r['at']}' is not a date and time",
                     "write it as 2025-01-31 or 2025-01-31T14:30", "at")
        if fld not in (*FIELDS, *self.components):
            self.bad(r, f"{fld!r} cannot be overridden", "use grade, score, payout or a pay "
                     f"component of the policy ({', '.join(self.components) or 'none'})", "field")
        elif r["id"] not in self.ids:
            self.bad(r, f"no person {r['id']!r} in the data", "check the id against the records",
                     "id")
        elif fld == "grade":
            self._grade(i, r)
        elif fld == "score":
            self._score(i, r)
        else:
            self._money(i, r)

    def _take(self, i: int, r: pd.Series, target: str, found: str, value: Any) -> None:
        row = int(self.located[target][i])
        pop = {"graded": self.graded, "paid": self.paid, "period": self.periods}[target]
        assert pop is not None
        if r["field"] in ("grade", "score") and not pop.rated[row]:
            self.bad(r, f"{r['id']} is not rated in {r['period']}, so has no {r['field']} to "
                     "override", "correct the input that leaves the row not rated, and run again",
                     "id")
            return
        self.found.setdefault(found, []).append((row, value))
        self.target[i], self.at_row[i] = target, row

    def _grade(self, i: int, r: pd.Series) -> None:
        if self.graded is None:
            self.bad(r, "the policy grades nobody, so there is no grade to override",
                     "override the score, a pay component or the payout", "field")
        elif self.located["graded"][i] < 0:
            self.bad(r, *_no_row(self.graded, r["id"], r["period"], "graded"), "period")
        elif r["value"] not in self.grade_index:
            self.bad(r, f"grade {r['value']!r} is not in the scale",
                     f"use one of: {', '.join(dict.fromkeys(self.grade_index))} (grading.scale)")
        else:
            self._take(i, r, "graded", "grade", self.grade_index[r["value"]])

    def _score(self, i: int, r: pd.Series) -> None:
        number = _number(r["value"])
        if number is None:
            self.bad(r, f"score {r['value']!r} is not a number", "write the final score, e.g. 85.5")
        elif self.graded is not None and self.located["graded"][i] >= 0:
            self._take(i, r, "graded", "score graded", number)
        elif self.paid is not None and self.located["paid"][i] >= 0:
            self._take(i, r, "paid", "score paid", number)
        elif self.periods is not None and self.located["period"][i] >= 0:
            self._take(i, r, "period", "score period", number)
        else:
            self.bad(r, *_no_row(self.graded or self.paid, r["id"], r["period"],
                                 "graded or paid"), "period")

    def _money(self, i: int, r: pd.Series) -> None:
        pay = self.policy.pay
        if self.paid is None or pay is None:
            self.bad(r, "the policy pays nobody", "override the grade or the score", "field")
        elif self.located["paid"][i] < 0:
            self.bad(r, *_no_row(self.paid, r["id"], r["period"], "paid"), "period")
        else:
            units = _units(r["value"], pay.unit)
            if isinstance(units, str):
                self.bad(r, units, f"write the final amount in {self.policy.currency}, to the "
                         f"pay unit ({pay.unit:g})")
            else:
                self._take(i, r, "paid", r["field"], units)


def _is_time(text: str) -> bool:
    try:
        pd.Timestamp(text)
    except (ValueError, TypeError):
        return False
    return True


ALIASES = {"等级": "grade", "考核等级": "grade", "得分": "score", "分数": "score",
           "考核得分": "score", "实发": "payout", "实发金额": "payout", "绩效奖金合计": "payout"}
"""What HR may write for the fixed fields in Chinese."""


def field_name(text: str, policy: Policy) -> str:
    """The field an override names, as HR may write it: ``grade``/``score``/``payout`` in any
    case or in Chinese (``ALIASES``), or a pay component by its name or its label (绩效工资);
    anything else is returned as written, to be refused with the fields there are.
    """
    components = policy.pay.components if policy.pay is not None else {}
    if text in components:
        return text
    low = text.strip().lower()
    if low in FIELDS:
        return low
    if text in ALIASES:
        return ALIASES[text]
    by_label = {c.label: name for name, c in components.items() if c.label}
    return by_label.get(text, text)


def _fixes(pairs: list, dtype: type) -> Fixes:
    if not pairs:
        return Fixes()
    rows, values = zip(*pairs, strict=True)
    return Fixes(np.array(rows, dtype=np.int64), np.array(values, dtype=dtype))


def _locate(pop: Population | None, table: pd.DataFrame) -> np.ndarray:
    """Each override's row in ``pop`` by (id, period) as text (−1: none)."""
    if pop is None:
        return np.full(len(table), -1, dtype=np.int64)
    ids = np.asarray(pop.ids, dtype=object).astype(str)[pop.person]
    periods = np.asarray(pop.period_label, dtype=object).astype(str)
    index = pd.MultiIndex.from_arrays([ids, periods])
    wanted = pd.MultiIndex.from_arrays([table["id"].to_numpy(), table["period"].to_numpy()])
    return np.asarray(index.get_indexer(wanted), dtype=np.int64)


def _no_row(pop: Population | None, who: str, period: str, which: str) -> tuple[str, str]:
    """The problem and the fix when a person has no row for a period in a population."""
    if pop is None:
        return f"no {which} rows", "check the field"
    ids = np.asarray(pop.ids, dtype=object).astype(str)[pop.person]
    have = pd.unique(np.asarray(pop.period_label, dtype=object).astype(str)[ids == who])
    shown = ", ".join(map(str, have[:6])) + (" …" if len(have) > 6 else "")
    return (f"{who} has no {which} row for period {period!r}",
            f"use a period of theirs as the results show it ({shown or 'none'})")


def _number(text: str) -> float | None:
    """A finite number typed as text: a point for decimals, a comma only between thousands
    (``calib._util.written_numbers``: 1,234.5 is read, 7,5 is not guessed).
    """
    plain = without_thousands(text)
    try:
        value = float(plain) if plain is not None else math.nan
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _units(text: str, unit: float) -> int | str:
    """An amount in whole pay units, or why it cannot be paid exactly."""
    plain = without_thousands(text)
    if plain is None:
        return (f"{text!r} has a comma that is not between thousands; write it with a point for "
                "decimals (1234.50 or 1,234.50)")
    try:
        amount = Decimal(plain)
    except InvalidOperation:
        return f"{text!r} is not an amount"
    if not amount.is_finite():
        return f"{text!r} is not an amount"
    units = amount / Decimal(str(unit))
    if units != units.to_integral_value():
        return f"{text} is not a whole number of the pay unit ({unit:g}), so it cannot be paid exactly"
    if abs(units) >= 2**53:
        return f"{text} is larger than any amount calib pays"
    return int(units)


def final_grades(plan: Plan, computed: np.ndarray, graded: Population, final_score: np.ndarray,
                 by_thresholds: np.ndarray, thresholds: Any) -> np.ndarray:
    """The final grade per graded row: a score override regrades a row graded by thresholds
    (``by_thresholds``: rows not in a quota group and not vetoed), then grade overrides win.
    """
    final = computed.copy()
    if plan.score_graded:
        rows = plan.score_graded.rows[by_thresholds[plan.score_graded.rows]]
        if len(rows):
            final[rows] = thresholds(final_score[rows])
    if plan.grade:
        final[plan.grade.rows] = plan.grade.values
    return final


def overridden_rows(plan: Plan, n: int, target: str) -> np.ndarray:
    """Rows of the graded or paid population that some override names."""
    mask = np.zeros(n, dtype=bool)
    at = plan.table.loc[plan.table["target"] == target, "at_row"].to_numpy(dtype=np.int64)
    mask[at] = True
    return mask


def record(plan: Plan, policy: Policy, computed: dict[str, Any], final: dict[str, Any]
           ) -> pd.DataFrame:
    """The overrides as applied: id, period, field, computed and final value, the reason's code
    and meaning, note, by, at, and the file's row.

    ``computed`` / ``final`` map a field to a function of a population row giving that value.
    """
    t = plan.table
    reasons = policy.cycle.reasons
    rows = []
    for _, r in t.iterrows():
        fld, at_row = r["field"], int(r["at_row"])
        rows.append({"id": r["id"], "period": r["period"], "field": fld,
                     "computed": computed[fld](at_row, r["target"]),
                     "final": final[fld](at_row, r["target"]),
                     "reason": r["reason"], "reason_text": reasons.get(r["reason"], ""),
                     "note": r["note"], "by": r["by"], "at": r["at"],
                     "effect": effect(policy, fld, r["target"]), "row": r["row"]})
    return pd.DataFrame(rows)


def effect(policy: Policy, field: str, target: str) -> str:
    """What an override changes, in words (the overrides table says it beside each one)."""
    grading = policy.grading
    pay = policy.pay
    if field == "grade":
        follows = "pay, the pool and the flags follow the final grade"
        if pay is not None and grading is not None and pay.on != grading.on:
            follows = (f"the flags follow the final grade; pay is on '{pay.on}' and does not read "
                       f"the grades on '{grading.on}'")
        return follows
    if field == "score" and target == "graded":
        return ("the grade follows the final score where it was graded by thresholds (a quota "
                "place keeps its grade); score-based pay follows")
    if field == "score":
        rolled = sorted({on for on in (grading.on if grading else "period",
                                       pay.on if pay else "period") if on != "period"})
        return (f"the roll-up {', '.join(rolled)} is rolled up again from the final score; its "
                "grade and pay follow" if rolled else "score-based pay follows")
    if field == "payout":
        return "the payout is final (after the payout's min and max)"
    return "the payout adds the final amount (then the payout's min and max)"
