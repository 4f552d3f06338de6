"""The engine factory: every SQLAlchemy engine of nmi-desk is made here.

SQLite files go through store.connect.connect_sqlite (pragmas, permissions); PostgreSQL
through psycopg 3 with TLS required for hosts other than the local machine. Opening also
migrates the schema, taking a backup copy of a SQLite file before it is upgraded.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from nmi_desk.errors import UserError
from nmi_desk.store.connect import connect_sqlite, key_for, sqlite_path_from_url
from nmi_desk.store.errors import first_line

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


def describe(url: str) -> str:
    """A database for a message: host and name only (never a password, wherever it is)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "the database"
    return f"the database {parsed.database or '(default)'} on {parsed.host or 'this machine'}"


def make_engine(url: str, readonly: bool = False) -> Engine:
    """An engine (no migration). `readonly`: every PostgreSQL transaction is read-only (a read
    never writes; a SQLite file is opened read-only by stats.open_source instead)."""
    path = sqlite_path_from_url(url)
    if path is not None:
        if key_for(path) is not None:  # encrypted: SQLAlchemy must know sqlcipher3's exceptions
            import sqlcipher3

            return create_engine(
                "sqlite://", creator=partial(connect_sqlite, path), module=sqlcipher3
            )
        return create_engine("sqlite://", creator=partial(connect_sqlite, path))
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise UserError("not a database URL: check host, port and database name") from exc
    if parsed.get_backend_name() != "postgresql":
        raise UserError(
            f"unsupported database URL scheme {parsed.drivername!r}: "
            "use postgresql+psycopg://... or sqlite:///path.db"
        )
    if parsed.drivername != "postgresql+psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    query = dict(parsed.query)
    host = parsed.host or ""
    if "sslmode" not in query and host not in LOCAL_HOSTS and not host.startswith("/"):
        query["sslmode"] = "require"  # the municipal network is not ours
    parsed = parsed.set(query=query)
    engine = create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    if readonly:
        from sqlalchemy import event

        # psycopg then begins every transaction READ ONLY: the server refuses any write.
        # Per transaction rather than a startup option, so it also works through a
        # transaction-mode pooler.
        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection, _record) -> None:
            dbapi_connection.read_only = True

    return engine


def _backup_sqlite(path: Path, version: int) -> None:
    target = path.with_name(f"{path.name}.v{version}.bak")
    src = connect_sqlite(path)
    dst = connect_sqlite(
        target, key=key_for(path)
    )  # an encrypted database's backup stays encrypted
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def open_engine(url: str) -> Engine:
    """An engine on a database migrated to the latest schema."""
    from nmi_desk.store.migrations import migrate

    engine = make_engine(url)
    path = sqlite_path_from_url(url)
    before = partial(_backup_sqlite, path) if path is not None else None
    try:
        migrate(engine, before=before)
    except OperationalError as exc:
        engine.dispose()
        raise UserError(f"cannot open database: {first_line(exc)}") from exc
    except sqlite3.DatabaseError as exc:
        engine.dispose()
        raise UserError(f"cannot open database: {exc}") from exc
    return engine
