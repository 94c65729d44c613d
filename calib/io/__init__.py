"""Files made from results: the report workbook, sign-off and input templates, provenance."""
