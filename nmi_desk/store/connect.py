"""The one place a SQLite database file is opened (standard library only, so it is cheap).

The SQLAlchemy engine factory (store.engine) uses `connect_sqlite` as its creator, and the
start-up fast path reads today's rows through it too, so pragmas, file permissions and (later)
encryption are applied the same way on every connection.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from nmi_desk.errors import UserError
from nmi_desk.paths import ensure_private_dir

BUSY_TIMEOUT_MS = 5000


def _private_file(path: Path) -> None:
    if not path.exists():
        # Create it owner-only before SQLite does, so it is never world-readable, not even briefly.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if sys.platform != "win32":
        for suffix in ("", "-wal", "-shm"):
            companion = Path(f"{path}{suffix}")
            if companion.exists() and (companion.stat().st_mode & 0o077):
                os.chmod(companion, 0o600)


def connect_sqlite(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    path = Path(path)
    try:
        if readonly:
            if not path.exists():
                raise UserError(f"no database at {path}")
            conn = sqlite3.connect(
                f"{path.as_uri()}?mode=ro",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        else:
            ensure_private_dir(path.parent)
            _private_file(path)
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no commit
            _private_file(path)
    except sqlite3.DatabaseError as exc:
        raise UserError(f"cannot open database {path}: {exc}") from exc
    except OSError as exc:
        raise UserError(f"cannot open database {path}: {exc.strerror or exc}") from exc
    return conn


def sqlite_path_from_url(url: str) -> Path | None:
    """sqlite:///relative.db or sqlite:////abs/path.db -> Path; None for other URLs."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    rest = url[len(prefix) :]
    if not rest or rest.startswith(":memory:"):
        raise UserError("an in-memory SQLite database cannot hold nmi-desk data; give a file path")
    return Path(rest)
