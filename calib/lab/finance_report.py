"""The finance app's logic (``./dev app finance``, notebook 04) as plain functions: what the app
shows, computed and worded without widgets, so that it is tested and timed on its own.

The budget is typed **per pay period** (a month, or a year for a yearly bonus) as people write
money (``139,000``, ``139000.50``, ``139 000 CNY``); :func:`parse_money` reads it or says what
to type. The solver meets that budget over the whole history (budget × the history's pay
periods), the Monte Carlo reads it over a year (budget × the pay periods in twelve months).
Every figure is worded by ``calib.lab.whatif_format`` (separators, the pay unit, the currency).
"""

from __future__ import annotations

import html
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

import calib
from calib.analysis import budget as finance
from calib.analysis.calibrate import sensitivity, solve_budget
from calib.lab import charts
from calib.lab import whatif_format as f
from calib.policy.model import Policy
from calib.simulate import Simulation, simulate

MIN_SCENARIOS = 20
"""The fewest simulated years the app runs (fewer give no P95 worth reading)."""

MAX_SCENARIOS = 5000
"""The most simulated years the app runs (about a second on the bundled examples)."""

DEFAULT_SCENARIOS = 200
"""The simulated years the app starts with."""

SEED = 1
"""The seed of the app's Monte Carlo: the same figures every time for the same inputs."""

_PLAIN = re.compile(r"^\d+(\.\d+)?$")
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_CURRENCY = re.compile(r"^(?:[¥￥$€£]|[A-Za-z]{3}\b)\s*|\s*(?:[¥￥$€£]|[A-Za-z]{3}|元)$")


def parse_money(text: str, currency: str = "") -> float:
    """A budget typed as people write money: ``139,000``, ``139000.50``, ``139 000``, ``¥139,000``
    or ``139,000 CNY``.

    Raises
    ------
    CalibError
        Empty, not a number, negative or zero, or ambiguous (``139.000,50``: a decimal comma is
        refused rather than guessed), with what to type.
    """
    raw = str(text).strip()
    example = f"e.g. 139,000 or 139000.50{' ' + currency if currency else ''}"
    if not raw:
        raise calib.CalibError(f"no budget typed. Fix: type the budget per pay period, {example}")
    body = _CURRENCY.sub("", raw.replace("，", ",").replace("＿", "_")).strip()
    body = re.sub(r"[\s_\u00a0\u202f']", "", body)
    if body.startswith("-") or body.startswith("−"):
        raise calib.CalibError(f"a budget of {raw} is negative. Fix: type the amount that may be paid, "
                               f"{example}")
    if not (_PLAIN.match(body) or _GROUPED.match(body)):
        raise calib.CalibError(f"{raw!r} is not an amount of money. Fix: type digits, with commas "
                               f"between thousands and a point before the cents, {example}")
    value = float(body.replace(",", ""))
    if not math.isfinite(value) or value <= 0:
        raise calib.CalibError(f"a budget of {raw} pays nothing. Fix: type the amount that may be "
                               f"paid per pay period, {example}")
    return value


def unit(policy: Policy) -> float:
    """The pay unit of ``policy`` (0.01: cents; 1: whole units)."""
    return policy.pay.unit if policy.pay is not None else 0.01


def money(policy: Policy, value: Any) -> str:
    """An amount of ``policy``'s pay as people read it: ``3,336,000.00 CNY``."""
    return f.money(value, policy.currency, unit(policy))


def signed(policy: Policy, value: Any) -> str:
    """A gap as people read it: ``+0.05 CNY``, ``−12.00 CNY``."""
    return f.signed_money(value, policy.currency, unit(policy))


@dataclass(frozen=True)
class Horizon:
    """How a budget per pay period reads over the history and over a year."""

    periods: int
    """Pay periods in the history."""
    per_year: float
    """Pay periods in twelve months (12 for monthly pay, 1 for a yearly bonus)."""

    def history(self, budget: float) -> float:
        """The budget for the whole history (what the solver meets)."""
        return budget * self.periods

    def year(self, budget: float) -> float:
        """The budget for a year (what the Monte Carlo reads)."""
        return budget * self.per_year


def horizon(result: calib.Result) -> Horizon:
    """The history's pay periods and the pay periods in a year (0 and 0 when nothing is paid)."""
    per_period = finance.payout_per_period(result)
    return Horizon(0 if per_period is None else int(per_period.size), finance.periods_per_year(result))


