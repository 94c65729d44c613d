"""Benchmark: ``calib validate`` and ``calib run`` on large CSV inputs (up to ~1 GB), peak memory per byte.

Writes the scheme of ``cli_run.py`` (10 KPIs, forced distribution, pay) with ``people.csv`` and
``records.csv`` of about ``--mb`` megabytes of records each (about 93 bytes per person-month), built
in chunks of 1,000,008 person-months so that a 1 GB file is written without holding it in memory.
Each size is run once per command, in a fresh process under ``/usr/bin/time -v``: the exit code,
the wall time, the peak resident memory and the peak per byte of input files (what
``calib.data.footprint.BYTES_PER_FILE_BYTE`` estimates) are printed as a markdown table, with the last
line calib printed (the refusal message when it refused).

``--shape gas_cs`` copies ``datasets/gas_cs`` instead (people, records and ratings; about 55 bytes
a row, each copy its own ids and teams).

Usage: ``.venv/bin/python benchmarks/scale_input.py [--mb 50,250,1000] [--shape bench|gas_cs]
[--work /tmp/calib-scale] [--commands validate,run] [--keep]``. A 1 GB input takes about 2 minutes
to write (seconds for gas_cs) and 7 minutes and 14–17 GB to run: one such run at a time on a
shared machine.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cli_run import write_policy  # noqa: E402
from data import MONTHS, make_data  # noqa: E402
from grading_pay import TEAMS  # noqa: E402

CHUNK = 1_000_008  # person-months per chunk: 83,334 people × 12 months
BYTES_PER_ROW = 93.4  # records.csv bytes per person-month, measured on the chunk above


def write_inputs(folder: Path, size: int) -> Path:
    """The policy and a data folder of ``size`` person-months written chunk by chunk."""
    policy = write_policy(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    people_path, records_path = folder / "data" / "people.csv", folder / "data" / "records.csv"
    done = 0
    with people_path.open("w", encoding="utf-8", newline="") as people_out, \
            records_path.open("w", encoding="utf-8", newline="") as records_out:
        for chunk, start in enumerate(range(0, size, CHUNK)):
            tables = make_data(min(CHUNK, size - start), seed=20250301 + chunk)
            people, records = tables["people"], tables["records"]
            offset = done // MONTHS
            ids = np.char.add("E", np.char.zfill((np.arange(len(people)) + offset + 1).astype(str), 8))
            people["employee_id"] = ids.astype(object)
            records["employee_id"] = np.repeat(ids, MONTHS).astype(object)
            people["team"] = [f"T{(i + offset) % TEAMS:04d}" for i in range(len(people))]
            people.to_csv(people_out, index=False, header=chunk == 0)
            records.to_csv(records_out, index=False, header=chunk == 0)
            done += len(records)
    return policy


def write_gas_cs(folder: Path, mb: float) -> Path:
    """The gas_cs dataset (datasets/gas_cs) copied until records.csv is about ``mb`` MB: each copy's
    ids (``GS0001`` → ``G000070001``) and team names are its own, so teams and supervisors keep
    their size; returns the policy file.
    """
    source = HERE.parent / "datasets" / "gas_cs"
    (folder / "data").mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "policy.yaml", folder / "policy.yaml")
    records = (source / "records.csv").read_bytes()
    copies = max(1, round(mb * 1e6 / len(records)))
    for name in ("people.csv", "records.csv", "ratings.csv"):
        header, _, body = (source / name).read_bytes().partition(b"\n")
        if name == "people.csv":  # the team (third field) of each copy is its own
            lines = [line.split(b",") for line in body.strip().split(b"\n")]
            body = b"\n".join(b",".join([*f[:2], f[2] + b"#K#", *f[3:]]) for f in lines) + b"\n"
        with (folder / "data" / name).open("wb") as out:
            out.write(header + b"\n")
            for k in range(copies):
                out.write(body.replace(b"GS", b"G%05d" % k).replace(b"#K#", b"%d" % k))
    return folder / "policy.yaml"


def measure(command: str, policy: Path, data: Path, out: Path) -> dict:
    """One ``calib validate`` or ``calib run`` under ``/usr/bin/time -v``: exit code, wall, peak."""
    args = (["validate", str(policy), "--data", str(data)] if command == "validate" else
            ["run", "--policy", str(policy), "--data", str(data), "--out", str(out)])
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "calib.cli", *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    said = [line for line in (proc.stdout + proc.stderr).splitlines()
            if line.strip() and not line.startswith("\t") and "Command being timed" not in line]
    traceback = "Traceback (most recent call last)" in proc.stderr
    return {"rc": proc.returncode, "wall": wall, "peak": int(found.group(1)) * 1024 if found else 0,
            "said": said[-1].strip() if said else "", "traceback": traceback}


def main() -> None:
    """Write each size, run the commands, print one markdown row per size and command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", default="50,250,1000", help="sizes of records.csv in MB (1e6 bytes)")
    parser.add_argument("--work", default="/tmp/calib-scale")
    parser.add_argument("--commands", default="validate,run")
    parser.add_argument("--keep", action="store_true", help="keep the inputs and outputs")
    parser.add_argument("--shape", choices=("bench", "gas_cs"), default="bench",
                        help="bench: the 10-KPI scheme of cli_run.py; gas_cs: copies of datasets/gas_cs")
    args = parser.parse_args()
    print("| records.csv + people.csv (MB) | person-months | command | wall (s) | peak RSS (MB) | "
          "peak / input byte | outcome |")
    print("|---|---|---|---|---|---|---|")
    for mb in (float(m) for m in args.mb.split(",")):
        size = max(MONTHS, int(mb * 1e6 / BYTES_PER_ROW) // MONTHS * MONTHS)
        work = Path(args.work) / f"{mb:g}mb"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            t0 = time.perf_counter()
            policy = write_inputs(work, size) if args.shape == "bench" else write_gas_cs(work, mb)
            files = sum(p.stat().st_size for p in (work / "data").iterdir())
            with (work / "data" / "records.csv").open("rb") as records:
                size = sum(block.count(b"\n") for block in iter(lambda: records.read(1 << 24), b"")) - 1
            print(f"<!-- {size:,} person-months written in {time.perf_counter() - t0:.0f} s -->",
                  flush=True)
            for command in args.commands.split(","):
                got = measure(command, policy, work / "data", work / "out")
                outcome = ("ok" if got["rc"] == 0 else f"exit {got['rc']}") + \
                    (", TRACEBACK" if got["traceback"] else "") + f": {got['said'][:160]}"
                print(f"| {files / 1e6:,.0f} | {size:,} | {command} | {got['wall']:.1f} | "
                      f"{got['peak'] / 2**20:,.0f} | {got['peak'] / files:.1f} | {outcome} |", flush=True)
                shutil.rmtree(work / "out", ignore_errors=True)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
