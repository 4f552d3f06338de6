"""What kind of SQLite file is on disk, from its first bytes: missing, plain or encrypted.

Kept apart from nmi_desk.security (key derivation, hashlib) because every start asks it
before anything is shown, and nothing else of security is needed then."""

from __future__ import annotations

from pathlib import Path

from nmi_desk.errors import UserError

PLAIN_HEADER = b"SQLite format 3\x00"


class DatabaseLocked(UserError):
    """The database is encrypted and no key was given."""


def file_state(path: Path) -> str:
    """'missing' (no file or empty), 'plain' or 'encrypted'."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(PLAIN_HEADER))
    except FileNotFoundError:
        return "missing"
    if not head:
        return "missing"
    return "plain" if head == PLAIN_HEADER else "encrypted"
