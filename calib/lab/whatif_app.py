"""The managers' what-if app (``./dev app``, notebook 05): pick a scheme, then ask what if.

``WhatIfApp(datasets, scheme="gas_cs")`` is the whole app: a picker of the bundled example schemes
(the folders of ``datasets`` holding a ``policy.yaml``) or a folder typed in, a progress line
while a scheme loads ("loading gas_cs: reading data…, scoring…"), and below it the what-if panel
of ``calib.lab.whatif`` on the loaded scheme. A scheme that cannot be opened (no policy, a policy
or data error) is said in place, in a red box with every problem and its fix; nothing is left
half loaded.

The steps are plain functions (:func:`schemes`, :func:`open_scheme`) so that they are tested and
timed without widgets; the progress is a label and a bar updated between the steps (never a
chart redrawn in an ``Output``, which stalls nbclient and Voilà).
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as w

import calib
from calib.lab import whatif_format as f
from calib.lab.whatif import WhatIf, error_box
from calib.policy.model import Policy

OTHER = "(a folder…)"
"""The picker's entry for a scheme in a folder typed in."""

STEPS = ("reading the policy", "reading data", "scoring", "building the form")
"""What opening a scheme does, in order (the progress line names each)."""

_TITLE = re.compile(r"^title:\s*(.+?)\s*$", re.MULTILINE)


def in_app() -> bool:
    """True when the notebook runs as an app under Voilà (its kernel is given ``VOILA_*``
    variables): notebook-only instructions and code examples are then left out.
    """
    return any(k in os.environ for k in ("VOILA_REQUEST_URL", "VOILA_KERNEL_ID"))


def schemes(datasets: str | Path) -> dict[str, str]:
    """The bundled schemes: {folder name: title} for each folder of ``datasets`` with a
    ``policy.yaml``, sorted by name. The title is read from the file's ``title:`` line (no policy
    is loaded: listing stays instant); the name stands in when there is none.
    """
    found = {}
    root = Path(datasets)
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        policy = folder / "policy.yaml"
        if policy.is_file():
            title = _TITLE.search(policy.read_text(encoding="utf-8", errors="replace"))
            found[folder.name] = title.group(1).strip("\"'") if title else folder.name
    return found


@dataclass
class Opened:
    """A scheme opened for what-if questions: its policy, data, first run and timings."""

    name: str
    folder: Path
    policy: Policy
    data: Any
    result: calib.Result
    seconds: dict[str, float]


def open_scheme(folder: str | Path, say: Callable[[int, str], None] | None = None) -> Opened:
    """Read a scheme's policy and data and run it once, saying each step before it starts.

    Parameters
    ----------
    folder : str or Path
        A folder holding ``policy.yaml`` and the data it reads.
    say : callable, optional
        Called as ``say(i, step)`` before step ``i`` of :data:`STEPS` (0-based), to show progress.

    Returns
    -------
    Opened
        The policy, data and first run, with the seconds each step took.

    Raises
    ------
    CalibError
        No folder or no ``policy.yaml`` in it (said with what to type), or the policy or data
        refused (``PolicyError``, ``DataError``: every problem with its fix).
    """
    folder = Path(folder).expanduser()
    tell = say or (lambda i, step: None)
    if not folder.is_dir():
        raise calib.CalibError(f"{folder}: no such folder. Fix: type the folder that holds the "
                               "scheme's policy.yaml and its data (records.csv …)")
    path = folder / "policy.yaml"
    if not path.is_file():
        raise calib.CalibError(f"{folder} has no policy.yaml. Fix: type the folder that holds the "
                               "scheme's policy.yaml and its data")
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    tell(0, STEPS[0])
    policy = calib.load_policy(path)
    seconds[STEPS[0]] = time.perf_counter() - start
    tell(1, STEPS[1])
    data = calib.load_data(folder, policy)
    seconds[STEPS[1]] = time.perf_counter() - start - sum(seconds.values())
    tell(2, STEPS[2])
    result = calib.run(policy, data)
    seconds[STEPS[2]] = time.perf_counter() - start - sum(seconds.values())
    return Opened(folder.name, folder, policy, data, result, seconds)


def opened_summary(opened: Opened) -> str:
    """One line on an opened scheme: its rows, the rated ones, the time it took to open."""
    scores = opened.result.scores
    rated = int((scores["status"] == "rated").sum())
    took = sum(opened.seconds.values())
    return (f"{opened.name}: {opened.policy.title or opened.policy.name} · {f.integer(len(scores))} "
            f"person-periods, {f.integer(rated)} rated · opened in {took:.1f} s")


