"""What state the database file is in, told apart exactly, and what to say about it.

  missing     no file: the first start of this laptop (the only state that creates one)
  empty       a file of 0 bytes: a failed copy or restore, never a fresh install
  plain       an SQLite file without encryption
  encrypted   an SQLCipher file (random-looking bytes, a whole number of 4 KiB pages)
  damaged     too short, cut off mid-page, or an SQLite header with impossible values
  unreadable  the file or its folder cannot be read or written (permissions, read-only disk)

Everything but "missing" and the two usable states stops the program with one line saying
what is wrong and what to do, before anything is written (nmi_desk.store.connect asks here
before it opens a file). Pages damaged further inside the file show only when they are read:
`explain_database_error` turns the driver's error into the same kind of line.

Kept apart from nmi_desk.domain.security (key derivation, hashlib) because every start asks it
before anything is shown, and nothing else of security is needed then.
"""

from __future__ import annotations

import os
import stat
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from nmi_desk.core.errors import UserError, os_reason
from nmi_desk.core.i18n import Text

PLAIN_HEADER = b"SQLite format 3\x00"
CIPHER_PAGE = 4096  # SQLCipher 4's page size; an encrypted file is a whole number of pages
STATES = ("missing", "empty", "plain", "encrypted", "damaged", "unreadable")


class DatabaseLocked(UserError):
    """The database is encrypted and no key was given."""


# One read-only descriptor per database file, kept open for the life of the process. Closing
# any descriptor of a file releases every POSIX lock this process holds on it, including
# SQLite's: another process (a `nmi-desk sync` next to the running app) would then take the
# database for unused, checkpoint and delete its WAL under our open connections ("disk I/O
# error", or worse; sqlite.org/howtocorrupt.html, 2.2). SQLite itself never closes a database
# file while it holds locks on it; this check must not either.
_handles: dict[str, int] = {}
_handles_lock = threading.Lock()


def _read_head(path: Path, size: int) -> tuple[int, bytes]:
    """The file's size and first `size` bytes, read through the kept descriptor."""
    if os.name != "posix":  # no POSIX locks to lose; an open handle would block a rename there
        _regular_or_raise(os.path.abspath(path))
        with open(path, "rb") as handle:
            return os.fstat(handle.fileno()).st_size, handle.read(size)
    name = os.path.abspath(path)
    if os.path.isdir(name):
        raise IsADirectoryError(name)
    with _handles_lock:
        fd = _handles.get(name)
        if fd is not None and os.fstat(fd).st_ino != os.stat(name).st_ino:
            fd = None  # the file was replaced (a conversion): keep the old one open, read the new
        if fd is None:
            _regular_or_raise(name)
            # Non-blocking: a FIFO put there between the stat and the open must not hang us.
            new = os.open(name, os.O_RDONLY | os.O_NONBLOCK)
            if not stat.S_ISREG(os.fstat(new).st_mode):
                os.close(new)
                raise NotRegularFile(name)
            fd = _handles[name] = new
        return os.fstat(fd).st_size, os.pread(fd, size, 0)


class NotRegularFile(OSError):
    """A FIFO, device or socket where a file was expected: opening or reading it could block."""


def _regular_or_raise(name: str) -> None:
    """Stat before open: only an ordinary file is ever opened (FileNotFoundError passes)."""
    mode = os.stat(name).st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(name)
    if not stat.S_ISREG(mode):
        raise NotRegularFile(name)


def regular_or_missing(path: Path) -> bool:
    """True when `path` is an ordinary file or is not there (a dangling name counts as not
    there); False for a FIFO, a device, a socket or a folder, which nothing may open."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return stat.S_ISREG(mode)


class WrongPassphrase(UserError):
    """The passphrase does not open this database (and the file itself looks whole)."""


class DatabaseProblem(UserError):
    """The database file is empty, damaged or unreadable: nothing is written, nothing created."""

    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.state = state


@dataclass(frozen=True)
class FileState:
    state: str
    reason: str = ""  # for empty, damaged, unreadable: what exactly

    def problem(self, path: Path) -> DatabaseProblem | None:
        """The one line to stop with, or None when the file can be used (or created)."""
        if self.state == "empty":
            return DatabaseProblem(Text("errors.db.empty", path=path), "empty")
        if self.state == "damaged":
            return DatabaseProblem(
                Text("errors.db.damaged_unchanged", path=path, reason=self.reason), "damaged"
            )
        if self.state == "unreadable":
            return DatabaseProblem(
                Text("errors.db.unusable", path=path, reason=self.reason), "unreadable"
            )
        return None


def _plain_damage(head: bytes, size: int) -> str:
    if len(head) < 100:
        return Text("errors.db.shorter_than_header", size=size)
    raw = int.from_bytes(head[16:18], "big")
    page = 65536 if raw == 1 else raw
    if page < 512 or page & (page - 1):
        return Text("errors.db.impossible_page_size")
    if size % page:
        return Text("errors.db.cut_off", size=size)
    return ""


def _cipher_damage(size: int) -> str:
    if size < CIPHER_PAGE:
        return Text("errors.db.shorter_than_page", size=size)
    if size % CIPHER_PAGE:
        return Text("errors.db.cut_off", size=size)
    return ""


def _folder_problem(folder: Path) -> str:
    """SQLite writes its -wal and -shm files beside the database, even to read it."""
    if sys.platform == "win32":
        return ""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return Text("errors.db.folder_read_only", folder=folder)
    except OSError as exc:
        return Text("errors.db.folder_unreadable", folder=folder, reason=os_reason(exc))
    if not os.access(folder, os.W_OK | os.X_OK):
        return Text("errors.db.folder_not_writable", folder=folder)
    return ""


def inspect(path: Path, *, write: bool = True) -> FileState:
    """The file's state from its size, its first bytes and its folder; reads ~100 bytes.
    `write=False`: only reading is wanted (a read-only source), so the folder may be read-only."""
    path = Path(path)
    try:
        size, head = _read_head(path, 100)
    except FileNotFoundError:
        return FileState("missing")
    except IsADirectoryError:
        return FileState("unreadable", Text("errors.db.is_folder", path=path))
    except NotRegularFile:
        return FileState("unreadable", Text("errors.db.not_regular"))
    except PermissionError:
        return FileState("unreadable", Text("errors.db.file_not_readable"))
    except OSError as exc:
        return FileState("unreadable", Text("errors.db.file_unreadable", reason=os_reason(exc)))
    if size == 0:
        return FileState("empty", Text("errors.db.zero_bytes"))
    if head.startswith(PLAIN_HEADER):
        state, damage = "plain", _plain_damage(head, size)
    else:
        state, damage = "encrypted", _cipher_damage(size)
    if damage:
        return FileState("damaged", damage)
    if not write:
        return FileState(state)
    # The folder first: on a read-only file system the file cannot be written either, and
    # that is the cause to name (EROFS), not permissions.
    folder = _folder_problem(path.parent)
    if folder:
        return FileState("unreadable", folder)
    if not os.access(path, os.R_OK | os.W_OK):
        return FileState("unreadable", Text("errors.db.file_not_writable"))
    return FileState(state)


def file_state(path: Path) -> str:
    """One of STATES."""
    return inspect(path).state


def check_usable(path: Path, *, write: bool = True) -> str:
    """The state when the file can be opened or created (missing, plain, encrypted); else
    DatabaseProblem with the one line to show."""
    found = inspect(path, write=write)
    problem = found.problem(Path(path))
    if problem is not None:
        raise problem
    return found.state
