"""Text columns of result tables, built from codes: no Python object per row.

Ids, periods, statuses and reasons repeat across 1.2M rows; a categorical column holds each
distinct text once and an integer code per row, so building it costs one array wrap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def categories(names: Sequence[object] | np.ndarray) -> pd.Index:
    """Distinct names as the text index a coded column uses (build it once, reuse it)."""
    if isinstance(names, pd.Index):
        return names.astype("str")
    values = np.asarray(names, dtype=object)
    if len(values) > 64:  # vectorised conversion for long lists (ids, group names)
        return pd.Index(pd.Series(values, dtype=object).astype(str).to_numpy(dtype=object),
                        dtype="str")
    return pd.Index(np.asarray([str(n) for n in values], dtype=object), dtype="str")


def coded(names: Sequence[object] | np.ndarray | pd.Index, codes: np.ndarray) -> pd.Categorical:
    """A text column from distinct ``names`` and one code per row (−1: empty)."""
    index = names if isinstance(names, pd.Index) else categories(names)
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=index)


class LabelColumn:
    """A per-row text label kept as integer codes while the engine works (−1: no label).

    Used for not-rated reasons and vetoes: setting a label on a mask is one integer write, and
    "has no label" is one integer comparison, where an object array would compare 1.2M objects.
    """

    def __init__(self, n: int):
        self.codes = np.full(n, -1, dtype=np.int32)
        self.names: list[str] = []

    def copy(self) -> LabelColumn:
        """An independent copy (labels set on it do not change this one)."""
        out = LabelColumn(0)
        out.codes, out.names = self.codes.copy(), list(self.names)
        return out

    def _code(self, name: str) -> int:
        if name not in self.names:
            self.names.append(name)
        return self.names.index(name)

    def set(self, mask: np.ndarray, name: str, only_empty: bool = False) -> None:
        """Label the rows in ``mask`` (only those still without a label when ``only_empty``)."""
        if only_empty:
            mask = mask & (self.codes < 0)
        if mask.any():
            self.codes[mask] = self._code(name)

    def set_rows(self, rows: np.ndarray, name: str) -> None:
        """Label the rows at the indices ``rows``."""
        if len(rows):
            self.codes[rows] = self._code(name)

    def empty(self) -> np.ndarray:
        """Rows without a label."""
        return self.codes < 0

    def column(self) -> pd.Categorical:
        """The labels as a text column."""
        return coded(self.names, self.codes)

    def values(self) -> np.ndarray:
        """The labels as an object array (None where empty), for small tables."""
        names = np.array([*self.names, None], dtype=object)
        return names[np.where(self.codes < 0, len(self.names), self.codes)]