class SchemeApp:
    """An app on one scheme: a picker of the bundled schemes (or a folder typed in), a progress
    line saying each step of opening it, and the app's panel below; a scheme that cannot be
    opened is shown in the panel's place. The what-if and the finance apps are this with their
    own ``_open`` (the steps that open the scheme and build the panel).

    Parameters
    ----------
    datasets : str or Path
        The folder of the bundled example schemes (one folder per scheme).
    scheme : str, optional
        The example scheme opened at once (its folder name under ``datasets``); none: the app
        waits for a pick.
    """

    steps: tuple[str, ...] = STEPS
    """What opening a scheme does, in order (the progress line names each)."""

    def __init__(self, datasets: str | Path, scheme: str | None = None):
        self.datasets = Path(datasets)
        self.error: str | None = None  # the last failed opening's message, None when it worked
        self._forget()
        found = schemes(self.datasets)
        options = [(f"{name} — {title}", name) for name, title in found.items()] + [(OTHER, OTHER)]
        self.scheme = w.Dropdown(options=options, value=scheme if scheme in found else None,
                                 description="Scheme", layout=w.Layout(width="460px"))
        self.folder = w.Text(placeholder="a folder with policy.yaml and its data, e.g. /data/2025",
                             description="Folder", layout=w.Layout(width="460px", display="none"))
        self.open = w.Button(description="Open", icon="folder-open",
                             layout=w.Layout(display="none"))
        self.progress = w.IntProgress(min=0, max=len(self.steps), value=0,
                                      layout=w.Layout(width="160px", visibility="hidden"))
        self.status = w.HTML()
        self.body = w.VBox()
        self.scheme.observe(lambda _: self._picked(), names="value")
        self.open.on_click(lambda _: self.load(self.folder.value.strip()))
        self.widget = w.VBox([w.HBox([self.scheme, self.folder, self.open]),
                              w.HBox([self.progress, self.status]), self.body])
        if scheme in found:
            self.load(self.datasets / scheme)
        else:
            self.status.value = "<i>pick a scheme to start</i>"

    def _forget(self) -> None:
        """Drop what the last opening made (before another is opened)."""

    def _open(self, folder: Path, name: str) -> tuple[Any, str]:
        """Open the scheme in ``folder`` (calling ``_say`` before each step): its panel (with a
        ``widget``) and the summary line shown when it is open.
        """
        raise NotImplementedError

    def _error_html(self, exc: Exception) -> str:
        """A scheme that could not be opened, in a red box: its problems and their fixes."""
        return _open_error(exc)

    def _picked(self) -> None:
        other = self.scheme.value == OTHER
        self.folder.layout.display = "" if other else "none"
        self.open.layout.display = "" if other else "none"
        if other:
            self.status.value = "<i>type the folder and press Open</i>"
        elif self.scheme.value:
            self.load(self.datasets / self.scheme.value)

    def _say(self, name: str, i: int, step: str | None = None) -> None:
        """Show step ``i`` of opening ``name`` (the label and the bar move before the step)."""
        self.progress.layout.visibility = "visible"
        self.progress.value = i
        self.status.value = (f"<span style='color:#555'>loading {html.escape(name)}: "
                             f"{html.escape(step or self.steps[i])}…</span>")

    def load(self, folder: str | Path) -> Any:
        """Open the scheme in ``folder`` and show its panel, saying each step; an error is shown
        in the panel's place (the previous scheme's panel is removed, not left beside it). The
        panel, or None when the scheme could not be opened.
        """
        if not str(folder):
            self.status.value = "<i>type the folder and press Open</i>"
            return None
        name = Path(folder).name or str(folder)
        self.body.children = ()
        self.error = None
        self._forget()
        try:
            panel, summary = self._open(Path(folder), name)
        except Exception as exc:  # said in place: a widget callback's error would reach no one
            self.error = str(exc) if isinstance(exc, calib.CalibError) else f"{type(exc).__name__}: {exc}"
            self.progress.layout.visibility = "hidden"
            self.status.value = (f"<span style='color:#b00'><b>Could not open {html.escape(name)}"
                                 "</b>: see below</span>")
            self.body.children = (w.HTML(self._error_html(exc)),)
            return None
        self.progress.value = len(self.steps)
        self.progress.layout.visibility = "hidden"
        self.status.value = f"<span style='color:#555'>{summary}</span>"
        self.body.children = (panel.widget,)
        return panel


class WhatIfApp(SchemeApp):
    """The what-if app: a scheme picker with progress, then the what-if panel on that scheme
    (see ``SchemeApp``).
    """

    def _forget(self) -> None:
        self.opened: Opened | None = None
        self.what_if: WhatIf | None = None

    def _open(self, folder: Path, name: str) -> tuple[WhatIf, str]:
        opened = open_scheme(folder, lambda i, step: self._say(name, i, step))
        self._say(name, 3)
        start = time.perf_counter()
        panel = WhatIf(opened.policy, opened.data, before=opened.result)
        opened.seconds[STEPS[3]] = time.perf_counter() - start
        self.opened, self.what_if = opened, panel
        return panel, html.escape(opened_summary(opened))


def _open_error(exc: Exception) -> str:
    """A scheme that could not be opened, in a red box: its problems and their fixes."""
    return error_box(exc, title="This scheme cannot be opened",
                     footer="Fix the policy or the data, or pick another scheme.")
