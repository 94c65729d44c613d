"""The one rule for a column of labels (``calib._util.text``), as data reading uses it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from calib._util.text import as_text, clean_codes, clean_text, text_codes


class TestCleanText:
    """Text without the spaces around it; missing stays missing."""

    def test_spaces_go_and_missing_stays(self) -> None:
        """' East ' is East, a blank cell is '', None and NaN are missing; the index is kept."""
        out = clean_text(pd.Series([" East ", "  ", None, np.nan, 7], index=list("abcde")))
        assert out.tolist()[:2] == ["East", ""] and out.isna().tolist() == [False] * 2 + [True] * 2 + [False]
        assert out["e"] == "7" and list(out.index) == list("abcde")

    def test_as_text_gives_python_text(self) -> None:
        """Plain ``str`` objects, ``missing`` where a cell is missing."""
        assert as_text(pd.Series(["A ", None, 1.5])).tolist() == ["A", None, "1.5"]
        assert as_text(["x", None], missing="(none)").tolist() == ["x", "(none)"]


class TestCodes:
    """Distinct clean texts and a code per row."""

    def test_spellings_equal_once_stripped_share_a_code(self) -> None:
        """' B' and 'B' are one label; blank and missing cells are −1; first appearance order."""
        codes, names = text_codes(pd.Series([" B", "B", None, "  ", "A"]))
        assert names == ["B", "A"] and codes.tolist() == [0, 0, -1, -1, 1]

    def test_a_categorical_reuses_its_codes(self) -> None:
        """A categorical's categories are cleaned like any other values."""
        codes, names = text_codes(pd.Categorical([" B", "B", None]))
        assert names == ["B"] and codes.tolist() == [0, 0, -1]

    def test_a_factorized_column(self) -> None:
        """``clean_codes`` takes what ``pd.factorize`` gave."""
        codes, names = clean_codes(*pd.factorize(pd.Series(["x ", "y", "x"])))
        assert names == ["x", "y"] and codes.tolist() == [0, 1, 0]

    @given(st.lists(st.one_of(st.none(), st.sampled_from(["", " ", "A", " A", "A ", "b", "良好", " 良好"]))))
    def test_codes_name_the_clean_text(self, values: list) -> None:
        """Every row's name is its clean text; blank or missing rows have none."""
        codes, names = text_codes(pd.Series(values, dtype=object))
        text = clean_text(pd.Series(values, dtype=object))
        for code, cell in zip(codes, text, strict=True):
            assert (names[code] if code >= 0 else None) == (None if pd.isna(cell) or cell == "" else cell)
        assert len(set(names)) == len(names)
