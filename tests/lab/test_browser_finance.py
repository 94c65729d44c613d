"""The finance app (``./dev app finance``, notebook 04) in a real browser, offline.

Voilà serves a copy of the notebook on 127.0.0.1 and Debian's Chromium (through Playwright)
drives it, as in ``tests/lab/test_browser_whatif.py``: the app opens on gas_cs, a budget of
140,000 per pay period is typed and *Solve* pressed (the value of the grade B coefficient, the
total over the history's 24 periods, 3,360,000.00 CNY, and the gap are shown); 50 simulated years
are asked for and *Simulate* pressed (the year's P50/P90/P95, the chance of overspending and the
table per branch); the sensitivity is drawn (a static SVG); the tuned policy is exported under
the app's home. A budget typed with a decimal comma is refused in place. No code and no notebook
instruction shows. Nothing may leave the machine and no JavaScript error may happen. A screenshot
goes to ``out/screenshots/finance.png`` (or the folder of ``CALIB_SCREENSHOTS``); the seconds to
open the app, to solve and to simulate are printed (``-s`` shows them), never asserted. Deselect
with ``-m "not browser"``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from browser_support import (
    RENDER_MS,
    SHOTS,
    SHOWN,
    TEXT_OF,
    chromium,
    notebook_copy,
    offline_page,
    voila,
)

NOTEBOOK = "04_payouts_and_budget.ipynb"
CHANGE_MS = 60_000  # one solve, one simulation, one sensitivity

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    yield from chromium(tmp_path_factory)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return notebook_copy(tmp_path, NOTEBOOK)



def _type(page, label: str, value: str) -> None:
    """Type ``value`` into the text or number box labelled ``label`` and submit it (Enter)."""
    box = page.locator(".widget-text").filter(has=page.get_by_text(label, exact=True)).locator("input")
    box.scroll_into_view_if_needed()
    box.fill(value)
    box.press("Enter")


def _button(page, name: str):
    """The button whose text is exactly ``name``."""
    return page.locator("button.widget-button", has_text=re.compile(f"^{re.escape(name)}$")).first


def _press(page, name: str) -> None:
    button = _button(page, name)
    button.scroll_into_view_if_needed()
    button.click()


def test_voila_finance_app_solve_simulate_and_export(browser, workdir: Path) -> None:
    with voila(workdir, NOTEBOOK) as url, offline_page(browser) as (page, blocked, errors):
        start = time.perf_counter()
        page.goto(url + "/", timeout=RENDER_MS)
        _button(page, "Solve").wait_for(state="attached", timeout=RENDER_MS)
        page.wait_for_function(SHOWN, arg=["opened in"], timeout=RENDER_MS)
        opened = time.perf_counter() - start
        text = page.locator("body").inner_text()
        # an app, not a rendered notebook: no code, no "type your own number" in a cell
        for word in ("BUDGET", "SCHEME", "app.panel", "run the cells", "import ", "None"):
            assert word not in text, word
        assert "<NA>" not in text and "nan" not in text.split()
        assert "What the scheme paid" in text and "gas_cs: " in text
        _type(page, "Budget per pay period", "12.000,5")
        page.wait_for_function(SHOWN, arg=["This budget cannot be read"], timeout=CHANGE_MS)
        assert "Fix:" in page.evaluate(TEXT_OF, ["This budget cannot be read"])
        _type(page, "Budget per pay period", "140000")
        page.wait_for_function(SHOWN, arg=["3,360,000.00 CNY over the history"], timeout=CHANGE_MS)
        assert not page.evaluate(SHOWN, ["This budget cannot be read"])
        start = time.perf_counter()
        _press(page, "Solve")
        page.wait_for_function(SHOWN, arg=["gap to the budget"], timeout=CHANGE_MS)
        solved = time.perf_counter() - start
        report = page.evaluate(TEXT_OF, ["gap to the budget"])
        assert "Set 等级奖金 · coefficients.B to 1.0" in report, report
        assert "for a budget of 3,360,000.00 CNY (140,000.00 CNY per pay period)" in report, report
        _type(page, "Simulated years", "50")
        start = time.perf_counter()
        _press(page, "Simulate")
        page.wait_for_function(SHOWN, arg=["chance of overspending the budget"], timeout=CHANGE_MS)
        simulated = time.perf_counter() - start
        sim = page.evaluate(TEXT_OF, ["chance of overspending the budget"])
        assert "50 simulated years under the scheme as solved" in sim, sim
        assert "1,680,000.00 CNY" in sim and "chance over" in sim and "城东分公司" in sim, sim
        _press(page, "Show sensitivity")
        page.wait_for_function("() => document.querySelector('.calib-finance-tornado svg') !== null",
                               timeout=CHANGE_MS)
        _press(page, "Export tuned policy")
        page.wait_for_function(SHOWN, arg=["Written: "], timeout=CHANGE_MS)
        written = page.evaluate(TEXT_OF, ["Written: "]).split("Written: ")[1].strip()
        assert written.startswith(str(workdir / "home")) and Path(written).is_file(), written
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "finance.png", full_page=True)
        print(f"\nfinance app: opened in {opened:.1f} s, solved in {solved:.1f} s, 50 years "
              f"simulated in {simulated:.1f} s (browser clock)")
        assert not blocked, f"requests to the internet: {blocked}"
        assert not errors, f"JavaScript errors: {errors}"
