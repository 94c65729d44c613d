"""Comparisons that put a value exactly on a bound where a person computing by hand puts it.

Computed values carry binary noise: 0.1 + 0.2 is 0.30000000000000004, and 1.1 pp / 0.5 pp is
2.1999999999999997. A value within a relative 1e-9 of a bound counts as equal to the bound, and a
step count within 1e-9 of a whole number counts as that whole number.

This module is the one home of that tolerance: a threshold, a cap, a weight total or a ratio
sum compared with what a person typed uses ``tol``/``tol_array`` (relative) or ``REL`` (the same
number, where the quantity is already a share or a count of units).
"""

from __future__ import annotations

import numpy as np

REL = 1e-9


def tol(bound: float) -> float:
    """Absolute tolerance around ``bound``."""
    return REL * max(1.0, abs(bound))


def tol_array(bounds: np.ndarray) -> np.ndarray:
    """``tol`` of each bound in an array."""
    return REL * np.maximum(1.0, np.abs(bounds))


def clean_count(x: np.ndarray) -> np.ndarray:
    """Snap step counts that are a hair off a whole number onto it (2.1999999999999997 → 2.2)."""
    return np.round(x, 9)
