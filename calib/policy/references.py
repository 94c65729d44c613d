"""Checks that every name a policy uses is defined: columns, tables, measures, KPIs, sections.

Pydantic checks each part on its own; these checks look across parts and report every problem at
once, each with the path of the offending value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calib.errors import PolicyIssue
from calib.policy.base import Condition
from calib.policy.measures import (
    AggregateMeasure,
    RatingMeasure,
    RatioMeasure,
    SlaMeasure,
)
from calib.policy.rules import LabelPoints
from calib.policy.scoring import Adjustments

if TYPE_CHECKING:
    from calib.policy.model import Policy

NUMERIC = {"int", "float", "bool"}


def _known(names, kind: str) -> str:
    names = sorted(names)
    return f"known {kind}: {', '.join(names)}" if names else f"no {kind} are declared"


class _Checker:
    def __init__(self, policy: Policy):
        self.p = policy
        self.issues: list[PolicyIssue] = []

    def add(self, path: str, message: str) -> None:
        self.issues.append(PolicyIssue(path, message))

    def column(self, path: str, table: str, column: str, numeric: bool = False) -> None:
        spec = self.p.inputs.table(table) if table in self.p.inputs.table_names() else None
        if spec is None:
            self.add(path, f"table '{table}' is not declared under inputs; "
                     + _known(self.p.inputs.table_names(), "tables"))
            return
        col = spec.columns.get(column)
        if col is None:
            where = "inputs." + (table if table in ("people", "records") else f"events.{table}")
            self.add(path, f"column '{column}' is not declared in {where}.columns; "
                     + _known(spec.columns, "columns"))
        elif numeric and col.type not in NUMERIC:
            self.add(path, f"column '{column}' is '{col.type}', but a number is needed here")

    def row_column(self, path: str, column: str) -> None:
        """A column of the person-period row: records, or people (joined on the id)."""
        if column in self.p.inputs.records.columns or column in self.p.inputs.people.columns:
            return
        self.add(path, f"column '{column}' is declared neither in inputs.records nor in "
                 f"inputs.people; " + _known(
                     {*self.p.inputs.records.columns, *self.p.inputs.people.columns}, "columns"))

    def condition(self, path: str, cond: Condition) -> None:
        self.row_column(f"{path}.column", cond.column)


def _check_inputs(c: _Checker) -> None:
    inputs = c.p.inputs
    for name in inputs.table_names():
        spec = inputs.table(name)
        base = "inputs." + (name if name in ("people", "records") else f"events.{name}")
        for key in ("period", "date"):
            col = getattr(spec, key)
            if col is not None and col not in spec.columns and col != inputs.id:
                c.add(f"{base}.{key}", f"column '{col}' is not declared in {base}.columns")
        if name not in ("people", "records") and spec.period is None and spec.date is None:
            c.add(base, "an event table needs 'period' or 'date' to place its rows in a period")
        for cname, col in spec.columns.items():
            if col.type == "label" and not col.labels and not _label_rules_for(c.p, cname):
                c.add(f"{base}.columns.{cname}.labels",
                      "a 'label' column needs its allowed labels, here or in a labels rule")


def _label_rules_for(policy: Policy, column: str) -> list[str]:
    return [k for k, kpi in policy.kpis.items()
            if isinstance(kpi.rule, LabelPoints) and kpi.column == column]


def _check_measures(c: _Checker) -> None:
    for name, m in c.p.measures.items():
        path = f"measures.{name}"
        if isinstance(m, SlaMeasure):
            for key in ("received", "answered", "category"):
                c.column(f"{path}.{key}", m.table, getattr(m, key))
        elif isinstance(m, RatingMeasure):
            c.column(f"{path}.rater", m.table, m.rater)
            c.column(f"{path}.score", m.table, m.score, numeric=True)
        elif isinstance(m, AggregateMeasure) and m.table is not None:
            for i, col in enumerate(m.columns_):
                c.column(f"{path}.columns[{i}]", m.table, col, numeric=True)
            if m.where is not None:
                c.column(f"{path}.where.column", m.table, m.where.column)
        elif isinstance(m, RatioMeasure) and m.table is not None:
            for i, col in enumerate([*m.numerator, *m.denominator]):
                key = "numerator" if i < len(m.numerator) else "denominator"
                j = i if i < len(m.numerator) else i - len(m.numerator)
                c.column(f"{path}.{key}[{j}]", m.table, col, numeric=True)
        else:
            for col in m.columns():
                c.column(path, "records", col, numeric=True)
        _check_measure_scope(c, path, m)


def _check_measure_scope(c: _Checker, path: str, m: object) -> None:
    if isinstance(m, RatioMeasure | AggregateMeasure) and m.group_by is not None:
        c.row_column(f"{path}.group_by", m.group_by)


def _check_kpis(c: _Checker) -> None:
    for name, kpi in c.p.kpis.items():
        path = f"kpis.{name}"
        if kpi.measure is not None and kpi.measure not in c.p.measures:
            c.add(f"{path}.measure", f"measure '{kpi.measure}' is not defined; "
                  + _known(c.p.measures, "measures"))
        if kpi.column is not None:
            is_label = isinstance(kpi.rule, LabelPoints)
            if kpi.column not in c.p.inputs.records.columns:
                c.column(f"{path}.column", "records", kpi.column)
            elif not is_label:
                c.column(f"{path}.column", "records", kpi.column, numeric=True)
        if isinstance(kpi.rule, LabelPoints) and kpi.column is None:
            c.add(f"{path}.rule", "a labels rule reads a label column: give the KPI a 'column'")


def _check_tree(c: _Checker) -> None:
    p = c.p
    both = set(p.kpis) & set(p.sections)
    for name in sorted(both):
        c.add(f"sections.{name}", f"'{name}' is both a KPI and a section; rename one")
    for name, sec in p.sections.items():
        key = "weights" if sec.weights is not None else "items"
        for i, child in enumerate(sec.children()):
            if child not in p.kpis and child not in p.sections:
                where = f"sections.{name}.{key}." + (child if key == "weights" else f"[{i}]")
                c.add(where.replace(".[", "["), f"'{child}' is neither a KPI nor a section; "
                      + _known([*p.kpis, *p.sections], "KPIs and sections"))
        for i, veto in enumerate(sec.vetoes):
            c.condition(f"sections.{name}.vetoes[{i}].when", veto.when)
    _check_cycles(c)
    _check_cards(c)


def _check_cards(c: _Checker) -> None:
    p = c.p
    for name, card in p.scorecards.items():
        path = f"scorecards.{name}"
        if card.root is not None and card.root not in p.sections and card.root not in p.kpis:
            c.add(f"{path}.root", f"'{card.root}' is neither a section nor a KPI; "
                  + _known([*p.sections, *p.kpis], "sections and KPIs"))
        if card.when is not None:
            c.condition(f"{path}.when", card.when)
        if card.team is not None:
            c.row_column(f"{path}.team.team", card.team.team)
        if card.adjustments is not None:
            adj = card.adjustments
            c.column(f"{path}.adjustments.points", adj.table, adj.points, numeric=True)
            if adj.approved is not None:
                c.column(f"{path}.adjustments.approved", adj.table, adj.approved)
            if adj.authority is not None:
                _check_authority(c, f"{path}.adjustments", adj)
            if adj.group_average is not None:
                c.row_column(f"{path}.adjustments.group_average.by", adj.group_average.by)
        if card.bonus is not None:
            c.column(f"{path}.bonus.column", "records", card.bonus.column, numeric=True)
        for i, veto in enumerate(card.vetoes):
            c.condition(f"{path}.vetoes[{i}].when", veto.when)
    defaults = [n for n, card in p.scorecards.items() if card.when is None]
    if len(defaults) > 1:
        c.add(f"scorecards.{defaults[1]}.when",
              f"scorecards {', '.join(repr(d) for d in defaults)} have no 'when', so each would "
              "apply to everyone; give all but one a condition")


def _check_authority(c: _Checker, path: str, adj: Adjustments) -> None:
    """R16 authority: its column is the events table's, and every level a role may confirm is
    one of the allowed ``levels`` (a level no event can have is a typo).
    """
    assert adj.authority is not None, "only called with an authority"
    c.column(f"{path}.authority.column", adj.table, adj.authority.column)
    if adj.levels is None:
        return
    allowed = {round(v, 9) for v in adj.levels}
    for role, levels in adj.authority.roles.items():
        if levels == "all":
            continue
        for i, v in enumerate(levels):
            if round(v, 9) not in allowed:
                c.add(f"{path}.authority.roles.{role}[{i}]", f"{v:+g} is not one of the levels "
                      f"({', '.join(f'{x:+g}' for x in adj.levels)}); use one of them or add it "
                      f"to {path}.levels")


def _check_cycles(c: _Checker) -> None:
    p = c.p
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2 or name not in p.sections:
            return
        if state.get(name) == 1:
            cycle = " → ".join([*trail[trail.index(name):], name])
            c.add(f"sections.{name}", f"sections refer to each other in a circle: {cycle}")
            return
        state[name] = 1
        for child in p.sections[name].children():
            visit(child, [*trail, name])
        state[name] = 2

    for name in p.sections:
        visit(name, [])


def _check_periods(c: _Checker) -> None:
    p = c.p
    for i, rule in enumerate(p.eligibility.not_rated):
        c.condition(f"eligibility.not_rated[{i}].when", rule.when)
    pro = p.eligibility.proration
    if pro is not None:
        if pro.days is not None:
            c.column("eligibility.proration.days", "records", pro.days, numeric=True)
        for key in ("hired", "left"):
            if getattr(pro, key) is not None:
                c.column(f"eligibility.proration.{key}", "people", getattr(pro, key))
    for name, roll in p.rollups.items():
        for i, part in enumerate(roll.parts):
            if part.source != "score":
                c.column(f"rollups.{name}.parts[{i}].column", part.source, part.column or "",
                         numeric=True)
        for i, add in enumerate(roll.add):
            c.column(f"rollups.{name}.add[{i}].column", add.source, add.column, numeric=True)
        for i, veto in enumerate(roll.vetoes):
            c.condition(f"rollups.{name}.vetoes[{i}].when", veto.when)


_TUNABLE: dict[str, frozenset[str]] = {}


def _shape(node: object) -> object:
    """The policy's structure with every number blanked: tunable paths depend on it alone."""
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in node.items() if k != "ranges"}
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return 0 if isinstance(node, int | float) and not isinstance(node, bool) else node


