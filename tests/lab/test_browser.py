"""The apps in a real browser: Voila and JupyterLab served on 127.0.0.1, driven by Chromium, offline.

Every page blocks all requests that do not go to 127.0.0.1 (the machines calib runs on are often
offline: a chart that loads Vega from a CDN is blank there) and fails on any such request or any
JavaScript error. The slider tests open ``notebooks/02_tune_scoring.ipynb`` (scheme ``gas_cs``,
the notebook with a ``Dashboard``), move the first slider with the keyboard and check that the
grade-count table and the charts change; the what-if app of ``./dev app`` (05) is checked never
to show a stale result. The finance app (04) has its own test, ``test_browser_finance.py``
(budget, Solve, Simulate, the sensitivity drawn offline, export).

Screenshots go to ``out/screenshots/`` (not tracked), or to the folder named by
``CALIB_SCREENSHOTS`` (``CALIB_SCREENSHOTS=docs/screenshots`` refreshes the README's). Chromium is
Debian's (``/usr/bin/chromium``; ``./dev test`` installs it when missing), driven by Playwright.
Deselect with ``-m "not browser"``.
"""

from __future__ import annotations

import json
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
NOTEBOOK = "02_tune_scoring.ipynb"
SHOTS = ROOT / os.environ.get("CALIB_SCREENSHOTS", "out/screenshots")
CHROMIUM = os.environ.get("CALIB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
BIN = Path(sys.executable).parent
RENDER_MS = 120_000  # the page and its widgets, kernel start and first run included
CHANGE_MS = 30_000  # a re-run after a slider moved

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _server(cmd: list[str], cwd: Path, home: Path, port: int, log: Path,
            env: dict[str, str] | None = None) -> Iterator[str]:
    """Start a server, wait (bounded) until its port answers, stop it cleanly afterwards."""
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "PYTHONUNBUFFERED": "1", **(env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            for _ in range(600):
                if proc.poll() is not None:
                    raise AssertionError(f"{cmd[0]} exited with {proc.returncode}:\n"
                                         f"{log.read_text()[-3000:]}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"{cmd[0]} did not listen on port {port} within 60 s:\n"
                                         f"{log.read_text()[-3000:]}")
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


_CHART_STATE = """() => Array.from(document.querySelectorAll('.vega-embed')).map(e => {
  const c = e.querySelector('canvas');
  if (c) return c.toDataURL();
  const s = e.querySelector('svg');
  return s ? s.outerHTML : '';
})"""


_COUNTS = """() => { const t = Array.from(document.querySelectorAll('.widget-html'))
  .filter(e => e.textContent.includes('Grades and payout')).pop();
  return t ? t.textContent : null; }"""


class _Offline:
    """A page that may only reach 127.0.0.1: other requests are aborted and recorded, as are
    JavaScript errors (console errors and uncaught exceptions)."""

    LOCAL = ("http://127.0.0.1:", "http://localhost:", "ws://127.0.0.1:", "ws://localhost:",
             "data:", "blob:", "about:")
    # Voila's "lab" template links Font Awesome's CSS from jsdelivr, although Voila's own bundle
    # holds Font Awesome 5.15.4 with its fonts served locally: offline the links fail and the
    # icons still show (``_icons_drawn`` checks). These two are blocked like the rest, not failed.
    VOILA_FONT_AWESOME = ("https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@%5E5/css/",)

    def __init__(self, browser) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1600})
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def _console(self, message) -> None:
        url = (message.location or {}).get("url", "")
        if message.type == "error" and not url.startswith(self.VOILA_FONT_AWESOME):
            self.errors.append(f"console: {message.text} ({url})")

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.LOCAL):
            route.continue_()
            return
        if not url.startswith(self.VOILA_FONT_AWESOME):
            self.blocked.append(url)
        route.abort("internetdisconnected")

    def check(self) -> None:
        """Nothing tried to leave the machine and no JavaScript error happened."""
        assert not self.blocked, f"requests to the internet: {self.blocked}"
        assert not self.errors, f"JavaScript errors: {self.errors}"


@contextmanager
def _offline_page(browser) -> Iterator:
    """An offline page (see ``_Offline``), checked and closed at the end."""
    offline = _Offline(browser)
    try:
        yield offline.page
        offline.check()
    except Exception as exc:  # what the page tried and said helps to read any failure
        dialog = offline.page.evaluate("() => document.querySelector('.jp-Dialog')?.innerText")
        exc.add_note(f"blocked requests: {offline.blocked}\nJavaScript errors: {offline.errors}"
                     + (f"\ndialog on screen: {dialog}" if dialog else ""))
        raise
    finally:
        offline.page.close()


