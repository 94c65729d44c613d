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

import os
import re
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
NOTEBOOK = "04_payouts_and_budget.ipynb"
SHOTS = ROOT / os.environ.get("CALIB_SCREENSHOTS", "out/screenshots")
CHROMIUM = os.environ.get("CALIB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
BIN = Path(sys.executable).parent
RENDER_MS = 120_000  # the page and its widgets, kernel start and first run included
CHANGE_MS = 60_000  # one solve, one simulation, one sensitivity
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
    """``./dev app``'s command on a copy of the notebook; stopped (its group) afterwards."""
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


_SHOWN = """([text]) => Array.from(document.querySelectorAll('.widget-html'))
  .some(e => e.textContent.includes(text))"""

_TEXT_OF = """([text]) => { const e = Array.from(document.querySelectorAll('.widget-html'))
  .filter(e => e.textContent.includes(text)).pop(); return e ? e.textContent : null; }"""


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
            start = time.perf_counter()
            page.goto(url + "/", timeout=RENDER_MS)
            _button(page, "Solve").wait_for(state="attached", timeout=RENDER_MS)
            page.wait_for_function(_SHOWN, arg=["opened in"], timeout=RENDER_MS)
            opened = time.perf_counter() - start
            text = page.locator("body").inner_text()
            # an app, not a rendered notebook: no code, no "type your own number" in a cell
            for word in ("BUDGET", "SCHEME", "app.panel", "run the cells", "import ", "None"):
                assert word not in text, word
            assert "<NA>" not in text and "nan" not in text.split()
            assert "What the scheme paid" in text and "gas_cs: " in text
            _type(page, "Budget per pay period", "12.000,5")
            page.wait_for_function(_SHOWN, arg=["This budget cannot be read"], timeout=CHANGE_MS)
            assert "Fix:" in page.evaluate(_TEXT_OF, ["This budget cannot be read"])
            _type(page, "Budget per pay period", "140000")
            page.wait_for_function(_SHOWN, arg=["3,360,000.00 CNY over the history"], timeout=CHANGE_MS)
            assert not page.evaluate(_SHOWN, ["This budget cannot be read"])
            start = time.perf_counter()
            _press(page, "Solve")
            page.wait_for_function(_SHOWN, arg=["gap to the budget"], timeout=CHANGE_MS)
            solved = time.perf_counter() - start
            report = page.evaluate(_TEXT_OF, ["gap to the budget"])
            assert "Set 等级奖金 · coefficients.B to 1.0" in report, report
            assert "for a budget of 3,360,000.00 CNY (140,000.00 CNY per pay period)" in report, report
            _type(page, "Simulated years", "50")
            start = time.perf_counter()
            _press(page, "Simulate")
            page.wait_for_function(_SHOWN, arg=["chance of overspending the budget"], timeout=CHANGE_MS)
            simulated = time.perf_counter() - start
            sim = page.evaluate(_TEXT_OF, ["chance of overspending the budget"])
            assert "50 simulated years under the scheme as solved" in sim, sim
            assert "1,680,000.00 CNY" in sim and "chance over" in sim and "城东分公司" in sim, sim
            _press(page, "Show sensitivity")
            page.wait_for_function("() => document.querySelector('.calib-finance-tornado svg') !== null",
                                   timeout=CHANGE_MS)
            _press(page, "Export tuned policy")
            page.wait_for_function(_SHOWN, arg=["Written: "], timeout=CHANGE_MS)
            written = page.evaluate(_TEXT_OF, ["Written: "]).split("Written: ")[1].strip()
            assert written.startswith(str(workdir / "home")) and Path(written).is_file(), written
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / "finance.png", full_page=True)
            print(f"\nfinance app: opened in {opened:.1f} s, solved in {solved:.1f} s, 50 years "
                  f"simulated in {simulated:.1f} s (browser clock)")
            assert not blocked, f"requests to the internet: {blocked}"
            assert not errors, f"JavaScript errors: {errors}"
        finally:
            page.close()
