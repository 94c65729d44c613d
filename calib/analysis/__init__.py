"""Reading results and policies side by side: solvers, diffs and impact, diagnostics, rebalancing."""
