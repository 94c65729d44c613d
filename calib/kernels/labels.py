"""R9: ordinal labels (优秀/良好/一般/较差) to points, through the label codes made once at load."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib._util.text import text_codes
from calib.policy.rules import LabelPoints


def label_points(values: np.ndarray | pd.Series | pd.Categorical, rule: LabelPoints
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Points per row and a mask of rows whose label is unknown (or empty).

    Only the distinct labels are looked up, so the cost per row is one array take.
    Unknown rows get NaN here; the caller applies ``on_unknown``.
    """
    codes, names = text_codes(values)  # a categorical reuses its codes
    table = np.array([rule.points.get(n, np.nan) for n in names] + [np.nan], dtype=np.float64)
    out = table[codes]  # −1 (empty) takes the last entry
    return out, np.isnan(out)


def label_points_scalar(value: object, rule: LabelPoints) -> float:
    """Reference implementation for one label."""
    if value is None or (isinstance(value, float) and value != value):
        return float("nan")
    return float(rule.points.get(str(value).strip(), float("nan")))
