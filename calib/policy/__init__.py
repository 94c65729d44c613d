"""The policy model: a whole scheme as validated data."""

from calib.policy.load import dump_policy, json_schema, load_policy, parse_policy, save_policy
from calib.policy.model import Policy
from calib.policy.paths import Param

__all__ = ["Param", "Policy", "dump_policy", "json_schema", "load_policy", "parse_policy",
           "save_policy"]
