"""The calibration cycle's record: a hash-chained SQLite ledger of runs, overrides, appeals and
approvals per cycle, with the appeals register and signed approvals (DESIGN.md, "the cycle").
"""
