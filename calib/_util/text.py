"""Text of a column of labels: one rule for ids, labels, grades and group names.

A cell is what a person typed, as text, without the spaces around it (``" East "`` is ``East``: a
space nobody sees must not make another group); a missing cell stays missing. ``clean_text`` gives
the column, ``text_codes`` (and ``clean_codes`` for a column already factorized) its distinct texts
and a code per row, and ``as_text`` plain Python text for tables that are shown or compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def clean_text(values: object) -> pd.Series:
    """``values`` as text (pandas ``string``) without surrounding spaces; missing stays ``<NA>``
    and a blank cell becomes ``""``. A Series keeps its index.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    return series.astype("string").str.strip()


def clean_codes(codes: np.ndarray, uniques: Sequence[object] | np.ndarray | pd.Index
                ) -> tuple[np.ndarray, list[str]]:
    """A factorized column (code per row, −1 missing; its distinct values) with the distinct
    values cleaned: stripped, blank ones missing (−1), and values equal once stripped
    (``"B"``, ``" B"``) one code. Only the distinct values are looked at.
    """
    trimmed = [str(u).strip() for u in uniques]
    distinct = list(dict.fromkeys(t for t in trimmed if t != ""))
    position = {t: i for i, t in enumerate(distinct)}
    remap = np.array([position.get(t, -1) for t in trimmed] + [-1], dtype=np.int64)
    return remap[np.asarray(codes, dtype=np.intp)], distinct  # −1 (missing) takes the last, −1


def text_codes(values: Any) -> tuple[np.ndarray, list[str]]:
    """(code per row, distinct clean texts in order of first appearance) of a column of labels:
    −1 where a cell is missing or blank. A categorical column reuses its codes.
    """
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        cat = pd.Categorical(values)
        return clean_codes(cat.codes, list(cat.categories))
    codes, uniques = pd.factorize(np.asarray(values, dtype=object) if not isinstance(
        values, pd.Series) else values, use_na_sentinel=True)
    return clean_codes(codes, uniques)


def as_text(values: object, missing: object = None) -> np.ndarray:
    """``values`` as an object array of Python ``str`` (clean, as ``clean_text``), ``missing``
    where a cell is missing: for small tables that are shown, merged or compared cell by cell.
    """
    text = clean_text(values)
    out = np.array(text.astype(object), dtype=object)
    out[text.isna().to_numpy()] = missing
    return out
