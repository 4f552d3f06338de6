"""What kind of SQLite file is on disk, from its first bytes: missing, plain or encrypted.

Kept apart from nmi_desk.security (key derivation, hashlib) because every start asks it
before anything is shown, and nothing else of security is needed then."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from nmi_desk.errors import UserError

PLAIN_HEADER = b"SQLite format 3\x00"


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


def _header(path: Path) -> bytes:
    if os.name != "posix":  # no POSIX locks to lose; an open handle would block a rename there
        with open(path, "rb") as handle:
            return handle.read(len(PLAIN_HEADER))
    name = os.path.abspath(path)
    with _handles_lock:
        fd = _handles.get(name)
        if fd is not None and os.fstat(fd).st_ino != os.stat(name).st_ino:
            fd = None  # the file was replaced (a conversion): keep the old one open, read the new
        if fd is None:
            fd = _handles[name] = os.open(name, os.O_RDONLY)
        return os.pread(fd, len(PLAIN_HEADER), 0)


def file_state(path: Path) -> str:
    """'missing' (no file or empty), 'plain' or 'encrypted'."""
    try:
        head = _header(path)
    except FileNotFoundError:
        return "missing"
    if not head:
        return "missing"
    return "plain" if head == PLAIN_HEADER else "encrypted"
