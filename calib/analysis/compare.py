"""Compare two policies, or two runs: what changed, who moves grade and what it costs.

Three questions HR asks when a scheme or an input changes:

- ``diff_policies(p1, p2)``: which numbers and words of the policy changed, one row per value, addressed
  by the same paths as ``policy.params()`` (``kpis.conversion.rule.bands[0].at``);
- ``impact(p1, p2, data)``: on the same data, who changes grade, what each person is paid before and
  after, per group and in total, and the grade distribution before and after (an ``Impact``);
- ``compare_results(old, new)``: after an appeal corrects an input and the run is repeated (R37), which
  result rows changed and why: the person's own input, or the forced distribution moving them.

Money is compared in whole units of the smallest pay unit (cents), as integers, so every delta is exact
and the per-person deltas add up to the total delta.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calib._util.excel_formats import PERCENT, SchemeFormats, for_policy
from calib._util.tolerance import REL
from calib._util.xlsx import Table, csv_unsafe, write_tables
from calib.analysis.moves import COLUMNS, MOVES, grade_order, moves
from calib.engine.result import Result
from calib.errors import CalibError
from calib.kernels.money import to_units, units_to_float
from calib.policy.model import Policy
from calib.policy.paths import join_path

KEYS = ["id", "period"]
NOT_GRADED = "(not graded)"


# --- policy diff ------------------------------------------------------------------------------------
def _leaves(node: Any, path: list[str | int], out: dict[str, Any]) -> None:
    """Flatten plain policy data to ``{path: value}``; unset values and empty containers are absent."""
    if isinstance(node, dict):
        for key, value in node.items():
            _leaves(value, [*path, key], out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _leaves(value, [*path, i], out)
    elif node is not None:
        out[join_path(path)] = node


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same kind (``True`` is not the number 1, but ``95`` is ``95.0``)."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _document_order(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every path of both, in the old document's order; a new path follows the one before it in new."""
    pos = {path: i for i, path in enumerate(old)}
    keys = {path: (i, 0) for i, path in enumerate(old)}
    anchor = -1
    for seq, path in enumerate(new):
        if path in pos:
            anchor = pos[path]
        else:
            keys[path] = (anchor, 1 + seq)
    return sorted(keys, key=keys.__getitem__)


def diff_policies(p1: Policy, p2: Policy) -> pd.DataFrame:
    """Every value of the policy that differs between ``p1`` and ``p2``.

    One row per leaf of ``to_dict()`` (path, old, new, change): ``changed`` where both policies set
    it, ``added`` where only ``p2`` does, ``removed`` where only ``p1`` does. Lists are compared
    element by element by position, so a band inserted at the top shows as every band changing and
    one added at the end. Name, version and description count like any other value.
    """
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    _leaves(p1.to_dict(), [], old)
    _leaves(p2.to_dict(), [], new)
    rows = []
    for path in _document_order(old, new):
        a, b = old.get(path), new.get(path)
        if path not in new:
            rows.append((path, a, None, "removed"))
        elif path not in old:
            rows.append((path, None, b, "added"))
        elif not _same(a, b):
            rows.append((path, a, b, "changed"))
    return pd.DataFrame(rows, columns=["path", "old", "new", "change"], dtype=object)


