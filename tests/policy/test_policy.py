"""The policy model: strict keys, every error with its path and line, references, params, formats."""

from __future__ import annotations

import json
import math

import pytest
from strategies import policy_dict

import calib
from calib.errors import PolicyError
from calib.policy.load import validate_policy

UNKNOWN_KEY = "unknown key (check its spelling; unknown keys are refused so a typo cannot pass)"


def issues(exc: pytest.ExceptionInfo) -> list[tuple[str, str, int | None]]:
    """(path, message, line) of every issue of a PolicyError."""
    return [(i.path, i.message, i.line) for i in exc.value.issues]


class TestStrictDocument:
    """Unknown keys, several errors at once, paths and YAML lines."""

    def test_unknown_keys_and_bad_number_reported_together(self, data_dir):
        """bad_keys.yaml: 'otherwize' (line 16), weight 'lots' (line 20), 'maximum' (line 22)."""
        with pytest.raises(PolicyError) as exc:
            calib.load_policy(data_dir / "bad_keys.yaml")
        assert issues(exc) == [
            ("kpis.k.rule.otherwize", UNKNOWN_KEY, 16),
            ("sections.total.weights.k",
             "Input should be a valid number, unable to parse string as a number; got 'lots'", 20),
            ("scorecards.staff.maximum", UNKNOWN_KEY, 22),
        ]
        source = str(data_dir / "bad_keys.yaml")
        assert str(exc.value).splitlines()[:2] == [
            f"policy {source} is invalid (3 problems):",
            f"  - kpis.k.rule.otherwize (line 16): {UNKNOWN_KEY}",
        ]

    def test_unknown_top_level_key(self):
        """A misspelt top-level key ('kpi') is refused at its line (3)."""
        text = "name: x\ninputs: {records: {period: p, columns: {p: {type: text}}}}\nkpi: {}\n" \
               "scorecards: {s: {root: r}}\n"
        with pytest.raises(PolicyError) as exc:
            calib.parse_policy(text)
        assert ("kpi", UNKNOWN_KEY, 3) in issues(exc)

    def test_every_error_names_a_path(self, data_dir):
        """Every issue of both bad documents names a non-empty path and a line."""
        for name in ("bad_keys", "bad_refs"):
            with pytest.raises(PolicyError) as exc:
                calib.load_policy(data_dir / f"{name}.yaml")
            assert all(path and line for path, _, line in issues(exc))

    def test_missing_required_keys(self):
        """A document with only a name lacks 'inputs' and 'scorecards': both named."""
        with pytest.raises(PolicyError) as exc:
            calib.parse_policy("name: x\n")
        assert str(exc.value) == ("policy <text> is invalid (2 problems):\n"
                                  "  - inputs: is required\n  - scorecards: is required")

    def test_not_a_mapping(self):
        """A YAML list is not a policy."""
        with pytest.raises(PolicyError) as exc:
            calib.parse_policy("[1, 2]")
        assert str(exc.value) == ("policy <text> is invalid (1 problem):\n  - (top level): a policy "
                                  "document must be a mapping of keys to values (name: ..., "
                                  "kpis: ...), got a list")

    def test_an_empty_policy_says_so(self):
        """An empty file (or one with comments only) is called empty, not 'NoneType'."""
        for text in ("", "# the 2027 scheme, to be written\n"):
            with pytest.raises(PolicyError) as exc:
                calib.parse_policy(text)
            assert "the policy is empty" in str(exc.value) and "NoneType" not in str(exc.value)

    def test_broken_yaml_names_the_line(self):
        """An unclosed list is reported at line 3 with the YAML parser's words."""
        with pytest.raises(PolicyError) as exc:
            calib.parse_policy("name: x\ninputs: [1\n")
        assert str(exc.value) == ("policy <text> is invalid (1 problem):\n  - (top level) (line 3): "
                                  "not valid YAML: did not find expected ',' or ']'")

    def test_broken_json_names_the_line(self):
        """A trailing comma in JSON is reported at line 1."""
        with pytest.raises(PolicyError) as exc:
            calib.parse_policy('{"name": "x",}', fmt="json")
        assert issues(exc) == [
            ("", "not valid JSON: Expecting property name enclosed in double quotes", 1)]

    def test_missing_file(self, tmp_path):
        """A policy file that does not exist is a PolicyError naming it."""
        path = tmp_path / "nope.yaml"
        with pytest.raises(PolicyError) as exc:
            calib.load_policy(path)
        assert issues(exc) == [("", f"file not found: {path}", None)]


