"""Outputs are atomic and owned (issue 18, deliverable 6): whole or not at all, never over others' files."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from calib._util import outputs
from calib._util.outputs import RunLock, atomic_path, verify_run
from calib.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "fixtures"
DATASETS = ROOT / "datasets"


@pytest.fixture
def example(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the grade_pay policy and data in tmp_path."""
    shutil.copy(DATA / "grade_pay.yaml", tmp_path / "grade_pay.yaml")
    shutil.copytree(DATA / "grade_pay", tmp_path / "grade_pay")
    return tmp_path / "grade_pay.yaml", tmp_path / "grade_pay"


def run(policy: Path, data: Path, out: Path, *more: str) -> int:
    """calib run in-process; returns the exit code."""
    return main(["run", "--policy", str(policy), "--data", str(data), "--out", str(out), *more])


def leftovers(parent: Path) -> list[str]:
    """Temporary, renamed-away and lock entries calib left in ``parent``."""
    marks = (outputs.TEMP_MARK, outputs.OLD_MARK, outputs.LOCK_MARK)
    return sorted(p.name for p in parent.iterdir() if any(m in p.name for m in marks))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a folder and its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


class TestRunFolder:
    def test_manifest_lists_every_file_with_hashes(self, example, tmp_path) -> None:
        """manifest.json is written last and lists every file (size, sha256), the policy and data hashes."""
        from calib.data.read import load_data
        from calib.policy import load_policy
        from calib.policy.hashing import policy_sha256

        policy, data = example
        out = tmp_path / "out"
        assert run(policy, data, out) == 0
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["status"] == "complete"
        assert set(manifest["files"]) == {p.name for p in out.iterdir()} - {"manifest.json"}
        assert "results.csv" in manifest["files"] and "report.xlsx" in manifest["files"]
        loaded = load_policy(policy)
        assert manifest["policy"]["sha256"] == policy_sha256(loaded)
        assert manifest["data"]["fingerprint"] == load_data(data, loaded).fingerprint()
        assert manifest["command"][:2] == ["calib", "run"]
        assert manifest["started"] <= manifest["finished"]
        assert verify_run(out) == []
        assert leftovers(tmp_path) == []

    def test_previous_run_replaced_whole(self, example, tmp_path) -> None:
        """Files of an earlier run that this run does not write (another policy's table) are gone."""
        policy, data = example
        out = tmp_path / "out"
        assert run(policy, data, out) == 0
        (out / "merit.csv").write_text("old,table\n", encoding="utf-8")  # as another policy wrote it
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        manifest["files"]["merit.csv"] = outputs.file_facts(out / "merit.csv")
        (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        assert run(policy, data, out) == 0
        assert not (out / "merit.csv").exists()
        assert verify_run(out) == [] and leftovers(tmp_path) == []

    def test_foreign_folder_refused(self, example, tmp_path, capsys) -> None:
        """A folder with a file calib did not write is refused and left as it was."""
        policy, data = example
        out = tmp_path / "out"
        out.mkdir()
        (out / "notes.docx").write_text("mine", encoding="utf-8")
        assert run(policy, data, out) == 1
        err = capsys.readouterr().err
        assert "holds files calib did not write (notes.docx)" in err and "new or empty folder" in err
        assert snapshot(out) == {"notes.docx": b"mine"}
        assert leftovers(tmp_path) == []

    def test_file_added_to_own_run_refused(self, example, tmp_path, capsys) -> None:
        """A file put into calib's previous run is not deleted by the next run."""
        policy, data = example
        out = tmp_path / "out"
        assert run(policy, data, out) == 0
        (out / "my_notes.txt").write_text("keep", encoding="utf-8")
        assert run(policy, data, out) == 1
        assert "my_notes.txt" in capsys.readouterr().err
        assert (out / "my_notes.txt").read_text(encoding="utf-8") == "keep"

    def test_empty_folder_accepted(self, example, tmp_path) -> None:
        """An empty folder is used."""
        policy, data = example
        out = tmp_path / "out"
        out.mkdir()
        assert run(policy, data, out) == 0
        assert verify_run(out) == []

    def test_out_is_a_file_refused(self, example, tmp_path, capsys) -> None:
        """--out naming a file is refused; the file is untouched."""
        policy, data = example
        out = tmp_path / "out.csv"
        out.write_text("a,b\n", encoding="utf-8")
        assert run(policy, data, out) == 1
        assert "is a file, not a folder" in capsys.readouterr().err
        assert out.read_text(encoding="utf-8") == "a,b\n"

    def test_out_is_the_data_folder_refused(self, example, capsys) -> None:
        """--out = --data would replace the data: refused, naming both."""
        policy, data = example
        before = snapshot(data)
        assert run(policy, data, data) == 1
        err = capsys.readouterr().err
        assert f"--out {data} is the same as --data {data}" in err
        assert snapshot(data) == before

    def test_previous_is_out(self, example, tmp_path, capsys) -> None:
        """--previous may be the --out folder: it is read before the folder is replaced."""
        policy, data = example
        out = tmp_path / "out"
        assert run(policy, data, out) == 0
        assert run(policy, data, out, "--previous", str(out)) == 0
        assert "compared with" in capsys.readouterr().out
        assert "changes.csv" in json.loads((out / "manifest.json").read_text())["files"]
        assert verify_run(out) == []


class TestFailedRun:
    def test_failed_run_leaves_only_problems(self, example, tmp_path, capsys) -> None:
        """A DataError replaces the previous results with problems.csv and a manifest saying it failed."""
        policy, data = example
        out = tmp_path / "out"
        assert run(policy, data, out) == 0
        people = data / "people.csv"
        people.write_text(people.read_text(encoding="utf-8") + "\n,,,\n", encoding="utf-8")
        records = data / "records.csv"
        text = records.read_text(encoding="utf-8").splitlines()
        cells = text[1].split(",")
        cells[-1] = "abc"
        records.write_text("\n".join([text[0], ",".join(cells), *text[2:]]) + "\n", encoding="utf-8")
        assert run(policy, data, out) == 1
        assert "holds only the problems" in capsys.readouterr().err
        assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "problems.csv"]
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["status"] == "failed" and manifest["data"]["fingerprint"] is None
        assert verify_run(out) == [] and leftovers(tmp_path) == []
        shutil.copytree(DATA / "grade_pay", data, dirs_exist_ok=True)
        assert run(policy, data, out) == 0  # the failed run's folder is calib's: replaced
        assert not (out / "problems.csv").exists()

    def test_policy_error_writes_nothing(self, example, tmp_path) -> None:
        """A policy that cannot be read stops the run before --out is touched."""
        policy, data = example
        out = tmp_path / "out"
        assert run(policy, data, out) == 0
        before = snapshot(out)
        policy.write_text("name: [broken\n", encoding="utf-8")
        assert run(policy, data, out) == 1
        assert snapshot(out) == before