def format_value(value: Any) -> str:
    """A policy value as HR would type it: ``95`` not ``95.0``, ``(none)`` for an unset value."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(none)"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.10g}"
    return str(value)


def format_diff(diff: pd.DataFrame) -> str:
    """The changes as lines ``path: old → new``, or a line saying there are none."""
    if diff.empty:
        return "no parameter changes"
    n = len(diff)
    lines = [f"{n} parameter{'s' if n != 1 else ''} changed:"]
    for row in diff.itertuples(index=False):
        note = f" ({row.change})" if row.change != "changed" else ""
        lines.append(f"  {row.path}: {format_value(row.old)} → {format_value(row.new)}{note}")
    return "\n".join(lines)


# --- impact of a policy change on one data set -------------------------------------------------------
def _money(amount: int | np.integer, unit: float) -> Decimal:
    return Decimal(int(amount)) * Decimal(str(unit))


def _signed(amount: Decimal) -> str:
    return f"{amount:+,.2f}"


def _percent(pct: float) -> str:
    """``+1.25%``; a change too small for two decimals keeps its sign and first digits."""
    return f"{pct:+.2f}%" if pct == 0 or abs(pct) >= 0.005 else f"{pct:+.2g}%"


def _moves_text(changes: pd.DataFrame) -> str:
    """``12 people change grade: 7 up, 5 down`` (grade changes and people when periods repeat;
    ``new`` and ``gone`` for rows graded on one side only, when there are some).
    """
    moves = changes["move"].value_counts()
    n, people = len(changes), changes["id"].nunique()
    if n == 0:
        return "nobody changes grade"
    if n == people:
        head = f"{n} {'person changes' if n == 1 else 'people change'} grade"
    else:
        head = f"{n} grade changes ({people} people, {changes['period'].nunique()} periods)"
    parts = [f"{moves.get(m, 0)} {m}" for m in MOVES if moves.get(m, 0) or m in ("up", "down")]
    return f"{head}: {', '.join(parts)}"


@dataclass(repr=False)
class Impact:
    """What changing a policy from ``before`` to ``after`` does on one data set.

    - ``parameters``: ``diff_policies(p1, p2)``;
    - ``grade_changes``: who moved grade (``calib.analysis.moves.moves``): id, period, group,
      ``move`` (up, down, new, gone), grade and label before and after, score and payout before,
      after and the change;
    - ``payouts``: one row per paid row: id, period, group, payout before, after and delta;
    - ``groups``: per group (``by``): graded rows, moves up and down, payout before, after, delta;
    - ``distribution``: per grade, best first: count and share before and after;
    - ``quotas``: the forced-distribution quotas that changed (rule, period, group, grade).

    The totals are exact: ``total_delta == sum of payouts.delta`` to the cent.
    """

    before: Result = field(repr=False)
    after: Result = field(repr=False)
    parameters: pd.DataFrame
    grade_changes: pd.DataFrame
    payouts: pd.DataFrame
    groups: pd.DataFrame
    distribution: pd.DataFrame
    quotas: pd.DataFrame
    by: str
    unit: float
    units_before: int
    units_after: int

    def __repr__(self) -> str:
        return f"Impact({self.summary()})"

    @property
    def total_before(self) -> Decimal:
        """Payout total under the old policy, exact."""
        return _money(self.units_before, self.unit)

    @property
    def total_after(self) -> Decimal:
        """Payout total under the new policy, exact."""
        return _money(self.units_after, self.unit)

    @property
    def total_delta(self) -> Decimal:
        """What the change costs (negative: saves), exact."""
        return _money(self.units_after - self.units_before, self.unit)

    def payout_changes(self) -> pd.DataFrame:
        """The rows of ``payouts`` whose amount changed."""
        return self.payouts[self.payouts["delta"] != 0].reset_index(drop=True)

    def summary(self) -> str:
        """One line: how many grades change, up and down, and the payout total before and after."""
        parts = []
        if self.before.grades is not None or self.after.grades is not None:
            parts.append(_moves_text(self.grade_changes))
        if self.before.payouts is not None or self.after.payouts is not None:
            pct = ""
            if self.units_before:
                pct = ", " + _percent(float(self.total_delta / self.total_before) * 100)
            parts.append(f"payout total {self.total_before:,.2f} → {self.total_after:,.2f} "
                         f"({_signed(self.total_delta)}{pct})")
        return "; ".join(parts) or "these policies neither grade nor pay"

    def to_text(self, top: int = 10) -> str:
        """A readable summary for an HR officer: parameters, moves, cost, distribution, top groups."""
        policy = self.after.policy
        lines = [format_diff(self.parameters), "", self.summary()]
        if not self.distribution.empty:
            lines.append("grade distribution (all periods), before → after:")
            for row in self.distribution.itertuples(index=False):
                name = row.grade if row.label == row.grade else f"{row.grade} {row.label}"
                lines.append(f"  {name}: {row.before} ({row.share_before:.1%}) → "
                             f"{row.after} ({row.share_after:.1%})")
        g = self.groups.assign(moves=self.groups["up"] + self.groups["down"],
                               size=self.groups["delta"].abs())
        moved = g[(g["size"] > 0) | (g["moves"] > 0)]
        if not moved.empty and (self.after.grades is not None or self.by != "group"):
            order = moved.sort_values(["size", "moves", "group"], ascending=[False, False, True],
                                      kind="stable")
            by = "quota group" if self.by == "group" else self.by
            lines.append(f"groups most affected (by {by}), {len(moved)} of {len(g)} change:")
            for row in order.head(top).itertuples(index=False):
                lines.append(f"  {row.group}: {row.up} up, {row.down} down, payout "
                             f"{_signed(Decimal(str(row.delta)))} {policy.currency}")
        return "\n".join(lines)

    def to_excel(self, path: str | Path) -> None:
        """Write the workbook: parameters, grade changes, payout changes, groups, distribution, quotas."""
        write_workbook(path, {
            "parameters": self.parameters,
            "grade changes": self.grade_changes,
            "payout changes": self.payout_changes(),
            "groups": self.groups,
            "distribution": self.distribution,
            "quota changes": self.quotas,
        }, for_policy(self.before.policy, self.after.policy))


def _run_both(p1: Policy, p2: Policy, data: Any) -> tuple[Result, Result, pd.DataFrame | None]:
    """Run both policies on the same data, read once when both declare the same inputs."""
    from calib.data.read import load_data
    from calib.engine.pipeline import run

    ds1 = load_data(data, p1)
    ds2 = ds1 if p1.inputs == p2.inputs else load_data(data, p2)
    return run(p1, ds1), run(p2, ds2), ds2.tables.get("people")


def _grades(result: Result) -> pd.DataFrame:
    cols = ["id", "period", "grade", "grade_label", "score", "rule", "group"]
    if result.grades is None:
        return pd.DataFrame(columns=cols)
    g = result.grades[cols].astype({"id": str, "period": str})
    return g.astype({c: object for c in ("grade", "grade_label", "rule", "group")})


def _graded_pairs(before: Result, after: Result) -> pd.DataFrame:
    """Old and new grades side by side, with each row's quota group (or its rule, for thresholds)."""
    m = _grades(before).merge(_grades(after), on=KEYS, how="outer", suffixes=("_before", "_after"))
    group = m["group_after"].fillna(m["group_before"]).fillna(m["rule_after"]).fillna(m["rule_before"])
    return m.assign(group=group.fillna(NOT_GRADED))


