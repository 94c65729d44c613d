"""The bad-input catalogue: every way a user or an attacker can feed calib something wrong.

Each area (policy, data, workbooks, injection, frozen files, faults, scale) has a module
``cases_<area>.py`` with a list ``CASES`` of ``Case``; ``tests/catalogue/test_catalogue.py`` runs them all
through the command line (in-process, as ``calib.cli.main``) and asserts for each:

- the exit code (0 ok, 1 bad input, 2 usage);
- that the message names the place (file, line, row, column or policy path) and the fix: every
  text in ``says`` appears in what calib printed (case-insensitive);
- that nothing misleading was written: no path in ``absent`` exists afterwards;
- anything else in ``check`` (called with the work folder and the outcome).

A case builds its own inputs in a fresh folder (``setup(work) -> argv``), usually from a copy of a
small golden data set (``copy_example``) with one thing changed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
DATA = TESTS / "fixtures"
DATASETS = TESTS.parent / "datasets"


@dataclass
class Outcome:
    """What one CLI call did: its exit code and everything it printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """stdout and stderr together."""
        return self.out + "\n" + self.err


@dataclass
class Case:
    """One catalogue entry: inputs made in ``work``, the CLI call, and what must come out."""

    id: str
    setup: Callable[[Path], list[str]]
    exit: int = 1
    says: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    check: Callable[[Path, Outcome], None] | None = None
    marks: tuple = field(default_factory=tuple)
    env: dict[str, str] = field(default_factory=dict)
    """Environment variables set for the call (e.g. a small ``CALIB_AVAILABLE_MEMORY``)."""


def copy_example(work: Path, name: str = "grade_pay") -> tuple[Path, Path]:
    """Copy a golden policy and its data folder from tests/fixtures (or datasets/) into ``work``.

    Returns (policy file, data folder) of the copy.
    """
    if (DATA / f"{name}.yaml").exists():
        policy = work / f"{name}.yaml"
        shutil.copy(DATA / f"{name}.yaml", policy)
        data = work / name
        shutil.copytree(DATA / name, data)
        return policy, data
    src = DATASETS / name
    data = work / name
    shutil.copytree(src, data)
    return data / "policy.yaml", data


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a file, failing loudly when ``old`` is not there (a case must change
    what it says it changes)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
