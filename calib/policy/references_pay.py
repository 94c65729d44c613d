"""Cross-part checks of the grading and pay sections: grades, scorecards, columns and tables
they name must exist, and every cascade has a ratio row for every grade a leader can get.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calib.policy.pay import (
    Amount,
    Commission,
    GradeCoefficient,
    Lateness,
    PerUnit,
    PieceRate,
    TeamMean,
    Workload,
)

if TYPE_CHECKING:
    from calib.policy.references import _Checker


def _grades(c: _Checker, path: str, names: list[str]) -> None:
    scale = c.p.grading.scale.names() if c.p.grading else []
    for name in names:
        if name not in scale:
            c.add(f"{path}.{name}", f"grade '{name}' is not defined in grading.scale; defined: "
                  + (", ".join(scale) or "none (no grading section)"))


def _priced(c: _Checker, path: str, priced: list[str], what: str) -> None:
    """Every grade of the scale has a price in a grade table of pay: a grade left out would be
    paid 0 without a word (a grade the pay cannot price is a contradiction, not a default).
    """
    if c.p.grading is None:
        return
    missing = [n for n in c.p.grading.scale.names() if n not in priced]
    if missing:
        c.add(path, f"grade(s) {', '.join(missing)} of grading.scale have no {what}, so people "
              f"graded so would be paid nothing by it without a word; give every grade a {what} "
              "(0 if that grade really gets nothing)")


def _on(c: _Checker, path: str, on: str) -> None:
    if on != "period" and on not in c.p.rollups:
        c.add(path, f"'{on}' is neither 'period' nor a roll-up; roll-ups: "
              + (", ".join(c.p.rollups) or "none"))


def check_grading(c: _Checker) -> None:
    """Every reference made by ``grading``."""
    g = c.p.grading
    if g is None:
        return
    _on(c, "grading.on", g.on)
    covered: dict[str, str] = {}
    for name, rule in g.rules.items():
        _check_rule(c, name, rule, covered)
    _check_ranking(c)


def _check_rule(c: _Checker, name: str, rule, covered: dict[str, str]) -> None:
    g = c.p.grading
    assert g is not None
    path = f"grading.rules.{name}"
    cards = rule.scorecards or list(c.p.scorecards)
    for i, card in enumerate(rule.scorecards):
        if card not in c.p.scorecards:
            c.add(f"{path}.scorecards[{i}]", f"scorecard '{card}' is not defined; defined: "
                  + ", ".join(c.p.scorecards))
    for card in cards:
        if card in covered:
            c.add(f"{path}.scorecards", f"scorecard '{card}' is graded by both "
                  f"'{covered[card]}' and '{name}'; give each scorecard one rule")
        covered[card] = name
    needs_thresholds = rule.method == "thresholds" or any(
        s is not None and s.small_groups.rule == "thresholds"
        for s in (rule.forced, rule.cascade))
    if needs_thresholds and not g.scale.has_thresholds():
        c.add(f"{path}.method", "grading by thresholds needs a 'min' on every grade of "
              "grading.scale but the last")
    if rule.forced is not None:
        _grades(c, f"{path}.forced.ratios", list(rule.forced.ratios))
        for i, col in enumerate(rule.forced.by):
            c.row_column(f"{path}.forced.by[{i}]", col)
        for i, key in enumerate(rule.forced.ties.by):
            c.row_column(f"{path}.forced.ties.by[{i}].column", key.column)
    if rule.cascade is not None:
        _check_cascade(c, path, rule.cascade, name)
    if rule.given is not None:
        c.row_column(f"{path}.given.column", rule.given.column)


def _check_ranking(c: _Checker) -> None:
    g = c.p.grading
    assert g is not None
    if g.ranking is not None:
        for i, col in enumerate(g.ranking.by):
            c.row_column(f"grading.ranking.by[{i}]", col)
        if g.ranking.demote is not None:
            c.row_column("grading.ranking.demote", g.ranking.demote)
        for i, key in enumerate(g.ranking.ties):
            c.row_column(f"grading.ranking.ties[{i}].column", key.column)
        if g.ranking.on is not None:
            _value(c, "grading.ranking.on", g.ranking.on)
            if g.on != "period":
                c.add("grading.ranking.on", f"a rank on '{g.ranking.on}' is given on the period "
                      f"rows, but the grades are on '{g.on}'; rank on the score there, or grade "
                      "on the periods")
    for name, streak in g.streaks.items():
        if streak.when.grade_in:
            _grades(c, f"grading.streaks.{name}.when.grade_in", streak.when.grade_in)
        if streak.when.rank is not None and g.ranking is None:
            c.add(f"grading.streaks.{name}.when.rank", "a rank streak needs grading.ranking")


def _check_cascade(c: _Checker, path: str, cascade, name: str) -> None:
    g = c.p.grading
    assert g is not None
    if cascade.leaders not in c.p.scorecards:
        c.add(f"{path}.cascade.leaders", f"scorecard '{cascade.leaders}' is not defined")
    else:
        graders = [n for n, r in g.rules.items()
                   if cascade.leaders in (r.scorecards or list(c.p.scorecards))]
        if not graders or any(g.rules[n].method == "cascade" for n in graders):
            c.add(f"{path}.cascade.leaders", f"the leaders' scorecard '{cascade.leaders}' must "
                  "be graded by a thresholds or forced rule (their grade picks the ratios)")
    c.row_column(f"{path}.cascade.team", cascade.team)
    c.row_column(f"{path}.cascade.leader", cascade.leader)
    for leader_grade, row in cascade.ratios.items():
        _grades(c, f"{path}.cascade.ratios", [leader_grade])
        _grades(c, f"{path}.cascade.ratios.{leader_grade}", list(row))
    missing = [n for n in g.scale.names() if n not in cascade.ratios]
    if missing:
        c.add(f"{path}.cascade.ratios", "a ratio row is missing for leader grade(s) "
              f"{', '.join(missing)}; every grade a leader can get needs a row")


def _amount(c: _Checker, path: str, amount: Amount | None) -> None:
    if amount is None:
        return
    if amount.column is not None:
        c.row_column(f"{path}.column", amount.column)
    if amount.by is not None:
        c.row_column(f"{path}.by", amount.by)


def check_pay(c: _Checker) -> None:
    """Every reference made by ``pay``."""
    pay = c.p.pay
    if pay is None:
        return
    _on(c, "pay.on", pay.on)
    for name, comp in pay.components.items():
        _check_component(c, f"pay.components.{name}", comp)
        if isinstance(comp, TeamMean):
            _check_team_mean(c, name, comp)
    _check_pool_merit(c)


def _check_component(c: _Checker, path: str, comp) -> None:
    _check_values(c, path, comp)
    for key in ("base", "benchmark"):
        _amount(c, f"{path}.{key}", getattr(comp, key, None))
    if comp.when is not None:
        c.condition(f"{path}.when", comp.when)
    if isinstance(comp, GradeCoefficient):
        _grades(c, f"{path}.coefficients", list(comp.coefficients))
        _priced(c, f"{path}.coefficients", list(comp.coefficients), "coefficient")
    for key in ("column", "floor_by", "mean_by"):
        col = getattr(comp, key, None)
        if col is not None and isinstance(comp, PerUnit) and key == "column":
            _value(c, f"{path}.column", col)  # per unit of a KPI's points too: 全勤 (1/0) × 50
        elif col is not None:
            c.row_column(f"{path}.{key}", col)
    if isinstance(comp, Lateness):
        c.column(f"{path}.minutes", comp.table, comp.minutes, numeric=True)


def _check_team_mean(c: _Checker, name: str, comp: TeamMean) -> None:
    """R19 in pay: the team column, the members' scorecards, and what is averaged (the score, or
    another component, paid first whatever the order listed: no circle of averages).
    """
    path = f"pay.components.{name}"
    c.row_column(f"{path}.team", comp.team)
    for i, card in enumerate(comp.members):
        if card not in c.p.scorecards:
            c.add(f"{path}.members[{i}]", f"scorecard '{card}' is not defined; defined: "
                  + ", ".join(c.p.scorecards))
    if comp.of == "score":
        return
    assert c.p.pay is not None
    comps = c.p.pay.components
    if comp.of not in comps:
        c.add(f"{path}.of", f"'{comp.of}' is neither 'score' nor a component of pay.components; "
              "components: " + ", ".join(comps))
        return
    chain = [name]
    while True:
        here = comps[chain[-1]]
        if not isinstance(here, TeamMean) or here.of not in comps:
            return
        nxt = here.of
        if nxt in chain:
            if nxt == name:  # reported at each component of the circle, not before it
                c.add(f"{path}.of", "components average each other's amounts in a circle: "
                      + " → ".join([*chain, nxt]) + "; average the score or a component that "
                      "averages nothing")
            return
        chain.append(nxt)


def _check_values(c: _Checker, path: str, comp) -> None:
    if isinstance(comp, Workload):
        _value(c, f"{path}.workload", comp.workload)
        if isinstance(comp.benchmark_bonus, Amount):
            _amount(c, f"{path}.benchmark_bonus", comp.benchmark_bonus)
        if comp.days is not None:
            c.row_column(f"{path}.days", comp.days)
        if comp.multiplier is not None:
            _value(c, f"{path}.multiplier", comp.multiplier)
        for i, col in enumerate(comp.extra):
            c.row_column(f"{path}.extra[{i}]", col)
    if isinstance(comp, PieceRate):
        for col in comp.rates:
            c.row_column(f"{path}.rates.{col}", col)
    if isinstance(comp, Commission):
        _value(c, f"{path}.output", comp.output)


def _check_pool_merit(c: _Checker) -> None:
    pay = c.p.pay
    assert pay is not None
    if pay.pool is not None:
        _amount(c, "pay.pool.base", pay.pool.base)
        _amount(c, "pay.pool.cap", pay.pool.cap)
        _amount(c, "pay.pool.floor", pay.pool.floor)
        _grades(c, "pay.pool.coefficients", list(pay.pool.coefficients))
        if pay.pool.coefficients:
            _priced(c, "pay.pool.coefficients", list(pay.pool.coefficients), "coefficient")
        if pay.pool.by is not None:
            c.row_column("pay.pool.by", pay.pool.by)
    if pay.merit is not None:
        c.row_column("pay.merit.pay", pay.merit.pay)
        _amount(c, "pay.merit.midpoint", pay.merit.midpoint)
        _grades(c, "pay.merit.rows", [r.grade for r in pay.merit.rows])
        _priced(c, "pay.merit.rows", [r.grade for r in pay.merit.rows], "merit row")


def _value(c: _Checker, path: str, name: str) -> None:
    """A value pay reads: a KPI's points, a measure, a section, or a column."""
    p = c.p
    if name in p.kpis or name in p.measures or name in p.sections:
        return
    c.row_column(path, name)


