"""A live scenario: a policy and a data set, re-run after each parameter change (for sliders).

The data is checked and encoded once. Measures and KPI points are cached by the policy part they
come from, so moving a grade threshold reuses every KPI's points, and changing one KPI's tier
re-scores that KPI only; the later stages (sections, scorecards, grades, pay) run again.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from calib.data import load_data
from calib.engine import score_frame
from calib.frame import Frame, build_frame
from calib.measures import KERNELS
from calib.policy.model import Policy
from calib.result import Result
from calib.score import kpi_points_one, section_scores


class Scenario:
    """A policy applied to a data set, ready to be re-run with changed numbers.

    ``scenario.result`` is the current ``Result``; ``scenario.with_params({path: value})``
    returns a new scenario sharing the encoded data and the cache; ``seconds`` is how long the
    last (re)computation took. Tables that a change did not touch (grades after a pay change,
    roll-ups after a grade change) are the same objects in both results: copy one before
    changing it in place.
    """

    def __init__(self, policy: Policy, data: Any = None, *, _frame: Frame | None = None,
                 _cache: dict | None = None):
        self.policy = policy
        if _frame is None:
            _frame = build_frame(policy, load_data(data, policy))
        memo = _frame.memo if _frame.memo is not None else {}
        self._frame = dataclasses.replace(_frame, policy=policy, active={}, memo=memo)
        self._cache: dict = {} if _cache is None else _cache
        start = time.perf_counter()
        self.result: Result = score_frame(self._frame, rows=self._rows)
        self.seconds = time.perf_counter() - start

    def _rows(self, frame: Frame) -> tuple[dict, dict, dict]:
        policy = frame.policy
        used: set = set()
        measures = {}
        for name, m in policy.measures.items():
            key = ("measure", name, m.model_dump_json())
            if key not in self._cache:
                self._cache[key] = KERNELS[type(m)](m, name, frame)
            used.add(key)
            measures[name] = self._cache[key]
        points = {}
        kpi_keys = []
        for name, kpi in policy.kpis.items():
            source = policy.measures[kpi.measure].model_dump_json() if kpi.measure else ""
            key = ("kpi", name, kpi.model_dump_json(), source,
                   frame.active[name].tobytes().__hash__())
            if key not in self._cache:
                self._cache[key] = kpi_points_one(name, kpi, frame, measures, frame.active[name])
            used.add(key)
            kpi_keys.append(key)
            points[name] = self._cache[key]
        key = ("sections", tuple(s.model_dump_json() for s in policy.sections.values()),
               tuple(kpi_keys), tuple(policy.sections))
        if key not in self._cache:
            self._cache[key] = section_scores(frame, points)
        used.add(key)
        for old in list(self._cache):  # keep what this run used: sliders would grow it forever
            if old not in used:
                del self._cache[old]
        return measures, points, self._cache[key]

    def with_params(self, changes: dict[str, Any]) -> Scenario:
        """A new scenario with ``changes`` applied (validated: PolicyError names a bad path)."""
        return Scenario(self.policy.with_params(changes), _frame=self._frame,
                        _cache=dict(self._cache))

    def with_policy(self, policy: Policy) -> Scenario:
        """The same data under another policy with the same inputs."""
        return Scenario(policy, _frame=self._frame, _cache=dict(self._cache))

    def total_payout(self) -> float:
        """The payout total (0 when the policy does not pay)."""
        pay = self.result.payouts
        if pay is None:
            return 0.0
        return float(np.round(pay["payout"].to_numpy().sum(), 2))
