"""The finance app (``./dev app finance``, notebook 04): pick a scheme, type a budget, solve,
simulate next year, see which numbers matter and export the tuned scheme.

``FinanceApp(datasets, scheme="gas_cs")`` is the whole app: the scheme picker of the what-if app
(bundled examples or a folder typed in) with a progress line while it loads, then a
:class:`FinancePanel` on the loaded scheme:

- **what the scheme paid** over the history (per pay component, per group, per envelope);
- a **budget per pay period** (money as people type it; default the scheme's
  ``default_budget``), a **parameter** (the pay section's money amounts and coefficients) and
  *Solve*: the value that meets the budget over the history, the total achieved and the gap to
  the cent;
- the **Monte Carlo**: a number of simulated years and *Simulate*: P50/P90/P95 of the year's
  payout and the chance of overspending, and with ``budgets:`` the same per envelope;
- the **sensitivity** (tornado) drawn once per press as a static SVG (vl-convert), with its table;
- **Export**: the tuned scheme (the solved value) as YAML where the user says (never over the
  example's own files), and where it went.

Every figure is computed by :mod:`calib.lab.finance_report`; this module only holds widgets. An
input refused or a computation that fails is said in place, in a red box with its fix, and the
answer it would replace is removed (never left to be read as the new answer).
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd

import calib
from calib.analysis.budget import default_budget
from calib.lab import finance_report as rep
from calib.lab import whatif_format as f
from calib.lab.whatif import error_box
from calib.lab.whatif_app import SchemeApp
from calib.policy.model import Policy
from calib.simulate import Simulation

STEPS = ("reading the policy", "reading data", "scoring and paying the history", "building the app")
"""What opening a scheme does, in order (the progress line names each)."""

ERROR_CLASS = "calib-finance-error"
"""The HTML class of an error shown in place (inside the red box of ``error_box``)."""

_WIDE = {"description_width": "150px"}


def _box(exc: Exception, title: str, footer: str) -> str:
    return f"<div class='{ERROR_CLASS}'>{error_box(exc, title=title, footer=footer)}</div>"


def _grey(text: str) -> str:
    return f"<span style='color:#555'>{text}</span>"


def _busy(text: str) -> str:
    return f"<span style='color:#1f6fb2'>⏳ {html.escape(text)}…</span>"


class FinancePanel:
    """The finance panel on one opened scheme.

    Parameters
    ----------
    scenario : calib.Scenario
        The scheme's policy on its history (``scenario.result`` is the run shown).
    folder : Path, optional
        The scheme's folder: its files are never written over, and its ``policy.yaml`` gives the
        exported file its comments and layout.
    people : DataFrame, optional
        The people table (for the totals per group).
    """

    def __init__(self, scenario: calib.Scenario, folder: Path | None = None,
                 people: pd.DataFrame | None = None, protected: list[Path] | None = None):
        self.scenario = scenario
        self.policy: Policy = scenario.policy
        self.result = scenario.result
        self.folder = folder
        self.protected = [p for p in [folder, *(protected or [])] if p is not None]
        self.horizon = rep.horizon(self.result)
        self.pays = self.result.payouts is not None
        self.solved: Policy | None = None  # the tuned policy of the last Solve, None when stale
        self.report: dict[str, Any] | None = None
        self.sim: Simulation | None = None
        self.sens: pd.DataFrame | None = None
        self.exported: Path | None = None
        self.error: str | None = None  # the last refused input or failed computation

        self.people = people
        budget = default_budget(self.result) if self.pays else None
        self.budget = w.Text(value=rep.money(self.policy, budget).removesuffix(self.policy.currency).strip()
                             if budget is not None else "",
                             description="Budget per pay period", style=_WIDE, continuous_update=False,
                             layout=w.Layout(width="420px"))
        self.budget_note = w.HTML()
        options = rep.money_parameters(self.policy)
        self.parameter = w.Dropdown(options=options, value=rep.default_parameter(scenario),
                                    description="Parameter", style=_WIDE, layout=w.Layout(width="640px"))
        self.solve_button = w.Button(description="Solve", icon="calculator", button_style="primary",
                                     disabled=not options)
        self.solve_out = w.HTML()
        self.scenarios = w.BoundedIntText(value=rep.DEFAULT_SCENARIOS, min=rep.MIN_SCENARIOS,
                                          max=rep.MAX_SCENARIOS, step=100, description="Simulated years",
                                          style=_WIDE, layout=w.Layout(width="260px"))
        self.simulate_button = w.Button(description="Simulate", icon="random", button_style="primary")
        self.sim_progress = w.IntProgress(min=0, max=2, value=0,
                                          layout=w.Layout(width="160px", visibility="hidden"))
        self.sim_out = w.HTML()
        self.sens_button = w.Button(description="Show sensitivity", icon="bar-chart")
        self.sens_out = w.HTML()
        name = folder.name if folder is not None else self.policy.name
        self.path = w.Text(value=str(rep.default_export(name)), description="Write to",
                           style=_WIDE, layout=w.Layout(width="640px"))
        self.export_button = w.Button(description="Export tuned policy", icon="download",
                                      layout=w.Layout(width="auto"))
        self.export_out = w.HTML(_grey("press Solve first: the file is the scheme with the solved value"))

        self.budget.observe(lambda _: self._edited(), names="value")
        self.parameter.observe(lambda _: self._edited(), names="value")
        self.solve_button.on_click(lambda _: self.solve())
        self.simulate_button.on_click(lambda _: self.simulate())
        self.sens_button.on_click(lambda _: self.sensitivity())
        self.export_button.on_click(lambda _: self.export())
        self.widget = self._layout()
        self._budget_typed()

    # --- layout ---------------------------------------------------------------------------
    def _layout(self) -> w.Widget:
        def section(title: str, text: str) -> w.HTML:
            return w.HTML(f"<h3 style='margin:14px 0 2px'>{html.escape(title)}</h3>{_grey(text)}")

        paid = rep.paid_figures(self.result, self.people)
        paid_html = "".join(rep.table_html(t, title) for title, t in paid.items())
        if not self.pays:
            return w.VBox([w.HTML(_grey("This scheme pays nothing: there is no payout, budget or "
                                        "simulation to show. Pick another scheme."))])
        total = rep.money(self.policy, self.scenario.total_payout())
        mean = self.scenario.total_payout() / max(self.horizon.periods, 1)
        head = w.HTML(f"<h3 style='margin:8px 0 2px'>What the scheme paid</h3>"
                      f"<div>{total} over {f.integer(self.horizon.periods)} pay periods "
                      f"({rep.money(self.policy, mean)} a period on average)</div>"
                      f"<details><summary>per pay component and group</summary>{paid_html}</details>")
        solver = [section("The budget and the solver",
                          "Type what may be paid in one pay period, pick a pay number and press "
                          "Solve: the value of that number that makes the history's payout meet "
                          "the budget, kept inside the range the scheme allows."),
                  self.budget, self.budget_note,
                  w.HBox([self.parameter, self.solve_button]) if self.parameter.options
                  else w.HTML(_grey("This scheme's pay has no money amount or coefficient to solve "
                                    "for (pay as a share of the score, for example).")),
                  self.solve_out]
        mc = [section("Next year: Monte Carlo",
                      "Simulated years drawn from each person's own history, with good and bad "
                      "months for whole teams, people leaving and joining (seed 1: the same "
                      "figures every time). The scheme as solved when Solve was pressed, else as "
                      "written."),
              w.HBox([self.scenarios, self.simulate_button, self.sim_progress]), self.sim_out]
        sens = [section("Which numbers matter",
                        "Each of the scheme's numbers (up to 8) moved 5 % down and up, inside its "
                        "range: how much the history's payout changes, widest on top."),
                self.sens_button, self.sens_out]
        export = [section("Export", "The tuned scheme (the solved value) as a policy file, "
                          "with the comments of the scheme's own file."),
                  w.HBox([self.path, self.export_button]), self.export_out]
        return w.VBox([head, *solver, *mc, *sens, *export])

    # --- the budget -----------------------------------------------------------------------
    def budget_value(self) -> float | None:
        """The budget per pay period typed, or None (the refusal shown in place)."""
        try:
            value = rep.parse_money(self.budget.value, self.policy.currency)
        except calib.CalibError as exc:
            self.error = str(exc)
            self.budget_note.value = _box(exc, "This budget cannot be read",
                                          "Type the budget again (nothing was computed with it).")
            return None
        self.budget_note.value = _grey(
            f"= {rep.money(self.policy, self.horizon.history(value))} over the history's "
            f"{f.integer(self.horizon.periods)} pay periods; "
            f"{rep.money(self.policy, self.horizon.year(value))} for a year "
            f"({f.number(self.horizon.per_year)} pay periods)")
        return value

    def _budget_typed(self) -> None:
        value = self.budget_value()
        if value is not None:  # shown again as people read it
            text = rep.money(self.policy, value).removesuffix(self.policy.currency).strip()
            if text != self.budget.value:
                self.budget.value = text

    def _edited(self) -> None:
        """A budget or parameter edited: the last answer no longer answers it."""
        if self.report is not None:
            self.solved, self.report = None, None
            self.solve_out.value = _grey("<i>the budget or the parameter changed: press Solve</i>")
        self._budget_typed()

    # --- actions --------------------------------------------------------------------------
    def solve(self) -> dict[str, Any] | None:
        """Solve for the picked parameter; the report (shown), or None (the reason in place)."""
        self.solved, self.report, self.error = None, None, None
        budget = self.budget_value()
        if budget is None:
            self.solve_out.value = ""
            return None
        if self.parameter.value is None:
            self.error = "no parameter to solve for"
            self.solve_out.value = _grey("This scheme's pay has no money amount or coefficient to solve for.")
            return None
        self.solve_out.value = _busy("solving")
        try:
            tuned, report = rep.solve(self.scenario, budget, self.parameter.value)
        except Exception as exc:  # said in place: a widget callback's error would reach no one
            self.error = str(exc)
            self.solve_out.value = _box(exc, "The budget cannot be met this way",
                                        "Pick another parameter or type another budget, then Solve.")
            return None
        self.solved, self.report = tuned, report
        label = self.parameter.label.split(" (now")[0]
        lines = rep.solve_lines(self.policy, report, label)
        self.solve_out.value = ("<div class='calib-finance-solved' style='background:#eef6ee;"
                                "border-left:4px solid #2ca02c;padding:4px 8px'>"
                                + "<br>".join(html.escape(x) for x in lines) + "</div>")
        self.export_out.value = _grey("ready: press Export to write the tuned scheme")
        return report

    def simulate(self) -> Simulation | None:
        """Simulate the years asked for; the simulation (shown), or None (the reason in place)."""
        self.sim, self.error = None, None
        budget = self.budget_value()
        try:
            n = rep.scenarios(self.scenarios.value)
        except calib.CalibError as exc:
            self.error = str(exc)
            self.sim_out.value = _box(exc, "Not simulated", "Type another number and press Simulate.")
            return None
        if budget is None:
            self.sim_out.value = ""
            return None
        policy = self.solved or self.policy
        year = self.horizon.year(budget)
        self.sim_progress.layout.visibility = "visible"
        self.sim_progress.value = 1
        self.sim_out.value = _busy(f"simulating {f.integer(n)} years")
        self.simulate_button.disabled = True
        try:
            start = time.perf_counter()
            sim = rep.monte_carlo(policy, self.result, n, year)
            figures = rep.year_figures(sim, year)
            envelopes = rep.envelope_figures(sim)
            took = time.perf_counter() - start
        except Exception as exc:
            self.error = str(exc)
            self.sim_out.value = _box(exc, "The simulation failed", "Change the inputs and press Simulate.")
            return None
        finally:
            self.simulate_button.disabled = False
            self.sim_progress.layout.visibility = "hidden"
        self.sim = sim
        under = ("the scheme as solved" if self.solved is not None else "the scheme as written")
        parts = [_grey(f"{f.integer(n)} simulated years under {under}, in {took:.1f} s"),
                 rep.table_html(figures, "The year's payout")]
        if envelopes is not None:
            parts.append(rep.table_html(envelopes, f"Per {sim.totals_by} against its budget "
                                        f"({sim.policy.budgets.per if sim.policy.budgets else 'year'})"))
        self.sim_out.value = "".join(parts)
        return sim

    def sensitivity(self) -> pd.DataFrame | None:
        """The tornado and its table (drawn once, as SVG); the table, or None (reason in place)."""
        self.sens, self.error = None, None
        self.sens_out.value = _busy("moving each number 5 % down and up")
        try:
            sens = rep.sensitivity_table(self.scenario)
            if sens.empty:
                self.sens_out.value = _grey("This scheme has no tunable numbers to test.")
                self.sens = sens
                return sens
            svg = rep.tornado_svg(self.policy, sens)
            table = rep.sensitivity_shown(self.policy, sens)
        except Exception as exc:
            self.error = str(exc)
            self.sens_out.value = _box(exc, "The sensitivity failed", "Press the button again or report it.")
            return None
        self.sens = sens
        self.sens_out.value = f"<div class='calib-finance-tornado'>{svg}</div>" + rep.table_html(table)
        return sens

    def export(self) -> Path | None:
        """Write the tuned scheme where typed; the file, or None (the reason in place)."""
        self.exported, self.error = None, None
        if self.solved is None:
            exc = calib.CalibError("nothing solved yet. Fix: type a budget, pick a parameter and press "
                                   "Solve: the file is the scheme with the solved value")
            self.error = str(exc)
            self.export_out.value = _box(exc, "Not written", "Solve first, then Export.")
            return None
        like = self.folder / "policy.yaml" if self.folder is not None else None
        try:
            path = rep.export(self.solved, self.path.value, self.protected,
                              like=like if like is not None and like.is_file() else None)
        except Exception as exc:
            self.error = str(exc)
            self.export_out.value = _box(exc, "Not written", "Type another path and press Export.")
            return None
        self.exported = path
        self.export_out.value = ("<div class='calib-finance-exported'>Written: "
                                 f"<code>{html.escape(str(path))}</code></div>")
        return path


class FinanceApp(SchemeApp):
    """The finance app: a scheme picker with progress, then the finance panel on that scheme
    (see ``SchemeApp``).
    """

    steps = STEPS

    def _forget(self) -> None:
        self.panel: FinancePanel | None = None
        self.seconds: dict[str, float] = {}

    def _error_html(self, exc: Exception) -> str:
        return _box(exc, "This scheme cannot be opened",
                    "Fix the policy or the data, or pick another scheme.")

    def _open(self, folder: Path, name: str) -> tuple[FinancePanel, str]:
        folder = folder.expanduser()
        start = time.perf_counter()
        if not (folder / "policy.yaml").is_file():
            raise calib.CalibError(f"{folder} has no policy.yaml. Fix: type the folder that holds "
                                   "the scheme's policy.yaml and its data (records.csv …)")
        self._say(name, 0)
        policy = calib.load_policy(folder / "policy.yaml")
        self._say(name, 1)
        data = calib.load_data(folder, policy)
        self._say(name, 2)
        scenario = calib.Scenario(policy, data)
        scenario.result  # noqa: B018 - the run, timed here rather than on first use
        self._say(name, 3)
        bundled = folder.resolve().parent == self.datasets.resolve()
        panel = FinancePanel(scenario, folder, data.tables.get("people"),
                             protected=[self.datasets] if bundled else [])
        took = time.perf_counter() - start
        self.seconds["open"] = took
        self.panel = panel
        return panel, html.escape(
            f"{name}: {policy.title or policy.name} · {f.integer(len(panel.result.scores))} "
            f"person-periods · opened in {took:.1f} s")
