"""Outputs (issue 18, deliverable 6): runs appear whole with a manifest, into folders calib owns, and
no command writes over its own input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from calib._util.outputs import LOCK_MARK, OLD_MARK, TEMP_MARK, RunLock, file_facts, verify_run
from calib.cli import main
from catalogue import Case, Outcome, copy_example, replace_in

DEAD_PID = "999999"  # above the usual pid_max: no such process
_LOCKS: dict[Path, RunLock] = {}


def _run(policy: Path, data: Path, out: str = "out", *more: str) -> list[str]:
    return ["run", "--policy", str(policy), "--data", str(data), "--out", out, *more]


def _previous_run(work: Path) -> tuple[Path, Path]:
    """A good run into ``out`` first (what the case's command then meets)."""
    policy, data = copy_example(work, "grade_pay")
    assert main(_run(policy, data)) == 0
    return policy, data


def _whole(work: Path, outcome: Outcome) -> None:
    """work/out is a whole run (every file as its manifest says) and nothing of calib's is left beside it."""
    assert verify_run(work / "out") == [], verify_run(work / "out")
    left = [p.name for p in work.iterdir() if any(m in p.name for m in (TEMP_MARK, OLD_MARK, LOCK_MARK))]
    assert left == [], left


def _unchanged(*rel: str):
    """A check that the files are as setup left them (their bytes saved under work/.before)."""
    def check(work: Path, outcome: Outcome) -> None:
        for name in rel:
            assert (work / name).read_bytes() == (work / ".before" / name).read_bytes(), name
    return check


def _keep(work: Path, *rel: str) -> None:
    for name in rel:
        (work / ".before" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / name, work / ".before" / name)


# --- run --out ----------------------------------------------------------------------------------
def foreign_folder(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    (work / "out").mkdir()
    (work / "out" / "notes.txt").write_text("mine", encoding="utf-8")
    return _run(policy, data)


def out_is_a_file(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    (work / "out").write_text("a,b\n", encoding="utf-8")
    _keep(work, "out")
    return _run(policy, data)


def out_is_data_folder(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    _keep(work, "grade_pay/records.csv")
    return _run(policy, data, str(data))


def out_holds_policy(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    (work / "out").mkdir()
    moved = work / "out" / "grade_pay.yaml"
    policy.rename(moved)
    return _run(moved, data)


def out_holds_data(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    (work / "out").mkdir()
    data.rename(work / "out" / "grade_pay")
    return _run(policy, work / "out" / "grade_pay")


def out_is_working_folder(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    return _run(policy, data, ".")


def empty_folder(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    (work / "out").mkdir()
    return _run(policy, data)


def nested_new_folder(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    return _run(policy, data, "a/b/out")


def forged_manifest(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    (work / "out").mkdir()
    (work / "out" / "manifest.json").write_text('{"files": {}}', encoding="utf-8")
    return _run(policy, data)


def file_added_to_own_run(work: Path) -> list[str]:
    policy, data = _previous_run(work)
    (work / "out" / "my_notes.txt").write_text("keep", encoding="utf-8")
    _keep(work, "out/my_notes.txt", "out/results.csv")
    return _run(policy, data)


def results_edited_by_hand(work: Path) -> list[str]:
    policy, data = _previous_run(work)
    with (work / "out" / "results.csv").open("a", encoding="utf-8") as fh:
        fh.write("X9,2025-01,hand-added\n")
    _keep(work, "out/results.csv")
    return _run(policy, data)


def previous_replaced_whole(work: Path) -> list[str]:
    policy, data = _previous_run(work)
    out = work / "out"
    (out / "merit.csv").write_text("id,raise\nE1,100\n", encoding="utf-8")  # another policy's table
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["merit.csv"] = file_facts(out / "merit.csv")
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return _run(policy, data)


def previous_is_out(work: Path) -> list[str]:
    policy, data = _previous_run(work)
    return _run(policy, data, "out", "--previous", "out")


def _changes_listed(work: Path, outcome: Outcome) -> None:
    _whole(work, outcome)
    assert "changes.csv" in json.loads((work / "out" / "manifest.json").read_text())["files"]


def failed_run_replaces_previous(work: Path) -> list[str]:
    policy, data = _previous_run(work)
    replace_in(data / "records.csv", "L1,2025-01,95,31,false,false", "L1,2025-01,95,31,false,maybe")
    return _run(policy, data)


def _failed_manifest(work: Path, outcome: Outcome) -> None:
    out = work / "out"
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "problems.csv"]
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"
    _whole(work, outcome)


def failed_first_run(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    replace_in(data / "records.csv", "L1,2025-01,95,31,false,false", "L1,2025-01,95,31,false,maybe")
    return _run(policy, data)


def policy_error_keeps_previous(work: Path) -> list[str]:
    policy, data = _previous_run(work)
    _keep(work, "out/results.csv", "out/manifest.json")
    policy.write_text("name: [broken\n", encoding="utf-8")
    return _run(policy, data)


def stale_temp_folder(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    stale = work / f".out{TEMP_MARK}{DEAD_PID}"
    stale.mkdir()
    (stale / "results.csv").write_text("id,score\nE1,9", encoding="utf-8")  # cut by a kill
    return _run(policy, data)


def stale_old_folder(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    (work / f".out{OLD_MARK}{DEAD_PID}").mkdir()
    (work / f".out{OLD_MARK}{DEAD_PID}" / "results.csv").write_text("id\n", encoding="utf-8")
    return _run(policy, data)


def lock_held(work: Path) -> list[str]:
    policy, data = _previous_run(work)
    _keep(work, "out/results.csv")
    lock = RunLock(work / "out")
    lock.acquire()  # as a run in progress holds it; released by the check
    _LOCKS[work] = lock
    return _run(policy, data)


def _release_and_unchanged(work: Path, outcome: Outcome) -> None:
    _LOCKS.pop(work).release()
    _unchanged("out/results.csv")(work, outcome)


def stale_lock(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    (work / f".out{LOCK_MARK}").write_text(f"{DEAD_PID} since 2020-01-01T00:00:00Z\n")
    return _run(policy, data)


# --- single-file outputs: never over an input --------------------------------------------------
def freeze_over_policy(work: Path) -> list[str]:
    policy, _ = copy_example(work, "grade_pay")
    _keep(work, "grade_pay.yaml")
    return ["freeze", str(policy), "--out", str(policy)]


def freeze_into_data_file(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    _keep(work, "grade_pay/records.csv")
    return ["freeze", str(policy), "--data", str(data), "--out", str(data / "records.csv")]


def freeze_out_is_folder(work: Path) -> list[str]:
    policy, _ = copy_example(work, "grade_pay")
    (work / "frozen").mkdir()
    return ["freeze", str(policy), "--out", "frozen"]


def signoff_over_data_workbook(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    with pd.ExcelWriter(work / "book.xlsx") as writer:
        for table in ("people", "records"):
            pd.read_csv(data / f"{table}.csv", dtype=str).to_excel(writer, sheet_name=table, index=False)
    _keep(work, "book.xlsx")
    return ["signoff", "--policy", str(policy), "--data", "book.xlsx", "--out", "book.xlsx"]


def explain_over_policy(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    _keep(work, "grade_pay.yaml")
    return ["explain", "--policy", str(policy), "--data", str(data), "--id", "E1",
            "--period", "2025-01", "--out", str(policy)]


def explain_into_missing_folder(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    return ["explain", "--policy", str(policy), "--data", str(data), "--id", "E1",
            "--period", "2025-01", "--out", "nowhere/e1.xlsx"]


def diff_over_new_policy(work: Path) -> list[str]:
    policy, _ = copy_example(work, "grade_pay")
    shutil.copy(policy, work / "new.yaml")
    _keep(work, "new.yaml")
    return ["diff", str(policy), "new.yaml", "--out", "new.yaml"]


def template_over_policy(work: Path) -> list[str]:
    policy, _ = copy_example(work, "grade_pay")
    _keep(work, "grade_pay.yaml")
    return ["template", "--policy", str(policy), "--out", str(policy)]


def validate_problems_over_data(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    replace_in(data / "records.csv", "L1,2025-01,95,31,false,false", "L1,2025-01,95,31,false,maybe")
    _keep(work, "grade_pay/records.csv")
    return ["validate", str(policy), "--data", str(data), "--problems", str(data / "records.csv")]


def validate_problems_over_policy(work: Path) -> list[str]:
    policy, data = copy_example(work, "grade_pay")
    _keep(work, "grade_pay.yaml")
    return ["validate", str(policy), "--data", str(data), "--problems", str(policy)]


def schema_out_is_folder(work: Path) -> list[str]:
    (work / "schemas").mkdir()
    return ["schema", "--out", "schemas"]


def freeze_replaces_own_output(work: Path) -> list[str]:
    policy, _ = copy_example(work, "grade_pay")
    (work / "frozen.json").write_text("old", encoding="utf-8")
    return ["freeze", str(policy), "--out", "frozen.json"]


def _frozen_whole(work: Path, outcome: Outcome) -> None:
    assert json.loads((work / "frozen.json").read_text(encoding="utf-8"))["sha256"]
    assert [p.name for p in work.iterdir() if TEMP_MARK in p.name] == []


FIX_OUT = "new or empty folder"
CASES: list[Case] = [
    Case("outputs-foreign-folder", foreign_folder, 1,
         ("--out out", "notes.txt", "did not write", FIX_OUT), ("out/results.csv", "out/manifest.json")),
    Case("outputs-out-is-a-file", out_is_a_file, 1, ("--out out is a file", "give a folder"),
         check=_unchanged("out")),
    Case("outputs-out-is-data-folder", out_is_data_folder, 1,
         ("is the same as --data", "would delete your input", "give --out a new folder"),
         ("grade_pay/results.csv",), _unchanged("grade_pay/records.csv")),
    Case("outputs-out-holds-policy", out_holds_policy, 1,
         ("--policy", "is inside --out out", "move it out of out"), ("out/results.csv",)),
    Case("outputs-out-holds-data", out_holds_data, 1,
         ("--data", "is inside --out out", "would delete your input"), ("out/results.csv",)),
    Case("outputs-out-is-working-folder", out_is_working_folder, 1,
         ("--out . is the folder you are working in", "--out results"), ("results.csv", "manifest.json")),
    Case("outputs-empty-folder-used", empty_folder, 0, ("written to out",), check=_whole),
    Case("outputs-nested-new-folder", nested_new_folder, 0, ("written to a/b/out",),
         check=lambda work, outcome: _whole(work / "a/b", outcome)),
    Case("outputs-forged-manifest", forged_manifest, 1, ("manifest.json", "did not write", FIX_OUT),
         ("out/results.csv",)),
    Case("outputs-file-added-to-own-run", file_added_to_own_run, 1,
         ("my_notes.txt", "will not delete them", "move those files away"),
         check=_unchanged("out/my_notes.txt", "out/results.csv")),
    Case("outputs-results-edited-by-hand", results_edited_by_hand, 1,
         ("results.csv", "did not write", "move those files away"), check=_unchanged("out/results.csv")),
    Case("outputs-previous-replaced-whole", previous_replaced_whole, 0, ("written to out",),
         ("out/merit.csv",), _whole),
    Case("outputs-previous-is-out", previous_is_out, 0, ("compared with out", "out/changes.csv"),
         check=_changes_listed),
    Case("outputs-failed-run-replaces-previous", failed_run_replaces_previous, 1,
         ("records", "out/problems.csv", "no results were written"),
         ("out/results.csv", "out/report.xlsx", "out/grades.csv"), _failed_manifest),
    Case("outputs-failed-first-run", failed_first_run, 1, ("out/problems.csv", "holds only the problems"),
         ("out/results.csv",), _failed_manifest),
    Case("outputs-policy-error-keeps-previous", policy_error_keeps_previous, 1, ("grade_pay.yaml",),
         check=_unchanged("out/results.csv", "out/manifest.json")),
    Case("outputs-stale-temp-cleaned", stale_temp_folder, 0, ("written to out",),
         (f".out{TEMP_MARK}{DEAD_PID}",), _whole),
    Case("outputs-stale-old-cleaned", stale_old_folder, 0, ("written to out",),
         (f".out{OLD_MARK}{DEAD_PID}",), _whole),
    Case("outputs-lock-held", lock_held, 1,
         ("another calib run is writing to out", "wait for it to finish", "another --out folder"),
         check=_release_and_unchanged),
    Case("outputs-stale-lock", stale_lock, 0, ("written to out",), (f".out{LOCK_MARK}",), _whole),
    Case("outputs-freeze-over-policy", freeze_over_policy, 1,
         ("grade_pay.yaml is the same file as policy", "another file name"),
         check=_unchanged("grade_pay.yaml")),
    Case("outputs-freeze-into-data-file", freeze_into_data_file, 1,
         ("records.csv is a file inside the data folder", "outside that folder"),
         check=_unchanged("grade_pay/records.csv")),
    Case("outputs-freeze-out-is-folder", freeze_out_is_folder, 1, ("frozen is a folder", "name of the file")),
    Case("outputs-freeze-replaces-own-output", freeze_replaces_own_output, 0, ("frozen",),
         check=_frozen_whole),
    Case("outputs-signoff-over-data-workbook", signoff_over_data_workbook, 1,
         ("--out book.xlsx is the same file as --data book.xlsx", "another file name"),
         check=_unchanged("book.xlsx")),
    Case("outputs-explain-over-policy", explain_over_policy, 1,
         ("is the same file as --policy", "another file name"), check=_unchanged("grade_pay.yaml")),
    Case("outputs-explain-into-missing-folder", explain_into_missing_folder, 1,
         ("nowhere/e1.xlsx", "folder nowhere does not exist", "create it")),
    Case("outputs-diff-over-new-policy", diff_over_new_policy, 1,
         ("--out new.yaml is the same file as new new.yaml", "another file name"),
         check=_unchanged("new.yaml")),
    Case("outputs-template-over-policy", template_over_policy, 1,
         ("is the same file as --policy", "another file name"), check=_unchanged("grade_pay.yaml")),
    Case("outputs-validate-problems-over-data", validate_problems_over_data, 1,
         ("--problems", "records.csv is a file inside the data folder", "outside that folder"),
         check=_unchanged("grade_pay/records.csv")),
    Case("outputs-validate-problems-over-policy", validate_problems_over_policy, 1,
         ("--problems", "is the same file as policy"), check=_unchanged("grade_pay.yaml")),
    Case("outputs-schema-out-is-folder", schema_out_is_folder, 1, ("schemas is a folder",)),
]
