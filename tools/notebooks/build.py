"""Every notebook and the module holding its cells, in the order of the README's table."""

from __future__ import annotations

from pathlib import Path

from tools.notebooks.common import write
from tools.notebooks.explore import EXPLORE
from tools.notebooks.money import NB04, NB06
from tools.notebooks.session import SESSION
from tools.notebooks.tune import GRADES, TUNE
from tools.notebooks.whatif import NB05

NOTEBOOKS = {
    "01_explore_history.ipynb": EXPLORE,
    "02_tune_scoring.ipynb": TUNE,
    "03_grades_and_distribution.ipynb": GRADES,
    "04_payouts_and_budget.ipynb": NB04,
    "05_what_if.ipynb": NB05,
    "06_freeze_and_export.ipynb": NB06,
    "07_calibration_session.ipynb": SESSION,
}


def build_all(folder: Path) -> list[Path]:
    """Write every notebook into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    return [write(folder, name, [cell.copy() for cell in cells]) for name, cells in NOTEBOOKS.items()]
