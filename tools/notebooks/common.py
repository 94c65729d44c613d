"""What every notebook builder shares: cell constructors and one writer with stable cell ids.

The notebooks in ``notebooks/`` are generated, never edited by hand: edit the cells in
``tools/notebooks/*.py`` and run ``.venv/bin/python -m tools.notebooks``. Cell ids are derived
from the notebook and the cell's place, so rebuilding an unchanged notebook gives the same bytes
(``tests/e2e/test_notebook_builders.py`` regenerates all six and compares).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SCHEMES = ("`logistics_cs`, `gas_cs`, `ecommerce_cs`, `property_cs`, `support_team`, `call_centre`, "
           "`ethics_diligence`, `safety`")


def md(text: str) -> nbformat.NotebookNode:
    """A markdown cell (surrounding blank lines dropped)."""
    return new_markdown_cell(text.strip())


def code(text: str) -> nbformat.NotebookNode:
    """A code cell, written without outputs (surrounding blank lines dropped)."""
    return new_code_cell(text.strip())


def write(folder: Path, name: str, cells: list) -> Path:
    """Write notebook ``name`` into ``folder`` with a Python 3 kernel and stable cell ids."""
    for i, cell in enumerate(cells):
        cell.id = f"c{name[:2]}-{i:02d}"
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    path = folder / name
    nbformat.write(nb, path)
    return path
