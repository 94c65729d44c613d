"""The explicit policy for values that cannot be computed: exclude, neutral, zero or error."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from calib.errors import DataError


class NamedRows(Protocol):
    """Rows that can be named in a message (a ``Frame`` or a ``RowBlock``): each row's person id
    and its row number in the records file.
    """

    def record_ids(self) -> np.ndarray:
        """The person id of each row."""
        ...

    def row_numbers(self) -> np.ndarray:
        """Each row's number as people see it (the file line)."""
        ...


def apply_missing(values: np.ndarray, mask: np.ndarray, how: str, neutral: float,
                  where: str, why: str, frame: NamedRows | None = None,
                  active: np.ndarray | None = None, copy: bool = True) -> np.ndarray:
    """Resolve the rows in ``mask`` by ``how``; ``error`` raises a DataError naming the rows.

    ``exclude`` marks the rows with NaN, which the section combiners read as "left out".
    ``error`` only counts rows in ``active`` (rows that are rated and use the value).
    """
    if not mask.any():
        return values
    out = np.array(values, dtype=np.float64, copy=True) if copy else values
    if how == "exclude":
        out[mask] = np.nan
    elif how == "neutral":
        out[mask] = neutral
    elif how == "zero":
        out[mask] = 0.0
    else:
        rows = np.flatnonzero(mask if active is None else mask & active)
        if len(rows) == 0:
            out[mask] = np.nan
            return out
        ids = frame.record_ids()[rows] if frame is not None else None
        numbers = frame.row_numbers()[rows] if frame is not None else rows
        raise DataError(pd.DataFrame({
            "table": "records", "row": numbers, "id": ids, "column": None,
            "problem": f"{why} for {where}", "value": None,
            "fix": f"supply the value, or choose exclude/neutral/zero for {where} in the policy",
        }))
    return out
