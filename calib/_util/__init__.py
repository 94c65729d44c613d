"""Utilities every layer may use: codes for text, memo keys, allocator settings, number parsing, safe
output files, the workbook writer, the version. Imports nothing of calib but ``calib.errors``.
"""