def _tunable_paths(policy: Policy) -> frozenset[str]:
    """Paths of the tunable numbers, remembered per structure (sliders re-validate often)."""
    import json

    from calib.policy.paths import list_params

    key = json.dumps(_shape(policy.to_dict()), sort_keys=True, default=str)
    if key not in _TUNABLE:
        if len(_TUNABLE) > 64:
            _TUNABLE.clear()
        _TUNABLE[key] = frozenset(p.path for p in list_params(policy))
    return _TUNABLE[key]


def _check_ranges(c: _Checker) -> None:
    from calib.policy.paths import get_path

    data = c.p.to_dict()
    tunable = _tunable_paths(c.p) if c.p.ranges else set()
    for path, rng in c.p.ranges.items():
        try:
            value = get_path(data, path)
        except KeyError as exc:
            c.add(f"ranges.{path}", str(exc.args[0]))
            continue
        if not isinstance(value, int | float) or isinstance(value, bool):
            c.add(f"ranges.{path}", f"'{path}' is not a number (it is {value!r})")
            continue
        if path not in tunable:
            c.add(f"ranges.{path}", f"'{path}' is not a tunable number (see `calib params`)")
            continue
        if rng.min is not None and rng.max is not None and rng.min > rng.max:
            c.add(f"ranges.{path}", f"min ({rng.min}) is above max ({rng.max})")
        elif (rng.min is not None and value < rng.min) or (rng.max is not None and value > rng.max):
            c.add(path, f"{value} is outside the range [{rng.min}, {rng.max}] declared for it "
                  "under 'ranges'")


