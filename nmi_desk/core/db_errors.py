"""A database driver's error named by kind (full disk, damaged file, read-only, locked, ...)
and said in one line the consultant can act on. Pure functions of the exception (sqlite3,
sqlcipher3 or SQLAlchemy wrapping either), so every layer can use them; the store raises,
this names."""

from __future__ import annotations

from pathlib import Path

from nmi_desk.core.i18n import Text

_KINDS = (
    ("SQLITE_FULL", "database or disk is full", "full"),
    ("SQLITE_CORRUPT", "malformed", "damaged"),
    ("SQLITE_NOTADB", "not a database", "damaged"),
    ("SQLITE_READONLY", "readonly", "readonly"),
    ("SQLITE_CANTOPEN", "unable to open", "unreadable"),
    ("SQLITE_PERM", "access permission denied", "unreadable"),
    ("SQLITE_IOERR", "disk i/o error", "io"),
    ("SQLITE_BUSY", "database is locked", "busy"),
)


def error_kind(exc: BaseException) -> str | None:
    """'full', 'damaged', 'readonly', 'unreadable', 'io', 'busy' for a database driver error
    (sqlite3, sqlcipher3, or SQLAlchemy wrapping either); None for anything else."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, UnicodeDecodeError):
            # The driver could not decode SQLite's own message: it quoted bytes of the file
            # (a schema entry) that are not text, which only a damaged file holds.
            return "damaged"
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc).lower()
        for code, words, kind in _KINDS:
            if name.startswith(code) or words in text:
                return kind
        nxt = getattr(exc, "orig", None) or exc.__cause__
        if nxt is None:
            return None
        exc = nxt
    return None


def explain_database_error(exc: BaseException, path: Path | None = None) -> str | None:
    """One line for a database error a user can act on, or None when it is not one of those.
    A Text: English as a string, the UI's language with errors.user_text."""
    kind = error_kind(exc)
    where = (
        Text("errors.db.the_database_at", path=path)
        if path is not None
        else Text("errors.db.the_database")
    )
    if kind == "full":
        return Text("errors.db.disk_full", where=where)
    if kind == "damaged":
        return Text("errors.db.damaged", where=where, reason=_first_line(exc))
    if kind in ("readonly", "unreadable"):
        return Text("errors.db.not_writable", where=where, reason=_first_line(exc))
    if kind == "io":
        return Text("errors.db.io", where=where)
    if kind == "busy":
        return Text("errors.db.busy", where=where)
    return None


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, UnicodeDecodeError):
        return "SQLite's message quoted bytes that are not text"
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__
