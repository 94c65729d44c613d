"""The ``calib cycle`` sub-commands and the top-level ``calib verify`` (registered by calib.cli).

``calib cycle init | trust | run | override | appeal (file|decide|list) | approve | lock | log |
verify | export | keygen``, each with ``--cycle FILE`` (the cycle's SQLite record) but keygen.
Importing this module is cheap: each handler imports what it needs.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calib.cycle.ledger import Ledger, Row
    from calib.cycle.settings import Settings


def add_parsers(sub: Any) -> None:
    """Add ``cycle`` (with its sub-commands) and ``verify`` to the CLI's sub-parsers."""
    c = sub.add_parser("cycle", help="the calibration cycle's record: runs, overrides, appeals, "
                                     "approvals and the lock, in one hash-chained SQLite file")
    cs = c.add_subparsers(dest="cycle_command", required=True)

    def cmd(name: str, help: str, cycle: bool = True) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = cs.add_parser(name, help=help)
        if cycle:
            p.add_argument("--cycle", required=True, help="the cycle's record (a .sqlite file)")
        return p

    p = cmd("init", "start a new cycle's record")
    p.add_argument("--name", required=True, help="the cycle's name, e.g. 2026H1")
    p.add_argument("--policy", help="the policy of the cycle: its reason codes and appeal days are kept")
    p.add_argument("--approver", action="append", default=[], metavar="NAME:ROLE:KEY.pub",
                   help="register an approver's public key (repeat for each)")
    p.add_argument("--by", help="who starts it (default: your user name)")
    p = cmd("trust", "register an approver's public key in the cycle")
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True)
    p.add_argument("--key", required=True, help="the approver's NAME.pub")
    p.add_argument("--by")
    p = cmd("run", "run the policy with the cycle's overrides and record the run")
    p.add_argument("--policy", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True, help="the run's folder (replaced whole)")
    p.add_argument("--note")
    p.add_argument("--by")
    p = cmd("override", "record overrides (one by flags, or a CSV/xlsx with --file)")
    p.add_argument("--file", help="a table of overrides: id, period, field, value, reason, note, by, at")
    for flag in ("--id", "--period", "--field", "--value", "--reason", "--note", "--by"):
        p.add_argument(flag)
    p.add_argument("--policy", help="check the reason codes against this policy (default: the cycle's)")
    a = cmd("appeal", "the appeals register (file, decide, list)", cycle=False)
    asub = a.add_subparsers(dest="appeal_command", required=True)
    f = asub.add_parser("file", help="file an appeal; its decision deadline is counted in working days")
    f.add_argument("--cycle", required=True)
    f.add_argument("--id", required=True, help="the employee's id")
    f.add_argument("--period", required=True)
    f.add_argument("--grounds", required=True, help="what the employee disputes, and why")
    f.add_argument("--filed", help="the day it was filed, YYYY-MM-DD (default: today)")
    f.add_argument("--results-date", help="the day the results were given (default: the first "
                                          "approval's day, else the last run's)")
    f.add_argument("--late-reason", help="why an appeal filed after the deadline is accepted")
    f.add_argument("--policy", help="take appeal_days/decision_days from this policy")
    f.add_argument("--by")
    d = asub.add_parser("decide", help="record the committee's decision on an appeal")
    d.add_argument("--cycle", required=True)
    d.add_argument("--appeal", required=True, type=int, help="the appeal's number (appeal list)")
    d.add_argument("--outcome", required=True, choices=["upheld", "rejected", "partly"])
    d.add_argument("--reason", required=True)
    d.add_argument("--decided", help="the day of the decision, YYYY-MM-DD (default: today)")
    d.add_argument("--run", type=int, help="the cycle's run made for it (its number in cycle log)")
    d.add_argument("--changes", help="the changes.csv of that re-run (its sha256 is kept)")
    d.add_argument("--by")
    ls = asub.add_parser("list", help="the appeals: open, overdue and decided")
    ls.add_argument("--cycle", required=True)
    ls.add_argument("--today", help="the day to judge 'overdue' on, YYYY-MM-DD (default: today)")
    ls.add_argument("--status", choices=["open", "overdue", "decided", "all"], default="all")
    p = cmd("approve", "approve a run (the last by default), optionally signed with your key")
    p.add_argument("--run", type=int)
    p.add_argument("--name")
    p.add_argument("--role")
    p.add_argument("--key", help="your private key (NAME.key from cycle keygen) to sign with")
    p.add_argument("--note")
    p = cmd("lock", "seal the cycle: write the bundle; nothing can be added afterwards")
    p.add_argument("--bundle", help="the bundle folder (default: CYCLE.locked beside the cycle file)")
    p.add_argument("--by")
    cmd("log", "print the record, row by row, with the chain's hashes")
    p = cmd("verify", "check the chain, the lock's bundle and the approvals' signatures")
    _verify_options(p)
    p = cmd("export", "write every table of the record as CSV (opens in Excel)")
    p.add_argument("--out", required=True, help="the folder to write (replaced whole)")
    p = cmd("keygen", "make an approver's key pair: NAME.key (keep it private) and NAME.pub", cycle=False)
    p.add_argument("--out", required=True, help="NAME: writes NAME.key and NAME.pub")

    v = sub.add_parser("verify", help="check a frozen policy and/or a cycle's record and signatures")
    v.add_argument("--policy", help="a frozen policy file: its hashes are checked")
    v.add_argument("--cycle", help="a cycle's record")
    _verify_options(v)


