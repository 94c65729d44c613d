"""The public API keeps numpy-style docstrings (issue 19): every function of ``calib.__all__`` and
the public methods the README shows document each parameter under ``Parameters`` and what they
give under ``Returns``. Parsed simply, without numpydoc: a section is a title line underlined
with dashes, and a parameter is a line ``name : type`` (or ``*args``/``**kwargs``) at the
section's indentation.
"""

from __future__ import annotations

import inspect
import re

import pytest

import calib
from calib.simulate import Simulation, simulate

METHODS = [
    (calib.Policy, "params"),
    (calib.Policy, "with_params"),
    (calib.Policy, "get"),
    (calib.Result, "explain"),
    (calib.Result, "payout_total"),
    (calib.Result, "total_payout"),
    (calib.Result, "grade_counts"),
    (calib.Result, "summary"),
    (calib.Scenario, "with_params"),
    (calib.Scenario, "with_policy"),
    (calib.Scenario, "total_payout"),
    (Simulation, "quantiles"),
    (Simulation, "p_over"),
    (Simulation, "summary"),
]


def _public_functions() -> list[tuple[str, object]]:
    out = []
    for name in calib.__all__:
        obj = getattr(calib, name)  # the solvers are imported here, on first access
        if inspect.isfunction(obj):
            out.append((f"calib.{name}", obj))
    return out


CALLABLES = (_public_functions() + [("calib.simulate.simulate", simulate)]
             + [(f"{cls.__name__}.{name}", getattr(cls, name)) for cls, name in METHODS])


def sections(doc: str) -> dict[str, list[str]]:
    """The numpydoc sections of a docstring: title -> its lines (title and dashes left out)."""
    lines = inspect.cleandoc(doc).splitlines()
    out: dict[str, list[str]] = {}
    current: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        underline = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and underline and set(underline) == {"-"} and len(underline) >= 3:
            current = line.strip()
            out[current] = []
            i += 2
            continue
        if current is not None:
            out[current].append(line)
        i += 1
    return out


_ENTRY = re.compile(r"^(\*{0,2}[A-Za-z_]\w*(?:\s*,\s*\*{0,2}[A-Za-z_]\w*)*)\s*(?::.*)?$")


def documented_parameters(doc: str) -> list[str]:
    """Names given in the Parameters section (``a, b : int`` names both; stars dropped)."""
    body = sections(doc).get("Parameters", [])
    indents = [len(x) - len(x.lstrip()) for x in body if x.strip()]
    if not indents:
        return []
    top = min(indents)
    names = []
    for line in body:
        if not line.strip() or len(line) - len(line.lstrip()) != top:
            continue
        m = _ENTRY.match(line.strip())
        if m:
            names += [n.strip().lstrip("*") for n in m.group(1).split(",")]
    return names


def signature_parameters(fn: object) -> list[str]:
    """The parameters a caller passes: not ``self``/``cls``, nor private ones (``_frame``)."""
    params = list(inspect.signature(fn).parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    return [p.name for p in params if not p.name.startswith("_")]


def returns_something(fn: object) -> bool:
    annotation = inspect.signature(fn).return_annotation
    return annotation not in (None, "None", type(None))


@pytest.mark.parametrize(("name", "fn"), CALLABLES, ids=[n for n, _ in CALLABLES])
def test_numpy_docstring(name: str, fn: object) -> None:
    doc = inspect.getdoc(fn)
    assert doc, f"{name} has no docstring"
    found = sections(doc)
    wanted = signature_parameters(fn)
    if wanted:
        assert "Parameters" in found, f"{name} takes {', '.join(wanted)} but has no Parameters section"
        documented = documented_parameters(doc)
        missing = [p for p in wanted if p not in documented]
        assert not missing, f"{name}: parameter(s) {', '.join(missing)} not documented under Parameters"
        unknown = [p for p in documented if p not in wanted]
        assert not unknown, f"{name}: Parameters documents {', '.join(unknown)}, not in the signature"
    if returns_something(fn):
        assert found.get("Returns") and any(x.strip() for x in found["Returns"]), \
            f"{name} returns a value but has no Returns section"


def test_every_public_name_has_a_docstring() -> None:
    for name in calib.__all__:
        obj = getattr(calib, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"calib.{name} has no docstring"


def test_the_parser_names_what_is_missing() -> None:
    def f(a, b, *args, c=1, **kwargs):
        """Something.

        Parameters
        ----------
        a, b : int
            Two numbers.
        *args
            More.
        kwargs : dict
            Passed on.

        Returns
        -------
        int
        """

    assert documented_parameters(f.__doc__) == ["a", "b", "args", "kwargs"]
    assert set(signature_parameters(f)) - set(documented_parameters(f.__doc__)) == {"c"}
    assert sections(f.__doc__)["Returns"] == ["int"]
