"""The policy document: one scheme, whole, as data (SCHEMES.md R1–R22)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from calib.errors import PolicyError
from calib.policy.base import Number, Strict, check_min_max
from calib.policy.budgets import Budgets
from calib.policy.calibration import Calibration
from calib.policy.grading import Grading
from calib.policy.inputs import Calendar, Inputs
from calib.policy.measures import Measure
from calib.policy.outcomes import Outcome
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
    outcomes: dict[str, Outcome] | None = None
    """Named outcomes (晋升候选, 培训: <KPI>, 劝退评审 …) raised by grades, flags, scores or a
    KPI's shortfall (``calib.policy.outcomes``); None: the policy names none."""
    calibration: Calibration | None = None
    """The calibration cycle's settings (``cycle`` below gives them, defaults when absent)."""
    budgets: Budgets | None = None
    """Each group's budget for the whole payout (``calib.policy.budgets``); None: no budgets.
    Left out of ``to_dict`` when None, so a policy without it keeps its sha256."""

    @property
    def cycle(self) -> Calibration:
        """The calibration cycle's settings: the policy's ``calibration`` or the defaults."""
        return self.calibration if self.calibration is not None else Calibration()

    @model_validator(mode="after")
    def _references(self) -> Policy:
        from calib.policy.references import check_references

        issues = check_references(self)
        if issues:
            raise PolicyError(issues)
        return self

    # --- tuning -----------------------------------------------------------------------------
    def params(self) -> list[Any]:
        """Every tunable number: path, value, allowed range and role (see ``calib.policy.paths``).

        These are what sliders and solvers move. The range is the tighter of the rule's own
        constraint (a step must be > 0) and the range the policy declares under ``ranges``.

        Returns
        -------
        list of Param
            One ``Param`` per number (``path``, ``value``, ``role``, ``min``, ``max``,
            ``min_exclusive``, ``max_exclusive``), in the document's order.

        Examples
        --------
        >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
        >>> p = policy.params()[0]
        >>> p.path, p.value, p.role, p.min, p.max
        ('kpis.conversion.rule.bands[0].at', 0.75, 'threshold', 0.6, 0.9)
        """
        from calib.policy.paths import list_params

        return list_params(self)

    def params_frame(self):
        """``params()`` as a DataFrame, for a notebook."""
        import pandas as pd

        return pd.DataFrame([p.__dict__ for p in self.params()])

    def with_params(self, changes: dict[str, Any]) -> Policy:
        """A new, validated policy with the numbers at ``changes``' paths replaced.

        The policy itself is not changed. The new one is checked as a whole, so a change that
        would make bands overlap or weights not add up is refused with its path.

        Parameters
        ----------
        changes : dict
            New values by parameter path (as ``params()`` lists them), e.g.
            ``{"kpis.conversion.rule.bands[0].at": 0.8}``.

        Returns
        -------
        Policy
            The changed policy.

        Raises
        ------
        PolicyError
            If a path does not exist, a value is not a number where one is needed, or the
            changed policy is invalid (every problem at once, each with its path).

        Examples
        --------
        >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
        >>> stricter = policy.with_params({"kpis.conversion.rule.bands[0].at": 0.8})
        >>> stricter.get("kpis.conversion.rule.bands[0].at"), policy.get("kpis.conversion.rule.bands[0].at")
        (0.8, 0.75)
        """
        from calib.policy.paths import apply_params

        return apply_params(self, changes)

    def get(self, path: str) -> Any:
        """The value at a parameter path such as ``kpis.conversion.rule.bands[0].at``.

        Parameters
        ----------
        path : str
            A path into the policy document, in the addressing ``params()`` uses.

        Returns
        -------
        Any
            The value there (a number, text, or a part of the document as plain data).

        Raises
        ------
        KeyError
            If the path does not exist in the policy.

        Examples
        --------
        >>> policy = calib.load_policy("datasets/ecommerce_cs/policy.yaml")
        >>> policy.get("kpis.conversion.rule.bands[0].at")
        0.75
        """
        from calib.policy.paths import get_path

        return get_path(self.to_dict(), path)

    # --- serialisation ------------------------------------------------------------------------
    def to_dict(self, minimal: bool = False) -> dict[str, Any]:
        """Plain JSON-compatible data; ``Policy.model_validate(p.to_dict()) == p``.

        The full form names every value, defaults included (parameter paths and hashes use it);
        ``minimal=True`` leaves out values equal to their default, for a file people read.
        """
        # ``budgets`` came later: left out when absent, so earlier policies keep their hashes
        skip = {"budgets"} if self.budgets is None else None
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=minimal, exclude=skip)

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
