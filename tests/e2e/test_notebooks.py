"""Every notebook runs headless, top to bottom, on more than one example scheme."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SCHEMES = ["ecommerce_cs", "ethics_diligence"]


def _with_scheme(nb: nbformat.NotebookNode, scheme: str) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("SCHEME = "):
            cell.source = f'SCHEME = "{scheme}"'
            return nb
    raise AssertionError("the notebook has no 'SCHEME = ...' cell to choose the scheme")


@pytest.mark.slow
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, scheme: str, tmp_path: Path, monkeypatch) -> None:
    """The notebook executes without error for the scheme chosen in its first cell."""
    monkeypatch.setenv("HOME", str(tmp_path))
    nb = _with_scheme(nbformat.read(path, as_version=4), scheme)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
