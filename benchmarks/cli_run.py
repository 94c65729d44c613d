"""Benchmark: the whole ``calib run`` from files, as HR runs it: results.csv and report.xlsx.

Writes the grading-and-pay scheme of ``grading_pay.py`` (10 KPIs, forced distribution in 2,000
teams, grade coefficients, a pool to the cent) and ``people``/``records`` CSV files of ``--size``
person-months (default 1,000,008: 83,334 people × 12 months) into a folder, then runs
``calib run`` in a fresh process under ``/usr/bin/time -v`` and prints the wall time, the peak
resident memory and the size of each output. The target (issue 18, deliverable 7): 1,000,000
person-months to results.csv and report.xlsx in under 60 s and 3 GB on the 2-core machine.

Usage: ``.venv/bin/python benchmarks/cli_run.py [--size N] [--work DIR] [--keep]``
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from data import make_data  # noqa: E402
from grading_pay import GRADING, PAY, TEAMS, _pool_says_how_it_meets_the_groups  # noqa: E402


def write_policy(folder: Path) -> Path:
    """The 10-KPI scheme with grading and pay, written to ``folder/policy.yaml``."""
    data = yaml.safe_load((HERE / "policy_10kpi.yaml").read_text(encoding="utf-8"))
    data["name"] = "bench_grade_pay"
    data["inputs"]["people"]["columns"]["team"] = {"type": "text"}
    data["grading"], data["pay"] = GRADING, _pool_says_how_it_meets_the_groups(PAY)
    policy = folder / "policy.yaml"
    policy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return policy


def write_inputs(folder: Path, size: int) -> Path:
    """The policy and the data folder for ``size`` person-months; returns the policy file."""
    policy = write_policy(folder)
    tables = make_data(size)
    people = tables["people"]
    people["team"] = [f"T{i % TEAMS:04d}" for i in range(len(people))]
    (folder / "data").mkdir(exist_ok=True)
    people.to_csv(folder / "data" / "people.csv", index=False)
    tables["records"].to_csv(folder / "data" / "records.csv", index=False)
    return policy


def measure(policy: Path, data: Path, out: Path) -> dict[str, float]:
    """Run ``calib run`` once under ``/usr/bin/time -v``: wall seconds and peak RSS in MB."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "calib.cli", "run", "--policy", str(policy),
           "--data", str(data), "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"calib run failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    def field(name: str) -> float:
        found = re.search(rf"{name}: ([\d.]+)", proc.stderr)
        return float(found.group(1)) if found else float("nan")

    return {"wall": wall, "peak_mb": field(r"Maximum resident set size \(kbytes\)") / 1024,
            "cpu": field(r"User time \(seconds\)") + field(r"System time \(seconds\)")}


def main() -> None:
    """Build the inputs, run once, print the figures as a markdown row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_008)
    parser.add_argument("--work", help="folder for inputs and outputs (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="calib-cli-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        policy = write_inputs(work, args.size)
        print(f"inputs written in {time.perf_counter() - t0:.1f} s to {work}")
        out = work / "out"
        figures = measure(policy, work / "data", out)
        sizes = {p.name: p.stat().st_size / 1e6 for p in sorted(out.iterdir()) if p.is_file()}
        print("| person-months | wall (s) | CPU user+sys (s) | peak RSS (MB) | results.csv (MB) | "
              "report.xlsx (MB) |")
        print(f"| {args.size:,} | {figures['wall']:.1f} | {figures['cpu']:.1f} | {figures['peak_mb']:,.0f} | "
              f"{sizes.get('results.csv', 0):.0f} | {sizes.get('report.xlsx', 0):.0f} |")
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
