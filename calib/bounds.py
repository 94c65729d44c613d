"""The largest numbers calib accepts, and why (README, "Decisions": numbers calib refuses).

calib pays money exactly or not at all. Two bounds make that checkable everywhere:

- ``MAX_INPUT``: no number typed in a policy or read from an input column may exceed it in size
  (10^12, a trillion) unless the column declares its own ``max``. A larger value is not a
  plausible amount, count or score of one person: it is an ID number pasted into the wrong
  column, a stray exponent (1e308) or a unit mistake, and it would overflow the exact arithmetic.
- ``MAX_UNITS``: one money amount, in whole units of its currency unit (cents for 0.01), is at
  most 10^14 (a trillion yuan in cents). Below it a float64 amount still holds the tenth of a unit
  that rounding half up needs, so every cent is exact; a computed amount above it is refused with
  the place it comes from. Totals are added as 64-bit integers and checked against overflow.
"""

from __future__ import annotations

MAX_INPUT: float = 1e12
MAX_UNITS: int = 10**14
#: The largest total of whole units a 64-bit integer holds with room to spare (2^62).
MAX_TOTAL_UNITS: int = 2**62
