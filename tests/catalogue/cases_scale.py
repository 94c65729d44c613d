"""Scale without surprises: an input too large for the memory available is refused at once,
with the estimate and what to do, before anything is read or written."""

from __future__ import annotations

from pathlib import Path

from catalogue import Case, copy_example

NOTHING = ("out/results.csv", "out/report.xlsx")


def _command(kind: str, example: str = "grade_pay"):
    def setup(work: Path) -> list[str]:
        policy, data = copy_example(work, example)
        if kind == "validate":
            return ["validate", str(policy), "--data", str(data)]
        if kind == "file":
            return ["run", "--policy", str(policy), "--data", str(data / "records.csv"),
                    "--out", str(work / "out")]
        return [kind, "--policy", str(policy), "--data", str(data), "--out", str(work / "out")]
    return setup


SMALL = {"CALIB_AVAILABLE_MEMORY": "2000"}
SAYS = ("needs about", "available", "records.csv", "run it in parts")

CASES = [
    Case("scale-memory-run", _command("run"), env=SMALL, says=SAYS, absent=NOTHING),
    Case("scale-memory-validate", _command("validate"), env=SMALL, says=SAYS),
    Case("scale-memory-single-file", _command("file"), env=SMALL, says=SAYS, absent=NOTHING),
    Case("scale-memory-gas", _command("run", "gas_cs"), env={"CALIB_AVAILABLE_MEMORY": "1e6"},
         says=(*SAYS, "ratings.csv", "KB"), absent=NOTHING),
    Case("scale-memory-enough", _command("run"), env={"CALIB_AVAILABLE_MEMORY": "1e9"}, exit=0,
         says=("written to",)),
]
