"""The engine factory: every SQLAlchemy engine of nmi-desk is made here.

SQLite files go through store.connect.connect_sqlite (pragmas, permissions); PostgreSQL
through psycopg 3 with TLS that checks the certificate and the host name (verify-full) for every
host that is not this machine (`pg_connect_params`). Opening also migrates the schema, taking a
backup copy of a SQLite file before it is upgraded.
"""

from __future__ import annotations

import ipaddress
import os
import sqlite3
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from nmi_desk.core.db_errors import explain_database_error
from nmi_desk.core.errors import UserError
from nmi_desk.store.connect import connect_sqlite, database_errors, sqlite_path_from_url
from nmi_desk.store.errors import first_line
from nmi_desk.store.keyring import Key
from nmi_desk.store.migrations import NewerSchema, migrate

# What TLS is for: a password or a record must never cross a network in plaintext, and the
# server must prove it is the one named (a captive portal or a man in the middle cannot).
WEAK_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca")


def is_local_host(host: str) -> bool:
    """Loopback or a Unix socket: the only places plaintext is allowed."""

    host = host.strip().strip("[]")
    if host.startswith(("/", "@")) or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: whatever it resolves to, it may be another machine


def _hosts(params: dict[str, Any]) -> list[str]:
    """Every host libpq may connect to with these parameters (its environment included)."""

    hosts = []
    for key, env in (("host", "PGHOST"), ("hostaddr", "PGHOSTADDR")):
        value = params.get(key)
        if value is None:
            value = os.environ.get(env, "")
        hosts += [h for h in str(value).split(",") if h.strip()]
    return hosts


def pg_connect_params(url: URL) -> dict[str, Any]:
    """The keyword parameters psycopg gets for this URL, with the TLS rule applied.

    A remote host (any of host=, hostaddr=, the URL's host, PGHOST; a service file counts as
    remote, since its host is not known here) gets sslmode=verify-full, with the system CA
    store unless the URL or PGSSLROOTCERT names a CA file. A URL asking for less than that
    for a remote host is refused. Plaintext stays possible for loopback and Unix sockets only.
    Prepared statements are off: the central side may sit behind a transaction-mode pooler.
    """

    engine = create_engine(url)  # no connection: only the dialect's reading of the URL
    params = dict(engine.dialect.create_connect_args(engine.url)[1])
    engine.dispose()
    service = params.get("service") or os.environ.get("PGSERVICE")
    remote = bool(service and "host" not in params) or not all(
        is_local_host(h) for h in _hosts(params)
    )
    if remote:
        mode = str(params.get("sslmode") or os.environ.get("PGSSLMODE") or "")
        if mode in WEAK_SSLMODES:
            raise UserError.of("errors.db.weak_sslmode", mode=mode)
        params["sslmode"] = "verify-full"
        if not params.get("sslrootcert") and not os.environ.get("PGSSLROOTCERT"):
            params["sslrootcert"] = "system"  # the operating system's CA store (libpq >= 16)
    params.setdefault("connect_timeout", 10)
    params["prepare_threshold"] = None
    return params


def describe(url: str) -> str:
    """A database for a message: host and name only (never a password, wherever it is)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "the database"
    return f"the database {parsed.database or '(default)'} on {parsed.host or 'this machine'}"


class FileGuard:
    """The database file an engine opened, by identity (st_dev, st_ino), checked before every
    transaction and before each new connection.

    A file replaced (a restore, a sync tool, a careless copy) or removed under a running app
    stops writing with one line, so nothing is reported saved that is not stored. What the
    app's connections still see of the old file (its pages and its write-ahead log, which
    may hold the last saves) is first copied into `<db>.rescued-<time>` beside it, encrypted
    with the same key when the old one was; only then is the old log checkpointed and
    truncated, so it can never be replayed into the new file. doctor names the copy."""

    def __init__(self, path: Path, key: Key | None) -> None:
        self.path = path
        self.key = key
        self.identity: tuple[int, int] | None = None
        self.rescued: Path | None = None
        self.lock = threading.Lock()

    def _now(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def connect(self) -> sqlite3.Connection:
        """The engine's creator: a new connection only on the file first opened."""
        with self.lock:
            if self.identity is not None and self._now() != self.identity:
                raise self._problem()
        conn = connect_sqlite(self.path, key=self.key)
        with self.lock:
            if self.identity is None:
                self.identity = self._now()
        return conn

    def check(self, dbapi_connection: Any) -> None:
        """Before a transaction: the file is still the one opened, else rescue and stop."""
        with self.lock:
            if self.identity is None or self._now() == self.identity:
                return
            self._rescue(dbapi_connection)
            raise self._problem()

    def on_close(self, dbapi_connection: Any) -> None:
        """A connection closing (the app quits): the last chance to keep what the log holds."""
        with self.lock:
            if self.identity is not None and self._now() != self.identity:
                self._rescue(dbapi_connection)

    def _problem(self) -> UserError:
        rescued = self.rescued.name if self.rescued else "(nothing could be copied)"
        if self._now() is None:
            return UserError.of("errors.db.removed_while_open", path=self.path, rescued=rescued)
        return UserError.of("errors.db.replaced_while_open", path=self.path, rescued=rescued)

    def _rescue(self, dbapi_connection: Any) -> None:
        if self.rescued is not None:
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.rescued-{stamp}")
        try:
            dst = connect_sqlite(target, key=self.key)
            try:
                dbapi_connection.backup(dst)
                dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                dst.close()
        except Exception:  # noqa: BLE001 - the line says nothing could be copied; nothing dropped
            return
        self.rescued = target
        try:  # the old log is in the copy now: fold it into the old file, so it is never
            # replayed into the new one (after a kill, a log left by name would be)
            dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:  # noqa: BLE001, S110 - best effort; the copy holds the data
            pass


