"""Handing a letter to the system: an owner-only temporary file, the viewer, the printer.

The letter holds personal data, so its temporary copy lives in a private folder of the
system's temporary directory (never the data folder), readable by the owner only (0600), and
is removed after printing or when the app closes (`TempLetters.cleanup`). A viewer may still
be reading the file when the command that started it returns, so an opened letter stays until
the app closes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from nmi_desk.core.errors import UserError, os_reason
from nmi_desk.core.i18n import Text

PREFIX = "nmi-letter-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or cannot tell: leave its folder alone
    return True


def sweep_stale(root: Path | None = None) -> int:
    """Remove letter folders of earlier runs that ended without cleaning up (a kill, a power
    cut); each folder's name carries its process id, so a running app's folder stays."""
    root = Path(root or tempfile.gettempdir())
    removed = 0
    for folder in root.glob(f"{PREFIX}*-*"):
        try:
            pid = int(folder.name[len(PREFIX) :].split("-", 1)[0])
            mine = folder.stat().st_uid == os.getuid() if hasattr(os, "getuid") else True
        except (ValueError, OSError):
            continue
        if mine and pid != os.getpid() and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


class TempLetters:
    """The temporary letters of one app run; cleanup() removes every one of them."""

    def __init__(self, forbidden: Path | None = None) -> None:
        self._dir: Path | None = None
        self._lock = threading.Lock()
        self._forbidden = forbidden.resolve() if forbidden else None

    def write(self, data: bytes, name: str) -> Path:
        with self._lock:
            if self._dir is None or not self._dir.is_dir():
                sweep_stale()
                self._dir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))  # 0700
            folder = self._dir
        if self._forbidden and folder.resolve().is_relative_to(self._forbidden):
            raise UserError.of("errors.letter.temp_in_data")
        path = folder / name
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return path

    @property
    def folder(self) -> Path | None:
        return self._dir

    def remove(self, path: Path) -> None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass

    def cleanup(self) -> None:
        with self._lock:
            folder, self._dir = self._dir, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _failed(what: str, reason: str) -> UserError:
    if what == "print":
        return UserError.of("errors.letter.print_failed", reason=reason)
    return UserError.of("errors.letter.open_failed", reason=reason)


def _run(command: list[str], what: str) -> None:
    """Run the viewer or the printer; `what` is "print" or "open" (for the message)."""
    tool = command[0]
    try:
        done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    except FileNotFoundError as exc:
        if what == "print":
            raise UserError.of("errors.letter.print_missing", command=tool) from exc
        raise UserError.of("errors.letter.open_missing", command=tool) from exc
    except subprocess.TimeoutExpired as exc:
        raise _failed(what, Text("errors.letter.no_answer", command=tool)) from exc
    if done.returncode != 0:
        reason = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise _failed(
            what, reason[-1] if reason else Text("errors.letter.exit", code=done.returncode)
        )


def open_in_viewer(path: Path) -> None:
    """Show the PDF in the system's viewer (returns once the viewer was asked)."""
    if sys.platform == "win32":
        try:
            os.startfile(path)  # type: ignore[attr-defined]
        except OSError as exc:
            raise _failed("open", os_reason(exc)) from exc
        return
    _run(["open" if sys.platform == "darwin" else "xdg-open", str(path)], "open")


def print_file(path: Path) -> None:
    """Send the PDF to the default printer. `lp` copies it into the print queue before it
    returns, so the caller may remove the file afterwards."""
    if sys.platform == "win32":
        try:
            os.startfile(path, "print")  # type: ignore[attr-defined]
        except OSError as exc:
            raise _failed("print", os_reason(exc)) from exc
        return
    _run(["lp", "--", str(path)], "print")
