"""R22: who is rated in each period (probation, absence, suspension) and proration of presence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib._util.columns import LabelColumn
from calib.data.calendar import period_bounds, period_days
from calib.engine.frame import Frame
from calib.kernels.conditions import holds


def not_rated_reasons(frame: Frame) -> LabelColumn:
    """Reason per row (empty where the row is rated); the first matching rule wins."""
    reasons = LabelColumn(frame.n)
    for rule in frame.policy.eligibility.not_rated:
        reasons.set(holds(rule.when, frame.column(rule.when.column)), rule.reason, only_empty=True)
    return reasons


def proration(frame: Frame) -> np.ndarray | None:
    """Share of each period the person was present (1.0 = whole period), or None if not set.

    From a days-present column over the period's days, or from hire and leave dates: a person who
    left on 15 March of a 31-day month has 15/31.
    """
    pro = frame.policy.eligibility.proration
    if pro is None:
        return None
    cache = frame.__dict__.setdefault("_proration", {})
    key = (pro.model_dump_json(), frame.policy.calendar.model_dump_json())
    if key not in cache:
        cache.clear()
        cache[key] = _proration(frame, pro)
    return cache[key]


def _proration(frame: Frame, pro) -> np.ndarray:
    calendar = frame.policy.calendar
    days = (np.full(frame.n, float(pro.period_days)) if pro.period_days
            else period_days(frame.period, calendar))
    if pro.days is not None:
        present = np.asarray(frame.column(pro.days), dtype=np.float64)
        return np.clip(present / days, 0.0, 1.0)
    uniq, inv = np.unique(frame.period, return_inverse=True)
    bounds = [period_bounds(o, calendar) for o in uniq]
    start = np.array([b[0] for b in bounds], dtype="datetime64[ns]")[inv]
    end = np.array([b[1] for b in bounds], dtype="datetime64[ns]")[inv]
    if pro.hired is not None:
        hired = pd.to_datetime(pd.Series(frame.column(pro.hired)), errors="coerce").to_numpy()
        start = np.where(~np.isnat(hired) & (hired > start), hired, start)
    if pro.left is not None:
        left = pd.to_datetime(pd.Series(frame.column(pro.left)), errors="coerce").to_numpy()
        end = np.where(~np.isnat(left) & (left < end), left, end)
    present = (end - start).astype("timedelta64[D]").astype(np.float64) + 1.0
    return np.clip(present / days, 0.0, 1.0)
