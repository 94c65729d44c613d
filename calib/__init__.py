"""calib: design, run and calibrate performance and bonus schemes, with the policy as data.

The Python API (a contract, see DESIGN.md):

- ``calib.load_policy(path)`` reads a YAML or JSON policy and validates it;
- ``calib.load_data(path, policy)`` reads the tables the policy declares;
- ``calib.run(policy, data)`` returns a ``Result`` with a table per stage;
- ``policy.params()`` / ``policy.with_params({path: value})`` list and change tunable numbers;
- ``calib.Scenario(policy, data)`` re-runs live after ``with_params``; the solvers
  (``solve_thresholds``, ``solve_budget``, ``fit_weights``) and ``sensitivity`` work on one.
"""

import sys as _sys
from importlib import import_module as _import
from types import ModuleType as _ModuleType

from calib._compat import install as _install_compat
from calib._util.version import __version__

_WHERE = {
    "Dataset": "calib.data.read", "load_data": "calib.data.read",
    "run": "calib.engine.pipeline", "Result": "calib.engine.result",
    "CalibError": "calib.errors", "DataError": "calib.errors", "PolicyError": "calib.errors",
    "PolicyIssue": "calib.errors", "provenance": "calib.io.provenance",
    "Policy": "calib.policy", "dump_policy": "calib.policy", "json_schema": "calib.policy",
    "load_policy": "calib.policy", "parse_policy": "calib.policy", "save_policy": "calib.policy",
    "Frozen": "calib.policy.frozen", "freeze": "calib.policy.frozen",
    "load_frozen": "calib.policy.frozen", "write_frozen": "calib.policy.frozen",
    "Scenario": "calib.scenario",
    # the solvers need scipy: ~0.5 s that the command line and a plain run need not pay
    "CalibrationError": "calib.analysis.calibrate", "fit_weights": "calib.analysis.calibrate",
    "sensitivity": "calib.analysis.calibrate", "solve_budget": "calib.analysis.calibrate",
    "solve_thresholds": "calib.analysis.calibrate",
}
"""Where each public name lives: imported when first asked for, so ``import calib`` (and the
command line's ``--help``) does not load pandas, pydantic and the engine it may not need."""


_PARTS = frozenset({"_util", "policy", "kernels", "data", "engine", "scenario", "io", "analysis",
                    "simulate", "cycle", "lab", "cli", "errors", "bounds"})
"""The package's layers and modules, found as attributes as they were when all were imported."""


def __getattr__(name: str):
    """A public name, imported from its module when first asked for (then kept)."""
    where = _WHERE.get(name)
    if where is None:
        if name in _PARTS:  # ``calib.policy.hashing`` after a bare ``import calib``
            return _import(f"calib.{name}")
        raise AttributeError(f"module 'calib' has no attribute {name!r}")
    value = getattr(_import(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


class _Package(_ModuleType):
    """The package's module: an old module path named like one of its functions
    (``import calib.freeze``, the module before 0.2) does not replace the function.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, _ModuleType) and name in _WHERE and value.__name__ != f"calib.{name}":
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
_install_compat(globals())


__all__ = [
    "CalibError",
    "CalibrationError",
    "DataError",
    "Dataset",
    "Frozen",
    "Policy",
    "PolicyError",
    "PolicyIssue",
    "Result",
    "Scenario",
    "__version__",
    "dump_policy",
    "fit_weights",
    "freeze",
    "json_schema",
    "load_data",
    "load_frozen",
    "load_policy",
    "parse_policy",
    "provenance",
    "run",
    "save_policy",
    "sensitivity",
    "solve_budget",
    "solve_thresholds",
    "write_frozen",
]
