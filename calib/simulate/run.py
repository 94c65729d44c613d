"""Running the blocks of a Monte Carlo (``calib.simulate.monte_carlo``): on local threads, or on a cluster.

Every block of scenarios has its own random stream, so a block gives the same numbers wherever
and in whatever order it runs: on ``workers`` local threads (one block per task), or on a
``client`` (a ``distributed.Client``, or any executor with ``submit(fn, *args)`` returning
futures with ``.result()``, such as a ``concurrent.futures`` executor), several blocks per task.
Either way only a bounded window of tasks is in flight, so the memory stays flat whatever ``n``.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from calib.simulate.blocks import _block_loop, _block_vectorised, _Plans
from calib.simulate.draw import _draw, _Workspace
from calib.simulate.model import _Model

_MAX_BLOCKS_PER_TASK = 64
"""Blocks in one cluster task at most (a task's results are a few arrays per block)."""


@dataclass
class _Job:
    """What every block needs: the model, the plans, and the blocks' sizes and random streams
    (sent once to each worker of a cluster).
    """

    model: _Model
    plans: _Plans
    method: str
    n: int
    block: int
    streams: list[np.random.SeedSequence]

    @property
    def n_blocks(self) -> int:
        """Number of blocks."""
        return len(self.streams)

    def scenarios(self, first: int, last: int) -> int:
        """Number of scenarios in blocks [first, last)."""
        return min(self.n, last * self.block) - first * self.block

    def shipped(self) -> _Job:
        """The job as sent to a cluster: without the history frame, which only the reference
        loop reads; the vectorised blocks have everything in the plans, and the slot columns
        the plans were made from (read again for part months).
        """
        if self.method == "loop":
            return self
        column = self.model.column
        kept = column if isinstance(column, _Columns) else _Columns(
            dict(getattr(column, "cache", {})))  # shipped once already: its columns as they are
        return dataclasses.replace(self, model=dataclasses.replace(self.model, column=kept))


class _Columns:
    """Slot columns already read, by name (what a cluster worker gets instead of the frame)."""

    def __init__(self, columns: dict[str, np.ndarray]):
        self.columns = columns

    def __call__(self, name: str) -> np.ndarray:
        """The column ``name`` per slot."""
        return self.columns[name]


def _run_blocks(job: _Job, first: int, last: int, ws: _Workspace | None = None) -> tuple:
    """Draw, grade and pay blocks [first, last) of ``job`` (anywhere: each block's random
    stream is its own). Returns totals, headcount, pool, joiners, leavers, merit raises and the
    totals per group ((scenarios, groups)) per scenario, and the grade counts summed over the
    blocks.
    """
    ws = ws or _Workspace()
    step = _block_vectorised if job.method == "vectorised" else _block_loop
    m = job.model
    rows, counts = [], None
    for b in range(first, last):
        c = min(job.block, job.n - b * job.block)
        d = _draw(m, np.random.default_rng(job.streams[b]), c, ws)
        totals, k, paid, pool, merit, by_group = step(m, job.plans, d, ws)
        if counts is None:
            counts = k  # a new array each block: ours to add to
        else:
            counts += k
        rows.append((totals, paid, pool, d.joiners, d.leavers, merit, by_group))
    return (*(np.concatenate(col) for col in zip(*rows, strict=True)), counts)


class _Tally:
    """The per-scenario arrays and the grade counts, filled in as results come back."""

    def __init__(self, job: _Job):
        self.job = job
        n = job.n
        self.totals, self.paid, self.pool, self.joined, self.left, self.merit = (
            np.zeros(n, dtype=np.int64) for _ in range(6))
        self.groups = np.zeros((n, job.plans.n_groups), dtype=np.int64)
        K = job.plans.K
        self.counts = np.zeros(job.model.n_current * max(K, 1), dtype=np.int64)

    def add(self, first: int, result: tuple) -> int:
        """Put the result of blocks from ``first`` in place; returns its number of scenarios."""
        *per_scenario, counts = result
        a = first * self.job.block
        c = len(per_scenario[0])
        for into, values in zip((self.totals, self.paid, self.pool, self.joined, self.left,
                                 self.merit, self.groups), per_scenario, strict=True):
            into[a:a + c] = values
        self.counts += counts
        return c


def _drain(tasks, submit, window: int, tally: _Tally, bar, batch: int) -> None:
    """Submit ``tasks`` ((first, last) block ranges) keeping ``window`` in flight, collect the
    results in order into ``tally`` and move ``bar`` every ``batch`` scenarios at least.
    """
    pending: deque = deque()
    todo = iter(tasks)
    done = 0
    try:
        while True:
            while len(pending) < window and (task := next(todo, None)) is not None:
                pending.append((task[0], submit(*task)))
            if not pending:
                break
            first, future = pending.popleft()
            done += tally.add(first, future.result())
            if done >= batch or not pending:
                bar.update(done)
                done = 0
    finally:
        for _, future in pending:  # after an error: do not leave work running
            future.cancel()


def _run_local(job: _Job, threads: int, tally: _Tally, bar, batch: int) -> None:
    """One block per task on ``threads`` local threads (numpy releases the GIL in its loops)."""
    local = threading.local()

    def one(first: int, last: int) -> tuple:
        if not hasattr(local, "ws"):
            local.ws = _Workspace()
        return _run_blocks(job, first, last, local.ws)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        tasks = ((b, b + 1) for b in range(job.n_blocks))
        _drain(tasks, lambda a, b: pool.submit(one, a, b), 2 * threads, tally, bar, batch)


def _client_width(client, workers: int | None) -> int:
    """Tasks the cluster runs at once: ``workers``, else its threads (Dask: ``nthreads``)."""
    if workers:
        return workers
    if hasattr(client, "nthreads"):
        return max(1, sum(client.nthreads().values()))
    return getattr(client, "_max_workers", None) or os.cpu_count() or 1


def _run_client(job: _Job, client, workers: int | None, tally: _Tally, bar) -> None:
    """Several blocks per task on ``client``. A Dask client gets the job once per worker
    (``scatter(broadcast=True)``); other executors get it with each task.
    """
    width = _client_width(client, workers)
    per = max(1, min(_MAX_BLOCKS_PER_TASK, job.n_blocks // (4 * width)))
    tasks = [(a, min(a + per, job.n_blocks)) for a in range(0, job.n_blocks, per)]
    shipped = job.shipped()
    if hasattr(client, "scatter"):  # Dask
        shared = client.scatter(shipped, broadcast=True, hash=False)
        try:
            _drain(tasks, lambda a, b: client.submit(_run_blocks, shared, a, b, pure=False),
                   2 * width, tally, bar, 1)
        finally:
            shared.release()
    else:
        _drain(tasks, lambda a, b: client.submit(_run_blocks, shipped, a, b), 2 * width, tally,
               bar, 1)


def _run(job: _Job, client, workers: int | None, bar, batch: int) -> _Tally:
    """All blocks of ``job``, on ``client`` when given, else on local threads."""
    tally = _Tally(job)
    if client is not None:
        _run_client(job, client, workers, tally, bar)
    else:
        threads = 1 if job.method == "loop" else max(
            1, min(workers or os.cpu_count() or 1, job.n_blocks))
        _run_local(job, threads, tally, bar, batch)
    return tally
