"""Regenerate the example data sets of SCHEMES.md part B, byte for byte.

Usage: ``python datasets/generate.py`` (every scheme) or ``python datasets/generate.py NAME ...``.
Each scheme's module in ``datasets/_gen/`` draws its tables from its own fixed seed; the
hand-written ``policy.yaml`` and ``README.md`` beside the CSV files are left alone.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _gen.common import write_tables  # noqa: E402

SCHEMES = ["logistics_cs", "gas_cs", "ecommerce_cs", "property_cs", "support_team",
           "call_centre", "ethics_diligence", "safety"]


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in SCHEMES]
    if unknown:
        print(f"unknown scheme(s): {', '.join(unknown)}; known: {', '.join(SCHEMES)}")
        return 2
    for name in argv or SCHEMES:
        module = importlib.import_module(f"_gen.{name}")
        tables = module.build()
        write_tables(tables, HERE / name)
        sizes = ", ".join(f"{t} {len(f)}" for t, f in tables.items())
        print(f"{name}: {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