def _grouper(pairs: pd.DataFrame, people: pd.DataFrame | None, by: str | None,
             id_column: str) -> Callable[[pd.DataFrame], pd.Series]:
    """id, period → group: the quota group from the grades, or a people column such as department."""
    if by is None or by == "group":
        lookup = pairs[[*KEYS, "group"]]
        return lambda rows: rows[KEYS].merge(lookup, on=KEYS, how="left")["group"].fillna(
            NOT_GRADED).set_axis(rows.index)
    if people is None or by not in people.columns or by == id_column:
        have = [] if people is None else [c for c in people.columns if c != id_column]
        raise CalibError(f"cannot group by '{by}': it is not a column of the people table; "
                         f"use 'group' (the quota group) or one of: {', '.join(have) or '(none)'}")
    names = people.astype({id_column: str}).drop_duplicates(id_column).set_index(id_column)[by]
    return lambda rows: rows["id"].map(names).astype(object).fillna("(unknown)")


def _pay_units(result: Result, unit: float) -> pd.DataFrame:
    if result.payouts is None:
        return pd.DataFrame({"id": [], "period": [], "units": np.array([], dtype=np.int64)})
    p = result.payouts.astype({"id": str, "period": str})
    return pd.DataFrame({"id": p["id"], "period": p["period"],
                         "units": to_units(p["payout"].fillna(0).to_numpy(), unit)})


