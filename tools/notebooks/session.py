"""Notebook 07 (the calibration session, also ``./dev app session``): its cells.

Thin on purpose: the scheme is picked, the panel of ``calib.lab.session_panel`` built and shown;
every rule and calculation lives in ``calib.lab.session``.
"""

from __future__ import annotations

from tools.notebooks.common import SCHEMES, code, md

SESSION = [
    md(f"""
# 07 · Calibration session

For **HR and the calibration committee** (校准会): pick a population (a branch, a team, a
position, a supervisor's people, a period), see its grades against the targets and its people on
a 9-box, propose overrides with a reason, and see at once which quotas they break, the fewest
compensating moves, and what they cost. The pending overrides are saved to the cycle's record
(`calib cycle`).

Change `SCHEME` below to any of: {SCHEMES}.
"""),
    code('SCHEME = "gas_cs"  # which example scheme to open'),
    code('''
from pathlib import Path

import calib
from calib.lab.session_panel import SessionPanel

folder = Path("..") / "datasets" / SCHEME
policy = calib.load_policy(folder / "policy.yaml")
print(policy.title or policy.name)
'''),
    md("""
## The session

Click a box of the 9-box to list its people. Fill in the form and press **Propose**: the scheme
runs again with every pending override. Nothing is saved until **Save to the cycle**.
"""),
    code('''
panel = SessionPanel(policy, folder)
panel.widget
'''),
]