def check_references(policy: Policy) -> list[PolicyIssue]:
    """Every cross-part problem of ``policy``, each with its path (empty when all is well)."""
    c = _Checker(policy)
    from calib.policy.budgets import check_budgets
    from calib.policy.references_pay import check_grading, check_outcomes, check_pay

    for step in (_check_inputs, _check_measures, _check_kpis, _check_tree, _check_periods,
                 _check_ranges, check_grading, check_pay, check_outcomes, check_budgets):
        step(c)
    return c.issues


class _Recorder(_Checker):
    """A checker that also notes every column the policy reads and the text it compares them with."""

    def __init__(self, policy: Policy):
        super().__init__(policy)
        self.columns: dict[str, set[str]] = {}

    def column(self, path: str, table: str, column: str, numeric: bool = False) -> None:
        self.columns.setdefault(column, set())
        super().column(path, table, column, numeric)

    def row_column(self, path: str, column: str) -> None:
        self.columns.setdefault(column, set())
        super().row_column(path, column)

    def condition(self, path: str, cond: Condition) -> None:
        items = cond.operand if cond.op in ("in", "not_in") else [cond.operand]
        self.columns.setdefault(cond.column, set()).update(
            x for x in items if isinstance(x, str))
        super().condition(path, cond)


def read_columns(policy: Policy) -> dict[str, frozenset[str]]:
    """Every column the policy reads (groups, conditions, measures, ...), with the text values its
    conditions compare the column with (``when: {column: position, eq: lead}`` gives
    ``{'position': {'lead'}}``). The data checks use it to find values that differ from one
    another or from the policy only in case, width or spaces.
    """
    c = _Recorder(policy)
    from calib.policy.budgets import check_budgets
    from calib.policy.references_pay import check_grading, check_pay

    for step in (_check_inputs, _check_measures, _check_kpis, _check_tree, _check_periods,
                 _check_ranges, check_grading, check_pay, check_budgets):
        step(c)
    return {k: frozenset(v) for k, v in c.columns.items()}