def _verify_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trusted", help="public keys held outside the cycle (a .pub file or a folder): "
                                     "signatures are checked against these only")
    p.add_argument("--bundle", help="the lock's bundle folder (default: the one the lock row names)")


# --- handlers -------------------------------------------------------------------------------------
def cycle_main(args: argparse.Namespace) -> int:
    """Run the ``calib cycle`` sub-command in ``args``; returns the exit code."""
    if args.cycle_command == "keygen":
        return _keygen(args)
    if args.cycle_command == "init":
        return _init(args)
    from calib.cycle.ledger import Ledger

    with Ledger.open(args.cycle) as ledger:
        if args.cycle_command == "appeal":
            return {"file": _appeal_file, "decide": _appeal_decide,
                    "list": _appeal_list}[args.appeal_command](ledger, args)
        handler = {"trust": _trust, "run": _run, "override": _override, "approve": _approve,
                   "lock": _lock, "log": _log, "verify": _verify_cycle, "export": _export}
        return handler[args.cycle_command](ledger, args)


def verify_main(args: argparse.Namespace) -> int:
    """``calib verify``: a frozen policy and/or a cycle; exit 0 when all is well, 1 listing every problem."""
    if not args.policy and not args.cycle:
        print("error: give --policy FROZEN.json and/or --cycle FILE to verify")
        return 2
    bad = 0
    if args.policy:
        from calib.errors import CalibError
        from calib.policy.frozen import load_frozen

        try:
            frozen = load_frozen(args.policy)
            print(f"policy {args.policy}: ok (frozen {frozen.frozen_at}, frozen_sha256 {frozen.sha256})")
        except CalibError as exc:
            print(f"policy {args.policy}: NOT OK\n  {exc}")
            bad += 1
    if args.cycle:
        bad += _report(args)
    return 1 if bad else 0


def _report(args: argparse.Namespace) -> int:
    from calib.cycle.approvals import trusted_keys
    from calib.cycle.verify import verify_cycle

    trusted = trusted_keys(args.trusted) if args.trusted else None
    report = verify_cycle(args.cycle, trusted, args.bundle)
    print("\n".join(report.lines()))
    if trusted is None and report.approvals and any(a.status != "unsigned" for a in report.approvals):
        print("  note: signatures were checked against the keys registered in the cycle file itself; "
              "give --trusted with the approvers' .pub files kept elsewhere for a check no one with "
              "write access to the file can get round")
    return 0 if report.ok else 1


def _day(text: str | None, what: str) -> date:
    from calib.cycle.workdays import parse_date

    return date.today() if text is None else parse_date(text, what)


def _rules(ledger: Ledger, policy_path: str | None) -> Settings:
    from calib.cycle.settings import settings
    from calib.policy import load_policy

    return settings(ledger, load_policy(policy_path) if policy_path else None, policy_path)


def _keygen(args: argparse.Namespace) -> int:
    from calib.cycle.approvals import keygen

    private, public, kid = keygen(args.out)
    print(f"key {kid} written: {private} (private: keep it to yourself, readable by you only) and "
          f"{public} (public: give it to the cycle's owner, calib cycle trust --key {public})")
    return 0


