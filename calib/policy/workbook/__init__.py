"""The policy workbook: a scheme as Excel tables HR writes and reads, converting both ways with
the YAML without loss (``policy_to_workbook``, ``workbook_to_policy``; ``calib.load_policy`` reads
a ``.xlsx`` policy too).

It lives in the policy layer, beside the YAML and JSON readers, because it is one more way of
writing the same document: it needs only openpyxl and the policy model, and ``load_policy`` (the
lowest layer that reads policies) must be able to read it.
"""

from calib.policy.workbook.blank import blank_policy, write_blank
from calib.policy.workbook.read import workbook_to_policy
from calib.policy.workbook.write import policy_to_workbook

__all__ = ["blank_policy", "policy_to_workbook", "workbook_to_policy", "write_blank"]