def _payouts(before: Result, after: Result, group_of: Callable, unit: float) -> pd.DataFrame:
    m = _pay_units(before, unit).merge(_pay_units(after, unit), on=KEYS, how="outer",
                                       suffixes=("_before", "_after"))
    ub = m["units_before"].fillna(0).to_numpy(np.int64)
    ua = m["units_after"].fillna(0).to_numpy(np.int64)
    m = m[KEYS]
    return m.assign(group=group_of(m), before=units_to_float(ub, unit),
                    after=units_to_float(ua, unit), delta=units_to_float(ua - ub, unit),
                    units_delta=ua - ub)


def _group_table(pairs: pd.DataFrame, payouts: pd.DataFrame, unit: float) -> pd.DataFrame:
    """Per group: graded rows after the change, moves up and down, payout before, after, delta."""
    g = pairs.assign(graded=pairs["grade_after"].notna(), up=pairs["move"] == "up",
                     down=pairs["move"] == "down")
    counts = g.groupby("group")[["graded", "up", "down"]].sum()
    pay = payouts.assign(ub=to_units(payouts["before"].to_numpy(), unit),
                         ua=to_units(payouts["after"].to_numpy(), unit))
    money = pay.groupby("group")[["ub", "ua"]].sum()
    out = counts.join(money, how="outer").fillna(0).astype(np.int64)
    out = out.assign(before=units_to_float(out["ub"], unit), after=units_to_float(out["ua"], unit),
                     delta=units_to_float(out["ua"] - out["ub"], unit))
    pct = np.where(out["ub"] != 0, (out["ua"] - out["ub"]) / out["ub"].where(out["ub"] != 0, 1), np.nan)
    out["delta_share"] = pct
    return out.drop(columns=["ub", "ua"]).rename_axis("group").reset_index()


def _distribution(pairs: pd.DataFrame, p1: Policy, p2: Policy) -> pd.DataFrame:
    """Per grade, best first: how many graded rows before and after, and the shares."""
    scale = [*(p2.grading.scale.grades if p2.grading else []),
             *(p1.grading.scale.grades if p1.grading else [])]
    label: dict[str, str] = {}
    for g in scale:
        label.setdefault(g.name, g.label or g.name)
    labels = {name: label[name] for name in grade_order(p2, p1)}  # best first, as moves ranks
    before = pairs["grade_before"].value_counts()
    after = pairs["grade_after"].value_counts()
    out = pd.DataFrame({"grade": list(labels), "label": list(labels.values())})
    out["before"] = out["grade"].map(before).fillna(0).astype(np.int64)
    out["after"] = out["grade"].map(after).fillna(0).astype(np.int64)
    out["share_before"] = out["before"] / max(int(out["before"].sum()), 1)
    out["share_after"] = out["after"] / max(int(out["after"].sum()), 1)
    out["change"] = out["after"] - out["before"]
    return out


def _quota_changes(before: Result, after: Result) -> pd.DataFrame:
    """Forced-distribution quotas that differ: rule, period, group, grade, quota before and after."""
    cols = ["rule", "period", "group", "grade", "size", "leader_grade", "quota"]
    parts = []
    for r in (before, after):
        q = r.quotas if r.quotas is not None else pd.DataFrame(columns=cols)
        parts.append(q[[c for c in cols if c in q.columns]].astype(object))
    key = ["rule", "period", "group", "grade"]
    m = parts[0].merge(parts[1], on=key, how="outer", suffixes=("_before", "_after"))
    changed = m["quota_before"].fillna(-1).astype(np.int64) != m["quota_after"].fillna(-1).astype(np.int64)
    return m[changed].reset_index(drop=True)