_DRAWN = """() => Array.from(document.querySelectorAll('.vega-embed')).map(e => {
  const c = e.querySelector('canvas');
  if (c) {
    if (!c.width || !c.height) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;  // coloured pixels: the marks (axes, grid and text are grey or black)
    for (let i = 0; i < d.length; i += 4) {
      const hi = Math.max(d[i], d[i + 1], d[i + 2]), lo = Math.min(d[i], d[i + 1], d[i + 2]);
      if (d[i + 3] > 0 && hi - lo > 60) n++;
    }
    return n;
  }
  const s = e.querySelector('svg');
  return s ? s.querySelectorAll('.role-mark > *').length : 0;
})"""


_ICON_FONTS = """() => Array.from(document.querySelectorAll('button i.fa'))
  .map(i => getComputedStyle(i).fontFamily)"""


def _icons_drawn(page) -> None:
    """The buttons' icons use Font Awesome from Voila's own bundle (the CDN copy is blocked)."""
    fonts = page.evaluate(_ICON_FONTS)
    assert fonts and all("Font Awesome" in f or "FontAwesome" in f for f in fonts), fonts


def _wait_for_charts(page, count: int, timeout: int = RENDER_MS) -> list[int]:
    """Wait until ``count`` charts have drawn marks; the marks (coloured pixels or SVG marks)
    per chart. Fewer charts than expected, or one without marks, fails."""
    try:
        page.wait_for_function(f"([n]) => {{ const d = ({_DRAWN})(); return d.length >= n && "
                               "d.every(m => m > 0); }", arg=[count], timeout=timeout)
    except Exception as exc:
        raise AssertionError(f"charts drawn (marks per chart): {page.evaluate(_DRAWN)}, "
                             f"expected {count} with marks") from exc
    drawn = page.evaluate(_DRAWN)
    assert len(drawn) == count and all(drawn), drawn
    return drawn


def _dashboard_state(page) -> tuple[str, list[str]]:
    return page.evaluate(_COUNTS), page.evaluate(_CHART_STATE)


def _wait_for_dashboard(page) -> None:
    # "attached", not "visible": JupyterLab skips the layout of cells outside its scrolled view
    page.wait_for_function(f"() => ({_COUNTS})() !== null", timeout=RENDER_MS)
    page.locator(".noUi-handle").first.wait_for(state="attached", timeout=RENDER_MS)
    page.wait_for_function("() => document.querySelectorAll('.vega-embed canvas, .vega-embed svg')"
                           ".length >= 2", timeout=RENDER_MS)


def _move_slider_and_check(page) -> tuple[str, str]:
    counts_before, charts_before = _dashboard_state(page)
    assert "payout total" in counts_before and len(charts_before) >= 2
    handle = page.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    value_before = handle.get_attribute("aria-valuenow")
    handle.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"([before]) => ({_COUNTS})() !== before", arg=[counts_before],
                           timeout=CHANGE_MS)
    page.wait_for_function(f"([before]) => JSON.stringify(({_CHART_STATE})()) !== before",
                           arg=[json.dumps(charts_before)], timeout=CHANGE_MS)
    counts_after, charts_after = _dashboard_state(page)
    assert handle.get_attribute("aria-valuenow") != value_before
    assert counts_after != counts_before
    assert charts_after != charts_before
    return counts_before, counts_after


_STARTED = """() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
  .some(e => /\\[(\\*|\\d+)\\]/.test(e.textContent))"""


def _accept_dialogs(page) -> list[str]:
    """Accept any JupyterLab dialog on screen (on a busy machine the kernel picker can open before
    the notebook's kernel is known); their texts, for the failure message if one comes back."""
    seen = []
    dialogs = page.locator(".jp-Dialog")
    for _ in range(3):
        if not dialogs.count() or not dialogs.first.is_visible():
            break
        seen.append(dialogs.first.inner_text()[:200])
        accept = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
        if accept.count():
            accept.first.click()
        else:
            page.keyboard.press("Escape")
        page.wait_for_timeout(500)
    return seen


def _wait_idle(page) -> None:
    """Wait for the kernel to be idle, accepting a dialog (the kernel picker) that holds it up."""
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first
    for _ in range(RENDER_MS // 5_000):
        try:
            idle.wait_for(timeout=5_000)
            return
        except Exception:
            _accept_dialogs(page)
    idle.wait_for(timeout=5_000)


def _run_all_cells(page) -> None:
    """Run ▸ Run All Cells, again (at most three times) when the first click came too early."""
    for attempt in range(3):
        _accept_dialogs(page)
        page.locator(".jp-Notebook .jp-Cell").first.click()  # the notebook is the current widget
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            page.wait_for_function(_STARTED, timeout=10_000)
            return
        except Exception:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")


def test_voila_app_slider_changes_counts_and_chart(browser, workdir: Path) -> None:
    port = _free_port()
    cmd = [str(BIN / "voila"), NOTEBOOK, "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
           "--VoilaExecutor.timeout=120"]
    with _server(cmd, workdir / "notebooks", workdir / "home", port, workdir / "voila.log") as url:
        with _offline_page(browser) as page:
            page.goto(url + "/", timeout=RENDER_MS)
            _wait_for_dashboard(page)
            _wait_for_charts(page, 2)  # drawn offline: Vega from the kernel, not a CDN
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / "app_before.png", full_page=True)
            _move_slider_and_check(page)
            page.screenshot(path=SHOTS / "app_after.png", full_page=True)


