"""Monte Carlo blocks on a cluster (simulate(client=...)): a Dask LocalCluster or any executor gives
exactly the local result for the same seed, and calib works without Dask installed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import calib
import calib.simulate.monte_carlo
from calib.simulate.monte_carlo import Simulation, simulate

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def load(name: str) -> tuple[calib.Policy, calib.Result]:
    """An example scheme and its deterministic run."""
    policy = calib.load_policy(DATASETS / name / "policy.yaml")
    return policy, calib.run(policy, DATASETS / name)


def assert_same(a: Simulation, b: Simulation) -> None:
    """Bit for bit the same totals, grade probabilities, headcounts and pool."""
    assert a.totals.tobytes() == b.totals.tobytes()
    assert a.grade_probabilities.equals(b.grade_probabilities)
    for name in ("headcount", "joiners", "leavers"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.pool_total == b.pool_total


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few scenarios, so a small run has many blocks and several go in one task."""
    monkeypatch.setattr(calib.simulate.monte_carlo, "_BLOCK_ELEMENTS", 40_000)


def test_dask_local_cluster_gives_the_local_result(small_blocks, capsys):
    """A cascade scheme on two Dask worker processes: identical to local threads, seed for seed."""
    distributed = pytest.importorskip("distributed")
    policy, result = load("gas_cs")
    local = simulate(policy, result, n=300, seed=11, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = simulate(policy, result, n=300, seed=11, client=client)
        deadline = time.monotonic() + 10
        while client.who_has() and time.monotonic() < deadline:  # released asynchronously
            time.sleep(0.05)
        assert not client.who_has()  # the scattered model was released
    assert_same(local, remote)
    assert local.totals.std() > 0
    assert "300/300" in capsys.readouterr().err  # the progress bar reached the end


def test_any_executor_gives_the_local_result(small_blocks):
    """A concurrent.futures executor as the client, forced distribution and the reference loop."""
    policy, result = load("ecommerce_cs")
    with ThreadPoolExecutor(max_workers=2) as pool:
        for method, n in (("vectorised", 200), ("loop", 8)):
            kw = {"n": n, "seed": 3, "progress": False, "method": method}
            assert_same(simulate(policy, result, **kw), simulate(policy, result, client=pool, **kw))


class FailingExecutor:
    """Runs tasks at once in the caller; the third task fails. Counts the futures cancelled."""

    def __init__(self):
        self.submitted, self.cancelled = 0, 0

    def submit(self, fn, *args):
        self.submitted += 1
        future = Future()
        future.cancel = lambda: setattr(self, "cancelled", self.cancelled + 1) or True
        if self.submitted == 3:
            future.set_exception(RuntimeError("worker lost"))
        else:
            future.set_result(fn(*args))
        return future


def test_a_failed_task_raises_and_the_rest_is_cancelled(small_blocks):
    """The worker's error comes back as is; the tasks still in flight are cancelled."""
    policy, result = load("ecommerce_cs")
    client = FailingExecutor()
    with pytest.raises(RuntimeError, match="worker lost"):
        simulate(policy, result, n=200, seed=3, progress=False, client=client, workers=2)
    assert client.cancelled == client.submitted - 3  # those behind the failed one


def test_calib_simulates_without_dask_installed():
    """Dask is optional: with ``distributed`` unimportable, simulate still runs locally."""
    code = (
        "import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
        "import calib; from calib.simulate.monte_carlo import simulate\n"
        f"p = calib.load_policy(r'{DATASETS / 'safety' / 'policy.yaml'}')\n"
        f"s = simulate(p, r'{DATASETS / 'safety'}', n=20, seed=0, progress=False)\n"
        "assert len(s.totals) == 20\n"
        "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
