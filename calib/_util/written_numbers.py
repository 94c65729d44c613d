"""How calib reads a number written as text, in a policy and in data alike: a comma only between
thousands.

``1,234.5`` and ``12,345,678`` group thousands as Chinese and English writing (and Excel's CSV
export of a formatted cell) do, and are read as 1234.5 and 12345678. Any other comma (``7,5``,
``1,23``, ``12,5%``, ``1,00,000``) is refused: ``7,5`` is 7.5 where the comma is the decimal mark
and 75 where it groups thousands, and calib does not guess (README, "Decisions"). A full-width
comma (``，``) counts as a comma.
"""

from __future__ import annotations

import re

#: the only comma a number may hold: between thousands (1,234 or -12,345,678.5)
THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")


def without_thousands(text: str) -> str | None:
    """``text`` without its thousands separators when its commas are only that, else None
    (a comma calib will not read); text without a comma comes back as it is.
    """
    body = text.strip().replace("，", ",")
    if "," not in body:
        return body
    suffix = body[-1] if body.endswith(("%", "‰")) else ""
    digits = body[:len(body) - len(suffix)].strip()
    if THOUSANDS.match(digits):
        return digits.replace(",", "") + suffix
    return None
