"""Writing outputs safely: whole or not at all, never over someone else's files or calib's inputs.

Why: a run killed part-way, a full disk or two runs into one folder must never leave files that
look like complete results (issue 18, deliverable 6; DESIGN principle 9).

- ``atomic_path(target)``: a single file is written to a temporary file beside it and moved in
  with ``os.replace`` (the old file stays whole until the new one is complete).
- ``RunFolder``: ``calib run`` writes every file into a temporary folder beside ``--out``
  (``.<name>.calib-tmp-<pid>``), writes ``manifest.json`` last, then renames the folder into place.
  ``--out`` must be missing, empty, or hold only calib's previous run (per its manifest), which is
  replaced whole. A lock file beside ``--out`` (``.<name>.calib-lock``, ``fcntl.flock``, released
  by the system when the process dies) refuses a second concurrent run.
- ``refuse_own_input``: no command writes over one of its own inputs.

This module imports only the standard library and ``calib.errors`` so any layer can use it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calib.errors import CalibError

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
TEMP_MARK = ".calib-tmp-"  # a folder or file whose name has this is unfinished work, never results
OLD_MARK = ".calib-old-"  # the previous run, renamed away for the instant of the swap
LOCK_MARK = ".calib-lock"
KILL_HOOK = "CALIB_TEST_KILL_AT"  # tests only: SIGKILL this process at the named point of a run


class OutputError(CalibError):
    """An output that cannot be written safely (a foreign folder, a held lock, a full disk)."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def kill_hook(point: str) -> None:
    """Kill this process with SIGKILL at ``point`` when the tests ask for it (``CALIB_TEST_KILL_AT``).

    Makes the kill tests deterministic; does nothing unless the variable names this point.
    """
    if os.environ.get(KILL_HOOK) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _write_failed(target: Path, exc: OSError, kept: str) -> OutputError:
    """The message for an output that could not be written: which file, why, what is left, what to do."""
    why = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    fix = "free some disk space" if exc.errno == errno.ENOSPC else "check the folder can be written"
    return OutputError(f"could not write {target}: {why}. Nothing was half-written: {kept}. "
                       f"{fix.capitalize()} and run the command again")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


# --- single files ---------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success move it onto ``target`` (``os.replace``).

    The temporary name keeps ``target``'s suffix (writers that pick a format by suffix still work)
    and is removed on any error, so ``target`` is either its old self or the complete new file. A
    full disk or unwritable folder becomes an ``OutputError`` naming ``target``.
    """
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"{target} is a folder: give the name of the file to write")
    if not target.parent.is_dir():
        raise OutputError(f"cannot write {target}: the folder {target.parent} does not exist; "
                          f"create it or give another path")
    temp = target.with_name(f".{target.stem}{TEMP_MARK}{os.getpid()}{target.suffix}")
    try:
        yield temp
        os.replace(temp, target)
    except OSError as exc:
        raise _write_failed(target, exc, f"{target} is as it was before") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def write_atomic(target: str | Path, write: Callable[[Path], Any]) -> Any:
    """Call ``write(temp_path)`` and move the result onto ``target`` atomically; returns its value."""
    with atomic_path(target) as temp:
        return write(temp)


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    write_atomic(target, lambda temp: temp.write_text(text, encoding="utf-8"))


# --- own inputs -----------------------------------------------------------------------------------
def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def refuse_own_input(option: str, out: str | Path, inputs: Mapping[str, str | Path | None]) -> None:
    """Refuse an output file that would overwrite one of the command's inputs.

    ``inputs`` maps an option name (``--policy``) to its path (None when not given). The output
    may not be the same file as an input, nor an existing file inside an input folder (the data).
    """
    target = Path(out)
    for name, given in inputs.items():
        if given is None:
            continue
        source = Path(given)
        if _same(target, source) or target.resolve() == source.resolve():
            raise OutputError(f"{option} {out} is the same file as {name} {given}: writing it would "
                              f"overwrite your input. Give {option} another file name")
        if source.is_dir() and target.exists() and _inside(target, source):
            raise OutputError(f"{option} {out} is a file inside the data folder {name} {given}: "
                              f"writing it would overwrite your data. Give {option} a path outside "
                              f"that folder")


def refuse_out_over_inputs(out: str | Path, inputs: Mapping[str, str | Path | None]) -> None:
    """Refuse a run ``--out`` folder that is, or holds, one of the run's inputs (it is replaced whole)."""
    folder = Path(out)
    if _inside(Path.cwd(), folder):
        raise OutputError(f"--out {out} is the folder you are working in (or holds it): the run "
                          f"replaces --out whole. Give a folder of its own, e.g. --out results")
    for name, given in inputs.items():
        if given is None:
            continue
        source = Path(given)
        if _same(folder, source) or folder.resolve() == source.resolve():
            raise OutputError(f"--out {out} is the same as {name} {given}: the run replaces --out "
                              f"whole and would delete your input. Give --out a new folder")
        if _inside(source, folder):
            raise OutputError(f"{name} {given} is inside --out {out}: the run replaces --out whole "
                              f"and would delete your input. Move it out of {out} or give --out "
                              f"another folder")


# --- run folders ----------------------------------------------------------------------------------
def file_facts(path: Path) -> dict[str, Any]:
    """A file's size and sha256, as the manifest lists it."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return {"size": path.stat().st_size, "sha256": h.hexdigest()}


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest calib wrote in ``folder``, or None when there is none (or it is not calib's)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("calib_manifest") != MANIFEST_FORMAT \
            or not isinstance(data.get("files"), dict):
        return None
    return data


def verify_run(folder: str | Path) -> list[str]:
    """What is wrong with a run folder against its manifest ([] when every file is whole and listed).

    For an auditor (and the tests): a missing manifest, a listed file missing or changed (sha256),
    or a file the manifest does not list.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return [f"{folder} has no calib manifest.json"]
    problems = []
    for name, facts in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is listed but missing")
        elif file_facts(path) != facts:
            problems.append(f"{name} differs from the manifest (size or sha256)")
    listed = set(manifest["files"]) | {MANIFEST}
    problems += [f"{p.name} is not in the manifest" for p in sorted(folder.iterdir())
                 if p.name not in listed]
    return problems


