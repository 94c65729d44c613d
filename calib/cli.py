"""Command line: ``validate``, ``run``, ``freeze``, ``explain``, ``diff``, ``template``, ``signoff``,
``params``, ``schema``.

Exit codes (a contract): 0 ok, 1 bad input (a message says what and where), 2 usage.
Messages are written for an HR officer: what is wrong, where, and what to do.

Outputs (calib._util.outputs): ``run`` writes its folder aside and moves it in whole with manifest.json
last; a failed run (bad data) leaves ``--out`` holding only problems.csv and a manifest with status
"failed". Single files are written to a temporary file and moved in. No command writes over one of
its inputs, into a folder holding files calib did not write, or beside a run in progress.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from calib.errors import CalibError, DataError

if TYPE_CHECKING:
    import pandas as pd

    from calib._util.outputs import RunFolder
    from calib.engine.result import Result
    from calib.policy.model import Policy


def _version() -> str:
    """The version of calib, without importing its engine (``--help`` stays quick)."""
    from calib._util.version import __version__

    return __version__


_TEXT_SUFFIXES = {".html": "html", ".htm": "html", ".json": "json", ".xlsx": "xlsx", ".txt": "text",
                  ".md": "text", "": "text"}
"""The statement formats a file name's extension picks; any other extension is refused."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calib", description="Run and check performance and bonus schemes.")
    parser.add_argument("--version", action="version", version=f"calib {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check a policy (and, with --data, the data against it)")
    v.add_argument("policy", help="policy file (.yaml or .json)")
    v.add_argument("--data", help="data folder or file to check against the policy")
    v.add_argument("--problems", help="write the data problems table to this CSV file")
    r = sub.add_parser("run", help="score a data set with a policy and write the results")
    r.add_argument("--policy", required=True, help="policy file (.yaml or .json)")
    r.add_argument("--data", required=True, help="data folder, workbook or file")
    r.add_argument("--out", required=True, help="folder for results.csv and the stage tables")
    r.add_argument("--previous", help="a previous run's --out folder (or its results.csv): write "
                                      "changes.csv with the rows that changed and why (appeals)")
    r.add_argument("--overrides", help="a calibration session's overrides (CSV or workbook: id, "
                                       "period, field, value, reason, note, by, at), applied after "
                                       "grading; writes overrides.csv and quota_breaches.csv")
    d = sub.add_parser("diff", help="what changed between two policies and, with --data, who moves "
                                    "grade and what it costs")
    d.add_argument("old", help="the current policy file")
    d.add_argument("new", help="the changed policy file")
    d.add_argument("--data", help="data folder or file to measure the change on")
    d.add_argument("--by", help="group the impact by this people column (default: the quota group)")
    d.add_argument("--out", help="write the changes (and, with --data, the impact) to this .xlsx")
    f = sub.add_parser("freeze", help="write the frozen (hashed, canonical JSON) policy file")
    f.add_argument("policy", help="policy file (.yaml, .json, or a frozen file to re-freeze)")
    f.add_argument("--out", required=True, help="the frozen file to write (.json)")
    f.add_argument("--data", help="data it was calibrated on: its hash and figures go in")
    f.add_argument("--note", help="a note for the provenance (who calibrated it, why)")
    e = sub.add_parser("explain", help="one person's statement: every number and its rule "
                                       "(--all: everyone's, a printable page each)")
    e.add_argument("--policy", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--id", help="the person's id")
    e.add_argument("--period", help="2025-03, or a roll-up period (2025, 2025Q1)")
    e.add_argument("--all", action="store_true",
                   help="every person's statement: a printable HTML page each, statements.xlsx "
                        "and index.html in the folder --out (replaced whole, with a manifest)")
    e.add_argument("--format", choices=["text", "html", "json", "xlsx"], default="text")
    e.add_argument("--out", help="write the statement to this file (html, json or xlsx); with "
                                 "--all, the folder for the pages")
    e.add_argument("--overrides", help="a calibration session's overrides (as calib run "
                                       "--overrides): the statements show the final values and "
                                       "who overrode what, why")
    p = sub.add_parser("params", help="list every tunable number of a policy with its path")
    p.add_argument("policy")
    s = sub.add_parser("schema", help="print the JSON Schema of the policy format")
    s.add_argument("--out", help="write it to this file instead")
    t = sub.add_parser("template", help="write the input workbook HR fills in for a policy")
    t.add_argument("--policy", required=True, help="policy file (.yaml or .json)")
    t.add_argument("--out", required=True, help="the workbook to write (.xlsx)")
    w = sub.add_parser("policy-workbook", help="write a policy as a policy workbook HR edits in "
                                               "Excel (or, with --out P.yaml, a workbook as YAML)")
    w.add_argument("policy", nargs="?", help="the policy to convert (.yaml, .json or .xlsx)")
    w.add_argument("--out", required=True, help="the file to write: .xlsx for a policy workbook, "
                                                ".yaml or .json for a policy document")
    w.add_argument("--blank", action="store_true", help="write a blank policy workbook to start "
                                                        "from (an example row per sheet, notes)")
    g = sub.add_parser("signoff", help="write the sign-off workbook: policy fingerprint, every "
                                       "tunable number and, with --data, the calibration figures")
    g.add_argument("--policy", required=True, help="policy file (.yaml or .json)")
    g.add_argument("--data", help="data folder, workbook or file the policy was calibrated on")
    g.add_argument("--by", help="total the payouts by this people column (default: the policy's "
                                "first grouping column)")
    g.add_argument("--out", required=True, help="the workbook to write (.xlsx)")
    from calib.cycle.commands import add_parsers

    add_parsers(sub)  # cycle (init, run, override, appeal, approve, lock, log, verify, ...) and verify
    return parser


def _validate(args: argparse.Namespace) -> int:
    from calib._util.outputs import refuse_own_input, write_atomic
    from calib._util.xlsx import write_csv
    from calib.data.read import load_data
    from calib.engine.frame import build_frame
    from calib.policy import load_policy

    if args.problems:
        refuse_own_input("--problems", args.problems, {"policy": args.policy, "--data": args.data})
    policy = load_policy(args.policy)
    print(f"policy {args.policy}: ok ({policy.name}; {len(policy.kpis)} KPIs, "
          f"{len(policy.sections)} sections, {len(policy.params())} tunable numbers)")
    if args.data:
        try:
            frame = build_frame(policy, load_data(args.data, policy))
        except DataError as exc:
            if args.problems:
                problems = exc.problems
                write_atomic(args.problems, lambda p: write_csv(problems, p, encoding="utf-8-sig"))
                print(f"problems written to {args.problems}", file=sys.stderr)
            raise
        print(f"data {args.data}: ok ({frame.n} person-periods, {len(frame.ids)} people)")
    return 0


def _run(args: argparse.Namespace) -> int:
    from calib._util.outputs import RunFolder, refuse_out_over_inputs
    from calib.policy import load_policy

    out = Path(args.out)
    refuse_out_over_inputs(out, {"--policy": args.policy, "--data": args.data,
                                 **({"--overrides": args.overrides} if args.overrides else {})})
    policy = load_policy(args.policy)
    previous = _read_previous(args.previous)  # before this run replaces the folder it may be in
    with RunFolder(out, ["calib", *args.argv]) as folder:
        result, written = _compute_and_write(args, policy, folder, previous)
    _print_summary(result, policy, out)
    if args.overrides and result.overrides is None:
        print(f"  overrides: {args.overrides} lists none; the results are as computed")
    _print_changes(written, args.previous, out, previous)
    return 0


def _compute_and_write(args: argparse.Namespace, policy: Policy, folder: RunFolder,
                       previous: pd.DataFrame | None) -> tuple[Result, dict[str, pd.DataFrame]]:
    """Run the policy and write every output into the run's temporary folder, then commit it.

    A DataError commits a folder holding only problems.csv and a manifest with status "failed"
    (the previous results are replaced, so they cannot be taken for this run's), then re-raises.
    """
    from calib._util.xlsx import write_csv
    from calib.data.read import load_data
    from calib.engine.pipeline import run
    from calib.io.run_outputs import write_csv_into, write_run
    from calib.policy.hashing import policy_sha256

    facts = {"policy": {"path": str(args.policy), "sha256": policy_sha256(policy)},
             "data": {"path": str(args.data), "fingerprint": None}}
    try:
        dataset = load_data(args.data, policy)
        result = run(policy, dataset, overrides=args.overrides)
        facts["data"]["fingerprint"] = dataset.fingerprint()
        written = {"results": write_run(result, folder, facts["data"]["fingerprint"])}
        if previous is not None:
            from calib.analysis.compare import compare_results

            written["changes"] = compare_results(previous, written["results"])
            write_csv_into(folder, "changes.csv", written["changes"])
    except DataError as exc:
        problems = exc.problems
        folder.write("problems.csv", lambda p: write_csv(problems, p, encoding="utf-8-sig"))
        folder.commit("failed", facts)
        print(f"the run failed: the full problems table is in {folder.out / 'problems.csv'} "
              f"(no results were written; {folder.out} holds only the problems)", file=sys.stderr)
        raise
    folder.commit("complete", facts)
    return result, written


def _print_summary(result: Result, policy: Policy, out: Path) -> None:
    """Say how many rows were rated, the totals, and why the others were not."""
    scores = result.scores
    rated = int((scores["status"] == "rated").sum())
    print(f"{len(scores)} person-periods: {rated} rated, {len(scores) - rated} not rated "
          f"(reasons in results.csv); written to {out}/ (results.csv, report.xlsx, manifest.json)")
    if result.payouts is not None:
        print(f"  payout total: {result.payout_total():,.2f} {policy.currency}")
    if result.merit is not None:
        print(f"  raise budget (merit matrix): {result.merit['raise'].sum():,.2f} "
              f"{policy.currency}")
    reasons = scores.loc[scores["status"] != "rated", "reason"].value_counts()
    for reason, count in reasons.items():
        print(f"  not rated, {reason}: {count}")
    if result.overrides is not None:
        print(f"  overrides applied: {len(result.overrides)} (overrides.csv; results.csv shows the "
              "computed and the final values)")
        if result.payouts is not None and "computed_payout_units" in result.arrays:
            from calib.kernels.money import from_units, total_units

            before = from_units([total_units(result.arrays["computed_payout_units"])],
                                policy.pay.unit)[0]
            print(f"  payout total before the overrides: {before:,.2f} {policy.currency}")
    check = result.quota_check
    if check is not None and len(check.breaches):
        groups = check.breaches.groupby(["rule", "period", "group"]).ngroups
        print(f"  quotas broken by the overrides: {groups} group(s), listed in quota_breaches.csv")
        if check.proposals is not None:
            print(f"  {len(check.proposals)} compensating move(s) proposed in balance_proposals.csv "
                  "(nothing was moved: add the ones you accept as overrides, reason 'quota')")


def _read_previous(source: str | None) -> pd.DataFrame | None:
    """The results.csv of a previous run (``--previous``), or None without one."""
    from calib.analysis.compare import read_results

    return None if source is None else read_results(source)


def _print_changes(written: dict[str, pd.DataFrame], source: str | None, out: Path,
                   previous: pd.DataFrame | None) -> None:
    """Say how many people changed against a previous run, and why (changes.csv is written)."""
    changes = written.get("changes")
    if changes is None or previous is None:
        return
    why = changes["why"].value_counts()
    people = changes["id"].nunique()
    print(f"compared with {source}: {len(changes)} rows changed for {people} "
          f"{'person' if people == 1 else 'people'}: {why.get('input changed', 0)} input changed, "
          f"{why.get('moved by quota', 0)} moved by quota; written to {out / 'changes.csv'}")
    for reason, count in why.items():
        if reason not in ("input changed", "moved by quota"):
            print(f"  {reason}: {count}")
    if "policy_sha256" in previous and previous["policy_sha256"].nunique() == 1:
        old, new = previous["policy_sha256"].iloc[0], written["results"]["policy_sha256"].iloc[0]
        if old != new:
            print(f"  note: the previous results were made with another policy (policy_sha256 {old[:12]}…, "
                  f"now {new[:12]}…): changes may come from the policy, not only the inputs")


def _diff(args: argparse.Namespace) -> int:
    from calib.analysis.compare import diff_policies, diff_to_excel, format_diff, impact
    from calib.policy import load_policy

    if args.out:
        from calib._util.outputs import refuse_own_input

        refuse_own_input("--out", args.out, {"old": args.old, "new": args.new, "--data": args.data})
    old, new = load_policy(args.old), load_policy(args.new)
    if args.data:
        result = impact(old, new, args.data, by=args.by)
        print(result.to_text())
        if args.out:
            result.to_excel(args.out)
    else:
        diff = diff_policies(old, new)
        print(format_diff(diff))
        if args.out:
            diff_to_excel(diff, args.out)
    if args.out:
        print(f"written to {args.out}")
    return 0


def _freeze(args: argparse.Namespace) -> int:
    from calib.io.provenance import provenance
    from calib.policy import load_policy
    from calib.policy.frozen import Frozen, is_frozen, load_frozen, write_frozen
    from calib.policy.hashing import policy_sha256

    if args.note and not args.data:  # the note is part of the provenance, made from the data
        print("error: --note is kept in the provenance, which is written from the data: add "
              "--data (the data the policy was calibrated on)", file=sys.stderr)
        return 2
    from calib._util.outputs import refuse_own_input

    refuse_own_input("--out", args.out, {"policy": args.policy, "--data": args.data})
    source: Frozen | None = None
    if args.policy.endswith(".json"):
        try:
            if is_frozen(json.loads(Path(args.policy).read_text(encoding="utf-8"))):
                source = load_frozen(args.policy)
        except (OSError, ValueError):
            source = None
    policy = source.policy if source else load_policy(args.policy)
    prov = provenance(policy, args.data, args.note) if args.data else None
    digest = write_frozen(source if source and prov is None else policy, args.out,
                          provenance=prov)
    print(f"frozen {policy.name} to {args.out}: frozen_sha256 {digest} (the file's body); "
          f"policy_sha256 {policy_sha256(policy)} (the policy, as results.csv names it)")
    if prov:
        figures = prov["figures"]
        print(f"  calibrated on data {prov['data_sha256'][:16]}…: {figures['rated']} of "
              f"{figures['rows']} rows rated" + (f", payout total {figures['payout_total']}"
                                                 if "payout_total" in figures else ""))
    return 0


def _explain(args: argparse.Namespace) -> int:
    from calib._util.outputs import refuse_own_input, write_text_atomic
    from calib.engine.pipeline import run
    from calib.policy import load_policy

    if args.all:
        return _explain_all(args)
    if not args.id or not args.period:
        print("error: give --id and --period (one person's statement), or --all --out FOLDER "
              "(everyone's)", file=sys.stderr)
        return 2
    if args.out:
        refuse_own_input("--out", args.out, {"--policy": args.policy, "--data": args.data})
    statement = run(load_policy(args.policy), args.data, overrides=args.overrides).explain(
        args.id, args.period)
    fmt = args.format
    if args.out and fmt == "text":
        suffix = Path(args.out).suffix.lower()
        if suffix not in _TEXT_SUFFIXES:
            print(f"error: calib writes a statement as text, HTML, JSON or a workbook, not as "
                  f"'{suffix}' ({args.out}); give --out with .txt, .html, .json or .xlsx (for a "
                  "PDF, print the HTML page to PDF from a browser)", file=sys.stderr)
            return 2
        fmt = _TEXT_SUFFIXES[suffix]
    if fmt == "xlsx":
        if not args.out:
            print("error: --format xlsx needs --out FILE.xlsx", file=sys.stderr)
            return 2
        statement.to_excel(args.out)
        print(f"statement written to {args.out}")
        return 0
    text = {"text": statement.to_text, "html": statement.to_html,
            "json": statement.to_json}[fmt]()
    if args.out:
        write_text_atomic(args.out, text)
        print(f"statement written to {args.out}")
    else:
        print(text, end="")
    return 0


def _explain_all(args: argparse.Namespace) -> int:
    """``explain --all --out DIR``: every person's page, statements.xlsx and index.html."""
    import time

    from calib._util.outputs import refuse_out_over_inputs
    from calib.data.read import load_data
    from calib.engine.pipeline import run
    from calib.engine.statements import write_statements
    from calib.policy import load_policy
    from calib.policy.hashing import policy_sha256

    if args.id or args.period or not args.out or args.format != "text":
        print("error: --all writes everyone's statements into a folder: give --all --out FOLDER "
              "(without --id, --period or --format)", file=sys.stderr)
        return 2
    out = Path(args.out)
    refuse_out_over_inputs(out, {"--policy": args.policy, "--data": args.data,
                                 **({"--overrides": args.overrides} if args.overrides else {})})
    policy = load_policy(args.policy)
    dataset = load_data(args.data, policy)
    result = run(policy, dataset, overrides=args.overrides)
    start = time.perf_counter()
    facts = {"policy": {"path": str(args.policy), "sha256": policy_sha256(policy)},
             "data": {"path": str(args.data), "fingerprint": dataset.fingerprint()}}
    written = write_statements(result, out, ["calib", *args.argv], facts)
    print(f"{written.statements} statements of {written.people} people written to {out}/ "
          f"(a page each, index.html, statements.xlsx with {written.lines:,} lines, manifest.json) "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


def _params(args: argparse.Namespace) -> int:
    from calib.policy import load_policy

    frame = load_policy(args.policy).params_frame()
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.width", 160):
        print(frame.to_string(index=False))
    return 0


def _schema(args: argparse.Namespace) -> int:
    from calib._util.outputs import write_text_atomic
    from calib.policy import json_schema

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False)
    if args.out:
        write_text_atomic(args.out, text + "\n")
    else:
        print(text)
    return 0


def _template(args: argparse.Namespace) -> int:
    from calib._util.outputs import refuse_own_input
    from calib.io.workbooks import write_template
    from calib.policy import load_policy

    refuse_own_input("--out", args.out, {"--policy": args.policy})
    policy = load_policy(args.policy)
    path = write_template(policy, _xlsx(args.out))
    print(f"input template for {policy.name} written to {path}: fill in one sheet per table "
          f"({', '.join(policy.inputs.table_names())}) from row 3, then "
          f"calib run --policy {args.policy} --data {path} --out <folder>")
    return 0


def _policy_workbook(args: argparse.Namespace) -> int:
    """``calib policy-workbook``: a policy as a workbook, a workbook as YAML, or a blank one."""
    from calib._util.outputs import refuse_own_input, write_text_atomic
    from calib.policy import dump_policy, load_policy
    from calib.policy.workbook import blank_policy, policy_to_workbook

    if args.blank == bool(args.policy):
        raise CalibError("give a policy to convert or --blank (not both): calib policy-workbook "
                         "P.yaml --out P.xlsx, or calib policy-workbook --blank --out new.xlsx")
    out = Path(args.out)
    if args.policy:
        refuse_own_input("--out", out, {"policy": args.policy})
    policy = blank_policy() if args.blank else load_policy(args.policy)
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        policy_to_workbook(policy, out)
        print(f"policy workbook for {policy.name} written to {out}: edit it in Excel (the notes "
              f"sheet explains each column), then calib validate {out}")
    elif suffix in (".yaml", ".yml", ".json"):
        write_text_atomic(out, dump_policy(policy, "json" if suffix == ".json" else "yaml"))
        print(f"policy {policy.name} written to {out}")
    else:
        raise CalibError(f"--out must name an .xlsx workbook or a .yaml/.json policy, got '{out}'")
    return 0


def _signoff(args: argparse.Namespace) -> int:
    from calib._util.outputs import refuse_own_input
    from calib.io.workbooks import write_signoff
    from calib.policy import load_policy
    from calib.policy.hashing import policy_sha256

    refuse_own_input("--out", args.out, {"--policy": args.policy, "--data": args.data})
    policy = load_policy(args.policy)
    path = write_signoff(policy, _xlsx(args.out), data=args.data, group_by=args.by)
    print(f"sign-off workbook for {policy.name} (policy_sha256 {policy_sha256(policy)}) written to "
          f"{path}")
    return 0


def _xlsx(out: str) -> Path:
    """The output path of a workbook; a name without .xlsx is refused as bad input."""
    path = Path(out)
    if path.suffix.lower() != ".xlsx":
        raise CalibError(f"--out must name an .xlsx workbook, got '{out}'")
    return path


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``calib`` command; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # for the run's manifest
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    handlers = {"validate": _validate, "run": _run, "params": _params, "schema": _schema,
                "freeze": _freeze, "explain": _explain, "diff": _diff}
    handlers |= {"template": _template, "signoff": _signoff, "policy-workbook": _policy_workbook}
    from calib.cycle.commands import cycle_main, verify_main

    handlers |= {"cycle": cycle_main, "verify": verify_main}
    try:
        return handlers[args.command](args)
    except CalibError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except MemoryError:  # numpy's, pandas' or pyarrow's (ArrowMemoryError): the input needs more
        from calib.data.footprint import FIX, out_of_memory

        print(f"error: {out_of_memory(getattr(args, 'data', None))}. Fix: {FIX}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader stopped early (``calib schema | head``): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 1
    except RuntimeError as exc:   # Path.resolve() on a link that points back to itself
        if "Symlink loop" not in str(exc):
            raise
        print(f"error: {str(exc).removeprefix('Symlink loop from ')} is a symbolic link that leads back "
              "to itself (a loop). Fix: give the real file or folder, or repair the link",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