def impact(p1: Policy, p2: Policy, data: Any, by: str | None = None) -> Impact:
    """Run ``p1`` and ``p2`` on the same ``data`` and measure the difference.

    ``data`` is anything ``calib.run`` takes. ``by`` chooses the groups: ``None`` (or ``"group"``)
    for the quota group of the grading (the rule's name where grades come from thresholds), or a
    column of the people table such as ``department``. See ``Impact`` for the tables.
    """
    before, after, people = _run_both(p1, p2, data)
    units = [0.01, *(p.pay.unit for p in (p1, p2) if p.pay is not None)]
    unit = min(units)
    pairs = _graded_pairs(before, after)
    moved = moves(before, after)
    pairs = pairs.merge(moved[[*KEYS, "move"]], on=KEYS, how="left").fillna({"move": ""})
    group_of = _grouper(pairs, people, by, p2.inputs.id)
    pairs["group"] = group_of(pairs)
    pay = _payouts(before, after, group_of, unit)
    labels = pairs[[*KEYS, "group", "grade_label_before", "grade_label_after"]]
    grade_changes = moved.merge(labels, on=KEYS, how="left")[
        [*KEYS, "group", "move", "grade_before", "grade_after", "grade_label_before",
         "grade_label_after", *COLUMNS[5:]]]
    return Impact(
        before=before, after=after, parameters=diff_policies(p1, p2),
        grade_changes=grade_changes.reset_index(drop=True),
        payouts=pay.drop(columns="units_delta"),
        groups=_group_table(pairs, pay, unit), distribution=_distribution(pairs, p1, p2),
        quotas=_quota_changes(before, after), by=by or "group", unit=unit,
        units_before=int(to_units(pay["before"].to_numpy(), unit).sum()),
        units_after=int(to_units(pay["after"].to_numpy(), unit).sum()),
    )


# --- workbook ---------------------------------------------------------------------------------------
MONEY_COLUMNS = {"before", "after", "delta", "payout_old", "payout_new", "payout_delta",
                 "payout_before", "payout_after", "payout_change"}


def _cell_formats(name: str, sheet: str, scheme: SchemeFormats) -> str | None:
    if name.startswith("share") or name == "delta_share":
        return PERCENT
    if name.startswith("score"):
        return scheme.score
    if name in MONEY_COLUMNS and sheet not in ("distribution", "parameters"):
        return scheme.money
    return None


def write_workbook(path: str | Path, sheets: dict[str, pd.DataFrame],
                   scheme: SchemeFormats | None = None) -> None:
    """Write tables to an .xlsx: headers frozen, numbers as numbers, money and scores in the
    ``scheme``'s formats (``calib._util.excel_formats``; default: cents, two decimals), text (ids,
    groups, policy paths and values) always as text, never a formula (``calib._util.xlsx``).
    """
    from calib._util.outputs import atomic_path

    scheme = scheme or SchemeFormats()
    tables = {name: Table(frame, {str(c): f for c in frame.columns
                                  if (f := _cell_formats(str(c), name, scheme))})
              for name, frame in sheets.items()}
    with atomic_path(path) as temp:
        write_tables(temp, tables)


def diff_to_excel(diff: pd.DataFrame, path: str | Path) -> None:
    """Write a policy diff alone (no data to measure it on) as a one-sheet workbook."""
    write_workbook(path, {"parameters": diff})


# --- appeal re-run (R37) ----------------------------------------------------------------------------
def read_results(source: str | Path) -> pd.DataFrame:
    """A previous ``results.csv``, from its path or from the ``--out`` folder of the run that wrote it."""
    path = Path(source)
    if path.is_dir():
        path = path / "results.csv"
    if not path.is_file():
        raise CalibError(f"previous results not found: {path} does not exist; give the --out folder of "
                         f"an earlier run or the results.csv it wrote")
    text = {c: str for c in ("id", "period", "level", "status", "grade", "grade_label")}
    # calib wrote it with csv_safe (a leading ' before text Excel would take for a formula): undone
    return csv_unsafe(pd.read_csv(path, dtype=text, keep_default_na=False, na_values=[""]))


