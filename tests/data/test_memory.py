"""The allocator setting that interactive re-runs turn on (``calib._util.memory``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DATASETS = Path(__file__).resolve().parents[2] / "datasets"

CHECK = ("import calib._util.memory as m, sys; ok = m.keep_freed_memory(); "
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
    code = (f"import calib, calib._util.memory as m; from pathlib import Path; p = Path({str(folder)!r}); "
            "pol = calib.load_policy(p / 'policy.yaml'); calib.run(pol, p); "
            "before = m._applied; calib.Scenario(pol, p); print(before, m._applied)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={k: v for k, v in os.environ.items()
                                          if k != "CALIB_KEEP_FREED_MEMORY"})
    assert out.stdout.strip() == "None True"


PREFAULT = ("import resource, numpy as np, calib._util.memory as m; m.keep_freed_memory(); "
            "{prefault}; f = resource.getrusage(resource.RUSAGE_SELF).ru_minflt; "
            "a = [np.ones(125_000) for _ in range(48)]; "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f)")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_prefaulted_memory_is_reused_without_new_page_faults():
    """After ``prefault(64 MB)`` the next 48 MB of arrays come from memory the process holds:
    a fraction of the page faults the same arrays cost in a process that did not prefault."""
    def faults(prefault: str) -> int:
        out = subprocess.run([sys.executable, "-c", PREFAULT.format(prefault=prefault)],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "CALIB_KEEP_FREED_MEMORY": "1"})
        return int(out.stdout.strip())

    cold = faults("None")
    warm = faults("m.prefault(64 * 2**20)")
    assert cold > 1000 and warm < cold / 4, (cold, warm)


def test_prefault_does_nothing_when_turned_off():
    """With CALIB_KEEP_FREED_MEMORY=0 nothing is taken (it would go back to the system)."""
    code = ("import resource, calib._util.memory as m; f = resource.getrusage(resource.RUSAGE_SELF)"
            ".ru_minflt; m.prefault(64 * 2**20); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "CALIB_KEEP_FREED_MEMORY": "0"})
    assert int(out.stdout.strip()) < 2000  # 64 MB would be 16,384 pages
