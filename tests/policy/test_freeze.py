"""The frozen policy file: canonical, hashed, tamper-evident, and stable when frozen again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import examples

import calib
from calib.cli import main
from calib.policy.frozen import FORMAT_VERSION

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
SCHEMES = sorted(p.parent.name for p in DATASETS.glob("*/policy.yaml"))
FROZEN_AT = "2026-11-22T00:00:00Z"


@pytest.mark.parametrize("name", examples())
def test_round_trip_and_idempotent(name: str, tmp_path: Path) -> None:
    """A frozen file loads back to an equal policy, and freezing it again gives the same bytes."""
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    text = calib.freeze(policy, frozen_at=FROZEN_AT)
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    frozen = calib.load_frozen(path)
    assert frozen.policy == policy
    assert calib.freeze(frozen) == text
    assert calib.load_policy(path) == policy


def test_canonical_form(tmp_path: Path) -> None:
    """Sorted keys, Chinese kept readable, versions, time and both hashes stamped."""
    policy = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")
    text = calib.freeze(policy, frozen_at=FROZEN_AT)
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert "优秀" in text and "\\u" not in text
    assert data["format_version"] == FORMAT_VERSION
    assert data["calib_version"] == calib.__version__
    assert data["frozen_at"] == FROZEN_AT
    assert data["policy_sha256"] == calib.policy.hashing.policy_sha256(policy)
    assert len(data["sha256"]) == 64


class TestRefused:
    def _frozen(self, tmp_path: Path) -> tuple[Path, dict]:
        policy = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")
        path = tmp_path / "p.json"
        path.write_text(calib.freeze(policy, frozen_at=FROZEN_AT), encoding="utf-8")
        return path, json.loads(path.read_text(encoding="utf-8"))

    def test_hand_edit_is_refused(self, tmp_path: Path) -> None:
        """Moving the A+ threshold by hand breaks the hash and the file is refused, saying why."""
        path, data = self._frozen(tmp_path)
        data["policy"]["grading"]["scale"]["grades"][0]["min"] = 93.0
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        with pytest.raises(calib.PolicyError) as exc:
            calib.load_frozen(path)
        assert exc.value.issues[0].message.startswith(
            "the file was changed after it was frozen (its sha256 does not match its contents)")

    def test_edited_provenance_is_refused(self, tmp_path: Path) -> None:
        """The hash covers the provenance too."""
        path, data = self._frozen(tmp_path)
        data["provenance"] = {"note": "approved"}
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        with pytest.raises(calib.PolicyError, match="changed after it was frozen"):
            calib.load_frozen(path)

    def test_future_format_is_refused(self, tmp_path: Path) -> None:
        """A newer format is refused with a clear message, not misread."""
        path, data = self._frozen(tmp_path)
        data["format_version"] = FORMAT_VERSION + 1
        path.write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(calib.PolicyError) as exc:
            calib.load_frozen(path)
        assert "newer than this calib understands" in exc.value.issues[0].message

    def test_older_format_is_refused(self, tmp_path: Path) -> None:
        """An older (unknown) format is refused, never misread."""
        path, data = self._frozen(tmp_path)
        data["format_version"] = 0
        path.write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(calib.PolicyError, match="older than any this calib can migrate"):
            calib.load_frozen(path)


def test_provenance_figures() -> None:
    """Provenance names the data's hash and the figures: rows, rated, grades, payout total."""
    policy = calib.load_policy(DATASETS / "gas_cs" / "policy.yaml")
    prov = calib.provenance(policy, DATASETS / "gas_cs", note="HR")
    result = calib.run(policy, DATASETS / "gas_cs")
    figures = prov["figures"]
    assert prov["data_sha256"] == calib.load_data(DATASETS / "gas_cs", policy).fingerprint()
    assert figures["rows"] == len(result.scores)
    assert sum(figures["grade_distribution"].values()) == result.grades["grade"].notna().sum()
    assert figures["payout_total"] == f"{round(result.payouts['payout'].sum() * 100) / 100:.2f}"


def test_cli_freeze_and_run(tmp_path: Path, capsys) -> None:
    """`calib freeze` writes the file; re-freezing it is byte-identical; `calib run` applies it."""
    out = tmp_path / "f.json"
    args = ["freeze", str(DATASETS / "gas_cs" / "policy.yaml"), "--out", str(out),
            "--data", str(DATASETS / "gas_cs")]
    assert main(args) == 0
    again = tmp_path / "g.json"
    assert main(["freeze", str(out), "--out", str(again)]) == 0
    assert out.read_bytes() == again.read_bytes()
    assert main(["run", "--policy", str(out), "--data", str(DATASETS / "gas_cs"),
                 "--out", str(tmp_path / "o")]) == 0
    assert "sha256" in capsys.readouterr().out


def test_cli_freeze_note_without_data_is_refused(tmp_path: Path, capsys) -> None:
    """`--note` is kept in the provenance, which only `--data` makes: without it the note was
    dropped silently; now it is a usage error (exit 2) saying to add --data, and no file is
    written."""
    out = tmp_path / "f.json"
    assert main(["freeze", str(DATASETS / "gas_cs" / "policy.yaml"), "--out", str(out),
                 "--note", "tuned by HR, 2027 round"]) == 2
    assert "add --data" in capsys.readouterr().err and not out.exists()