class TestConcurrent:
    def test_second_run_refused_while_lock_held(self, example, tmp_path, capsys) -> None:
        """While one run holds the lock, another into the same folder is refused; the first is unharmed."""
        policy, data = example
        out = tmp_path / "out"
        lock = RunLock(out)
        lock.acquire()
        try:
            assert run(policy, data, out) == 1
        finally:
            lock.release()
        err = capsys.readouterr().err
        assert f"another calib run is writing to {out} (process {os.getpid()}" in err
        assert not out.exists()
        assert run(policy, data, out) == 0  # released: the next run goes ahead

    def test_second_process_refused(self, example, tmp_path) -> None:
        """A real second process is refused while this one holds the lock."""
        policy, data = example
        out = tmp_path / "out"
        lock = RunLock(out)
        lock.acquire()
        try:
            proc = subprocess.run([sys.executable, "-m", "calib.cli", "run", "--policy", str(policy),
                                   "--data", str(data), "--out", str(out)],
                                  capture_output=True, text=True, cwd=ROOT, timeout=120)
        finally:
            lock.release()
        assert proc.returncode == 1
        assert "another calib run is writing to" in proc.stderr

    def test_stale_lock_file_of_dead_process(self, example, tmp_path) -> None:
        """A lock file left by a dead process holds no lock: the run goes ahead and removes it."""
        policy, data = example
        out = tmp_path / "out"
        (tmp_path / f".out{outputs.LOCK_MARK}").write_text("999999 since 2020-01-01\n")
        assert run(policy, data, out) == 0
        assert leftovers(tmp_path) == []


