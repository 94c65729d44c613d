"""Saving a tuned policy keeps HR's file: every comment, the key order, the way numbers were
typed, and a diff that shows only the changed numbers' lines.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from ruamel.yaml import YAML

import calib
from calib.policy.hashing import policy_sha256

ORIGINAL = Path(__file__).resolve().parents[2] / "datasets/gas_cs/policy.yaml"
TUNED = {"kpis.on_time.rule.bands[0].at": 0.97,
         "sections.staff_sheet.weights.satisfaction": 35,
         "sections.staff_sheet.weights.conduct": 10,
         "grading.scale.grades[0].min": 92.5}


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def _keys(text: str) -> list[str]:
    """Every mapping key in document order, with its parents (the key order of the file)."""
    out: list[str] = []

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                out.append(f"{path}.{key}")
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(YAML(typ="rt").load(text), "")
    return out


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
    removed = [d[1:] for d in diff if d.startswith("-") and not d.startswith("---")]
    added = [d[1:] for d in diff if d.startswith("+") and not d.startswith("+++")]
    return removed, added


def test_save_like_keeps_comments_order_and_changes_only_numbers(tmp_path: Path) -> None:
    text = ORIGINAL.read_text(encoding="utf-8")
    tuned = calib.load_policy(ORIGINAL).with_params(TUNED)
    out = tmp_path / "tuned.yaml"
    calib.save_policy(tuned, out, like=ORIGINAL)
    saved = out.read_text(encoding="utf-8")
    assert _comments(saved) == _comments(text)
    assert _keys(saved) == _keys(text)
    back = calib.load_policy(out)
    assert back == tuned and policy_sha256(back) == policy_sha256(tuned)
    removed, added = _changed_lines(text, saved)
    assert removed == ["      bands: [{at: 98%, points: 100}, {at: 95%, points: 90}, {at: 90%, "
                       "points: 75},",
                       "    weights: {satisfaction: 30, on_time: 25, complaints: 15, errors: 15, "
                       "conduct: 15}",
                       "      - {name: A+, label: 优秀, min: 95}"]
    assert added == ["      bands: [{at: 97%, points: 100}, {at: 95%, points: 90}, {at: 90%, "
                     "points: 75},",
                     "    weights: {satisfaction: 35, on_time: 25, complaints: 15, errors: 15, "
                     "conduct: 10}",
                     "      - {name: A+, label: 优秀, min: 92.5}"]


def test_overwriting_the_file_it_came_from_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    shutil.copy(ORIGINAL, path)
    tuned = calib.load_policy(path).with_params({"kpis.complaints.rule.each": 25})
    calib.save_policy(tuned, path)
    saved = path.read_text(encoding="utf-8")
    assert _comments(saved) == _comments(ORIGINAL.read_text(encoding="utf-8"))
    removed, added = _changed_lines(ORIGINAL.read_text(encoding="utf-8"), saved)
    assert removed == ["    rule: {kind: per_incident, each: 20, points: 100, floor: 0}"]
    assert added == ["    rule: {kind: per_incident, each: 25, points: 100, floor: 0}"]
    assert calib.load_policy(path) == tuned


def test_a_default_given_a_value_is_added_in_place(tmp_path: Path) -> None:
    """A value the file leaves to its default (a linear rule's intercept) is added on its line;
    the rest of the file, long flow lists included, stays as written."""
    tuned = calib.load_policy(ORIGINAL).with_params({"kpis.satisfaction.rule.intercept": 5})
    text = calib.dump_policy(tuned, like=ORIGINAL)
    removed, added = _changed_lines(ORIGINAL.read_text(encoding="utf-8"), text)
    assert removed == ["    rule: {kind: linear, slope: 100, min: 0, max: 100}"]
    assert len(added) == 1 and "intercept: 5" in added[0]
    assert calib.parse_policy(text) == tuned


def test_without_like_the_plain_document(tmp_path: Path) -> None:
    """Without a template (a new file) the plain document is written, as before."""
    tuned = calib.load_policy(ORIGINAL).with_params(TUNED)
    out = tmp_path / "new.yaml"
    calib.save_policy(tuned, out)
    assert out.read_text(encoding="utf-8") == calib.dump_policy(tuned)
    assert calib.load_policy(out) == tuned


def test_save_policy_writes_a_workbook(tmp_path: Path) -> None:
    tuned = calib.load_policy(ORIGINAL).with_params(TUNED)
    out = tmp_path / "tuned.xlsx"
    calib.save_policy(tuned, out)
    assert calib.load_policy(out) == tuned