def _init(args: argparse.Namespace) -> int:
    from calib.cycle.approvals import register_approver
    from calib.cycle.ledger import CycleError, Ledger
    from calib.cycle.settings import policy_meta

    approvers = []
    for given in args.approver:
        parts = given.split(":", 2)
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise CycleError(f"--approver {given}: write it as NAME:ROLE:KEY.pub "
                             f"(e.g. 王芳:HRBP:wangfang.pub)")
        approvers.append(parts)
    meta = {}
    if args.policy:
        from calib.policy import load_policy

        meta = policy_meta(load_policy(args.policy), args.policy)
    with Ledger.init(args.cycle, args.name, meta, by=args.by) as ledger:
        for name, role, key in approvers:
            register_approver(ledger, name, role, key, by=args.by)
        print(f"cycle {args.name} started: {args.cycle}"
              + (f" (policy {args.policy}, policy_sha256 {meta['policy_sha256']})" if meta else "")
              + (f"; {len(approvers)} approver key(s) registered" if approvers else ""))
    return 0


def _trust(ledger: Ledger, args: argparse.Namespace) -> int:
    from calib.cycle.approvals import register_approver

    seq = register_approver(ledger, args.name, args.role, args.key, by=args.by)
    print(f"approver {args.name} ({args.role}) registered with key {args.key} (row {seq})")
    return 0


def _run(ledger: Ledger, args: argparse.Namespace) -> int:
    from calib.cycle.runs import run_cycle

    done = run_cycle(ledger, args.policy, args.data, args.out, args.argv, by=args.by, note=args.note)
    print(f"run {done.seq} recorded: {done.rows} person-periods, {done.rated} rated, {done.overrides} "
          f"override(s) applied; results.csv file_sha256 {done.results_sha256}; written to {args.out}/")
    if done.payout_total is not None:
        print(f"  payout total: {done.payout_total:,.2f}")
    return 0


def _override(ledger: Ledger, args: argparse.Namespace) -> int:
    from calib.cycle.ledger import CycleError
    from calib.cycle.overrides import read_override_file, record_overrides

    flags = {k: getattr(args, k) for k in ("id", "period", "field", "value", "reason", "note")}
    if args.file:
        if any(v is not None for v in flags.values()):
            raise CycleError("give either --file or the single override's flags (--id ... --reason), "
                             "not both")
        rows = [{str(k): v for k, v in r.items()} for r in read_override_file(args.file).to_dict("records")]
    else:
        missing = [f"--{k}" for k in ("id", "period", "field", "value", "reason") if not flags[k]]
        if missing:
            raise CycleError(f"an override needs {', '.join(missing)} (or give a table with --file)")
        rows = [{**flags, "by": args.by}]
    known = args.policy is not None or bool(ledger.meta().get("reasons"))
    rules = _rules(ledger, args.policy) if known else None
    seqs = record_overrides(ledger, rows, rules, by=args.by)
    print(f"{len(seqs)} override(s) recorded (rows {seqs[0]}–{seqs[-1]})"
          + ("" if rules else "; reason codes not checked: the cycle has no policy (give --policy)"))
    return 0


def _appeal_file(ledger: Ledger, args: argparse.Namespace) -> int:
    from calib.cycle.appeals import file_appeal

    rules = _rules(ledger, args.policy)
    given = _day(args.results_date, "--results-date") if args.results_date else None
    seq = file_appeal(ledger, rules, args.id, args.period, _day(args.filed, "--filed"), args.grounds,
                      given, args.late_reason, args.by)
    row = ledger.get("appeals", seq)
    assert row is not None
    print(f"appeal {seq} filed for {args.id}, {args.period}: decision due by {row.row['decision_deadline']} "
          f"({rules.decision_days} working days, China's calendar)"
          + (f"; filed late, accepted: {row.row['late_reason']}" if row.row["late_reason"] else ""))
    return 0


def _appeal_decide(ledger: Ledger, args: argparse.Namespace) -> int:
    from calib.cycle.appeals import decide_appeal

    seq = decide_appeal(ledger, args.appeal, args.outcome, args.reason, _day(args.decided, "--decided"),
                        args.run, args.changes, args.by)
    print(f"appeal {args.appeal} decided: {args.outcome} (row {seq})")
    return 0


