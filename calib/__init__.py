"""calib: design, run and calibrate performance and bonus schemes, with the policy as data.

The Python API (a contract, see DESIGN.md):

- ``calib.load_policy(path)`` reads a YAML or JSON policy and validates it;
- ``calib.load_data(path, policy)`` reads the tables the policy declares;
- ``calib.run(policy, data)`` returns a ``Result`` with a table per stage;
- ``policy.params()`` / ``policy.with_params({path: value})`` list and change tunable numbers.
"""

from calib.data import Dataset, load_data
from calib.engine import run
from calib.errors import CalibError, DataError, PolicyError, PolicyIssue
from calib.freeze import Frozen, freeze, load_frozen, provenance, write_frozen
from calib.policy import Policy, dump_policy, json_schema, load_policy, parse_policy, save_policy
from calib.result import Result
from calib.scenario import Scenario

__version__ = "0.1.0"

__all__ = [
    "CalibError", "DataError", "Dataset", "Frozen", "Policy", "PolicyError", "PolicyIssue",
    "Result", "Scenario", "__version__", "dump_policy", "freeze", "json_schema", "load_data", "load_frozen",
    "load_policy", "parse_policy", "provenance", "run", "save_policy", "write_frozen",
]