def check_outcomes(c: _Checker) -> None:
    """Every reference made by ``outcomes``: grades, flags and KPIs that exist, on rows that
    have them (grades and flags on the graded rows, KPI points on the period rows).
    """
    g = c.p.grading
    graded_on = g.on if g is not None else "period"
    for name, outcome in (c.p.outcomes or {}).items():
        path = f"outcomes.{name}"
        on = outcome.on or graded_on
        if outcome.on is not None:
            _on(c, f"{path}.on", outcome.on)
        when = outcome.when
        if when.grade_in is not None:
            _grades(c, f"{path}.when.grade_in", when.grade_in)
        if (when.grade_in is not None or when.flag is not None) and g is not None and on != g.on:
            c.add(f"{path}.on", f"grades and flags are given on '{g.on}', not on '{on}'; "
                  f"judge this outcome on '{g.on}' (leave 'on' out)")
        if when.flag is not None and (g is None or when.flag not in g.streaks):
            c.add(f"{path}.when.flag", f"'{when.flag}' is not a streak of grading.streaks; "
                  "streaks: " + (", ".join(g.streaks) if g is not None and g.streaks else "none"))
        for kpi in when.kpi_below or {}:
            if kpi not in c.p.kpis:
                c.add(f"{path}.when.kpi_below.{kpi}", f"KPI '{kpi}' is not defined; KPIs: "
                      + ", ".join(c.p.kpis))
        if when.kpi_below is not None and on != "period":
            c.add(f"{path}.on", f"KPI points are given per period, not on '{on}'; set on: period "
                  "for an outcome raised by a KPI's shortfall")
        _check_outcome_ranks(c, path, on, when)


def _check_outcome_ranks(c: _Checker, path: str, on: str, when) -> None:
    """``rank`` and ``rank_by`` place rows in the grading's ranking groups of each period: they
    need a ranking, grades per period and an outcome judged on them, and numeric columns.
    """
    if when.rank is None and when.rank_by is None:
        return
    g = c.p.grading
    key = "rank" if when.rank is not None else "rank_by"
    if g is None or g.ranking is None:
        c.add(f"{path}.when.{key}", "a place in a ranking needs grading.ranking (its groups, e.g. "
              "ranking: {by: [shop]}); add one, or remove " + key)
    elif g.on != "period" or on != "period":
        c.add(f"{path}.when.{key}", f"places are given among the rows graded per period; set "
              f"grading.on and this outcome's on to period (now '{g.on}' and '{on}')")
    for col in when.rank_by or {}:
        c.column(f"{path}.when.rank_by.{col}", "records", col, numeric=True)
