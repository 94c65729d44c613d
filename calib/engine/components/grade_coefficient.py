"""R27: base × the coefficient of the person's grade (A+ 1.2, A 1.1, B 1.0, C 0.8, C− 0.5)."""

from __future__ import annotations

import numpy as np

from calib.engine.components.context import PayContext
from calib.engine.components.kind import ComponentKind, Reads
from calib.policy import pay as P


def amount(c: PayContext, comp: P.GradeCoefficient, path: str) -> np.ndarray:
    """The base × the grade's coefficient (0 where not graded)."""
    return c.amount(comp.base, f"{path}.base") * c.grade_table(comp.coefficients)


def grade_amounts(comp: P.GradeCoefficient, names: list[str]) -> np.ndarray | None:
    """With a fixed base, the amount at each grade (then 0, not graded)."""
    if comp.base.amount is None:
        return None
    return comp.base.amount * np.array([comp.coefficients.get(n, 0.0) for n in names] + [0.0])


KIND = ComponentKind(P.GradeCoefficient, amount, reads=lambda comp: Reads(grade=True),
                     grade_amounts=grade_amounts)
