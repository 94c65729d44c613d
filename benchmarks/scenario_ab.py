"""Paired A/B of a slider's latency: this tree's calib against another commit's, in turn.

Kept for its command line; the harness is ``ab.py`` (run as a script, this folder is first on
the path), which also measures the full run (``--bench run``) and the Monte Carlo
(``--bench simulate``)::

    .venv/bin/python benchmarks/scenario_ab.py HEAD~3
    .venv/bin/python benchmarks/scenario_ab.py a147f82 --people 10000 --change "grade ratios"
"""

from __future__ import annotations

from ab import main

if __name__ == "__main__":
    main()
