"""The engine factory: every SQLAlchemy engine of nmi-desk is made here.

SQLite files go through store.connect.connect_sqlite (pragmas, permissions); PostgreSQL
through psycopg 3 with TLS required for hosts other than the local machine. Opening also
migrates the schema, taking a backup copy of a SQLite file before it is upgraded.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from nmi_desk.errors import UserError
from nmi_desk.store.connect import connect_sqlite, database_errors, key_for, sqlite_path_from_url
from nmi_desk.store.errors import first_line
from nmi_desk.store.file_state import explain_database_error

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
        parsed.port  # noqa: B018 - a bad port (an IPv6 address without brackets) fails here
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


def _backup_name(path: Path, version: int) -> Path:
    return path.with_name(f"{path.name}.v{version}.bak")


def _backup_sqlite(path: Path, version: int) -> None:
    target = _backup_name(path, version)
    src = connect_sqlite(path)
    dst = connect_sqlite(
        target, key=key_for(path)
    )  # an encrypted database's backup stays encrypted
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


_COUNTED = ("visit", "referral", "info_session", "audit_event")


def _counts(conn) -> dict[str, int]:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
        for t in _COUNTED
        if t in names
    }


def _drop_verified_backup(path: Path, version: int) -> None:
    """The migration's backup copy goes once the migrated file checks out: it would keep every
    personal field past retention (and, of a plain file, unencrypted). Kept when in doubt."""
    backup = _backup_name(path, version)
    if not backup.exists():
        return
    db = connect_sqlite(path)
    old = connect_sqlite(backup, key=key_for(path))
    try:
        ok = db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        same = ok and all(n >= old_n for n, old_n in _pairs(_counts(db), _counts(old)))
    finally:
        old.close()
        db.close()
    if same:
        backup.unlink()
        for companion in ("-wal", "-shm"):
            Path(f"{backup}{companion}").unlink(missing_ok=True)


def _pairs(new: dict[str, int], old: dict[str, int]):
    return [(new.get(t, 0), n) for t, n in old.items()]


def open_engine(url: str) -> Engine:
    """An engine on a database migrated to the latest schema."""
    from nmi_desk.store.migrations import migrate

    engine = make_engine(url)
    path = sqlite_path_from_url(url)
    before = partial(_backup_sqlite, path) if path is not None else None
    try:
        start, end = migrate(engine, before=before)
        if path is not None and start and end != start:
            _drop_verified_backup(path, start)
    except UserError:
        engine.dispose()
        raise
    except (DBAPIError, *database_errors()) as exc:
        engine.dispose()
        explained = explain_database_error(exc, path)
        if explained:
            raise UserError(explained) from exc
        raise UserError(f"cannot open database: {first_line(exc)}") from exc
    return engine
