"""calib: design, run and calibrate performance and bonus schemes, with the policy as data.

The Python API (a contract, see DESIGN.md):

- ``calib.load_policy(path)`` reads a YAML or JSON policy and validates it;
- ``calib.load_data(path, policy)`` reads the tables the policy declares;
- ``calib.run(policy, data)`` returns a ``Result`` with a table per stage;
- ``policy.params()`` / ``policy.with_params({path: value})`` list and change tunable numbers;
- ``calib.Scenario(policy, data)`` re-runs live after ``with_params``; the solvers
  (``solve_thresholds``, ``solve_budget``, ``fit_weights``) and ``sensitivity`` work on one.
"""

from calib.data import Dataset, load_data
from calib.engine import run
from calib.errors import CalibError, DataError, PolicyError, PolicyIssue
from calib.freeze import Frozen, freeze, load_frozen, provenance, write_frozen
from calib.policy import Policy, dump_policy, json_schema, load_policy, parse_policy, save_policy
from calib.result import Result
from calib.scenario import Scenario

__version__ = "0.1.0"

_SOLVERS = frozenset({"CalibrationError", "fit_weights", "sensitivity", "solve_budget",
                      "solve_thresholds"})


def __getattr__(name: str):
    """The solvers, imported when first asked for (they need scipy: ~0.5 s that the command
    line and a plain run need not pay).
    """
    if name in _SOLVERS:
        from calib import calibrate

        return getattr(calibrate, name)
    raise AttributeError(f"module 'calib' has no attribute {name!r}")

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
