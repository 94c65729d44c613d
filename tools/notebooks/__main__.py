"""Generate the six notebooks: ``.venv/bin/python -m tools.notebooks [--out FOLDER]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from tools.notebooks.build import build_all
from tools.notebooks.common import NOTEBOOKS

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=NOTEBOOKS, help="folder to write them to")
    for path in build_all(parser.parse_args().out):
        print(path)
