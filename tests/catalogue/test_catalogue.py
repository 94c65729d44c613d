"""Runs the bad-input catalogue (``tests/catalogue``): every case through the command line."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import catalogue
from calib.cli import main
from catalogue import Case, Outcome


def _cases() -> list[Case]:
    cases: list[Case] = []
    for info in sorted(pkgutil.iter_modules(catalogue.__path__), key=lambda m: m.name):
        if info.name.startswith("cases_"):
            cases.extend(importlib.import_module(f"catalogue.{info.name}").CASES)
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "catalogue case ids must be unique"
    return cases


CASES = _cases()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_case(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str],
              monkeypatch: pytest.MonkeyPatch) -> None:
    """The case's exit code, message (place and fix) and outputs."""
    monkeypatch.chdir(tmp_path)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    argv = case.setup(tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    outcome = Outcome(code, captured.out, captured.err)
    assert code == case.exit, f"exit {code}, expected {case.exit}:\n{outcome.text}"
    text = outcome.text.lower()
    for word in case.says:
        assert word.lower() in text, f"{word!r} not in the message:\n{outcome.text}"
    for rel in case.absent:
        assert not (tmp_path / rel).exists(), f"{rel} was written:\n{outcome.text}"
    if case.check is not None:
        case.check(tmp_path, outcome)


def test_catalogue_size() -> None:
    """The catalogue covers at least 120 cases (issue 18)."""
    assert len(CASES) >= 120, len(CASES)
