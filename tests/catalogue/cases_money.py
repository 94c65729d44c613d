"""Money is exact or refused: amounts too large to pay to the cent, in the policy, the data or
what the rules compute from them, are located errors, and nothing is written.

The golden ``grade_pay`` scheme pays 750 × score% + 1000 × a grade coefficient and shares a
10,000.00 pool; a ``salary`` people column is added where a case needs money from the data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from catalogue import Case, Outcome, copy_example, replace_in

COEFFICIENTS = "coefficients: {A+: 1.2, A: 1.1, B: 1.0, C: 0.8, C-: 0.5}"
NOTHING = ("out/results.csv", "out/report.xlsx", "out/payouts.csv")


def _run(policy: Path, data: Path, work: Path) -> list[str]:
    return ["run", "--policy", str(policy), "--data", str(data), "--out", str(work / "out")]


def _policy_edit(old: str, new: str, command: str = "run"):
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "grade_pay")
        replace_in(policy, old, new)
        return _run(policy, data, work) if command == "run" else ["validate", str(policy)]
    return setup


def _salary(values: dict[str, str], declared: str = "{type: float, min: 0}"):
    """People get a salary column (the given values, 8000 otherwise) that the performance pay
    is based on."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, "grade_pay")
        replace_in(policy, "position: {type: text, label: 岗位}",
                   f"position: {{type: text, label: 岗位}}\n      salary: {declared}")
        replace_in(policy, "base: {amount: 750}", "base: {column: salary}")
        people = pd.read_csv(data / "people.csv", dtype=str)
        people["salary"] = [values.get(i, "8000") for i in people["employee_id"]]
        people.to_csv(data / "people.csv", index=False)
        return _run(policy, data, work)
    return setup


def _payout_of(person: str, period: str, expected: str):
    def check(work: Path, outcome: Outcome) -> None:
        results = pd.read_csv(work / "out" / "payouts.csv", dtype=str)
        row = results[(results["id"] == person) & (results["period"] == period)]
        assert row["performance"].tolist() == [expected], row.to_dict("records")
    return check


CASES = [
    Case("money-coefficient-1e11", _policy_edit(COEFFICIENTS, COEFFICIENTS.replace("1.2", "1e11")),
         says=("pay.components.bonus", "too large to pay exactly", "wrong unit"), absent=NOTHING),
    Case("money-coefficient-9e11", _policy_edit(COEFFICIENTS, COEFFICIENTS.replace("1.2", "900000000000")),
         says=("pay.components.bonus", "too large", "E1"), absent=NOTHING),
    Case("money-coefficient-1e308", _policy_edit(COEFFICIENTS, COEFFICIENTS.replace("1.2", "1e308")),
         says=("coefficients", "line"), absent=NOTHING),
    Case("money-coefficient-inf", _policy_edit(COEFFICIENTS, COEFFICIENTS.replace("1.2", ".inf")),
         says=("coefficients",), absent=NOTHING),
    Case("money-base-amount-1e12", _policy_edit("base: {amount: 1000}", "base: {amount: 1000000000000}"),
         says=("pay.components.bonus", "too large"), absent=NOTHING),
    Case("money-base-amount-1e17", _policy_edit("base: {amount: 750}", "base: {amount: 1e17}"),
         says=("pay.components.performance", "line"), absent=NOTHING),
    Case("money-pool-1e17", _policy_edit("amount: 10000", "amount: 100000000000000000"),
         says=("pay.pool", "line"), absent=NOTHING),
    Case("money-pool-1e17-validate", _policy_edit("amount: 10000", "amount: 1e17", "validate"),
         says=("pay.pool", "line")),
    Case("money-cap-1e13", _policy_edit("cap: {amount: 3000}", "cap: {amount: 1e13}"),
         says=("pay.pool.cap", "line"), absent=NOTHING),
    Case("money-negative-huge-base", _policy_edit("base: {amount: 750}", "base: {amount: -1e15}"),
         says=("pay.components.performance",), absent=NOTHING),
    Case("money-id-number-in-salary", _salary({"E1": "110101199003071234"}),
         says=("salary", "E1", "people"), absent=NOTHING),
    Case("money-1e17-in-salary", _salary({"E2": "1e17"}),
         says=("salary", "E2"), absent=NOTHING),
    Case("money-salary-over-declared-max", _salary({"E3": "120000"}, "{type: float, min: 0, max: 100000}"),
         says=("salary", "E3", "100000"), absent=NOTHING),
    Case("money-salary-inf", _salary({"E1": "inf"}), says=("salary", "E1"), absent=NOTHING),
    Case("money-salary-large-but-exact", _salary({"E1": "123456789.13"}), exit=0,
         says=("payout total",),
         # 123,456,789.13 × 99% = 122,222,221.2387 → 122,222,221.24 (and × proration 1.0)
         check=_payout_of("E1", "2025-01", "122222221.24")),
    Case("money-salary-half-cent-edge", _salary({"E1": "1000.5"}), exit=0, says=("payout total",),
         # 1,000.50 × 99% = 990.495 → half up 990.50 (binary 990.4949999… must not round down)
         check=_payout_of("E1", "2025-01", "990.5")),
]