def foreign_files(folder: Path) -> list[str]:
    """The entries of ``folder`` calib did not write (per its manifest: name and size); [] if all are."""
    entries = sorted(p.name for p in folder.iterdir())
    if not entries:
        return []
    manifest = read_manifest(folder)
    if manifest is None:
        return entries
    listed = manifest["files"]
    foreign = []
    for name in entries:
        path = folder / name
        if name == MANIFEST:
            continue
        facts = listed.get(name)
        if facts is None or not path.is_file() or path.stat().st_size != facts.get("size"):
            foreign.append(name)
    return foreign


def check_out_folder(out: Path) -> None:
    """Refuse an ``--out`` that is a file or holds anything calib's previous run did not write."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder: give a folder for the results "
                          f"(a new or empty one, or the folder of an earlier calib run)")
    if not out.is_dir():
        return
    foreign = foreign_files(out)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise OutputError(f"--out {out} holds files calib did not write ({shown}): calib replaces "
                          f"the whole folder and will not delete them. Give a new or empty folder, "
                          f"or move those files away")


class RunLock:
    """The lock file beside ``--out`` that keeps a second run out while one is writing.

    ``fcntl.flock`` is released by the system when the process ends, however it ends, so a lock
    left by a killed run is never stale: the file may stay, the lock does not.
    """

    def __init__(self, out: Path):
        self.out = out
        real = Path(os.path.abspath(out))  # "." and "out/" have a name and a parent too
        self.path = real.parent / f".{real.name}{LOCK_MARK}"
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``OutputError`` naming the run that holds it."""
        import fcntl

        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 200).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise OutputError(
                    f"another calib run is writing to {self.out} (process {holder}): wait for it "
                    f"to finish, or give another --out folder") from None
            try:  # the file may have been removed by the holder just before we locked it
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} since {_now()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        """Remove the lock file and let go of the lock."""
        if self.fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self.fd)
        self.fd = None


def clean_stale(out: Path) -> list[Path]:
    """Remove temporary and renamed-away folders of earlier runs into ``out`` whose process is gone.

    Called with the lock held, so no live run can be using them. Returns what was removed.
    """
    removed = []
    for mark in (TEMP_MARK, OLD_MARK):
        prefix = f".{out.name}{mark}"
        for path in [p for p in out.parent.iterdir() if p.name.startswith(prefix)]:
            pid = path.name[len(prefix):]
            if pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid)):
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class RunFolder:
    """The output folder of one ``calib run``, written aside and moved in whole.

    Use as a context manager: on entry the lock is taken, ``--out`` is checked, stale temporary
    folders are removed and a fresh temporary folder (``temp``) is made; write files with
    ``write(name, writer)``, then ``commit(...)``. Leaving without a commit (an error, Ctrl-C)
    removes the temporary folder and leaves ``--out`` as it was.
    """

    def __init__(self, out: str | Path, command: list[str]):
        self.out = Path(out)  # as the user gave it, for messages
        self.real = Path(os.path.abspath(out))  # for the names beside it and the renames
        self.command = command
        self.started = _now()
        self.temp = self.real.parent / f".{self.real.name}{TEMP_MARK}{os.getpid()}"
        self.lock = RunLock(self.out)
        self.committed = False

    def __enter__(self) -> RunFolder:
        self.real.parent.mkdir(parents=True, exist_ok=True)
        self.lock.acquire()
        try:
            check_out_folder(self.out)
            clean_stale(self.real)
            self.temp.mkdir()
        except BaseException:
            self.lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.committed:
            shutil.rmtree(self.temp, ignore_errors=True)
        self.lock.release()

    def _kept(self) -> str:
        return (f"the previous run in {self.out} is unchanged" if self.out.is_dir()
                else f"{self.out} was not created")

    def write(self, name: str, writer: Callable[[Path], Any]) -> None:
        """Write one output file with ``writer(path)`` into the temporary folder."""
        try:
            writer(self.temp / name)
        except OSError as exc:
            raise _write_failed(self.out / name, exc, self._kept()) from exc
        kill_hook(f"after:{name}")

    def commit(self, status: str, facts: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``manifest.json`` last, then move the folder into place; returns the manifest.

        ``status`` is ``complete`` or ``failed`` (only problems.csv); ``facts`` adds the policy
        and data hashes. A previous run in ``--out`` is renamed away, the new one renamed in, and
        the old one deleted, so ``--out`` never holds files of two runs.
        """
        files = {p.name: file_facts(p) for p in sorted(self.temp.iterdir())}
        manifest = {"calib_manifest": MANIFEST_FORMAT, "status": status,
                    "calib_version": _version(), "command": self.command,
                    "started": self.started, "finished": _now(), **facts, "files": files}
        text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
        try:
            (self.temp / MANIFEST).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _write_failed(self.out / MANIFEST, exc, self._kept()) from exc
        kill_hook("before:swap")
        self._swap()
        self.committed = True
        return manifest

    def _swap(self) -> None:
        old = self.real.parent / f".{self.real.name}{OLD_MARK}{os.getpid()}"
        if self.real.exists():
            os.rename(self.real, old)
            kill_hook("between:renames")
            os.rename(self.temp, self.real)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(self.temp, self.real)


def _version() -> str:
    from calib._util.version import __version__

    return __version__