def _short(value: Any) -> str:
    """A parameter's value in its shortest form: ``1.2``, ``500``, ``0.004286`` (``—`` if none)."""
    return f.MISSING if f.is_missing(value) else f"{float(value):,.6g}"


def money_parameters(policy: Policy) -> list[tuple[str, str]]:
    """The pay numbers a budget can be solved for, as picker options ``(text, path)``: the money
    amounts and coefficients of the pay section (``policy.params()`` roles money and factor),
    each with its label, current value and allowed range.
    """
    options = []
    for row in finance.budget_parameter(policy).itertuples(index=False):
        parts = str(row.path).split(".")
        what = ".".join(parts[3:]) if len(parts) > 3 else str(row.path)
        low, high = _short(row.min), _short(row.max)
        bounds = "" if f.is_missing(row.min) and f.is_missing(row.max) else (
            f", from {low} to {high}" if not f.is_missing(row.max) else f", at least {low}")
        options.append((f"{row.label or parts[2]} · {what} (now {_short(row.value)}{bounds})",
                        str(row.path)))
    return options


def default_parameter(scenario: calib.Scenario) -> str | None:
    """The parameter the solver starts on: of :func:`money_parameters`, the one whose 5 % move
    changes the history's payout most (a budget is then within reach of the smallest change);
    the first on a tie, None when there is none.
    """
    paths = [path for _, path in money_parameters(scenario.policy)]
    base = scenario.total_payout()
    effect = []
    for path in paths:
        value = float(scenario.policy.get(path))
        try:
            moved = scenario.with_params({path: value * 1.05 if value else 0.05}).total_payout()
        except calib.CalibError:  # a move the policy refuses (out of its range): no effect
            moved = base
        effect.append(abs(moved - base))
    return paths[effect.index(max(effect))] if paths else None


def solve(scenario: calib.Scenario, budget: float, path: str) -> tuple[Policy, dict[str, Any]]:
    """The value of ``path`` that makes the history's payout meet ``budget`` per pay period.

    Returns
    -------
    policy, report
        The tuned policy and ``solve_budget``'s report (``value``, ``total``, ``gap`` …) with
        ``was`` (the value before) and ``per_period`` (the budget typed).

    Raises
    ------
    CalibError
        The budget is out of reach within the parameter's allowed range (both ends' totals
        said), or the scheme pays nothing.
    """
    if scenario.result.payouts is None:
        raise calib.CalibError("this scheme pays nothing: there is no payout to meet a budget with")
    target = horizon(scenario.result).history(budget)
    try:
        tuned, report = solve_budget(scenario, target, path)
    except calib.CalibError as exc:
        raise calib.CalibError(f"{exc}. Fix: pick another parameter, or a budget within that "
                               "range (the history's total ÷ its pay periods)") from exc
    return tuned, {**report, "was": float(scenario.policy.get(path)), "per_period": budget}


def solve_lines(policy: Policy, report: dict[str, Any], label: str) -> list[str]:
    """The solver's answer in words: the value, the total achieved and the gap to the cent."""
    return [f"Set {label} to {float(report['value']):,.10g} (was {float(report['was']):,.10g})",
            f"total over the history {money(policy, report['total'])} for a budget of "
            f"{money(policy, report['budget'])} ({money(policy, report['per_period'])} per pay period)",
            f"gap to the budget {signed(policy, report['gap'])} (was "
            f"{signed(policy, report['before'] - report['budget'])})"]


