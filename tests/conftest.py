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

DATA = Path(__file__).parent / "data"


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
    """Loader of a golden policy from tests/data by file stem: ``golden("checks")``."""
    return lambda name: calib.load_policy(DATA / f"{name}.yaml")
