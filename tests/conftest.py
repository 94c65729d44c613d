"""Shared fixtures and the hypothesis profiles (a light one for CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import calib

settings.register_profile("default", deadline=None)
settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")

DATA = Path(__file__).parent / "fixtures"
DATASETS = Path(__file__).resolve().parent.parent / "datasets"
#: the examples every test runs on in the fast subset (``-m "not slow"``); the others are slow
FAST_EXAMPLES = ("call_centre", "ecommerce_cs")


def examples(names: list[str] | None = None) -> list:
    """Example schemes as parameters: the ``FAST_EXAMPLES`` plain, the others marked ``slow``, so
    that ``./dev test -m "not slow"`` covers each per-example test on two schemes and the full
    suite on all eight."""
    names = names or sorted(p.parent.name for p in DATASETS.glob("*/policy.yaml"))
    return [n if n in FAST_EXAMPLES else pytest.param(n, marks=pytest.mark.slow) for n in names]


@pytest.fixture
def data_dir() -> Path:
    """The folder of golden policies and data sets."""
    return DATA


@pytest.fixture(scope="session")
def mini_policy() -> calib.Policy:
    """The small e-commerce example policy."""
    return calib.load_policy(DATA / "mini.yaml")


@pytest.fixture
def golden():
    """Loader of a golden policy from tests/fixtures by file stem: ``golden("checks")``."""
    return lambda name: calib.load_policy(DATA / f"{name}.yaml")


def _example(name: str) -> calib.Scenario:
    folder = DATASETS / name
    return calib.Scenario(calib.load_policy(folder / "policy.yaml"), folder)


@pytest.fixture(scope="session")
def gas() -> calib.Scenario:
    """The gas company's scheme (thresholds, a cascade with five leader-grade rows, pay) on its
    history; a Scenario is never changed in place, so tests share it."""
    return _example("gas_cs")


@pytest.fixture(scope="session")
def shops() -> calib.Scenario:
    """The e-commerce scheme (forced distribution 15/35/40/10 with declared ranges per share,
    no grade thresholds) on its history."""
    return _example("ecommerce_cs")