def _appeal_list(ledger: Ledger, args: argparse.Namespace) -> int:
    import pandas as pd

    from calib.cycle.appeals import appeals_table

    table = appeals_table(ledger, _day(args.today, "--today"))
    if args.status != "all":
        table = table[table["status"].str.startswith(args.status)]
    if table.empty:
        print("no appeals" + ("" if args.status == "all" else f" {args.status}"))
        return 0
    with pd.option_context("display.max_rows", None, "display.width", 160, "display.max_colwidth", 40):
        print(table.to_string(index=False))
    counts = table["status"].value_counts()
    print(", ".join(f"{n} {s}" for s, n in counts.items()))
    return 0


def _approve(ledger: Ledger, args: argparse.Namespace) -> int:
    from calib.cycle.approvals import approve

    row = approve(ledger, args.name, args.role, args.run, args.key, args.note)
    r = row.row
    how = f"signed with key {r['key_id']}" if r["signature"] else "unsigned"
    print(f"approval {row.seq}: {r['name']} ({r['role']}) approves run {r['run']} ({how}); "
          f"results.csv file_sha256 {r['results_sha256']}, record head {r['ledger_head']}")
    if r["signature"] and r["key_id"] not in {a.row["key_id"] for a in ledger.rows("approvers")}:
        print(f"  note: key {r['key_id']} is not registered in the cycle: register the .pub with "
              f"calib cycle trust, or the approval will show as signed with an untrusted key")
    return 0


def _lock(ledger: Ledger, args: argparse.Namespace) -> int:
    from calib.cycle.lock import lock

    sealed = lock(ledger, args.bundle, args.argv, by=args.by)
    print(f"cycle locked (row {sealed.seq}): bundle {sealed.bundle} seals {sealed.head_seq} rows, head "
          f"{sealed.head_hash}. Keep the bundle (or this hash) apart from the cycle file; nothing can be "
          f"added to the cycle any more")
    return 0


def _summary(r: Row) -> str:
    x = r.row
    return {
        "meta": lambda: f"{x['key']} = {x['value']}",
        "runs": lambda: f"run of {x['policy_path']} on {x['data_path']} → {x['out']} "
                        f"({x['overrides']} overrides; results {str(x['results_sha256'])[:12]}…)",
        "overrides": lambda: f"{x['id']} {x['period']} {x['field']} = {x['value']} ({x['reason']}"
                             + (f"; {x['note']}" if x["note"] else "")
                             + (f"; supersedes {x['supersedes']}" if x["supersedes"] else "") + ")",
        "appeals": lambda: f"appeal by {x['id']} for {x['period']} filed {x['filed']}, decide by "
                           f"{x['decision_deadline']}: {x['grounds']}",
        "appeal_decisions": lambda: f"appeal {x['appeal']} {x['outcome']} on {x['decided']}: {x['reason']}"
                                    + (f" (run {x['run']})" if x["run"] else ""),
        "approvers": lambda: f"approver {x['name']} ({x['role']}), key {x['key_id']}",
        "approvals": lambda: f"{x['name']} ({x['role']}) approves run {x['run']}"
                             + (f", signed by key {x['key_id']}" if x["signature"] else ", unsigned"),
        "locks": lambda: f"LOCKED: {x['head_seq']} rows sealed, bundle {x['bundle']}",
    }[r.table]()


def _log(ledger: Ledger, args: argparse.Namespace) -> int:
    chain = ledger.chain()
    for r in chain:
        at = r.row.get("at") or ""
        by = r.row.get("by") or r.row.get("name") or ""
        print(f"{r.seq:>5}  {str(at)[:19]:<19}  {str(by)[:12]:<12}  {r.table:<16}  {_summary(r)}  "
              f"[{r.hash[:12]}]")
    seq, head = ledger.head()
    print(f"{seq} rows; head {head}" + (" (locked)" if ledger.locked() else ""))
    return 0


def _verify_cycle(ledger: Ledger, args: argparse.Namespace) -> int:
    ledger.close()  # verify opens the file itself
    return _report(args)


def _export(ledger: Ledger, args: argparse.Namespace) -> int:
    from calib.cycle.lock import write_tables

    out = write_tables(ledger, args.out, args.argv)
    print(f"the cycle's tables written to {out}/ (one CSV per table, UTF-8 for Excel, with manifest.json)")
    return 0
