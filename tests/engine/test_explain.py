"""Statements (R37): the engine's numbers, line by line, adding up to the result."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

import calib
from calib.cli import main
from calib.engine.explain import NotFound

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


@cache
def result(name: str) -> calib.Result:
    return calib.run(calib.load_policy(DATASETS / name / "policy.yaml"), DATASETS / name)


@pytest.mark.parametrize(("name", "person", "period"), [
    ("gas_cs", "GS0013", "2025-06"), ("ecommerce_cs", "EC0009", "2024-05"),
    ("property_cs", "PC0005", "2024-09"), ("ethics_diligence", "ED0004", "2024-06"),
    ("safety", "SF0030", "2025-04"), ("logistics_cs", "LG0007", "2024-06"),
])
def test_sections_add_up_from_their_lines(name: str, person: str, period: str) -> None:
    """Each section's value is its base plus the contributions listed on its lines."""
    data = result(name).explain(person, period).to_dict()
    for section in data["sections"]:
        contributions = [i["contribution"] for i in section["items"] if i["contribution"]
                         is not None]
        if section["combine"] in ("weighted", "sum") and section["value"] is not None:
            expected = (section["base"] or 0) + sum(contributions)
            if section["name"] in ("production",):  # a veto can zero a section
                continue
            assert section["value"] == pytest.approx(expected, abs=1e-6), section["name"]


def test_payout_adds_up_from_its_components() -> None:
    """B4 on the statement: 300 − 12 − 10 = 278, the engine's payout."""
    data = result("property_cs").explain("PC0005", "2024-09").to_dict()
    amounts = [c["amount"] for c in data["pay"]["components"]]
    assert round(sum(amounts), 2) == data["pay"]["payout"] == 278.00


def test_statement_names_rules_and_paths() -> None:
    """Each KPI line names its rule and its policy path; the grade names its quota group."""
    data = result("gas_cs").explain("GS0013", "2025-06").to_dict()
    assert all(k["path"] == f"kpis.{k['name']}.rule" for k in data["kpis"])
    assert data["grade"]["grade"] == "A+" and data["grade"]["quota"] == 1
    assert data["grade"]["group_size"] == 7
    assert data["policy"]["sha256"] == calib.policy.hashing.policy_sha256(result("gas_cs").policy)


def test_text_has_chinese_labels() -> None:
    """The text statement uses the policy's labels."""
    text = result("gas_cs").explain("GS0013", "2025-06").to_text()
    assert "回访满意率" in text and "payout: 900.00 CNY" in text


def test_rollup_statement() -> None:
    """An annual statement lists the 20/30/50 parts and the annual grade and pay."""
    data = result("ethics_diligence").explain("ED0004", "2024").to_dict()
    assert [p["weight"] for p in data["parts"]] == [20.0, 30.0, 50.0]
    assert data["score"]["score"] == pytest.approx(89.5)


def test_unknown_person() -> None:
    """An unknown id names ids that look alike; an unknown period lists the person's periods."""
    res = result("gas_cs")
    first = str(res.scores["id"].iloc[0])
    with pytest.raises(NotFound, match="no person with id 'XX' in the results; ids look like"):
        res.explain("XX", "2024-09")
    with pytest.raises(NotFound, match=f"did you mean {first}"):
        res.explain(first.lower(), "2024-09")
    with pytest.raises(NotFound, match=f"no result for person {first} in period '2024-9'; "
                                       f"{first} has results for 2024-01, 2024-02"):
        res.explain(first, "2024-9")


def test_cli_formats(tmp_path: Path, capsys) -> None:
    """`calib explain` prints text and writes HTML, JSON and Excel."""
    base = ["explain", "--policy", str(DATASETS / "property_cs" / "policy.yaml"), "--data",
            str(DATASETS / "property_cs"), "--id", "PC0005", "--period", "2024-09"]
    assert main(base) == 0
    assert "payout: 278.00 CNY" in capsys.readouterr().out
    for suffix in (".html", ".json", ".xlsx"):
        out = tmp_path / f"s{suffix}"
        assert main([*base, "--out", str(out)]) == 0
        assert out.stat().st_size > 0
    assert main([*base[:-1], "1999-01"]) == 1
