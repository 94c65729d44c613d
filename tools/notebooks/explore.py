"""Notebook 01 (explore a scheme's history): its cells."""

from __future__ import annotations

from tools.notebooks.common import code, md

EXPLORE = [
    md("# 01 · Explore a scheme's history\n\nThis notebook loads one of the example schemes shipped in `datasets/`, checks its data against the policy, and shows the scores the policy gives, month by month and group by group.\n\nChange `SCHEME` below to any of: `logistics_cs`, `gas_cs`, `ecommerce_cs`, `property_cs`, `support_team`, `call_centre`, `ethics_diligence`, `safety`. Nothing here is specific to one scheme: every rule lives in the scheme's `policy.yaml`."),
    code('SCHEME = "gas_cs"  # which example scheme to open'),
    code('from pathlib import Path\n\nimport pandas as pd\n\nimport calib\n\nDATASETS = Path("..") / "datasets"\nfolder = DATASETS / SCHEME\npolicy = calib.load_policy(folder / "policy.yaml")\nprint(policy.title or policy.name)\nprint(f"{len(policy.kpis)} KPIs, {len(policy.sections)} sections, "\n      f"{len(policy.params())} numbers HR can tune")'),
    md('## The data, checked against the policy\n\n`calib.load_data` reads the tables the policy declares. Running the policy first checks every column and row; any problem would be listed here with its file, line and the fix.'),
    code('data = calib.load_data(folder, policy)\nfor name, table in data.tables.items():\n    print(f"{name:>14}: {len(table):>7} rows, {table.shape[1]} columns")'),
    code('result = calib.run(policy, data)\nscores = result.scores\nprint(f"{len(scores)} person-months: {(scores.status == \'rated\').sum()} rated")\nscores.loc[scores.status != "rated", "reason"].value_counts().rename("not rated")'),
    md('## Scores per month\n\nMean, spread and range of the rated scores in each period, then the same as a chart (the band holds the middle 80 % of the scores), and the rows not rated by reason. Charts draw offline.'),
    code('result.summary()'),
    code('from calib.lab import charts\n\ncharts.enable_offline()\ndisplay(charts.widget(charts.scores_per_period(result)))\ndisplay(charts.widget(charts.not_rated_reasons(result)))'),
    md('## KPI points\n\nThe points each KPI gave, averaged per month (empty where a KPI was excluded, for example a month in which nobody was surveyed).'),
    code('labels = policy.labels()\npoints = result.kpi_points.set_index(["id", "period"])\npoints.groupby(level="period").mean().round(1).rename(columns=labels)'),
    md('## Scores by group\n\nThe mean score of each group, to spot lenient or harsh groups. The groups are the ones the policy itself uses (its quota groups, teams, pools or rankings), else a text column of the people table such as the department.'),
    code('from calib.policy.groups import default_group\n\ngroup_col = default_group(policy, data.tables["people"].columns)\nif group_col:\n    people = data.tables["people"].set_index(policy.inputs.id)[group_col]\n    rated = result.rated().assign(group=lambda d: d["id"].map(people))\n    display(rated.groupby("group")["score"].describe().round(1))\nelse:\n    print("this scheme has no group column")'),
    code('display(charts.widget(charts.group_heatmap(result)))'),
    md('## Roll-ups\n\nQuarterly or annual results as the policy defines them (for example the 20/30/50 annual rule).'),
    code('for name, table in result.rollups.items():\n    print(name)\n    display(table.head(10))'),
]
