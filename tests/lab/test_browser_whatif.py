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
NOTEBOOK = "05_what_if.ipynb"
SHOTS = ROOT / os.environ.get("CALIB_SCREENSHOTS", "out/screenshots")
CHROMIUM = os.environ.get("CALIB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
BIN = Path(sys.executable).parent
RENDER_MS = 120_000  # the page and its widgets, kernel start and first run included
CHANGE_MS = 60_000  # opening another scheme, or one what-if
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


def _dropdown(page, label: str):
    """The <select> of the dropdown labelled exactly ``label``."""
    return page.locator(".widget-dropdown").filter(has=page.get_by_text(label, exact=True)).locator("select")


def _pick_scheme(page, name: str) -> None:
    """Pick scheme ``name`` (its option reads "name — title") and wait for its summary line."""
    select = _dropdown(page, "Scheme")
    value = select.evaluate("(s, n) => Array.from(s.options).map(o => o.value)"
                            ".find(v => v.startsWith(n + ' '))", name)
    assert value, f"no scheme {name} in the picker"
    select.select_option(value)
    page.wait_for_function(_SHOWN, arg=[f"{name}: "], timeout=CHANGE_MS)
    page.wait_for_function(_SHOWN, arg=["opened in"], timeout=CHANGE_MS)


def _type(page, label: str, value: str) -> None:
    """Type ``value`` into the number box labelled ``label`` and submit it (Enter)."""
    box = page.locator(".widget-text").filter(has=page.get_by_text(label, exact=True)).locator("input")
    box.scroll_into_view_if_needed()
    box.fill(value)
    box.press("Enter")


def test_voila_what_if_app_pick_change_and_see_who_moved(browser, workdir: Path) -> None:
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
            _dropdown(page, "Person").select_option("GS0013")
            _dropdown(page, "Month").select_option("2025-06")
            # the line on the person is written once the month's form is built
            page.wait_for_function(_SHOWN, arg=["GS0013 · 2025-06 · 客服员工"], timeout=CHANGE_MS)
            _type(page, "满意人数", "0")
            _type(page, "有效投诉数", "3")
            start = time.perf_counter()
            page.locator("button", has_text="Recalculate").first.click()
            page.wait_for_function(_SHOWN, arg=["Who else moved (2)"], timeout=CHANGE_MS)
            what_if = time.perf_counter() - start
            report = page.evaluate(_TEXT_OF, ["Who else moved"])
            assert "payout after 725.00 CNY (was 900.00 CNY, −175.00 CNY)" in report, report
            assert "GS0017" in report and "GS0019" in report and "B → A" in report, report
            assert "complaints: 3" in report and "<NA>" not in report
            assert "changed: satisfied → 0, complaints → 3" in page.evaluate(_TEXT_OF, ["changed:"])
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / "whatif.png", full_page=True)
            print(f"\nwhat-if app: opened in {opened:.1f} s, gas_cs picked in {switched:.1f} s, "
                  f"one what-if in {what_if:.1f} s (browser clock)")
            assert not blocked, f"requests to the internet: {blocked}"
            assert not errors, f"JavaScript errors: {errors}"
        finally:
            page.close()
