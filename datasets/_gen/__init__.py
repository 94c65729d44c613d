"""Generators of the example data sets, one module per scheme (see ``datasets/generate.py``)."""
