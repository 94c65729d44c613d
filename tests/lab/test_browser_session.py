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

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "07_calibration_session.ipynb"
SHOTS = ROOT / os.environ.get("CALIB_SCREENSHOTS", "out/screenshots")
CHROMIUM = os.environ.get("CALIB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
BIN = Path(sys.executable).parent
RENDER_MS = 120_000  # the page and its widgets, kernel start and first run included
CHANGE_MS = 30_000  # one override re-run
LOCAL = ("http://127.0.0.1:", "http://localhost:", "ws://127.0.0.1:", "ws://localhost:", "data:",
         "blob:", "about:")
# Voilà's "lab" template links Font Awesome's CSS from a CDN although its own bundle holds the
# fonts (see test_browser.py): blocked like every other request, but not counted as a failure
VOILA_FONT_AWESOME = "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@%5E5/css/"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _voila(workdir: Path) -> Iterator[str]:
    """``./dev app session``'s command on a copy of the notebook; stopped (its group) afterwards."""
    port = _free_port()
    home = workdir / "home"
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "PYTHONUNBUFFERED": "1"}
    cmd = [str(BIN / "voila"), NOTEBOOK, "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
           "--VoilaExecutor.timeout=300"]
    log = workdir / "voila.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=workdir / "notebooks", env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise AssertionError(f"voila exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"voila did not listen within 60 s:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (./dev test does so as root: "
                    "apt-get install chromium fonts-wqy-microhei), or deselect with -m 'not browser'")
    sync_api = pytest.importorskip("playwright.sync_api")
    home = tmp_path_factory.mktemp("chromium-home")
    old = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    try:
        with sync_api.sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                yield b
            finally:
                b.close()
    finally:
        if old is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of the notebook next to a link to datasets/, so that nothing in the repository is saved."""
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp_path / "notebooks" / NOTEBOOK)
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    (tmp_path / "home").mkdir()
    return tmp_path


_SHOWN = """([text]) => Array.from(document.querySelectorAll('.widget-html'))
  .some(e => e.textContent.includes(text))"""

_TEXT_OF = """([text]) => { const e = Array.from(document.querySelectorAll('.widget-html'))
  .filter(e => e.textContent.includes(text)).pop(); return e ? e.textContent : null; }"""


def _dropdown(page, label: str):
    """The <select> of the dropdown labelled exactly ``label``."""
    return page.locator(".widget-dropdown").filter(has=page.get_by_text(label, exact=True)).locator("select")


def test_voila_session_app_nine_box_and_a_leaders_override_breaks_the_quota(browser, workdir: Path) -> None:
    blocked: list[str] = []
    errors: list[str] = []

    def route(r) -> None:
        url = r.request.url
        if url.startswith(LOCAL):
            r.continue_()
            return
        if not url.startswith(VOILA_FONT_AWESOME):
            blocked.append(url)
        r.abort("internetdisconnected")

    def console(message) -> None:
        url = (message.location or {}).get("url", "")
        if message.type == "error" and not url.startswith(VOILA_FONT_AWESOME):
            errors.append(f"console: {message.text} ({url})")

    with _voila(workdir) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.route("**/*", route)
        page.on("console", console)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        try:
            page.goto(url + "/", timeout=RENDER_MS)
            boxes = page.locator("button.calib-box")
            boxes.first.wait_for(state="attached", timeout=RENDER_MS)
            # the 9-box: click the first box with people, its people are listed below the grid
            counts = boxes.all_inner_texts()
            full = next(i for i, c in enumerate(counts) if c.strip() not in ("", "0"))
            boxes.nth(full).scroll_into_view_if_needed()
            boxes.nth(full).click()
            page.wait_for_function(_SHOWN, arg=["person-period"], timeout=CHANGE_MS)
            listed = page.evaluate(_TEXT_OF, ["person-period"])
            assert f": {counts[full].strip()} person-period" in listed and "GS0" in listed, listed
            # the leader GS0001 (A in 2025-12) raised to A+
            _dropdown(page, "Person").select_option("GS0001")
            _dropdown(page, "In period").select_option("2025-12")
            _dropdown(page, "Field").select_option(label="grade")
            page.get_by_placeholder("a grade:").fill("A+")
            page.get_by_placeholder("who decides").fill("分公司经理")
            page.locator("button", has_text="Propose").first.click()
            page.wait_for_function(_SHOWN, arg=["Quota breaches (2)"], timeout=CHANGE_MS)
            status = page.evaluate(_TEXT_OF, ["Quota breaches"])
            assert "城东营业厅一组 (leader GS0001)" in status and "+100.00 CNY" in status, status
            # the pending list is new widgets: drawn a moment after the status
            page.wait_for_function(_SHOWN, arg=["GS0001 2025-12: grade → A+ (was A)"], timeout=CHANGE_MS)
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / "session.png", full_page=True)
            assert not blocked, f"requests to the internet: {blocked}"
            assert not errors, f"JavaScript errors: {errors}"
        finally:
            page.close()