def _guarded_sqlite_engine(path: Path, key: Key | None, extra: dict[str, Any]) -> Engine:
    from sqlalchemy import event

    guard = FileGuard(path, key)
    engine = create_engine("sqlite://", creator=guard.connect, **extra)

    @event.listens_for(engine, "begin")
    def _same_file(conn: Any) -> None:
        guard.check(conn.connection.dbapi_connection)

    @event.listens_for(engine.pool, "close")
    def _closing(dbapi_connection: Any, _record: object) -> None:
        guard.on_close(dbapi_connection)

    engine.file_guard = guard  # type: ignore[attr-defined]  # tests and doctor look at it
    return engine


def make_engine(url: str, readonly: bool = False, key: Key | None = None) -> Engine:
    """An engine (no migration). `readonly`: every PostgreSQL transaction is read-only (a read
    never writes; a SQLite file is opened read-only by stats.open_source instead). `key`: an
    encrypted SQLite file's key (the desk's Keyring)."""
    path = sqlite_path_from_url(url)
    if path is not None:
        from sqlalchemy.pool import QueuePool

        # A file, so SQLAlchemy's pool for files: "sqlite://" alone would get the in-memory
        # pool (one connection per thread), which closes other threads' connections, even
        # mid-query, once more than five threads have used it (a sync's reader and marker
        # threads, the TUI's workers).
        extra = {"poolclass": QueuePool}
        if key is not None:  # encrypted: SQLAlchemy must know sqlcipher3's exceptions
            import sqlcipher3

            extra["module"] = sqlcipher3
        return _guarded_sqlite_engine(path, key, extra)
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a bad port (an IPv6 address without brackets) fails here
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise UserError.of("errors.db.not_url") from exc
    if parsed.get_backend_name() != "postgresql":
        raise UserError.of("errors.db.unsupported_scheme", scheme=parsed.drivername)
    if parsed.drivername != "postgresql+psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        params = pg_connect_params(parsed)
    except ValueError as exc:  # e.g. a port that is not a number
        raise UserError.of("errors.db.not_url_because", reason=str(exc)) from None
    # Everything goes through connect_args, so nothing the URL says can undo the TLS rule.
    engine = create_engine("postgresql+psycopg://", pool_pre_ping=True, connect_args=params)
    if readonly:
        from sqlalchemy import event

        # psycopg then begins every transaction READ ONLY: the server refuses any write.
        # Per transaction rather than a startup option, so it also works through a
        # transaction-mode pooler.
        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection: Any, _record: object) -> None:
            dbapi_connection.read_only = True

    return engine


def _backup_name(path: Path, version: int) -> Path:
    return path.with_name(f"{path.name}.v{version}.bak")


def _backup_sqlite(path: Path, key: Key | None, version: int) -> None:
    target = _backup_name(path, version)
    src = connect_sqlite(path, key=key)
    dst = connect_sqlite(target, key=key)  # an encrypted database's backup stays encrypted
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


_COUNTED = ("visit", "referral", "info_session", "audit_event")


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
        for t in _COUNTED
        if t in names
    }


def _drop_verified_backup(path: Path, key: Key | None, version: int) -> None:
    """The migration's backup copy goes once the migrated file checks out: it would keep every
    personal field past retention (and, of a plain file, unencrypted). Kept when in doubt."""
    backup = _backup_name(path, version)
    if not backup.exists():
        return
    db = connect_sqlite(path, key=key)
    old = connect_sqlite(backup, key=key)
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


def _pairs(new: dict[str, int], old: dict[str, int]) -> list[tuple[int, int]]:
    return [(new.get(t, 0), n) for t, n in old.items()]


def open_engine(url: str, key: Key | None = None) -> Engine:
    """An engine on a database migrated to the latest schema (`key`: see make_engine)."""

    engine = make_engine(url, key=key)
    path = sqlite_path_from_url(url)
    before = partial(_backup_sqlite, path, key) if path is not None else None
    try:
        start, end = migrate(engine, before=before)
        if path is not None and start:  # also when a step below the newest ran (a gap)
            _drop_verified_backup(path, key, start)
    except UserError:
        engine.dispose()
        raise
    except NewerSchema as exc:
        engine.dispose()
        raise UserError.of(
            "errors.db.newer_schema", path=path or "(central)", step=exc.step
        ) from None
    except (DBAPIError, *database_errors()) as exc:  # type: ignore[misc]  # the * in an except tuple
        engine.dispose()
        explained = explain_database_error(exc, path)
        if explained:
            raise UserError(explained) from exc
        raise UserError.of("errors.db.cannot_open", reason=first_line(exc)) from exc
    return engine