def scenarios(value: Any) -> int:
    """The number of simulated years typed, checked against the app's bounds."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = -1
    if not MIN_SCENARIOS <= n <= MAX_SCENARIOS:
        raise calib.CalibError(f"{value} simulated years is out of range. Fix: type a whole number "
                               f"from {MIN_SCENARIOS} to {f.integer(MAX_SCENARIOS)}")
    return n


def monte_carlo(policy: Policy, result: calib.Result, n: int, year_budget: float) -> Simulation:
    """``n`` simulated years of ``policy`` on ``result``'s history (seed :data:`SEED`; totals per
    group of the policy's ``budgets:`` when it has them).
    """
    return simulate(policy, result, n=n, seed=SEED, progress=False, budget=year_budget)


def year_figures(sim: Simulation, year_budget: float) -> pd.DataFrame:
    """P50, P90, P95 and mean of the simulated year's payout, the budget and the chance over,
    worded (one row per figure: ``figure``, ``value``).
    """
    policy = sim.policy
    q = sim.quantiles()
    rows = [("P50 (a typical year)", money(policy, q["P50"])),
            ("P90 (a bad year, 1 in 10)", money(policy, q["P90"])),
            ("P95 (a very bad year, 1 in 20)", money(policy, q["P95"])),
            ("mean", money(policy, sim.mean)),
            ("budget for the year", money(policy, year_budget)),
            ("chance of overspending the budget", f.percent(sim.p_over(year_budget)))]
    if sim.history_total is not None:
        rows.insert(4, (f"paid in the last {sim.months} periods of the history",
                        money(policy, sim.history_total)))
    return pd.DataFrame(rows, columns=["figure", "value"])


def envelope_figures(sim: Simulation) -> pd.DataFrame | None:
    """Each group's simulated year against its envelope (the policy's ``budgets:``): P50, P90,
    P95, budget and the chance over, worded; None when the scheme has no budgets per group.

    Raises
    ------
    CalibError
        The scheme has budgets but the simulation could not total its groups (the reason said).
    """
    if sim.policy.budgets is None:
        return None
    if sim.group_totals is None:
        why = next((n for n in sim.notes if "totals per" in n), "the groups could not be simulated")
        raise calib.CalibError(f"no chance per group: {why}")
    risk = sim.envelopes()
    policy = sim.policy
    table = pd.DataFrame({
        risk.index.name or "group": risk.index.astype(str),
        **{c: risk[c].map(lambda v: money(policy, v)) for c in ("P50", "P90", "P95", "budget")},
        "chance over": risk["p_over"].map(f.percent),
        "note": risk["note"].fillna("").astype(str)})
    return table.reset_index(drop=True)


def paid_figures(result: calib.Result, people: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """What the scheme paid over the history, worded: per pay component, per group and, with
    ``budgets:``, each group's year against its envelope. Tables that do not apply are left out.
    """
    policy = result.policy
    out: dict[str, pd.DataFrame] = {}
    parts = finance.payout_by_component(result)
    if parts is not None:
        out["per pay component"] = pd.DataFrame({"component": parts.index.astype(str),
                                                 "total": parts.map(lambda v: money(policy, v)).to_numpy()})
    by_group = finance.payout_by_group(result, people)
    if by_group is not None:
        column, table = by_group
        out[f"per {column}"] = pd.DataFrame({
            column: table.index.astype(str), "people": table["people"].map(f.integer).to_numpy(),
            "total": table["total"].map(lambda v: money(policy, v)).to_numpy(),
            "mean": table["mean"].map(lambda v: money(policy, v)).to_numpy(),
            "share": table["share"].to_numpy()})
    if policy.budgets is not None and result.payouts is not None:
        env = finance.envelopes(result)
        per = env.attrs.get("per", "year")
        out[f"per {env.attrs.get('by', 'group')} against its budget, per {per}"] = env.assign(
            **{c: env[c].map(lambda v: money(policy, v)) for c in ("budget", "paid")},
            over=env["over"].map(lambda v: signed(policy, v)), used=env["used"].map(f.percent),
            **{per: env[per].astype(str)})
    return out


def sensitivity_table(scenario: calib.Scenario, limit: int = 8) -> pd.DataFrame:
    """Each of the scheme's numbers (up to ``limit``) moved 5 % down and up: the change of the
    history's payout (``sensitivity``), widest first; empty when the scheme has no numbers.
    """
    return sensitivity(scenario, rel=0.05, limit=limit)


def sensitivity_shown(policy: Policy, sens: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity table worded for people: parameter, values tried and the payout changes."""
    rows = []
    for r in sens.itertuples(index=False):
        rows.append({"parameter": charts._path_label(str(r.parameter), policy),
                     "now": _short(r.value),
                     "−5 %": _short(r.low_value), "payout change at −5 %": signed(policy, r.low),
                     "+5 %": _short(r.high_value), "payout change at +5 %": signed(policy, r.high)})
    return pd.DataFrame(rows)


