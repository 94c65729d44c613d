"""Bad policies (issue 18, deliverable 4): what the policy reader cannot read exactly is refused.

Each case changes one thing in a copy of a golden policy and checks that ``validate`` or ``run``
exits 1, names the place (policy path and line) and the fix, and writes no results.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from calib.cli import main
from calib.policy.load import load_policy
from catalogue import Case, Outcome, copy_example, replace_in

RESULTS = ("out/results.csv",)


def _run(policy: Path, data: Path, work: Path) -> list[str]:
    return ["run", "--policy", str(policy), "--data", str(data), "--out", str(work / "out")]


def _edit(old: str, new: str, name: str = "grade_pay", command: str = "run"):
    """A setup that replaces ``old`` by ``new`` in the golden policy and runs ``command``."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, name)
        replace_in(policy, old, new)
        return _run(policy, data, work) if command == "run" else ["validate", str(policy)]
    return setup


def _append(text: str, name: str = "grade_pay"):
    """A setup that adds ``text`` at the end of the golden policy and runs it."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, name)
        with policy.open("a", encoding="utf-8") as f:
            f.write(text)
        return _run(policy, data, work)
    return setup


def _json(old: str = "", new: str = "", name: str = "grade_pay", command: str = "run"):
    """A setup that writes the golden policy as indented JSON, replaces ``old`` by ``new`` in the
    text, and runs ``command`` on it."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, name)
        path = work / "policy.json"
        path.write_text(json.dumps(load_policy(policy).to_dict(minimal=True), ensure_ascii=False,
                                   indent=2), encoding="utf-8")
        if old:
            replace_in(path, old, new)
        return _run(path, data, work) if command == "run" else ["validate", str(path)]
    return setup


def _text(text: str, suffix: str = ".yaml", command: str = "validate"):
    """A setup that writes ``text`` as the whole policy file."""
    def setup(work: Path) -> list[str]:
        _policy, data = copy_example(work)
        path = work / f"bad{suffix}"
        path.write_text(text, encoding="utf-8")
        (work / "started").write_text(str(time.monotonic()), encoding="utf-8")
        return ["validate", str(path)] if command == "validate" else _run(path, data, work)
    return setup


def _simple_alias(work: Path) -> list[str]:
    """The bonus's base written as an alias of the performance pay's base."""
    policy, data = copy_example(work)
    replace_in(policy, "base: {amount: 750}", "base: &b {amount: 750}")
    replace_in(policy, "base: {amount: 1000}", "base: *b")
    return _run(policy, data, work)


def _fast(work: Path, outcome: Outcome) -> None:
    """The refusal came in well under a second (an alias bomb must not be expanded)."""
    started = float((work / "started").read_text(encoding="utf-8"))
    assert time.monotonic() - started < 1.0


def _frozen(old: str, new: str, command: str = "validate"):
    """A setup that freezes the golden policy, then edits the frozen JSON's text."""
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work)
        frozen = work / "frozen.json"
        assert main(["freeze", str(policy), "--out", str(frozen)]) == 0
        replace_in(frozen, old, new)
        return ["validate", str(frozen)] if command == "validate" else _run(frozen, data, work)
    return setup


BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n"
                  for i in range(8)))
SECOND_PAY = """pay:
  components:
    performance:
      kind: score_percent
      base: {amount: 7500}
"""
DUP = "given twice"
BOUND = "10^12"
COMMA = "does not guess"

