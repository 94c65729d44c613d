"""The policy reader refuses what it cannot read exactly (issue 18, deliverable 4): duplicate keys,
aliases, tags, deep nesting, decimal commas, numbers beyond the bound, and contradictions.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import calib
from calib.errors import PolicyError
from calib.policy.frozen import load_frozen, write_frozen
from calib.policy.load import dump_policy, parse_policy, validate_policy
from calib.policy.reader import MAX_DEPTH, read_json, read_yaml

DATA = Path(__file__).resolve().parents[1] / "fixtures"
GRADE_PAY = (DATA / "grade_pay.yaml").read_text(encoding="utf-8")
MINI = (DATA / "mini.yaml").read_text(encoding="utf-8")


def issues(text: str, fmt: str = "yaml") -> list[str]:
    """The issues a policy text is refused with, as printed."""
    with pytest.raises(PolicyError) as exc:
        parse_policy(text, "p", fmt)
    return [str(i) for i in exc.value.issues]


class TestYaml:
    def test_same_data_and_lines_as_before(self):
        """Every shipped policy reads; 'on' stays a key, Chinese text is kept, 2.5% stays text."""
        data, lines = read_yaml(GRADE_PAY)
        assert data["pay"]["on"] == "period" and data["title"] == "等级与薪酬 (golden)"
        assert data["grading"]["rules"]["staff"]["forced"]["ratios"]["A+"] == "20%"
        assert lines["pay.components.bonus.coefficients"] == 83
        assert lines["grading.scale.grades[4]"] == 53
        assert read_yaml("a: yes\nb: on\nc: true\nd: 010\n")[0] == {"a": "yes", "b": "on", "c": True, "d": 10}

    def test_duplicate_key_names_both_lines(self):
        assert issues(GRADE_PAY + "pay:\n  unit: 1\n") == [
            "pay (line 90): the key 'pay' is given twice in the same place (lines 70 and 90); calib "
            "will not guess which one you meant: keep one and delete or merge the other"]

    def test_every_duplicate_reported(self):
        with pytest.raises(PolicyError) as exc:
            read_yaml("a: 1\nb: {c: 1, c: 2}\na: 3\n")
        assert [(i.path, i.line) for i in exc.value.issues] == [("b.c", 2), ("a", 3)]

    def test_alias_bomb_refused_fast(self):
        bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
        start = time.monotonic()
        assert issues(bomb) == [
            "b[0] (line 2): uses the alias *a; write the values out instead of using &anchors and "
            "*aliases (calib refuses aliases so that a small file cannot expand to an enormous one)"]
        assert time.monotonic() - start < 0.5

    def test_tags_refused(self):
        assert issues("name: !!python/object/apply:os.system ['true']\n") == [
            "name (line 1): has the tag !!python/object/apply:os.system; a policy holds plain values "
            "only (text, numbers, true/false, lists and mappings): remove the tag"]

    @pytest.mark.parametrize("text", ["x: " + "[" * 10000 + "]" * 10000,
                                      "x: " + "{a: " * 10000 + "}" * 10000])
    def test_deep_nesting_is_a_policy_error(self, text):
        (issue,) = issues(text)
        assert f"(line 1): is nested more than {MAX_DEPTH} levels deep" in issue

    def test_two_documents_refused(self):
        assert "more than one YAML document" in issues("name: a\n---\nname: b\n")[0]

    def test_big_policy_reads_in_seconds(self):
        """Thousands of KPIs (a 1 MB policy) load in seconds, not a minute."""
        kpi = ("  k{i}:\n    measure: conversion\n    rule:\n      kind: tiers\n      bound: lower\n"
               "      bands: [{{at: 75%, points: 100}}, {{at: 50%, points: 60}}]\n")
        text = MINI.replace("kpis:\n", "kpis:\n" + "".join(kpi.format(i=i) for i in range(8000)), 1)
        assert len(text) > 1_000_000
        start = time.monotonic()
        data, lines = read_yaml(text)
        assert len(data["kpis"]) == 8004 and lines["kpis.k7999.rule.bands[1]"] > 40000
        assert time.monotonic() - start < 15

    def test_dump_reads_back(self):
        policy = calib.load_policy(DATA / "grade_pay.yaml")
        assert parse_policy(dump_policy(policy)) == policy


class TestJson:
    def test_duplicate_key_with_lines(self):
        text = '{\n  "name": "x",\n  "inputs": {},\n  "name": "y"\n}'
        assert issues(text, "json") == [
            "name (line 4): the key 'name' is given twice in the same place (lines 2 and 4); calib "
            "will not guess which one you meant: keep one and delete or merge the other"]

    def test_duplicate_key_path_without_lines(self):
        """Text YAML cannot read (a tab before a value) still names the path."""
        with pytest.raises(PolicyError) as exc:
            read_json('{"a": {"b":\t1, "b": 2}}\t')
        assert exc.value.issues[0].path == "a.b" and "given twice" in exc.value.issues[0].message

    def test_deep_json(self):
        assert "nested too deeply" in issues("[" * 100000 + "]" * 100000, "json")[0]

    def test_frozen_file_with_duplicate_key(self, tmp_path):
        path = tmp_path / "frozen.json"
        write_frozen(calib.load_policy(DATA / "grade_pay.yaml"), path)
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('"format_version": 1,', '"format_version": 1,\n"format_version": 1,'),
                        encoding="utf-8")
        with pytest.raises(PolicyError) as exc:
            load_frozen(path)
        assert "the key 'format_version' is given twice" in str(exc.value)
        with pytest.raises(PolicyError):
            calib.load_policy(path)


class TestNumbers:
    @pytest.mark.parametrize(("typed", "fix"), [("7,5", "write 7.5 or 75"), ("7,5%", "write 7.5% or 75%"),
                                                ("1,00", "write 1.00 or 100"),
                                                ("1,00,000", "no separators (100000?)"),
                                                ("12,5000", "write 12.5000 or 125000")])
    def test_comma_refused(self, typed, fix):
        text = GRADE_PAY.replace("    amount: 10000\n", f"    amount: '{typed}'\n")
        (issue,) = issues(text)
        assert issue.startswith(f"pay.pool.amount (line 86): '{typed}' has ")
        assert "not between thousands" in issue
        assert fix in issue

    @pytest.mark.parametrize(("typed", "value"), [("1,000", 1000), ("10,000.50", 10000.5),
                                                  ("1,000,000", 1000000), ("'1，000'", 1000)])
    def test_thousands_read(self, typed, value):
        """A comma between thousands is read as people mean it, in a policy as in data."""
        text = GRADE_PAY.replace("    amount: 10000\n", f"    amount: '{typed.strip(chr(39))}'\n")
        assert parse_policy(text).pay.pool.amount == value

    @pytest.mark.parametrize("typed", ["1e17", "-2e12", "110101199001011234", "'1e20'", "1e308"])
    def test_beyond_bound_refused(self, typed):
        text = GRADE_PAY.replace("    amount: 10000\n", f"    amount: {typed}\n")
        (issue,) = issues(text)
        assert issue.startswith("pay.pool.amount (line 86): ")
        assert "larger than any number calib accepts in a policy (at most 1,000,000,000,000 = 10^12" in issue

    def test_bound_reached_through_with_params(self):
        policy = calib.load_policy(DATA / "grade_pay.yaml")
        with pytest.raises(PolicyError) as exc:
            policy.with_params({"pay.pool.amount": 1e17})
        assert "10^12" in str(exc.value)

    @pytest.mark.parametrize("typed", [".nan", ".inf", "-.inf"])
    def test_not_finite_refused(self, typed):
        (issue,) = issues(GRADE_PAY.replace("    amount: 10000\n", f"    amount: {typed}\n"))
        assert issue.startswith("pay.pool.amount (line 86): ") and "NaN and infinity are refused" in issue


class TestContradictions:
    def test_pay_min_above_max(self):
        text = GRADE_PAY.replace("  rounding: half_up\n", "  rounding: half_up\n  min: 5000\n  max: 100\n")
        assert issues(text) == [
            "pay (line 70): the payout's min (5000) is above max (100), so no value could lie between "
            "them; swap them or correct the one that is wrong"]

    def test_grade_without_coefficient(self):
        text = GRADE_PAY.replace("C: 0.8, C-: 0.5}\n  pool", "C: 0.8}\n  pool")
        assert issues(text) == [
            "pay.components.bonus.coefficients (line 83): grade(s) C- of grading.scale have no "
            "coefficient, so people graded so would be paid nothing by it without a word; give every "
            "grade a coefficient (0 if that grade really gets nothing)"]

    def test_column_min_above_max(self):
        text = GRADE_PAY.replace("min: 0, max: 31", "min: 40, max: 31")
        assert issues(text) == [
            "inputs.records.columns.days_present (line 21): the column's min (40) is above max (31), "
            "so no value could lie between them; swap them or correct the one that is wrong"]

    def test_tiers_against_bound(self):
        text = MINI.replace("{at: 65%, points: 80}", "{at: 65%, points: 120}")
        assert issues(text) == [
            "kpis.conversion.rule (line 25): band 1 (at=0.65) gives 120 points, more than band 0 "
            "(at=0.75, 100 points), but with bound 'lower' a higher value is better: give the bands "
            "points that never rise down the list, or change 'bound' if lower values are the better "
            "ones"]

    @pytest.mark.parametrize("bound", ["lower", "upper"])
    def test_deduction_brackets_accepted(self, bound):
        """R7: the worse the value, the more is deducted, in either direction."""
        ats = [1, 0.95, 0.8] if bound == "lower" else [0, 0.004, 0.01]
        rule = {"kind": "tiers", "bound": bound, "otherwise": -10,
                "bands": [{"at": a, "points": p} for a, p in zip(ats, [0, -2, -4], strict=True)]}
        data, _ = read_yaml(MINI)
        data["kpis"]["conversion"]["rule"] = rule
        data.pop("ranges")
        assert validate_policy(json.loads(json.dumps(data))).kpis["conversion"].rule.otherwise == -10
