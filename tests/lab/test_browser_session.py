"""The calibration session app (``./dev app session``, notebook 07 on gas_cs) in a real browser.

Voilà serves a copy of the notebook on 127.0.0.1 and Debian's Chromium (through Playwright) drives
it offline, as in ``tests/lab/test_browser.py``: a box of the 9-box is clicked and its people are
listed; then a team leader's grade is raised (GS0001, A in 2025-12, to A+). gas_cs grades staff by
a cascade on their leader's grade, so the team's A+ quota rises from 1 to 2 and the team's grades,
kept, break it: the breach appears, with the cost change. Nothing may leave the machine and no
JavaScript error may happen. A screenshot goes to ``out/screenshots/session.png`` (or the folder
of ``CALIB_SCREENSHOTS``). Deselect with ``-m "not browser"``.
"""

from __future__ import annotations

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

NOTEBOOK = "07_calibration_session.ipynb"
CHANGE_MS = 30_000  # one override re-run

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    yield from chromium(tmp_path_factory)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return notebook_copy(tmp_path, NOTEBOOK)


def test_voila_session_app_nine_box_and_a_leaders_override_breaks_the_quota(browser, workdir: Path) -> None:
    with voila(workdir, NOTEBOOK) as url, offline_page(browser) as (page, blocked, errors):
        page.goto(url + "/", timeout=RENDER_MS)
        boxes = page.locator("button.calib-box")
        boxes.first.wait_for(state="attached", timeout=RENDER_MS)
        # the 9-box: click the first box with people, its people are listed below the grid
        counts = boxes.all_inner_texts()
        full = next(i for i, c in enumerate(counts) if c.strip() not in ("", "0"))
        boxes.nth(full).scroll_into_view_if_needed()
        boxes.nth(full).click()
        page.wait_for_function(SHOWN, arg=["person-period"], timeout=CHANGE_MS)
        listed = page.evaluate(TEXT_OF, ["person-period"])
        assert f": {counts[full].strip()} person-period" in listed and "GS0" in listed, listed
        # the leader GS0001 (A in 2025-12) raised to A+
        dropdown(page, "Person").select_option("GS0001")
        dropdown(page, "In period").select_option("2025-12")
        dropdown(page, "Field").select_option(label="grade")
        page.get_by_placeholder("a grade:").fill("A+")
        page.get_by_placeholder("who decides").fill("分公司经理")
        page.locator("button", has_text="Propose").first.click()
        page.wait_for_function(SHOWN, arg=["Quota breaches (2)"], timeout=CHANGE_MS)
        status = page.evaluate(TEXT_OF, ["Quota breaches"])
        assert "城东营业厅一组 (leader GS0001)" in status and "+100.00 CNY" in status, status
        # the pending list is new widgets: drawn a moment after the status
        page.wait_for_function(SHOWN, arg=["GS0001 2025-12: grade → A+ (was A)"], timeout=CHANGE_MS)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "session.png", full_page=True)
        assert not blocked, f"requests to the internet: {blocked}"
        assert not errors, f"JavaScript errors: {errors}"
