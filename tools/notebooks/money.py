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
# Thin on purpose: the app of ``calib.lab.finance_app`` is built and shown (``./dev app finance``
# serves this notebook with Voilà, which shows outputs only); every figure is computed by
# ``calib.lab.finance_report``. The charts and code for notebook users are in cells that print
# nothing in the app (``in_app()``).
NB04 = [
    md("""
# 04 · Payouts and budget

For **finance**: what the scheme pays, whether it fits the budget, and how much it may cost next
year.

1. pick a **scheme** (one of the examples, or *(a folder…)* for your own policy.yaml and data):
   what it paid over the history, in total, per pay component and per group;
2. type the **budget per pay period** (a month, or a year for a yearly bonus), pick one of the
   scheme's **pay numbers** (a money amount or a grade coefficient) and press **Solve**: the value
   that makes the history's payout meet the budget, the total it gives and the gap, to the cent;
3. **Simulate** next year: the likely total (P50), a bad year (P90, P95) and the chance of
   overspending the budget, and for a scheme with budgets per group (branch, department) the same
   for each envelope;
4. **Show sensitivity**: which of the scheme's numbers move the payout most;
5. **Export** the tuned scheme (the solved value) as a policy file where you say.
"""),
    code('SCHEME = "gas_cs"  # the scheme the app opens on; the picker changes it'),
    code('''
from pathlib import Path

from calib.lab.finance_app import FinanceApp
from calib.lab.whatif_app import in_app

app = FinanceApp(Path("..") / "datasets", scheme=SCHEME)
app.widget
'''),
    code(f'''
if not in_app():  # notebook users only: the app shows the panel above and nothing else
    from IPython.display import Markdown, display

    display(Markdown("""
## The same in code, with charts

`SCHEME` above is the scheme the app opens on: any of {SCHEMES}.
`app.panel` is the panel: `budget.value` is the budget typed (text, as people write money),
`parameter.value` the path solved for, `solve()` returns the solver's report,
`simulate()` the `Simulation` (`quantiles()`, `p_over(budget)`, `envelopes()`),
`sensitivity()` the table of the tornado, `export()` the file written (`path.value`).
The functions behind them are in `calib.lab.finance_report`. The cells below draw the charts.
"""))
'''),
    code('''
if not in_app() and app.panel is not None and app.panel.pays:
    from calib.lab import charts

    charts.enable_offline()  # charts draw without internet: Vega from the Python package, no CDN
    panel = app.panel
    BUDGET = None  # your own budget per pay period, e.g. "150,000"; None: the one in the panel
    if BUDGET is not None:
        panel.budget.value = str(BUDGET)
    budget = panel.budget_value()
    print(f"Budget per pay period {panel.budget.value}: bars over it are red.")
    display(charts.widget(charts.payout_distribution(panel.result, budget=budget, per="period")))
    report = panel.solve()
    print(panel.error or f"Solver: {report['path']} = {report['value']:.6g}, gap {report['gap']:+,.2f}")
'''),
    code('''
if not in_app() and app.panel is not None and app.panel.pays:
    sim = panel.simulate()
    if sim is None:
        print(panel.error)
    else:
        print(sim.summary())
        year = panel.horizon.year(budget)
        display(charts.widget(charts.monte_carlo(sim.totals, budget=year, currency=sim.policy.currency)))
        if not sim.grade_probabilities.empty:
            print("Expected grade mix next year (mean chance per person):")
            display(sim.grade_probabilities.drop(columns="id", errors="ignore").mean()
                    .map("{:.1%}".format).rename("share").to_frame())
'''),
    code('''
if not in_app() and app.panel is not None:
    sens = app.panel.sensitivity()
    if sens is not None and not sens.empty:
        # the table also has a `value` column, which tornado() cannot take: pass the three it reads
        display(charts.widget(charts.tornado(sens[["parameter", "low", "high"]], policy=app.panel.policy)))
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