class TestReferences:
    """Cross-part checks: names, columns, cycles, weights, scorecard order."""

    def test_all_reference_problems_at_once(self, data_dir):
        """bad_refs.yaml: unknown measure, undeclared column, text column, cycle, unknown when column."""
        with pytest.raises(PolicyError) as exc:
            calib.load_policy(data_dir / "bad_refs.yaml")
        found = {(p, m, line) for p, m, line in issues(exc)}
        assert {
            ("kpis.rate.measure", "measure 'complaint_rate' is not defined; no measures are declared",
             12),
            ("kpis.speed.column", "column 'seconds' is not declared in inputs.records.columns; "
             "known columns: calls, note, period", 15),
            ("kpis.remark.column", "column 'note' is 'text', but a number is needed here", 18),
            ("sections.a", "sections refer to each other in a circle: a → b → a", 21),
            ("scorecards.leads.when.column", "column 'position' is declared neither in "
             "inputs.records nor in inputs.people; known columns: calls, note, period", 28),
        } <= found
        assert len(exc.value.issues) == 5

    def test_two_scorecards_without_when(self):
        """Only one scorecard may go without 'when' (it takes everyone the others leave)."""
        data = policy_dict({"a": {"kind": "linear"}})
        data["inputs"]["records"]["columns"]["position"] = {"type": "text"}
        data["scorecards"] = {"everyone": {"root": "total"},
                              "leads": {"root": "total", "when": {"column": "position", "eq": "lead"}},
                              "rest": {"root": "total"}}
        with pytest.raises(PolicyError) as exc:
            validate_policy(data)
        assert issues(exc) == [("scorecards.rest.when", "scorecards 'everyone', 'rest' have no "
                                "'when', so each would apply to everyone; give all but one a "
                                "condition", None)]

    def test_weights_not_adding_up(self):
        """Weights 35 + 20 + 10 = 65 in a section of total 100 is refused with the sum."""
        data = policy_dict({k: {"kind": "linear"} for k in ("a", "b", "c")},
                           {"a": 35, "b": 20, "c": 10})
        with pytest.raises(PolicyError) as exc:
            validate_policy(data)
        assert issues(exc) == [("sections.total", "weights add up to 65, not 100; change them or "
                                "set 'total_weight'", None)]

    def test_weights_of_a_part_section(self):
        """The e-commerce sheet's weighted part: 35 + 20 + 10 + 5 + 5 = 75 with total_weight 75."""
        names = ["conversion", "payment", "order_value", "reply", "response"]
        data = policy_dict({k: {"kind": "linear"} for k in names},
                           dict(zip(names, [35, 20, 10, 5, 5], strict=True)), total_weight=75)
        assert validate_policy(data).sections["total"].total_weight == 75

    def test_negative_weight(self):
        """A negative weight is refused even when the sum is right (-10 + 110 = 100)."""
        data = policy_dict({k: {"kind": "linear"} for k in ("a", "b")}, {"a": -10, "b": 110})
        with pytest.raises(PolicyError) as exc:
            validate_policy(data)
        assert issues(exc) == [("sections.total.weights.a",
                                "Input should be greater than or equal to 0; got -10", None)]


