"""Notebooks 04 and 06 (payouts and budget, freeze and export): their cells (05, the what-if app,
is built by ``tools.notebooks.whatif``).

Edit a cell here, then run ``.venv/bin/python -m tools.notebooks``; the notebooks are written
without outputs.
"""

from __future__ import annotations

import nbformat

from tools.notebooks.common import SCHEMES, code, md

SETUP = '''\
from pathlib import Path

import altair as alt
import pandas as pd

import calib
from calib.lab import charts

charts.enable_offline()  # charts draw without internet: Vega from the Python package, no CDN
folder = Path("..") / "datasets" / SCHEME
policy = calib.load_policy(folder / "policy.yaml")
data = calib.load_data(folder, policy)
'''


def scheme_cell() -> nbformat.NotebookNode:
    return code('SCHEME = "gas_cs"  # which example scheme to open')


# --- 04 ---------------------------------------------------------------------------------------
NB04 = [
    md(f"""
# 04 · Payouts and budget

For **finance**: what the scheme pays, whether it fits the budget, and how much it may cost next
year.

1. what was paid over the history, in total, per group and per pay component;
2. the total per pay period against the budget;
3. the **budget solver**: the value of one money or coefficient number of the scheme that makes
   the history's payout meet the budget;
4. a **Monte Carlo** of next year: the likely total (P50), a bad year (P90, P95) and the chance
   of going over budget;
5. **sensitivity**: which of the scheme's numbers move the payout most.

Change `SCHEME` below to any of: {SCHEMES}. Every rule comes from the scheme's `policy.yaml`.
"""),
    scheme_cell(),
    code(SETUP + '''
from calib.analysis import budget as finance
from calib.analysis.calibrate import sensitivity, solve_budget
from calib.simulate import simulate

scenario = calib.Scenario(policy, data)
result = scenario.result
pay = result.payouts
currency = policy.currency
print(policy.title or policy.name)
if pay is None:
    print("This scheme pays nothing, so there is no payout or budget to show: the cells below say so.")
'''),
    md("""
## What the scheme paid

Totals over every pay period of the history, exact to the cent, then per group and per pay
component (a deduction shows as a negative amount).
"""),
    code('''
if pay is None:
    print("No payouts: this scheme has no pay section.")
else:
    periods = pay["period"].astype(str)
    print(f"Total paid: {scenario.total_payout():,.2f} {currency} over {periods.nunique()} pay "
          f"periods ({periods.min()} to {periods.max()}), {pay['id'].nunique()} people")
    display(finance.payout_by_component(result).to_frame())
'''),
    code('''
by_group = finance.payout_by_group(result, data.tables.get("people"))
if by_group is None:
    print("This scheme pays nothing or has no group column (team, department, ...): no per-group total.")
else:
    display(by_group[1])
'''),
    md("""
## The budget

`BUDGET_PER_PERIOD` is what may be paid in **one pay period** (a month, or a year when the
scheme pays a yearly bonus). Type your own number; left at `None` it is the bonus pool when the
scheme shares one, else the typical period's total rounded to a thousand. Bars over the budget
are red.
"""),
    code('''
BUDGET_PER_PERIOD = None  # e.g. 150_000; None: the pool, or the typical period's total
'''),
    code('''
if pay is None:
    print("No payouts: there is no budget to compare with.")
else:
    per_period = finance.payout_per_period(result)
    budget = float(BUDGET_PER_PERIOD) if BUDGET_PER_PERIOD is not None else finance.default_budget(result)
    print(f"Budget per pay period: {budget:,.2f} {currency}; "
          f"{int((per_period > budget).sum())} of {len(per_period)} periods went over it.")
    display(charts.widget(charts.payout_distribution(result, budget=budget, per="period")))
'''),
    md("""
## The budget solver

Which value of one of the scheme's pay numbers would have made the whole history's payout meet
the budget (the budget above × the number of pay periods)? The solver takes the **first money
amount or grade coefficient of the pay section** (the list is printed) and keeps it inside the
range the policy allows. A scheme whose pay has no such number (for example pay as a percentage
of the score) is skipped.
"""),
    code('''
candidates = finance.budget_parameter(policy)
if pay is None or candidates.empty:
    print("This scheme's pay has no money amount or coefficient to solve for: the solver is skipped.")
else:
    display(candidates)
    choice = candidates.iloc[0]
    target = budget * per_period.size
    print(f"Solving {choice['path']} ({choice['label']}, now {choice['value']:g}) "
          f"for a total of {target:,.2f} {currency} ...")
    try:
        solved, report = solve_budget(scenario, target, choice["path"])
        display(pd.Series(report, name="budget solver").to_frame())
        print(f"Set {report['path']} to {report['value']:.6g}: the total becomes "
              f"{report['total']:,.2f} {currency} (was {report['before']:,.2f}; "
              f"gap to the budget {report['gap']:+,.2f}).")
    except calib.CalibError as exc:  # out of reach within the allowed range, or refused by it
        print(f"The solver could not meet the budget: {exc}")
'''),
    md("""
## Next year: Monte Carlo

500 simulated years (seed 1, so the figures are the same every time). Each person's monthly
score is drawn from their own history, with good and bad months for whole teams, people leaving
and joining; each simulated year is graded and paid by the scheme's own rules. The budget for
the year is the budget per period × the pay periods in twelve months.
"""),
    code('''
if pay is None:
    print("No payouts: there is nothing to simulate.")
else:
    year_budget = budget * finance.periods_per_year(result)
    sim = simulate(policy, result, n=500, seed=1, progress=False, budget=year_budget)
    print(sim.summary())
    q = sim.quantiles()
    figures = pd.Series({**q.round(2).to_dict(), "budget": round(year_budget, 2),
                         "chance over budget": f"{sim.p_over(year_budget):.1%}"}, name=currency)
    display(figures.to_frame())
    display(charts.widget(charts.monte_carlo(sim.totals, budget=year_budget, currency=currency)))
'''),
    md("""
## Budgets per group (envelopes)

When the scheme has a `budgets:` section (an envelope per branch or department for the whole
payout), each group's payout per year against its budget: paid, over (+) or under (−) and the
share used, to the cent; then, in the simulated years above, each group's P50/P90/P95 and the
chance that it overspends its envelope.
"""),
    code('''
if pay is None or policy.budgets is None:
    print("This scheme has no budgets per group: add a budgets: section (by, per, amounts) to "
          "the policy to see each group's envelope.")
else:
    table = finance.envelopes(result)
    shown = table.assign(**{c: table[c].map("{:,.2f}".format) for c in ("budget", "paid")},
                         over=table["over"].map("{:+,.2f}".format),
                         used=table["used"].map("{:.1%}".format))
    display(shown.replace("nan", "—"))
    if sim.group_totals is None:
        print("The simulation has no totals per group: " + next(
            (n for n in sim.notes if n.startswith("totals per")), "see its notes."))
    else:
        risk = sim.envelopes()
        display(risk.assign(**{c: risk[c].map("{:,.2f}".format)
                               for c in ("P50", "P90", "P95", "mean", "budget")},
                            p_over=risk["p_over"].map("{:.1%}".format)).replace("nan", "—"))
'''),
    code('''
if pay is None or sim.grade_probabilities.empty:
    print("This scheme has no grades, so there is no grade forecast.")
else:
    print("Expected grade mix next year (mean chance per person):")
    display(sim.grade_probabilities.drop(columns="id", errors="ignore").mean().map("{:.1%}".format)
            .rename("share").to_frame())
'''),
    md("""
## Sensitivity: which numbers matter

Each of the scheme's numbers (up to 8) is moved 5% down and 5% up, within its allowed range; the
bars show how much the history's payout total changes, widest on top. `moved_low`/`moved_high`
count the rows whose grade changes.
"""),
    code('''
sens = sensitivity(scenario, rel=0.05, limit=8)
if sens.empty:
    print("This scheme has no tunable numbers to test.")
else:
    # the table also has a `value` column, which tornado() cannot take: pass the three it reads
    display(charts.widget(charts.tornado(sens[["parameter", "low", "high"]], policy=policy)))
    shown = [c for c in ("parameter", "value", "low_value", "high_value", "low", "high",
                         "moved_low", "moved_high", "note_low", "note_high") if c in sens.columns]
    display(sens[shown])
'''),
]


