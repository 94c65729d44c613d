"""calib: design, run and calibrate performance and bonus schemes, with the policy as data.

The Python API (a contract, see DESIGN.md):

- ``calib.load_policy(path)`` reads a YAML or JSON policy and validates it;
- ``calib.load_data(path, policy)`` reads the tables the policy declares;
- ``calib.run(policy, data)`` returns a ``Result`` with a table per stage;
- ``policy.params()`` / ``policy.with_params({path: value})`` list and change tunable numbers;
- ``calib.Scenario(policy, data)`` re-runs live after ``with_params``; the solvers
  (``solve_thresholds``, ``solve_budget``, ``fit_weights``) and ``sensitivity`` work on one.
"""

from calib._compat import install as _install_compat
from calib._util.version import __version__
from calib.data.read import Dataset, load_data
from calib.engine.pipeline import run
from calib.engine.result import Result
from calib.errors import CalibError, DataError, PolicyError, PolicyIssue
from calib.io.provenance import provenance
from calib.policy import Policy, dump_policy, json_schema, load_policy, parse_policy, save_policy
from calib.policy.frozen import Frozen, freeze, load_frozen, write_frozen
from calib.scenario import Scenario

_install_compat(globals())


_SOLVERS = frozenset({"CalibrationError", "fit_weights", "sensitivity", "solve_budget",
                      "solve_thresholds"})


def __getattr__(name: str):
    """The solvers, imported when first asked for (they need scipy: ~0.5 s that the command
    line and a plain run need not pay).
    """
    if name in _SOLVERS:
        from calib.analysis import calibrate

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