class TestParams:
    """params() lists every tunable number; with_params changes them and re-validates."""

    def test_params_of_mini(self, mini_policy):
        """Band bound tightened by 'ranges' to [0.6, 0.9]; weights ≥ 0; incident cost ≥ 0."""
        by_path = {p.path: p for p in mini_policy.params()}
        at = by_path["kpis.conversion.rule.bands[0].at"]
        assert (at.value, at.role, at.min, at.max) == (0.75, "threshold", 0.6, 0.9)
        weight = by_path["sections.sales.weights.conversion"]
        assert (weight.value, weight.role, weight.min, weight.max) == (50, "weight", 0, None)
        each = by_path["kpis.attendance.rule.each"]
        assert (each.value, each.role, each.min, each.min_exclusive) == (2, "points", 0, False)
        assert by_path["kpis.attitude.rule.points.优秀"].value == 5
        assert not any(p.startswith("ranges.") for p in by_path)

    def test_step_has_exclusive_minimum(self):
        """A step's bound is 'greater than 0' (exclusive), a deduction's 'at least 0'."""
        rule = {"kind": "step", "direction": "max", "threshold": "2%", "step": "0.5%", "deduct": 2,
                "points": 10}
        by_path = {p.path: p for p in validate_policy(policy_dict({"k": rule})).params()}
        step = by_path["kpis.k.rule.step"]
        assert (step.value, step.min, step.min_exclusive, step.role) == (0.005, 0, True, "threshold")
        deduct = by_path["kpis.k.rule.deduct"]
        assert (deduct.min, deduct.min_exclusive) == (0, False)

    def test_declared_range_tightens_rule_bound(self):
        """ranges: step in [0.001, 0.01] replaces the rule's (0, ∞) with the declared [0.001, 0.01]."""
        rule = {"kind": "step", "direction": "max", "threshold": "2%", "step": "0.5%", "deduct": 2,
                "points": 10}
        data = policy_dict({"k": rule})
        data["ranges"] = {"kpis.k.rule.step": {"min": 0.001, "max": 0.01}}
        step = next(p for p in validate_policy(data).params() if p.path == "kpis.k.rule.step")
        assert (step.min, step.max, step.min_exclusive, step.max_exclusive) == (0.001, 0.01, False,
                                                                                False)

    def test_declared_range_looser_than_rule_keeps_rule_bound(self):
        """ranges: weight min −5 does not loosen the weight's own minimum 0."""
        data = policy_dict({"a": {"kind": "linear"}}, {"a": 100})
        data["ranges"] = {"sections.total.weights.a": {"min": -5, "max": 100}}
        w = next(p for p in validate_policy(data).params() if p.path == "sections.total.weights.a")
        assert (w.min, w.max) == (0, 100)

    def test_with_params_returns_new_policy(self, mini_policy):
        """Moving the top conversion bound to 80% gives a new policy; the old one keeps 0.75."""
        new = mini_policy.with_params({"kpis.conversion.rule.bands[0].at": "80%"})
        assert new.get("kpis.conversion.rule.bands[0].at") == 0.8
        assert mini_policy.get("kpis.conversion.rule.bands[0].at") == 0.75
        assert isinstance(new, calib.Policy) and new is not mini_policy

    def test_with_params_revalidates_whole_policy(self, mini_policy):
        """Weight 60 + 35 = 95 in the 85-point part is refused by the section check."""
        with pytest.raises(PolicyError) as exc:
            mini_policy.with_params({"sections.sales.weights.conversion": 60})
        assert str(exc.value) == ("policy is invalid (1 problem):\n  - sections.sales: weights add "
                                  "up to 95, not 85; change them or set 'total_weight'")

    def test_with_params_unknown_path(self, mini_policy):
        """An unknown KPI and a band that does not exist are both reported, each with its path."""
        with pytest.raises(PolicyError) as exc:
            mini_policy.with_params({"kpis.nope.rule.step": 1,
                                     "kpis.conversion.rule.bands[9].at": 1})
        assert issues(exc) == [
            ("kpis.nope.rule.step", "'kpis.nope.rule.step' does not exist: kpis has no 'nope'",
             None),
            ("kpis.conversion.rule.bands[9].at", "'kpis.conversion.rule.bands[9].at' does not "
             "exist: kpis.conversion.rule.bands has no item 9", None),
        ]

    @pytest.mark.parametrize(("value", "message"), [
        (True, "needs a number, got True"),
        ([1], "needs a number, got [1]"),
        (None, "needs a number, got None"),
        ("abc", "Input should be a valid number, unable to parse string as a number; got 'abc'"),
    ])
    def test_with_params_not_a_number(self, mini_policy, value, message):
        """A non-number for a number is refused with the path and what was given."""
        path = "kpis.conversion.rule.bands[0].at"
        with pytest.raises(PolicyError) as exc:
            mini_policy.with_params({path: value})
        assert issues(exc) == [(path, message, None)]

    def test_declared_range_of_missing_path(self):
        """A range for a path that does not exist is reported under 'ranges'."""
        data = policy_dict({"a": {"kind": "linear"}})
        data["ranges"] = {"kpis.b.rule.slope": {"min": 0, "max": 2}}
        with pytest.raises(PolicyError) as exc:
            validate_policy(data)
        assert issues(exc) == [("ranges.kpis.b.rule.slope",
                                "'kpis.b.rule.slope' does not exist: kpis has no 'b'", None)]


