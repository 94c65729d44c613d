"""The package layout: layers as folders, and the 0.1 module paths kept for one more release."""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import pytest

import calib
from calib._compat import MOVED

CALIB = Path(calib.__file__).parent


def test_top_level_holds_only_the_shared_modules_and_the_layers() -> None:
    """A newcomer reading the tree sees the layers: no flat module besides the shared ones."""
    modules = sorted(p.name for p in CALIB.glob("*.py"))
    assert modules == ["__init__.py", "_compat.py", "bounds.py", "cli.py", "errors.py", "scenario.py"]
    packages = sorted(p.name for p in CALIB.iterdir() if (p / "__init__.py").exists())
    assert packages == ["_util", "analysis", "cycle", "data", "engine", "io", "kernels", "lab",
                        "policy", "simulate"]


SHADOWED = [old for old in MOVED if not isinstance(getattr(calib, old.rsplit(".", 1)[1], None),
                                                    (type(None), type(calib)))]


def test_old_path_named_like_a_function_keeps_the_function() -> None:
    """``import calib.freeze`` (the old module) leaves ``calib.freeze`` the function."""
    assert SHADOWED == ["calib.freeze"]
    import calib.freeze as module  # noqa: F401

    assert callable(calib.freeze)
    assert importlib.import_module("calib.freeze") is importlib.import_module("calib.policy.frozen")


@pytest.mark.parametrize("old", sorted(set(MOVED) - set(SHADOWED)))
def test_old_path_is_the_new_module_with_a_warning(old: str) -> None:
    """``import calib.grading`` gives ``calib.engine.grading`` itself and says where it went."""
    new = importlib.import_module(MOVED[old])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import sys

        sys.modules.pop(old, None)
        module = importlib.import_module(old)
    assert module is new
    assert any(MOVED[old] in str(w.message) and w.category is DeprecationWarning for w in caught)


def test_public_api_paths_of_the_readme() -> None:
    """The paths the README shows import without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        from calib.data import load_data  # noqa: F401
        from calib.engine import run  # noqa: F401
        from calib.simulate import Simulation, simulate  # noqa: F401


TESTS = Path(__file__).resolve().parents[1]
CROSS_CUTTING = {"catalogue", "e2e", "fixtures", "shape"}
"""Test folders that are not one package's: the bad-input catalogue, whole runs (examples,
notebooks), the fixture files, and the checks of the project's shape."""


def test_tests_are_laid_out_like_the_packages() -> None:
    """Each test module sits in the folder of the layer it tests (or a cross-cutting folder)."""
    assert not list(TESTS.glob("test_*.py")), "a test module belongs in its layer's folder"
    layers = {p.name for p in CALIB.iterdir() if (p / "__init__.py").exists()} | {"cli", "scenario"}
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    assert folders - CROSS_CUTTING <= layers, folders - CROSS_CUTTING - layers