CASES: list[Case] = [
    # --- duplicate keys --------------------------------------------------------------------------
    Case("policy-yaml-duplicate-pay-block", _append(SECOND_PAY),
         says=("pay (line 90)", "lines 70 and 90", DUP, "keep one"), absent=RESULTS),
    Case("policy-yaml-duplicate-key-in-flow-mapping",
         _edit("base: {amount: 750}", "base: {amount: 750, amount: 7500}"),
         says=("pay.components.performance.base.amount", "both on line 78", DUP), absent=RESULTS),
    Case("policy-yaml-duplicate-kpi",
         _edit("sections:\n", "  points:\n    column: points\n    rule: {kind: linear, slope: 2}\n"
               "sections:\n"),
         says=("kpis.points", "lines 26 and 29", DUP), absent=RESULTS),
    Case("policy-yaml-duplicate-quoted-and-plain-key",
         _edit('  "on": period\n  unit', '  "on": period\n  on: period\n  unit'),
         says=("pay.on", "lines 71 and 72", DUP), absent=RESULTS),
    Case("policy-yaml-duplicate-grade-coefficient",
         _edit("C: 0.8, C-: 0.5}\n  pool", "C: 0.8, C-: 0.5, A+: 12}\n  pool", command="validate"),
         says=("pay.components.bonus.coefficients.A+", "both on line 83", DUP)),
    Case("policy-json-duplicate-pay", _json('"pay": {', '"pay": {"unit": 1},\n  "pay": {'),
         says=("pay (line", DUP, "keep one"), absent=RESULTS),
    Case("policy-json-duplicate-nested-key", _json('"amount": 750.0', '"amount": 750,\n"amount": 7500'),
         says=("pay.components.performance.base.amount", "lines", DUP), absent=RESULTS),
    Case("policy-frozen-duplicate-key-validate",
         _frozen('"format_version": 1,', '"format_version": 1,\n  "format_version": 1,'),
         says=("format_version", "lines", DUP)),
    Case("policy-frozen-duplicate-policy-key-run",
         _frozen('"amount": 10000.0,', '"amount": 10000.0,\n      "amount": 10000.0,', "run"),
         says=("policy.pay.pool.amount", DUP), absent=RESULTS),
    # --- aliases, tags, documents ------------------------------------------------------------------
    Case("policy-yaml-alias-bomb", _text(BOMB), check=_fast,
         says=("b[0] (line 2)", "*a", "write the values out instead of using &anchors")),
    Case("policy-yaml-alias-bomb-run", _text(BOMB, command="run"), check=_fast,
         says=("alias", "&anchors"), absent=RESULTS),
    Case("policy-yaml-simple-alias", _simple_alias,
         says=("pay.components.bonus.base (line 82)", "*b", "write the values out"), absent=RESULTS),
    Case("policy-yaml-merge-key",
         _edit("      base: {amount: 1000}", "      <<: {base: {amount: 1000}}"),
         says=("pay.components.bonus (line 82)", "merge key", "write the values out"), absent=RESULTS),
    Case("policy-yaml-python-tag",
         _edit("title: 等级与薪酬 (golden)", "title: !!python/object/apply:os.system ['touch pwned']"),
         says=("title (line 8)", "!!python/object/apply:os.system", "remove the tag"),
         absent=(*RESULTS, "pwned")),
    Case("policy-yaml-custom-tag", _edit("version: \"1\"", "version: !include other.yaml"),
         says=("version (line 9)", "!include", "plain values only"), absent=RESULTS),
    Case("policy-yaml-two-documents", _append("---\nname: other\n"),
         says=("line 90", "more than one yaml document", "remove the extra '---'"), absent=RESULTS),
    # --- nesting ---------------------------------------------------------------------------------
    Case("policy-yaml-deep-lists", _text("name: x\ninputs: " + "[" * 10000 + "]" * 10000 + "\n"),
         check=_fast, says=("inputs[0][0]", "line 2", "nested more than 64 levels", "brackets")),
    Case("policy-yaml-deep-mappings", _text("name: x\ninputs: " + "{a: " * 10000 + "1" + "}" * 10000),
         says=("inputs.a.a", "line 2", "nested more than 64 levels")),
    Case("policy-json-deep-lists", _text('{"name": "x", "inputs": ' + "[" * 100000 + "]" * 100000 + "}",
                                         suffix=".json"),
         says=("nested too deeply", "brackets")),
    Case("policy-json-nested-100", _text('{"name": "x", "inputs": ' + "[" * 100 + "]" * 100 + "}",
                                         suffix=".json"),
         says=("inputs[0][0]", "nested more than 64 levels")),
    # --- decimal commas --------------------------------------------------------------------------
    Case("policy-decimal-comma-pool", _edit("    amount: 10000\n", "    amount: 10,00\n"),
         says=("pay.pool.amount (line 86)", "'10,00' has a comma", "write 10.00 or 1000"),
         absent=RESULTS),
    Case("policy-thousands-pool", _edit("    amount: 10000\n", "    amount: 10,000\n"), exit=0,
         says=("payout total: 50,250.90",)),
    Case("policy-decimal-comma-quoted", _edit("base: {amount: 750}", "base: {amount: '7,5'}"),
         says=("pay.components.performance.base.amount (line 78)", "write 7.5 or 75"), absent=RESULTS),
    Case("policy-decimal-comma-percent", _edit("A+: 20%, A: 30%", "A+: '2,0%', A: 30%"),
         says=("grading.rules.staff.forced.ratios.A+ (line 61)", "write 2.0% or 20%"), absent=RESULTS),
    Case("policy-fullwidth-comma", _edit("    amount: 10000\n", "    amount: 10，00\n"),
         says=("pay.pool.amount (line 86)", COMMA, "write 10.00 or 1000")),
    Case("policy-json-decimal-comma", _json('"amount": 750.0', '"amount": "7,5"'),
         says=("pay.components.performance.base.amount", "write 7.5 or 75"), absent=RESULTS),
    # --- numbers beyond the bound ----------------------------------------------------------------
    Case("policy-coefficient-1e308", _edit("C-: 0.5}\n  pool", "C-: 1e308}\n  pool"),
         says=("pay.components.bonus.coefficients.C- (line 83)", BOUND, "write the intended value"),
         absent=RESULTS),
    Case("policy-pool-1e17", _edit("    amount: 10000\n", "    amount: 1e17\n"),
         says=("pay.pool.amount (line 86)", "1e+17", BOUND), absent=RESULTS),
    Case("policy-id-number-as-amount", _edit("    amount: 10000\n", "    amount: 110101199001011234\n"),
         says=("pay.pool.amount (line 86)", BOUND, "id number"), absent=RESULTS),
    Case("policy-big-number-as-text", _edit("base: {amount: 750}", "base: {amount: '2e15'}"),
         says=("pay.components.performance.base.amount (line 78)", BOUND), absent=RESULTS),
    Case("policy-negative-huge-threshold", _edit("min: 80}", "min: -5e13}"),
         says=("grading.scale.grades[3].min (line 52)", BOUND), absent=RESULTS),
    Case("policy-huge-whole-number", _edit("periods: 2", "periods: 100000000000000000000"),
         says=("grading.streaks.exit_review.periods (line 69)", BOUND), absent=RESULTS),
    Case("policy-json-1e308", _json('"amount": 750.0', '"amount": 1e308'),
         says=("pay.components.performance.base.amount", BOUND), absent=RESULTS),
    Case("policy-yaml-nan", _edit("    amount: 10000\n", "    amount: .nan\n"),
         says=("pay.pool.amount (line 86)", "nan", "write the intended number"), absent=RESULTS),
    Case("policy-json-infinity", _json('"amount": 750.0', '"amount": Infinity'),
         says=("pay.components.performance.base.amount", "inf", "write the intended number"),
         absent=RESULTS),
    # --- contradictions --------------------------------------------------------------------------
    Case("policy-pay-min-above-max", _edit("  rounding: half_up\n", "  rounding: half_up\n  min: 5000\n"
                                           "  max: 100\n"),
         says=("pay (line 70)", "min (5000) is above max (100)", "swap them"), absent=RESULTS),
    Case("policy-grade-without-coefficient", _edit("C: 0.8, C-: 0.5}\n  pool", "C: 0.8}\n  pool"),
         says=("pay.components.bonus.coefficients (line 83)", "C-", "no coefficient",
               "0 if that grade really gets nothing"), absent=RESULTS),
    Case("policy-pool-grade-without-coefficient",
         _edit("coefficients: {A+: 1.2, A: 1.1, B: 1.0, C: 0.8, C-: 0.5}\n    cap",
               "coefficients: {A+: 1.2, A: 1.1}\n    cap"),
         says=("pay.pool.coefficients (line 88)", "B, C, C-", "no coefficient"), absent=RESULTS),
    Case("policy-column-min-above-max", _edit("{type: int, min: 0, max: 31", "{type: int, min: 40, max: 31"),
         says=("inputs.records.columns.days_present (line 21)", "min (40) is above max (31)"),
         absent=RESULTS),
    Case("policy-tiers-points-against-bound",
         _edit("[{at: 75%, points: 100}, {at: 65%, points: 80}, {at: 50%, points: 60}]",
               "[{at: 75%, points: 60}, {at: 65%, points: 80}, {at: 50%, points: 100}]", "mini", "validate"),
         says=("kpis.conversion.rule (line 25)", "band 1 (at=0.65) gives 80 points", "bound 'lower'",
               "change 'bound'")),
    Case("policy-tiers-otherwise-above-last-band",
         _edit("points: 60}]\n      otherwise: 0", "points: 60}]\n      otherwise: 70", "mini", "validate"),
         says=("kpis.conversion.rule (line 25)", "'otherwise' gives 70 points", "at most 60")),
    Case("policy-range-min-above-max", _edit("{min: 0.6, max: 0.9}", "{min: 0.9, max: 0.6}", "mini",
                                             "validate"),
         says=("ranges.kpis.conversion.rule.bands[0].at", "min (0.9) is above max (0.6)")),
    # --- what must still be read -----------------------------------------------------------------
    Case("policy-deduction-brackets-accepted",
         _edit("bands: [{at: 30, points: 100}, {at: 45, points: 80}, {at: 55, points: 60}]",
               "bands: [{at: 30, points: 0}, {at: 45, points: -2}, {at: 55, points: -4}]\n"
               "      otherwise: -10", "mini", "validate"),
         exit=0, says=("ok",)),
]