def short_label(path: str, policy: Policy) -> str:
    """A parameter named for a chart's axis: what it belongs to and its last words,
    ``回访满意率 · slope``, ``工单按时办结率 · bands[1].points`` (the table gives the whole path).
    """
    full = charts._path_label(path, policy)
    label = full[: -len(path) - 3] if full.endswith(" · " + path) else ""
    parts = path.split(".")
    skip = 3 if parts[:2] == ["pay", "components"] else 2
    rest = parts[skip:] if len(parts) > skip else parts
    rest = rest[1:] if rest[:1] == ["rule"] and len(rest) > 1 else rest
    tail = ".".join(rest)
    return f"{label} · {tail}" if label else path


def tornado_svg(policy: Policy, sens: pd.DataFrame) -> str:
    """The tornado chart of ``sens`` as SVG text, drawn offline by vl-convert (no browser-side
    Vega, no CDN): put it in an ``ipywidgets.HTML`` once per press.
    """
    import vl_convert as vlc

    table = sens[["parameter", "low", "high"]].assign(
        label=[short_label(str(p), policy) for p in sens["parameter"]])
    chart = charts.tornado(table, policy=policy, metric=f"Change in total payout ({policy.currency})")
    chart = chart.properties(padding={"left": 30, "right": 40, "top": 5, "bottom": 5})
    version = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    known = version if version in vlc.get_vegalite_versions() else None
    return vlc.vegalite_to_svg(chart.to_json(), vl_version=known, allowed_base_urls=[])


def default_export(name: str) -> Path:
    """Where the tuned policy goes unless another path is typed: ``~/calib/NAME_tuned.yaml``
    (the system's temporary folder when there is no home).
    """
    home = Path(os.path.expanduser("~"))
    base = home if str(home) not in ("~", "", "/") and home.is_dir() else Path(tempfile.gettempdir())
    return base / "calib" / f"{name}_tuned.yaml"


def export(policy: Policy, path: str | Path, protected: list[Path], like: Path | None = None) -> Path:
    """Write ``policy`` as YAML at ``path`` (comments and layout of ``like``, the scheme's own
    ``policy.yaml``), written aside then moved in, and read back to check it loads as the same
    policy.

    Raises
    ------
    CalibError
        No path, not a ``.yaml``/``.yml`` file, a folder, or a file inside one of the
        ``protected`` folders (the example's own files are never written over).
    """
    text = str(path).strip()
    if not text:
        raise calib.CalibError("no file typed. Fix: type where to write the tuned policy, e.g. "
                               f"{default_export('scheme')}")
    target = Path(text).expanduser()
    if not target.is_absolute():
        target = Path.home() / target
    target = target.resolve()
    if target.suffix.lower() not in (".yaml", ".yml"):
        raise calib.CalibError(f"{target} is not a YAML file. Fix: end the name with .yaml")
    if target.is_dir():
        raise calib.CalibError(f"{target} is a folder. Fix: type a file name ending in .yaml")
    for folder in protected:
        if target.is_relative_to(Path(folder).resolve()):
            raise calib.CalibError(f"{target} is inside {folder}, the example's own files: it is "
                                   "not written over. Fix: type a path elsewhere, e.g. "
                                   f"{default_export(target.stem)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.with_name(f".{target.name}.partial")
    try:
        calib.save_policy(policy, aside, like=like)
        back = calib.load_policy(aside)
        if back != policy:  # pragma: no cover - save_policy promises an equal policy
            raise calib.CalibError(f"{target}: the file written does not read back as the tuned policy")
        os.replace(aside, target)
    finally:
        aside.unlink(missing_ok=True)
    return target


def table_html(frame: pd.DataFrame, title: str = "") -> str:
    """A worded table as HTML (text escaped; the first column left, the figures right-aligned)."""
    def align(i: int) -> str:  # the first column names the row; the others are figures
        return "left" if i == 0 else "right"

    head = "".join(f"<th style='text-align:{align(i)};padding:2px 10px'>{html.escape(str(c))}</th>"
                   for i, c in enumerate(frame.columns))
    body = "".join("<tr>" + "".join(
        f"<td style='text-align:{align(i)};padding:2px 10px'>{html.escape(f.no_na(str(v)))}</td>"
        for i, v in enumerate(row)) + "</tr>" for row in frame.itertuples(index=False))
    caption = f"<div style='font-weight:bold;margin-top:6px'>{html.escape(title)}</div>" if title else ""
    return (f"{caption}<table class='calib-finance-table' style='border-collapse:collapse'>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
