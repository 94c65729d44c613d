"""The policy document: one scheme, whole, as data (SCHEMES.md R1–R22)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from calib.errors import PolicyError
from calib.policy.base import Number, Strict, check_min_max
from calib.policy.grading import Grading
from calib.policy.inputs import Calendar, Inputs
from calib.policy.measures import Measure
from calib.policy.pay import Pay
from calib.policy.periods import Eligibility, Rollup
from calib.policy.scoring import Kpi, Scorecard, Section

FORMAT = "calib.policy/1"


class Range(Strict):
    """A range HR declares for a tunable number: sliders and solvers stay inside it."""

    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _range(self) -> Range:
        check_min_max(self.min, self.max, "the range's ")
        return self


class Policy(Strict):
    """A whole performance scheme: inputs, measures, KPIs, score tree, eligibility and roll-ups.

    Build one with ``calib.load_policy(path)``; change numbers with ``with_params``; list the
    tunable numbers with ``params``. Every reference between parts is checked on construction and
    every problem is reported at once, each with its path.
    """

    format: str = FORMAT
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str | None = None
    description: str | None = None
    version: str | None = None
    currency: str = "CNY"
    inputs: Inputs
    calendar: Calendar = Field(default_factory=Calendar)
    measures: dict[str, Measure] = Field(default_factory=dict)
    kpis: dict[str, Kpi] = Field(default_factory=dict)
    sections: dict[str, Section] = Field(default_factory=dict)
    scorecards: dict[str, Scorecard] = Field(min_length=1)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    rollups: dict[str, Rollup] = Field(default_factory=dict)
    grading: Grading | None = None
    pay: Pay | None = None
    ranges: dict[str, Range] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> Policy:
        from calib.policy.references import check_references

        issues = check_references(self)
        if issues:
            raise PolicyError(issues)
        return self

    # --- tuning -----------------------------------------------------------------------------
    def params(self) -> list[Any]:
        """Every tunable number: path, value, allowed range and role (see ``calib.policy.paths``)."""
        from calib.policy.paths import list_params

        return list_params(self)

    def params_frame(self):
        """``params()`` as a DataFrame, for a notebook."""
        import pandas as pd

        return pd.DataFrame([p.__dict__ for p in self.params()])

    def with_params(self, changes: dict[str, Any]) -> Policy:
        """A new, validated policy with the numbers at ``changes``' paths replaced."""
        from calib.policy.paths import apply_params

        return apply_params(self, changes)

    def get(self, path: str) -> Any:
        """The value at a parameter path such as ``kpis.conversion.rule.bands[0].at``."""
        from calib.policy.paths import get_path

        return get_path(self.to_dict(), path)

    # --- serialisation ------------------------------------------------------------------------
    def to_dict(self, minimal: bool = False) -> dict[str, Any]:
        """Plain JSON-compatible data; ``Policy.model_validate(p.to_dict()) == p``.

        The full form names every value, defaults included (parameter paths and hashes use it);
        ``minimal=True`` leaves out values equal to their default, for a file people read.
        """
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=minimal)

    def tree(self, root: str) -> tuple[list[str], list[str]]:
        """The KPIs and the sections under ``root`` (a section or KPI), children before parents."""
        kpis: list[str] = []
        sections: list[str] = []

        def walk(name: str) -> None:
            if name in self.kpis:
                if name not in kpis:
                    kpis.append(name)
                return
            for child in self.sections[name].children():
                walk(child)
            if name not in sections:
                sections.append(name)

        walk(root)
        return kpis, sections

    def labels(self) -> dict[str, str]:
        """Display label of every KPI, section and measure (its name where no label is given)."""
        out: dict[str, str] = {}
        for group in (self.measures, self.kpis, self.sections, self.scorecards):
            for name, part in group.items():
                out[name] = getattr(part, "label", None) or name
        return out