class TestFormats:
    """JSON Schema, JSON and YAML documents, percent strings, round trips."""

    def test_json_schema(self):
        """The schema is JSON, an object whose properties are the policy's top-level keys."""
        schema = json.loads(json.dumps(calib.json_schema()))
        assert schema["type"] == "object"
        assert set(schema["properties"]) == {
            "format", "name", "title", "description", "version", "currency", "inputs", "calendar",
            "measures", "kpis", "sections", "scorecards", "eligibility", "rollups", "grading",
            "pay", "ranges", "outcomes", "calibration", "budgets"}
        assert set(schema["required"]) == {"name", "inputs", "scorecards"}

    def test_json_and_yaml_files_load_equal(self, mini_policy, tmp_path):
        """mini saved as .json and as .yaml loads back equal to itself."""
        for suffix in (".json", ".yaml"):
            path = tmp_path / f"mini{suffix}"
            calib.save_policy(mini_policy, path)
            assert calib.load_policy(path) == mini_policy
        assert json.loads((tmp_path / "mini.json").read_text(encoding="utf-8"))["name"] == "mini"

    def test_yaml_keeps_chinese(self, mini_policy):
        """The YAML dump keeps 询单转化率 readable (not escaped)."""
        assert "询单转化率" in calib.dump_policy(mini_policy)

    def test_percent_and_permille_strings(self):
        """threshold '2.5%' → 0.025, step '2‰' → 0.002, '250_000' → 250000 ('7,5' is refused,
        '1,000' read as 1000: tests/policy/test_policy_reader.py)."""
        rule = {"kind": "step", "direction": "max", "threshold": "2.5%", "step": "2‰", "deduct": 1,
                "points": 10}
        policy = validate_policy(policy_dict({"k": rule}))
        assert policy.kpis["k"].rule.threshold == 0.025
        assert policy.kpis["k"].rule.step == 0.002
        tiers = {"kind": "tiers", "bound": "lower", "bands": [{"at": "250_000", "points": 1}]}
        assert validate_policy(policy_dict({"k": tiers})).kpis["k"].rule.bands[0].at == 250000

    def test_pure_deduction_without_floor_round_trips(self):
        """A pure deduction (points 0, floor null: each complaint −5) dumps and loads back equal."""
        rule = {"kind": "per_incident", "each": 5, "floor": None}
        policy = validate_policy(policy_dict({"complaints": rule}))
        assert policy.kpis["complaints"].rule.floor is None
        assert calib.parse_policy(calib.dump_policy(policy)) == policy

    def test_step_without_floor_survives_with_params(self):
        """A step deduction with floor null can be tuned: deduct 2 → 3 keeps floor None."""
        rule = {"kind": "step", "direction": "max", "threshold": "2%", "step": "0.5%", "deduct": 2,
                "floor": None}
        policy = validate_policy(policy_dict({"k": rule}))
        tuned = policy.with_params({"kpis.k.rule.deduct": 3})
        assert tuned.kpis["k"].rule.deduct == 3
        assert tuned.kpis["k"].rule.floor is None

    def test_labels_policy_round_trips(self, mini_policy):
        """mini (labels in Chinese, ranges, eligibility) round-trips through YAML and JSON."""
        assert calib.parse_policy(calib.dump_policy(mini_policy)) == mini_policy
        assert calib.parse_policy(calib.dump_policy(mini_policy, "json"), fmt="json") == mini_policy

    def test_golden_policies_round_trip(self, golden):
        """Every golden policy of tests/fixtures round-trips through YAML."""
        for name in ("mini", "checks", "base100", "annual", "calendar26"):
            policy = golden(name)
            assert calib.parse_policy(calib.dump_policy(policy)) == policy, name

    def test_nan_is_not_a_number_for_policy(self):
        """A NaN bound (YAML '.nan') is refused at its path: nothing can reach it, and the policy's
        canonical JSON (its sha256) cannot hold it.
        """
        rule = {"kind": "tiers", "bound": "lower", "bands": [{"at": math.nan, "points": 1}]}
        with pytest.raises(PolicyError) as exc:
            validate_policy(policy_dict({"k": rule}))
        assert [i.path for i in exc.value.issues] == ["kpis.k.rule.bands[0].at"]
