"""The managers' what-if app (``./dev app``, notebook 05) in a real browser, offline.

Voilà serves a copy of the notebook on 127.0.0.1 and Debian's Chromium (through Playwright)
drives it, as in ``tests/lab/test_browser.py``: another scheme is picked and then gas_cs again
(each opening ends with its summary line), the person GS0013 and the month 2025-06 are picked,
two inputs of the form are changed (no satisfied customers, 3 complaints) and *Recalculate* is
pressed. The payout falls from 900.00 to 725.00 CNY and, in the team's cascade, GS0017 and GS0019
move up: "Who else moved (2)". No code and no notebook instruction shows. Nothing may leave the
machine and no JavaScript error may happen. A screenshot goes to ``out/screenshots/whatif.png``
(or the folder of ``CALIB_SCREENSHOTS``); the seconds to open the app and per what-if are printed
(``-s`` shows them), never asserted. Deselect with ``-m "not browser"``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from browser_support import (
    RENDER_MS,
    SHOTS,
    SHOWN,
    TEXT_OF,
    chromium,
    dropdown,
    notebook_copy,
    offline_page,
    voila,
)

NOTEBOOK = "05_what_if.ipynb"
CHANGE_MS = 60_000  # opening another scheme, or one what-if

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    yield from chromium(tmp_path_factory)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return notebook_copy(tmp_path, NOTEBOOK)


def _pick_scheme(page, name: str) -> None:
    """Pick scheme ``name`` (its option reads "name — title") and wait for its summary line."""
    select = dropdown(page, "Scheme")
    value = select.evaluate("(s, n) => Array.from(s.options).map(o => o.value)"
                            ".find(v => v.startsWith(n + ' '))", name)
    assert value, f"no scheme {name} in the picker"
    select.select_option(value)
    page.wait_for_function(SHOWN, arg=[f"{name}: "], timeout=CHANGE_MS)
    page.wait_for_function(SHOWN, arg=["opened in"], timeout=CHANGE_MS)


def _type(page, label: str, value: str) -> None:
    """Type ``value`` into the number box labelled ``label`` and submit it (Enter)."""
    box = page.locator(".widget-text").filter(has=page.get_by_text(label, exact=True)).locator("input")
    box.scroll_into_view_if_needed()
    box.fill(value)
    box.press("Enter")


def test_voila_what_if_app_pick_change_and_see_who_moved(browser, workdir: Path) -> None:
    with voila(workdir, NOTEBOOK) as url, offline_page(browser) as (page, blocked, errors):
        start = time.perf_counter()
        page.goto(url + "/", timeout=RENDER_MS)
        page.locator("button", has_text="Recalculate").first.wait_for(state="attached",
                                                                        timeout=RENDER_MS)
        opened = time.perf_counter() - start
        text = page.locator("body").inner_text()
        # an app, not a rendered notebook: no code, no "edit CHANGES / run the cells again"
        for word in ("CHANGES", "what_if.", "SCHEME", "run the cells", "import "):
            assert word not in text, word
        assert "<NA>" not in text
        _pick_scheme(page, "ecommerce_cs")
        start = time.perf_counter()
        _pick_scheme(page, "gas_cs")
        switched = time.perf_counter() - start
        dropdown(page, "Person").select_option("GS0013")
        dropdown(page, "Month").select_option("2025-06")
        # the line on the person is written once the month's form is built
        page.wait_for_function(SHOWN, arg=["GS0013 · 2025-06 · 客服员工"], timeout=CHANGE_MS)
        _type(page, "满意人数", "0")
        _type(page, "有效投诉数", "3")
        start = time.perf_counter()
        page.locator("button", has_text="Recalculate").first.click()
        page.wait_for_function(SHOWN, arg=["Who else moved (2)"], timeout=CHANGE_MS)
        what_if = time.perf_counter() - start
        report = page.evaluate(TEXT_OF, ["Who else moved"])
        assert "payout after 725.00 CNY (was 900.00 CNY, −175.00 CNY)" in report, report
        assert "GS0017" in report and "GS0019" in report and "B → A" in report, report
        assert "complaints: 3" in report and "<NA>" not in report
        assert "changed: satisfied → 0, complaints → 3" in page.evaluate(TEXT_OF, ["changed:"])
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "whatif.png", full_page=True)
        print(f"\nwhat-if app: opened in {opened:.1f} s, gas_cs picked in {switched:.1f} s, "
              f"one what-if in {what_if:.1f} s (browser clock)")
        assert not blocked, f"requests to the internet: {blocked}"
        assert not errors, f"JavaScript errors: {errors}"
