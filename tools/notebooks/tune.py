"""Notebooks 02 and 03 (tune the scoring, grades and distribution): their cells (build them with
``.venv/bin/python -m tools.notebooks``).

The notebooks stay thin: a plain-language introduction, ``SCHEME = ...`` as the first code cell,
and a few lines calling ``calib.lab.ui``.
"""

from __future__ import annotations

from tools.notebooks.common import SCHEMES, code, md

SETUP = """from pathlib import Path

import calib
from calib.lab import ui

folder = Path("..") / "datasets" / SCHEME
policy = calib.load_policy(folder / "policy.yaml")
scenario = calib.Scenario(policy, folder)
print(policy.title or policy.name)
print(f"{len(scenario.result.rated())} rated rows; one re-run takes {scenario.seconds * 1000:.0f} ms")"""

TUNE = [
    md(f"""# 02 · Tune the scoring

This notebook lets you try out the numbers that turn results into scores: the **thresholds** of each \
KPI's bands, the **points** of each tier or step, and the **weights** of each KPI in its section.

Move a slider and, a moment later, the whole scheme is re-run on last year's data: the score \
distribution (with the grade thresholds drawn on it), the number of people in each grade, the payout \
total and the list of people whose grade changed all update. A value the scheme does not allow (for \
example a grade minimum above the grade above it) is refused with a message; nothing breaks.

Nothing here is specific to one scheme: the sliders are read from the scheme's `policy.yaml`. \
Change `SCHEME` below to any of: {SCHEMES}."""),
    code('SCHEME = "gas_cs"  # which example scheme to open'),
    code(SETUP),
    md("""## Sliders and live results

The sliders are grouped by KPI, section and grade scale (click a heading to open it). Each slider's \
range is the range HR declared in the policy (`ranges:`); where none is declared it is ±50 % of \
the current value. **Back to start** restores the policy as loaded."""),
    code("""dash = ui.Dashboard(scenario, roles=ui.SCORING_ROLES, exclude=["pay."])
dash"""),
    md("""## What you changed

Run this cell after moving sliders: the numbers that differ from the policy as loaded. To keep them, \
save the tuned policy with `Path("tuned.yaml").write_text(calib.dump_policy(dash.scenario.policy))`."""),
    code("dash.panel.changes()"),
]

GRADES = [
    md(f"""# 03 · Grades and the distribution

Grades come from scores in one of three ways, and a scheme can mix them:

* **Score thresholds**: everyone at or above a grade's minimum score gets that grade, however many \
people that is.
* **Forced distribution**: within each group (shop, team, department) a fixed share of people gets \
each grade, whatever their scores, e.g. 15 % 优秀 / 35 % 良好 / 40 % 合格 / 10 % 待改进.
* **Cascaded quotas**: a team's shares depend on the grade its leader got.

This notebook shows which way your scheme grades, lets you move the grade minimums and ratios, shows \
the quotas each group gets, what rounding does to small teams, and finds the grade minimums that give \
a target distribution.

Change `SCHEME` below to any of: {SCHEMES}."""),
    code('SCHEME = "gas_cs"  # which example scheme to open'),
    code(SETUP + "\nui.grading_overview(policy)"),
    md("""## Grade minimums and ratios

Sliders for the grade minimums (when grades come from scores) and the ratios of the forced \
distribution or the cascade (shares per grade; the shares of one row must add up to 100 %, so move \
one share down before moving another up). The bars show each grade's share; the black ticks the \
target shares."""),
    code("""dash = ui.Dashboard(scenario, roles=["threshold", "ratio"], under=["grading."])
dash"""),
    md("""## Quotas per group

With a forced distribution or cascade each group gets a whole number of people per grade. The table \
shows the quotas of the first period (pass `period="2024-06"` for another)."""),
    code("""quotas = ui.quota_table(dash.scenario.result)
quotas if len(quotas) else print("this scheme grades by score thresholds only: no quotas")"""),
    md("""## Small teams

A 20 % share gives a team of 10 exactly 2 top grades, but a team of 3 gets 0.6 people: rounded to 1 \
(33 %) or to nobody. Per team size: the intended and actual top-grade share, how often a team got \
no top grade at all, and the share of the team whose grade is set by rounding."""),
    code("""from calib.analysis.diagnostics import small_teams

teams = small_teams(dash.scenario.result)
teams.round(3) if len(teams) else print("no forced distribution or cascade: team size plays no part")"""),
    md("""## Grade minimums for a target distribution

When grades come from scores, the solver finds the grade minimums that give a target share per grade \
on last year's data (within the ranges the policy declares) and moves the sliders above to them. Edit \
`target` to the distribution you want. When a forced distribution sets the grades, the ratios \
already are the shares: there is nothing to solve."""),
    code("""target = ui.suggest_target(policy)
print("target:", target)
if policy.grading.scale.has_thresholds() and any(
        r.method == "thresholds" for r in policy.grading.rules.values()):
    from calib.analysis.calibrate import solve_thresholds

    solved, report = solve_thresholds(dash.scenario, target)
    dash.apply(solved)
    display(report)
else:
    print("grades come from a forced distribution: its ratios already set the shares")"""),
]