def _side(table: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    out = table[key].astype(str)
    out["score"] = pd.to_numeric(table["score"], errors="coerce") if "score" in table else np.nan
    out["grade"] = table["grade"].astype(object) if "grade" in table else None
    out["payout"] = pd.to_numeric(table["payout"], errors="coerce") if "payout" in table else np.nan
    return out


def _differs(a: pd.Series, b: pd.Series, tol: float = 0.0) -> np.ndarray:
    """Element-wise difference where two missing values are equal."""
    na, nb = a.isna().to_numpy(), b.isna().to_numpy()
    if tol:
        both = ~na & ~nb
        diff = np.zeros(len(a), dtype=bool)
        diff[both] = np.abs(a.to_numpy(float)[both] - b.to_numpy(float)[both]) > tol
    else:
        diff = (a.astype(object).to_numpy() != b.astype(object).to_numpy()) & ~na & ~nb
    return diff | (na != nb)


def _why(m: pd.DataFrame, score: np.ndarray, grade: np.ndarray, ids: set[str] | None) -> np.ndarray:
    own = m["id"].isin(ids).to_numpy() if ids is not None else score
    return np.select(
        [m["_merge"].eq("left_only").to_numpy(), m["_merge"].eq("right_only").to_numpy(),
         score & own, score, grade, own],
        ["row removed", "row added", "input changed", "score moved by others' input",
         "moved by quota", "input changed"],
        default="payout moved by others")


def compare_results(old: pd.DataFrame | str | Path, new: pd.DataFrame | Result,
                    key: Iterable[str] = ("id", "period", "level"),
                    changed_ids: Iterable[object] | None = None, unit: float = 0.01) -> pd.DataFrame:
    """The result rows that differ between a previous run and a re-run (appeals, R37).

    ``old`` is a previous ``results.csv`` (its path, its run's folder, or the table); ``new`` the new
    results (``calib.io.report.results_table(result)``, or the ``Result``). One row per key whose score,
    grade or payout changed, with old and new values, the payout delta and ``why``:

    - ``input changed``: the person's own input changed (an id in ``changed_ids``; without it, any
      row whose score changed);
    - ``moved by quota``: same score, other grade: the forced distribution (or a cascade) moved them
      because someone else's result changed;
    - ``score moved by others' input`` (a team or relative score), ``payout moved by others`` (a
      shared pool, a streak), ``row added`` / ``row removed``;
    - ``overridden: …``: a calibration session's override of that row (what, the reason, by whom).
    """
    from calib.io.report import results_table

    old = read_results(old) if isinstance(old, str | Path) else old
    new = results_table(new) if isinstance(new, Result) else new
    key = list(key)
    for name, table in (("previous", old), ("new", new)):
        missing = [k for k in key if k not in table.columns]
        if missing:
            raise CalibError(f"the {name} results have no column {', '.join(map(repr, missing))}; "
                             f"columns are: {', '.join(map(str, table.columns))}")
    m = _side(old, key).merge(_side(new, key), on=key, how="outer",
                                    suffixes=("_old", "_new"), indicator=True)
    cents = {s: pd.Series(to_units(m[f"payout_{s}"].fillna(0).to_numpy(), unit), index=m.index)
             .where(m[f"payout_{s}"].notna()) for s in ("old", "new")}
    score = _differs(m["score_old"], m["score_new"], tol=REL)
    grade = _differs(m["grade_old"], m["grade_new"])
    pay = _differs(cents["old"], cents["new"])
    ids = None if changed_ids is None else {str(i) for i in changed_ids}
    m["payout_delta"] = units_to_float((cents["new"] - cents["old"]).fillna(0).to_numpy(np.int64), unit)
    m.loc[cents["new"].isna() | cents["old"].isna(), "payout_delta"] = np.nan
    m["why"] = _why(m, score, grade, ids)
    if "override" in new.columns:  # a calibration session's overrides say why themselves
        said = m[key].merge(new[[*key, "override"]].astype({k: str for k in key}), on=key,
                            how="left")["override"].fillna("").to_numpy()
        m["why"] = np.where(said != "", "overridden: " + said.astype(object), m["why"])
    changed = score | grade | pay | (m["_merge"] != "both").to_numpy()
    cols = [*key, "score_old", "score_new", "grade_old", "grade_new", "payout_old", "payout_new",
            "payout_delta", "why"]
    return m.loc[changed, cols].reset_index(drop=True)
