"""The one place a SQLite database file is opened (standard library only, so it is cheap).

The SQLAlchemy engine factory (store.engine) uses `connect_sqlite` as its creator, and the
start-up fast path reads today's rows through it too, so pragmas, file permissions and
encryption are applied the same way on every connection.

Encryption (nmi_desk.domain.security): a plain file opens through the standard library's sqlite3,
exactly as before. An encrypted file opens through sqlcipher3 with the key given as `key=`
(the desk's Keyring, store/keyring.py, holds it once unlocked); without one it raises
DatabaseLocked. Temp tables and sort spills stay in memory, so no plain temp file is written.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from nmi_desk.core.db_errors import explain_database_error
from nmi_desk.core.errors import UserError, os_reason
from nmi_desk.core.i18n import Text
from nmi_desk.core.paths import ensure_private_dir
from nmi_desk.store.file_state import DatabaseLocked, DatabaseProblem, check_usable
from nmi_desk.store.keyring import Key

BUSY_TIMEOUT_MS = 5000


def private_file(path: Path) -> None:
    if not path.exists():
        # Create it owner-only before SQLite does, so it is never world-readable, not even briefly.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if sys.platform != "win32":
        for suffix in ("", "-wal", "-shm"):
            companion = Path(f"{path}{suffix}")
            if companion.exists() and (companion.stat().st_mode & 0o077):
                os.chmod(companion, 0o600)


def _create_whole(path: Path, driver: Any, key: Key | None) -> None:
    """Create a new database file so that no reader ever sees it empty: made beside the
    target, its first page written (WAL mode), then linked into place. A 0-byte file means
    damage here (nmi_desk.store.file_state), and the guidance screen opened during a first
    start once read the half-made file as that. If another process made the file first,
    its file wins."""

    tmp = path.with_name(f".{path.name}.new-{uuid.uuid4().hex[:12]}")
    os.close(os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        conn = driver.connect(str(tmp), check_same_thread=False)
        try:
            if key is not None:
                _apply_key(conn, key)
            conn.execute("PRAGMA journal_mode = WAL")  # writes page 1
        finally:
            conn.close()
        try:
            os.link(tmp, path)  # never replaces: a file that appeared meanwhile is kept
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def _driver(path: Path, key: Key | None, readonly: bool = False) -> Any:
    """The DB-API module for this file: stdlib sqlite3 for plain files, sqlcipher3 with a key.
    An empty, damaged or unreadable file stops here, before anything is created or written."""

    state = check_usable(path, write=not readonly)
    if key is None and state == "encrypted":
        raise DatabaseLocked.of("errors.db.locked", path=path)
    if key is not None and state == "plain":
        raise UserError.of("errors.db.not_encrypted", path=path)
    if key is None:
        return sqlite3
    import sqlcipher3

    return sqlcipher3


class _KeyRefused(Exception):
    """SQLCipher could not decrypt page 1 with this key (wrong key, or page 1 damaged)."""


def _apply_key(conn: Any, key: Key) -> None:
    conn.execute("PRAGMA cipher_log_level = NONE")  # SQLCipher would print to the TUI's terminal
    conn.execute(f"PRAGMA key = {key.pragma_value}")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except Exception as exc:  # the driver's DatabaseError
        conn.close()
        from nmi_desk.core.db_errors import error_kind

        if error_kind(exc) == "damaged":  # "file is not a database": the key does not fit
            raise _KeyRefused() from exc
        raise


def probe_key(path: Path, key: Key) -> bool:
    """Does this key open this encrypted file? Opens nothing else, changes nothing.

    False only when SQLCipher refuses the key; a file or folder that cannot be read raises
    DatabaseProblem (it says nothing about the passphrase)."""
    import sqlcipher3

    try:
        conn = sqlcipher3.connect(str(path))
        _apply_key(conn, key)
    except _KeyRefused:
        return False
    except (sqlcipher3.Error, OSError) as exc:
        line = explain_database_error(exc, path) or Text(
            "errors.db.cannot_read", path=path, reason=str(exc)
        )
        raise DatabaseProblem(line, "unreadable") from exc
    conn.close()
    return True


def connect_sqlite(
    path: Path, *, readonly: bool = False, key: Key | None = None
) -> sqlite3.Connection:

    path = Path(path).absolute()  # a relative --data-dir or sqlite:///rel.db is ordinary use
    try:
        driver = _driver(path, key, readonly)
        if readonly:
            if not path.exists():
                raise UserError.of("errors.db.none_at", path=path)
            conn = driver.connect(
                f"{path.as_uri()}?mode=ro",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        else:
            # The desk's own data dir is made private when the settings are read
            # (config.py); any other folder is created private but never tightened here.
            ensure_private_dir(path.parent, tighten_existing=False)
            if not path.exists():
                _create_whole(path, driver, key)
            private_file(path)
            conn = driver.connect(
                str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
        if key is not None:
            _apply_key(conn, key)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no commit
            private_file(path)
    except _KeyRefused as exc:  # the key opened this file before: page 1 is what changed
        raise DatabaseProblem(Text("errors.db.damaged_key", path=path), "damaged") from exc
    except (sqlite3.DatabaseError, UnicodeDecodeError, *_cipher_errors(key)) as exc:  # type: ignore[misc]  # mypy does not follow the * in an except tuple
        line = explain_database_error(exc, path) or Text(
            "errors.db.cannot_open_at", path=path, reason=str(exc)
        )
        raise UserError(line) from exc
    except OSError as exc:
        raise UserError.of("errors.db.cannot_open_at", path=path, reason=os_reason(exc)) from exc
    return conn  # type: ignore[no-any-return]  # sqlcipher3's is sqlite3's API


@cache
def database_errors() -> tuple[type[Exception], ...]:
    """Every DatabaseError class a connection from `connect_sqlite` can raise: stdlib sqlite3's
    for a plain file, sqlcipher3's for an encrypted one. Catch these, not sqlite3's alone."""
    import sqlcipher3

    return (sqlite3.DatabaseError, sqlcipher3.DatabaseError)


def _cipher_errors(key: Key | None) -> tuple[type[Exception], ...]:
    if key is None:
        return ()
    import sqlcipher3

    return (sqlcipher3.DatabaseError,)


def sqlite_path_from_url(url: str) -> Path | None:
    """sqlite:///relative.db or sqlite:////abs/path.db -> Path; None for other URLs."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    rest = url[len(prefix) :].split("?", 1)[0]
    if not rest or rest.startswith(":memory:"):
        raise UserError.of("errors.db.in_memory")
    if "\x00" in rest:
        raise UserError.of("errors.db.nul_name")
    return Path(rest).absolute()
