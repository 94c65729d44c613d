"""Writing a run's folder: results.csv, report.xlsx and every stage's table (the CLI's ``run``
and the cycle's runs write the same files the same way).
"""

from __future__ import annotations

import pandas as pd

from calib._util import xlsx
from calib._util.outputs import RunFolder
from calib.engine.result import Result
from calib.io.report import results_table, write_report


def write_csv_into(folder: RunFolder, name: str, table: pd.DataFrame) -> None:
    """Write ``table`` as ``name`` into the run's folder (text safe for Excel: calib._util.xlsx)."""
    folder.write(name, lambda p: xlsx.write_csv(table, p))  # looked up at the call (tests swap it)


def write_run(result: Result, folder: RunFolder, data_sha256: str | None = None) -> pd.DataFrame:
    """Write results.csv, report.xlsx and the stage tables into ``folder``; returns the results
    table written (a caller comparing with a previous run writes ``changes.csv`` from it).
    """

    def csv(name: str, table: pd.DataFrame) -> None:
        write_csv_into(folder, name, table)

    results = results_table(result)
    csv("results.csv", results)
    folder.write("report.xlsx", lambda p: write_report(result, p, results, data_sha256))
    csv("scores.csv", result.scores)
    for name in ("grades", "quotas", "flags", "payouts", "merit", "outcomes"):
        table = getattr(result, name)
        if table is not None:
            csv(f"{name}.csv", table)
    for name in ("measures", "kpi_points", "sections"):
        csv(f"{name}.csv", getattr(result, name))
    for name, table in result.rollups.items():
        csv(f"rollup_{name}.csv", table)
    if result.adjustments is not None:
        # without the events' file lines: outputs never depend on the input's row order
        csv("adjustments.csv", result.adjustments.drop(columns="row", errors="ignore"))
    if result.group_caps is not None:
        csv("group_caps.csv", result.group_caps)
    if result.overrides is not None:
        csv("overrides.csv", result.overrides.drop(columns="row"))
    if result.quota_check is not None:
        csv("quota_breaches.csv", result.quota_check.breaches)
        if result.quota_check.proposals is not None:
            csv("balance_proposals.csv", result.quota_check.proposals)
    return results