def test_jupyterlab_run_all_then_slider(browser, workdir: Path) -> None:
    port = _free_port()
    cmd = [str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root", "--ServerApp.token=",
           "--ServerApp.password=", "--ServerApp.ip=127.0.0.1", f"--port={port}",
           "--ServerApp.root_dir=" + str(workdir / "notebooks"),
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    # no "Would you like to get notified about official Jupyter news?" toast over the screenshot
    settings = workdir / "home" / "lab-settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false"}')
    # every cell in the page: with JupyterLab's default windowing, the outputs of cells scrolled
    # out of view may never be attached, and the dashboard wait times out on a busy machine
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}')
    with _server(cmd, workdir / "notebooks", workdir / "home", port, workdir / "lab.log",
                 env={"JUPYTERLAB_SETTINGS_DIR": str(settings)}) as url:
        with _offline_page(browser) as page:
            page.goto(f"{url}/lab/tree/{NOTEBOOK}", timeout=RENDER_MS)
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=RENDER_MS)
            _wait_idle(page)  # the kernel is idle before running all cells
            _run_all_cells(page)
            _wait_for_dashboard(page)
            _move_slider_and_check(page)
            page.locator(".widget-html", has_text="Grades and payout").last.scroll_into_view_if_needed()
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / "lab.png")


_REPORT = """() => { const t = Array.from(document.querySelectorAll('.widget-html'))
  .filter(e => e.textContent.includes('This person')).pop();
  return t ? t.textContent : null; }"""

_SHOWN = """([text]) => Array.from(document.querySelectorAll('.widget-html'))
  .some(e => e.textContent.includes(text))"""


def _start_voila(notebook: str, workdir: Path, log: str):
    """``./dev app``'s command on a copy of ``notebook`` in ``workdir``."""
    shutil.copy(ROOT / "notebooks" / notebook, workdir / "notebooks")
    port = _free_port()
    cmd = [str(BIN / "voila"), notebook, "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
           "--VoilaExecutor.timeout=300"]
    return _server(cmd, workdir / "notebooks", workdir / "home", port, workdir / log)


def _recalculate(page, value: str, expect: str) -> None:
    """Type ``value`` into the last number field, press Recalculate, wait for ``expect``."""
    field = page.locator(".widget-text input[type='number']").last
    field.scroll_into_view_if_needed()
    field.fill(value)
    field.press("Enter")
    page.locator("button", has_text="Recalculate").first.click()
    page.wait_for_function(_SHOWN, arg=[expect], timeout=CHANGE_MS)


def test_voila_what_if_app_recalculates_offline_and_never_stale(browser, workdir: Path) -> None:
    """The managers' app (`./dev app`, notebook 05), offline: change an input, press Recalculate,
    and the person's before/after row, who else moved and the statement appear. Editing an input
    marks that result out of date; a refused input (a negative count) replaces it with the error;
    a good input again brings a result back."""
    with _start_voila("05_what_if.ipynb", workdir, "voila.log") as url, \
            _offline_page(browser) as page:
        page.goto(url + "/", timeout=RENDER_MS)
        page.locator("button", has_text="Recalculate").first.wait_for(state="attached",
                                                                        timeout=RENDER_MS)
        field = page.locator(".widget-text input[type='number']").last
        field.wait_for(state="attached", timeout=RENDER_MS)
        good = field.input_value() or "0"
        _recalculate(page, str(float(good) + 3), "This person")
        report = page.evaluate(_REPORT)
        assert "score after" in report and "Who else moved" in report
        assert "Statement after the change" in report
        _icons_drawn(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "what_if.png", full_page=True)
        field.fill("-5")
        field.press("Enter")
        page.wait_for_function(_SHOWN, arg=["Out of date"], timeout=CHANGE_MS)
        _recalculate(page, "-5", "Not applied: these inputs cannot be calculated")
        assert page.evaluate(_REPORT) is None  # the old result is gone, not left beside the error
        page.screenshot(path=SHOTS / "what_if_error.png", full_page=True)
        _recalculate(page, good, "This person")
        assert not page.evaluate(_SHOWN, ["Not applied"])
