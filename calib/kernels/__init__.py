"""Vectorised kernels: one small pure function per rule family, arrays in, arrays out.

NaN in a kernel's input or output means "excluded" and is only ever produced by a policy's explicit
``exclude`` choice: inputs are checked before they reach a kernel.
"""
