"""Reading input tables as people see them, in canonical order, and checking them against a policy."""

from calib.data.read import MISSING_MARKERS, SUFFIXES, Dataset, load_data, read_table

__all__ = ["MISSING_MARKERS", "SUFFIXES", "Dataset", "load_data", "read_table"]