class TestKilled:
    def _run_killed(self, policy: Path, data: Path, out: Path, point: str) -> subprocess.Popen:
        """Run calib in a process that SIGKILLs itself at ``point`` (the tests-only hook)."""
        env = dict(os.environ, **{outputs.KILL_HOOK: point})
        proc = subprocess.Popen([sys.executable, "-m", "calib.cli", "run", "--policy", str(policy),
                                 "--data", str(data), "--out", str(out)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc.wait(timeout=300)
        return proc

    def test_killed_mid_write_keeps_previous_run(self, tmp_path) -> None:
        """SIGKILL after results.csv of a gas_cs run: the previous run is whole, the rest is a temp folder."""
        data = tmp_path / "gas_cs"
        shutil.copytree(DATASETS / "gas_cs", data)
        policy, out = data / "policy.yaml", tmp_path / "out"
        assert run(policy, data, out) == 0
        before = snapshot(out)
        proc = self._run_killed(policy, data, out, "after:results.csv")
        assert proc.returncode == -signal.SIGKILL
        assert snapshot(out) == before and verify_run(out) == []
        temps = [p.name for p in tmp_path.iterdir() if outputs.TEMP_MARK in p.name]
        assert temps == [f".out{outputs.TEMP_MARK}{proc.pid}"]  # a hidden name, not results
        assert run(policy, data, out) == 0  # the next run removes the dead run's temp folder
        assert leftovers(tmp_path) == []

    @pytest.mark.parametrize("delay", [0.8, 2.5])
    def test_killed_from_outside(self, tmp_path, delay) -> None:
        """A real SIGKILL from outside at an arbitrary moment: --out is a whole run (the old or the
        new one, each matching its manifest) or, in the instant of the swap, absent; never mixed."""
        import time

        data = tmp_path / "gas_cs"
        shutil.copytree(DATASETS / "gas_cs", data)
        policy, out = data / "policy.yaml", tmp_path / "out"
        assert run(policy, data, out) == 0
        proc = subprocess.Popen([sys.executable, "-m", "calib.cli", "run", "--policy", str(policy),
                                 "--data", str(data), "--out", str(out)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert not out.exists() or verify_run(out) == []
        assert run(policy, data, out) == 0
        assert verify_run(out) == [] and leftovers(tmp_path) == []

    def test_killed_between_renames(self, example, tmp_path) -> None:
        """SIGKILL between moving the old run away and the new one in: no folder looks like results;
        the next run cleans up both hidden folders."""
        policy, data = example
        out = tmp_path / "out"
        assert run(policy, data, out) == 0
        proc = self._run_killed(policy, data, out, "between:renames")
        assert proc.returncode == -signal.SIGKILL
        assert not out.exists()
        assert all(p.name.startswith(".out.calib-") for p in tmp_path.iterdir() if "out" in p.name)
        assert run(policy, data, out) == 0
        assert verify_run(out) == [] and leftovers(tmp_path) == []

    def test_killed_first_run_leaves_no_results(self, example, tmp_path) -> None:
        """A first run killed before its manifest leaves no --out folder at all."""
        policy, data = example
        out = tmp_path / "out"
        proc = self._run_killed(policy, data, out, "before:swap")
        assert proc.returncode == -signal.SIGKILL
        assert not out.exists()


class TestDiskFull:
    def test_disk_full_names_file_and_keeps_previous(self, example, tmp_path, capsys, monkeypatch) -> None:
        """ENOSPC while writing scores.csv: the message names it; the previous run stays, no temp left."""
        policy, data = example
        out = tmp_path / "out"
        assert run(policy, data, out) == 0
        before = snapshot(out)
        import calib._util.xlsx

        real = calib._util.xlsx.write_csv

        def full(frame, path, *args, **kwargs):
            if Path(path).name == "scores.csv":
                Path(path).write_text("id,per", encoding="utf-8")  # cut mid-line
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            return real(frame, path, *args, **kwargs)

        monkeypatch.setattr(calib._util.xlsx, "write_csv", full)  # every CSV of a run is written by it
        assert run(policy, data, out) == 1
        err = capsys.readouterr().err
        assert f"could not write {out / 'scores.csv'}: the disk is full" in err
        assert "free some disk space" in err.lower()
        assert snapshot(out) == before
        assert leftovers(tmp_path) == []

    def test_disk_full_single_file(self, example, tmp_path, capsys, monkeypatch) -> None:
        """ENOSPC while freezing: the old frozen file stays whole and no temp file is left."""
        policy, _ = example
        frozen = tmp_path / "frozen.json"
        assert main(["freeze", str(policy), "--out", str(frozen)]) == 0
        before = frozen.read_bytes()
        real = Path.write_text

        def full(self, *args, **kwargs):
            if outputs.TEMP_MARK in self.name:
                real(self, "{\"trunc", encoding="utf-8")
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(self, *args, **kwargs)

        monkeypatch.setattr(Path, "write_text", full)
        assert main(["freeze", str(policy), "--out", str(frozen)]) == 1
        assert f"could not write {frozen}: the disk is full" in capsys.readouterr().err
        assert frozen.read_bytes() == before
        assert leftovers(tmp_path) == []


class TestOwnInput:
    @pytest.mark.parametrize("argv, says", [
        (["freeze", "{policy}", "--out", "{policy}"], "--out {policy} is the same file as policy"),
        (["signoff", "--policy", "{policy}", "--data", "{data}", "--out", "{data}/people.xlsx"],
         "inside the data folder"),
        (["explain", "--policy", "{policy}", "--data", "{data}", "--id", "E01", "--period", "2025-01",
          "--out", "{policy}"], "is the same file as --policy"),
        (["diff", "{policy}", "{policy}", "--out", "{policy}"], "is the same file as old"),
        (["template", "--policy", "{policy}", "--out", "{policy}"], "is the same file as --policy"),
        (["validate", "{policy}", "--data", "{data}", "--problems", "{data}/records.csv"],
         "inside the data folder"),
        (["run", "--policy", "{policy}", "--data", "{data}", "--out", "{data}"], "is the same as --data"),
    ])
    def test_refused(self, example, argv, says, capsys) -> None:
        """No command writes over its own input: exit 1, naming both; the input is unchanged."""
        policy, data = example
        if "people.xlsx" in " ".join(argv):
            pd.read_csv(data / "people.csv").to_excel(data / "people.xlsx", index=False)
        before = {p: p.read_bytes() for p in [policy, *data.iterdir()]}
        fill = {"policy": str(policy), "data": str(data)}
        assert main([a.format(**fill) for a in argv]) == 1
        assert says.format(**fill) in capsys.readouterr().err
        assert {p: p.read_bytes() for p in [policy, *data.iterdir()]} == before


class TestAtomicPath:
    def test_error_keeps_old_file(self, tmp_path) -> None:
        """An error inside the block leaves the target as it was and no temporary file."""
        target = tmp_path / "a.xlsx"
        target.write_bytes(b"old")
        with pytest.raises(RuntimeError), atomic_path(target) as temp:
            assert temp.suffix == ".xlsx" and temp.parent == tmp_path
            temp.write_bytes(b"half")
            raise RuntimeError("boom")
        assert target.read_bytes() == b"old"
        assert [p.name for p in tmp_path.iterdir()] == ["a.xlsx"]

    def test_folder_target_refused(self, tmp_path) -> None:
        """A folder is not a file name."""
        with pytest.raises(outputs.OutputError, match="is a folder"), atomic_path(tmp_path):
            pass