# --- 06 ---------------------------------------------------------------------------------------
NB06 = [
    md(f"""
# 06 · Freeze and export

The last step before next year: compare a **tuned** scheme with **last year's**, then freeze the
tuned one into a tamper-evident file and write the workbook management signs.

1. make a tuned copy of the scheme (one grade threshold or grade ratio moved: edit `TUNING`);
2. list every changed number and what it does: who changes grade, the payout per group and in
   total, exact to the cent;
3. freeze the tuned scheme with its **provenance** (the data it was calibrated on and the
   figures it was signed off with), load it back and check that it pays exactly the same;
4. write the **sign-off workbook**.

Files go to a new temporary folder (its path is printed). Change `SCHEME` below to any of:
{SCHEMES}.
"""),
    scheme_cell(),
    code(SETUP + '''
import tempfile
from decimal import Decimal

import openpyxl

from calib.analysis.compare import diff_policies, impact
from calib.analysis.tuning import suggest_tuning
from calib.io.workbooks import money_total, write_signoff

result = calib.run(policy, data)
print(policy.title or policy.name, f"— {len(policy.params())} tunable numbers")
'''),
    md("""
## The tuned scheme

`calib.analysis.tuning.suggest_tuning` suggests a change, inside every number's range: the best
grade's minimum score one point higher; for a scheme that grades by a forced distribution only,
five percentage points moved from the best grade's ratio to the next (the row still adds up to
100 %); for a scheme without grades, its first pay amount 5% higher. Replace `TUNING` with your
own `{path: value}` (`calib params` or `policy.params()` lists every path).
"""),
    code('''
suggestion = suggest_tuning(policy)
print(suggestion.reason)
TUNING = dict(suggestion)  # or your own: {"grading.scale.grades[0].min": 92}
tuned = policy.with_params(TUNING)
print("TUNING =", TUNING)
'''),
    md("""
## What changes: parameters, grades and pay

Last year's scheme is the one in `policy.yaml`; both run on the same history.
"""),
    code('''
display(diff_policies(policy, tuned))
change = impact(policy, tuned, data)
print(change.to_text())
'''),
    md("""
## Freeze the tuned scheme

The frozen file holds the scheme, calib's version, when it was frozen and its provenance; its
sha256 covers all of it, so a file edited by hand is refused when loaded.
"""),
    code('''
out = Path(tempfile.mkdtemp(prefix=f"calib_{SCHEME}_"))
print("Files go to", out)
change.to_excel(out / "impact.xlsx")
prov = calib.provenance(tuned, data, note="tuned in notebook 06_freeze_and_export")
frozen_path = out / f"{tuned.name}.frozen.json"
sha = calib.write_frozen(tuned, frozen_path, provenance=prov)
print(f"Frozen: {frozen_path.name}, sha256 {sha}")
display(pd.Series(prov["figures"], name="provenance figures", dtype=object).to_frame())
'''),
    md("""
## Load it back and check it reproduces the figures

The frozen file is read back (its hash is checked) and run on the same data: the payout total
must equal the tuned scheme's total in this notebook, to the cent.
"""),
    code('''
frozen = calib.load_frozen(frozen_path)
assert frozen.sha256 == sha and frozen.provenance["data_sha256"] == data.fingerprint()
rerun = calib.run(frozen.policy, data)
if rerun.payouts is None:
    print("This scheme pays nothing; the frozen file reproduces its scores:",
          rerun.scores["score"].equals(calib.run(tuned, data).scores["score"]))
else:
    total = money_total(rerun.payouts["payout"])
    assert total == change.total_after == Decimal(prov["figures"]["payout_total"]), \\
        (total, change.total_after, prov["figures"]["payout_total"])
    print(f"The frozen scheme pays {total:,.2f} {policy.currency}: the same as the tuned scheme "
          f"here ({change.total_after:,.2f}) and as its provenance ({prov['figures']['payout_total']}).")
'''),
    md("""
## The sign-off workbook

What management approves: the scheme's hash, every number with its label and allowed range, the
grade scale and ratio tables, and the calibration figures (grade distribution, payout per period
and group).
"""),
    code('''
signoff = write_signoff(frozen.policy, out / "signoff.xlsx", data=data, provenance=frozen.provenance)
print("Sign-off workbook:", signoff)
print("Sheets:", ", ".join(openpyxl.load_workbook(signoff, read_only=True).sheetnames))
print("Folder:", ", ".join(sorted(p.name for p in out.iterdir())))
'''),
]
