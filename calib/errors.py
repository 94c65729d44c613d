"""Errors a user can act on: a policy problem names its path and line, a data problem its rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class PolicyIssue:
    """One problem in a policy document: where it is, and what is wrong.

    Attributes
    ----------
    path : str
        The parameter path of the offending part (empty for the whole document).
    message : str
        What is wrong, and where it helps, how to fix it.
    line : int or None
        The YAML line of the offending key, where known.
    """

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path or "(top level)"
        if self.line is not None:
            where = f"{where} (line {self.line})"
        return f"{where}: {self.message}"


class CalibError(Exception):
    """Base class of every error calib raises for bad input (exit code 1 in the CLI)."""


class PolicyError(CalibError):
    """A policy document is invalid; ``issues`` lists every problem found, not just the first.

    Parameters
    ----------
    issues : list of PolicyIssue
        Every problem found.
    source : str, optional
        The file or text the policy came from, named in the message.

    Attributes
    ----------
    issues : list of PolicyIssue
        Every problem found, each with its path and line.
    source : str or None
        Where the policy came from.
    """

    def __init__(self, issues: list[PolicyIssue], source: str | None = None):
        self.issues = list(issues)
        self.source = source
        head = f"policy {source} is invalid" if source else "policy is invalid"
        n = len(self.issues)
        lines = [f"{head} ({n} problem{'s' if n != 1 else ''}):"]
        lines += [f"  - {issue}" for issue in self.issues]
        super().__init__("\n".join(lines))


class DataError(CalibError):
    """Input data does not fit the policy; ``problems`` is a table with one row per problem.

    Columns of ``problems``: table, row (the file's line number where known, else the 0-based
    position), id, column, problem, value, fix.

    Parameters
    ----------
    problems : DataFrame
        One row per problem, with the columns above.

    Attributes
    ----------
    problems : DataFrame
        The problems, indexed 0..n−1; ``calib run`` writes them to ``problems.csv``.
    """

    COLUMNS = ("table", "row", "id", "column", "problem", "value", "fix")

    def __init__(self, problems: pd.DataFrame):
        import pandas as pd  # only when there are problems: ``calib --help`` does not load pandas

        self.problems = problems.reset_index(drop=True)
        n = len(self.problems)
        lines = [f"the input data has {n} problem{'s' if n != 1 else ''}:"]
        shown = self.problems.head(20)
        for rec in shown.itertuples(index=False):
            where = f"{rec.table}"
            if rec.row is not None and not pd.isna(rec.row):
                where += f" row {rec.row}"
            if rec.id is not None and not (isinstance(rec.id, float) and pd.isna(rec.id)):
                where += f" (id {rec.id})"
            if rec.column:
                where += f", column '{rec.column}'"
            text = f"  - {where}: {rec.problem}"
            if rec.value is not None and not (isinstance(rec.value, float) and pd.isna(rec.value)):
                text += f" (got {rec.value!r})"
            if rec.fix:
                text += f". Fix: {rec.fix}"
            lines.append(text)
        if n > len(shown):
            lines.append(f"  ... and {n - len(shown)} more (see the problems table)")
        super().__init__("\n".join(lines))


class SimulationError(CalibError, ValueError):
    """A Monte Carlo simulation that cannot be run as asked (its settings, or a history with
    nothing to simulate from); a ``ValueError`` too, as it was before it was a calib error.
    """
