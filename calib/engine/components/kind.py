"""What a pay component type declares (``ComponentKind``): its kernel, what it reads, and its
batched form over a leading scenario axis.

The engine pays a period (or roll-up) by calling each component's ``amount`` kernel on the
population's rows. The Monte Carlo pays scenarios × people in one array; it does not re-write a
component's rule but asks the type how its amount varies:

- ``constant``: it reads no score, grade or rank (a fixed part, an award to everyone rated):
  the kernel once per person;
- ``grade``: it reads the grade alone: the kernel at each grade gives a table per person;
- ``steps``: it reads the score through thresholds alone (bands, an award above a score): the
  kernel at one score per step gives a table per person, and the score picks the step;
- ``formula``: it reads the score continuously (a percent of the score, points below a
  threshold): ``prepare`` (per person) and ``into`` (on any array of scores, in place) *are*
  the kernel, so the batched and the row-wise amounts are one computation;
- ``history``: it reads what the simulation does not draw (records columns, events, ranks,
  other people's rows): the person's historical mean amount, said in ``Simulation.notes``.

A new component type is one module (its kernel and ``KIND``) and one line in
``calib.engine.components.REGISTRY``; ``tests/engine/test_component_registry.py`` checks every
registered type, batched against row by row, to the cent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from calib.engine.components.context import PayContext

Form = Literal["constant", "grade", "steps", "formula", "rank", "history"]


@dataclass(frozen=True)
class Reads:
    """What one component (one policy entry of a type) reads besides the person's attributes
    (the money bases and the columns of the person's own row).
    """

    score: bool = False
    grade: bool = False
    rank: bool = False
    values: tuple[str, ...] = ()
    """KPI points, measures, sections or columns read per row (``PayContext.number``)."""
    other_rows: bool = False
    """Events, or other people's rows (a group's mean, a group's output)."""
    amounts: tuple[str, ...] = ()
    """Other components whose paid units it reads (listed before it: ``PayContext.paid``)."""


@dataclass(frozen=True)
class Steps:
    """A score-step form: ``edges`` from the highest down; a score is in step i when it is
    below (``strict``: at or below) the first i edges. ``levels`` holds one score in each step,
    for the kernel to be evaluated at.
    """

    edges: np.ndarray
    strict: bool

    @property
    def levels(self) -> np.ndarray:
        """One score inside each step (the edge itself, or just above it when strict; −∞ last)."""
        top = np.nextafter(self.edges, np.inf) if self.strict else self.edges
        return np.r_[top, -np.inf]

    def index(self, score: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The step of each score (0: above every edge), added to ``out`` (int)."""
        for edge in self.edges:
            out += (score <= edge) if self.strict else (score < edge)
        return out


Amount = Callable[[PayContext, Any, str], np.ndarray]


@dataclass(frozen=True)
class Bounds:
    """Where a component's own cap or floor changed its amount, per row: the kernel's amount
    before them and the policy path of the one that bit (None where none did).

    For statements (R37: "capped at 500 (pay.components.x.max); before the cap 640.00"); it is
    computed beside the kernel, on request, and changes no amount.
    """

    before: np.ndarray
    which: np.ndarray

    @classmethod
    def of(cls, before: np.ndarray, *bits: tuple[np.ndarray, str | np.ndarray]) -> Bounds:
        """``before`` and, for each (rows where it bit, its path — one, or one per row), the
        path of the cap or floor on those rows (a later one wins: it was applied last).
        """
        which = np.full(len(before), None, dtype=object)
        for hit, path in bits:
            which[hit] = path if isinstance(path, str) else np.asarray(path, dtype=object)[hit]
        return cls(before, which)


BoundsOf = Callable[[PayContext, Any, str], Bounds | None]


def formula_kernel(prepare: Callable[[PayContext, Any, str], Any],
                   into: Callable[[Any, np.ndarray, np.ndarray], None]) -> Amount:
    """The kernel of a type continuous in the score: its ``into`` on the population's scores
    (a missing score pays as 0), so the row-wise and the batched amounts are one computation.
    """
    def amount(c: PayContext, comp: Any, path: str) -> np.ndarray:
        """``into`` of the component's parameters on the population's scores."""
        out = np.empty(c.pop.n)
        into(prepare(c, comp, path), c.scores(), out)
        return out

    amount.__module__ = into.__module__
    return amount


@dataclass(frozen=True)
class ComponentKind:
    """One pay component type: the policy class it computes, its vectorised kernel, what it
    reads, and the pieces of its batched form.
    """

    spec: type
    """The policy model class (``calib.policy.pay``)."""
    amount: Amount
    """The kernel: ``amount(context, component, path)`` → float amounts per row of the
    context's population, before the condition, proration, rounding and sign."""
    reads: Callable[[Any], Reads]
    steps: Callable[[Any], Steps] | None = None
    """For a type read through score thresholds: its steps."""
    prepare: Callable[[PayContext, Any, str], Any] | None = None
    """For a type continuous in the score: the per-row parameters of ``into``."""
    into: Callable[[Any, np.ndarray, np.ndarray], None] | None = None
    """``into(parameters, scores, out)``: the amounts of any array of scores (rows × people
    or people alone, the parameters broadcast along the last axis) into ``out``."""
    grade_amounts: Callable[[Any, list[str]], np.ndarray | None] | None = None
    """The same amount for everyone at a grade: per grade of the scale, then 0 for not graded
    (None for a component whose amount also depends on the person)."""
    pays_not_rated: bool = False
    """Paid pro rata to a row not rated whose eligibility rule says ``pay: prorate``."""
    bounds: BoundsOf | None = None
    """For a type with its own cap or floor (``max``, ``min``, ``max_mean``, floors): the amount
    before them and which one bit per row (None when the component sets none); statements
    name them. It never changes the kernel's amount."""

    def form(self, comp: Any, attribute: Callable[[str], bool], ranks: bool = False) -> Form:
        """How the batched form varies; ``attribute(name)``: whether a value read per row is a
        person's attribute (constant over the year) rather than a period's value; ``ranks``:
        whether the simulation ranks its people (then a component of the rank is computed by
        its kernel on the simulated ranks: ``rank``).
        """
        if self.not_drawn(comp, attribute, ranks) is not None:
            return "history"
        reads = self.reads(comp)
        if reads.rank:
            return "rank"
        if reads.grade:
            return "grade"
        if reads.score:
            return "steps" if self.steps is not None else "formula"
        return "constant"

    def not_drawn(self, comp: Any, attribute: Callable[[str], bool], ranks: bool = False
                  ) -> str | None:
        """What the component reads that a simulation does not draw, in words (None: nothing;
        it is then computed from the simulated score, grade, rank or the person).
        """
        reads = self.reads(comp)
        period = [v for v in reads.values if not attribute(v)]
        if reads.rank and not ranks:
            return "reads ranks (R26), which are not simulated for this policy"
        if reads.other_rows:
            return "reads events or other people's rows"
        if period:
            return f"reads {', '.join(period)} of each period"
        if reads.grade and reads.score:
            return "reads both the score and the grade"
        return None
