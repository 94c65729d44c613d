"""What the apps' browser tests share: Voilà serving a copy of one notebook on 127.0.0.1, Debian's
Chromium (through Playwright) with a fresh HOME, and a page that fails on any request leaving
the machine and on any JavaScript error (the apps must work offline).
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
SHOTS = ROOT / os.environ.get("CALIB_SCREENSHOTS", "out/screenshots")
CHROMIUM = os.environ.get("CALIB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
BIN = Path(sys.executable).parent
RENDER_MS = 120_000  # the page and its widgets, kernel start and first run included
LOCAL = ("http://127.0.0.1:", "http://localhost:", "ws://127.0.0.1:", "ws://localhost:", "data:",
         "blob:", "about:")
# Voilà's "lab" template links Font Awesome's CSS from a CDN although its own bundle holds the
# fonts (see test_browser.py): blocked like every other request, but not counted as a failure
VOILA_FONT_AWESOME = "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@%5E5/css/"

def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def voila(workdir: Path, notebook: str) -> Iterator[str]:
    """``./dev app``'s command on the copy of ``notebook`` in ``workdir``; its URL, and the
    server (its whole group) stopped afterwards.
    """
    port = free_port()
    home = workdir / "home"
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "PYTHONUNBUFFERED": "1"}
    cmd = [str(BIN / "voila"), notebook, "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
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


def chromium(tmp_path_factory) -> Iterator:
    """Chromium with its own HOME (a module fixture's body: ``yield from chromium(...)``)."""
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


def notebook_copy(tmp_path: Path, notebook: str) -> Path:
    """A copy of ``notebook`` next to a link to datasets/, so that nothing in the repository is
    saved; the folder.
    """
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / notebook, tmp_path / "notebooks" / notebook)
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    (tmp_path / "home").mkdir()
    return tmp_path


SHOWN = """([text]) => Array.from(document.querySelectorAll('.widget-html'))
  .some(e => e.textContent.includes(text))"""

TEXT_OF = """([text]) => { const e = Array.from(document.querySelectorAll('.widget-html'))
  .filter(e => e.textContent.includes(text)).pop(); return e ? e.textContent : null; }"""


def dropdown(page, label: str):
    """The <select> of the dropdown labelled exactly ``label``."""
    return page.locator(".widget-dropdown").filter(has=page.get_by_text(label, exact=True)).locator("select")


@contextmanager
def offline_page(browser) -> Iterator[tuple]:
    """A page on which every request leaving 127.0.0.1 is aborted and listed (``blocked``), and
    every console error and page error is listed (``errors``): (page, blocked, errors).
    """
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

    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    try:
        yield page, blocked, errors
    finally:
        page.close()
