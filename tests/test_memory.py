"""The allocator setting that interactive re-runs turn on (``calib.memory``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DATASETS = Path(__file__).resolve().parent.parent / "datasets"

CHECK = ("import calib.memory as m, sys; ok = m.keep_freed_memory(); "
         "again = m.keep_freed_memory(); print(ok, again)")


def _run(env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", CHECK], env={**os.environ, **env},
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_thresholds_are_raised_once_per_process():
    """On glibc the thresholds are set (mallopt answers 1) and a second call is a no-op."""
    assert _run({"CALIB_KEEP_FREED_MEMORY": "1"}) == "True True"


def test_environment_turns_it_off():
    """CALIB_KEEP_FREED_MEMORY=0 leaves the allocator alone."""
    assert _run({"CALIB_KEEP_FREED_MEMORY": "0"}) == "False False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_scenario_turns_it_on_and_a_plain_run_does_not():
    """A plain run leaves the allocator alone; building a Scenario from data applies it."""
    folder = DATASETS / "gas_cs"
    code = (f"import calib, calib.memory as m; from pathlib import Path; p = Path({str(folder)!r}); "
            "pol = calib.load_policy(p / 'policy.yaml'); calib.run(pol, p); "
            "before = m._applied; calib.Scenario(pol, p); print(before, m._applied)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={k: v for k, v in os.environ.items()
                                          if k != "CALIB_KEEP_FREED_MEMORY"})
    assert out.stdout.strip() == "None True"
