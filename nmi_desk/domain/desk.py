"""The desk: one object holding this laptop's dependencies (paths, settings, clock, database).

The CLI and the TUI are both built on a Desk, and tests build one on a tmp_path. The engine
(SQLAlchemy, migrations, reference load) is opened lazily, on first use, so nothing heavy sits
on the start-up path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from nmi_desk.core.clock import Clock, local_today, system_clock
from nmi_desk.core.config import (
    Paths,
    Settings,
    has_device_id,
    load_settings,
    resolve_paths,
    save_settings,
)
from nmi_desk.core.i18n import Text
from nmi_desk.domain.context import Actor, Context, EngineCache
from nmi_desk.domain.reference.files import Reference, shipped_reference
from nmi_desk.store.keyring import Keyring

if TYPE_CHECKING:
    from sqlalchemy import Engine


DEVICE_KEY = "device.id"  # app_meta: this laptop's device id, also in config.toml
CONSULTANT_ENV = "NMI_DESK_CONSULTANT"  # initials for scripts (export, purge) on a fresh laptop


@dataclass
class Desk:
    paths: Paths
    settings: Settings
    clock: Clock = system_clock
    database_url: str | None = None  # default: the SQLite file in the data dir
    _engine: Engine | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    # The unlocked database's key: only this desk's connections use it, gone at close().
    keyring: Keyring = field(default_factory=Keyring, repr=False)
    # The reference data in use: the shipped files until the database is open, then merged
    # with what was published centrally (refresh_reference after a sync brings more).
    _reference: Reference | None = field(default=None, init=False, repr=False)
    _client_indexes: EngineCache = field(default_factory=EngineCache, init=False, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)  # unlock back-off
    wall: Callable[[], float] = field(default=time.time, repr=False)  # when wrong tries were
    # The real counter app (run_tui) encrypts: a plain or new database gets a passphrase first.
    # Tests and the CLI build plain desks.
    require_encryption: bool = field(default=False, repr=False)
    # The guidance articles' folder; None = the shipped library (tests use a fixture library).
    guidance_dir: Path | None = field(default=None, repr=False)
    # config.toml as last read or written by this desk: (mtime_ns, size), see reload_settings
    _config_stamp: tuple[int, int] | None = field(default=None, init=False, repr=False)
    # The device id was made up in this process (config.toml missing, empty or without one)
    _device_id_fresh: bool = field(default=False, init=False, repr=False)
    # the id made up for a missing config: the database's replaces it, not one set since
    _made_up_device_id: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._config_stamp = self._stamp()

    @classmethod
    def open(
        cls,
        data_dir=None,
        clock: Clock = system_clock,
        database_url: str | None = None,
        create: bool = True,
    ) -> Desk:
        """The desk of a data folder. A missing or empty config.toml (or one without a
        device id) is written at once, so the device id stays the same from this run on;
        `create=False` (a read) writes nothing, and the id comes from the database when
        there is one (`engine`)."""
        paths = resolve_paths(data_dir)
        settings = load_settings(paths)
        fresh = not has_device_id(paths)
        desk = cls(paths=paths, settings=settings, clock=clock, database_url=database_url)
        desk._device_id_fresh = fresh
        desk._made_up_device_id = settings.device_id if fresh else None
        if fresh and create:
            desk._adopt_device_id_from_file()
            desk.save_settings()  # keep the device id stable from the first run on
        return desk

    def _adopt_device_id_from_file(self) -> None:
        """A plain database already holds this laptop's device id: a rewritten config keeps it
        (an encrypted one is read once unlocked, in `engine`)."""
        path = self.database_path
        if path is None or self.encryption_state() != "plain":
            return
        from nmi_desk.store.connect import connect_sqlite, database_errors

        try:
            conn = connect_sqlite(path, readonly=True)
        except Exception:  # noqa: BLE001 - the start reports a damaged file itself
            return
        try:
            row = conn.execute("SELECT value FROM app_meta WHERE key = ?", (DEVICE_KEY,)).fetchone()
        except database_errors():
            row = None
        finally:
            conn.close()
        if row and row[0]:
            self.settings.device_id = row[0]
            self._device_id_fresh = False

    def _keep_device_id(self, engine) -> None:
        """The device id lives in config.toml and in the database (app_meta device.id): the
        database's wins over one made up for a missing or empty config, which is rewritten;
        a database without one gets the config's."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        with engine.connect() as conn:
            stored = conn.execute(
                text("SELECT value FROM app_meta WHERE key = :k"), {"k": DEVICE_KEY}
            ).scalar()
        if not stored:
            try:
                with engine.begin() as conn:
                    conn.execute(
                        text("INSERT INTO app_meta (key, value) VALUES (:k, :v) "
                             "ON CONFLICT (key) DO NOTHING"),
                        {"k": DEVICE_KEY, "v": self.settings.device_id},
                    )  # fmt: skip
            except (DBAPIError, OSError):
                pass  # a full disk: the next start writes it; the config holds it meanwhile
        made_up = self._device_id_fresh and self.settings.device_id == self._made_up_device_id
        if stored and stored != self.settings.device_id and made_up:
            self.settings.device_id = stored
            self._device_id_fresh = False
            if self.paths.config.exists():
                self.save_settings()

    @property
    def url(self) -> str:
        return self.database_url or self.paths.database_url

    def engine(self):
        """The migrated engine with reference data loaded; opened once, thread-safe."""
        with self._lock:
            if self._engine is None:
                from nmi_desk.domain.reference.db import (
                    load_reference_into,
                    reference_from_database,
                )
                from nmi_desk.store.engine import open_engine

                path = self.database_path
                if path is not None and path.parent == self.paths.home:
                    from nmi_desk.core.paths import ensure_private_dir

                    # The desk's own folder is private even if it was already there; the
                    # store only creates folders privately, it tightens none it did not make.
                    ensure_private_dir(self.paths.home)
                engine = open_engine(self.url, key=self.keyring.key_for(path))
                if path is not None:
                    self._keep_device_id(engine)
                load_reference_into(engine)
                # centrally published topics etc. in use from now on
                self._reference = reference_from_database(engine)
                self._engine = engine
            return self._engine

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
        if (path := self.database_path) is not None:
            self.keyring.forget(path)  # the key lives only while this desk is open

    # ---- encryption at rest (nmi_desk.domain.security) ----

    @property
    def database_path(self):
        from nmi_desk.store.connect import sqlite_path_from_url

        return sqlite_path_from_url(self.url)

    def encryption_state(self) -> str:
        """'remote' (PostgreSQL) or the SQLite file's state: 'missing', 'empty', 'plain',
        'encrypted', 'damaged', 'unreadable' (nmi_desk.store.file_state)."""
        from nmi_desk.store.file_state import file_state

        path = self.database_path
        return "remote" if path is None else file_state(path)

    def check_database(self) -> str:
        """The file's state when it can be used ('missing' only means a first start); else
        raises DatabaseProblem with one line saying what is wrong and what to do. Nothing is
        created or written. A plain file where this laptop had an encrypted one is refused too:
        the encrypted file was replaced (or restored from the wrong copy)."""
        from nmi_desk.store.file_state import DatabaseProblem, check_usable

        path = self.database_path
        if path is None:
            return "remote"
        state = check_usable(path)
        if state == "missing":
            from nmi_desk.domain.security import forget_passphrase_check

            forget_passphrase_check(path)  # a first start: what was known of an old file goes
        elif state == "plain":
            from nmi_desk.domain.security import expects_encryption

            if expects_encryption(path):
                raise DatabaseProblem(Text("errors.db.replaced", path=path), "damaged")
        return state

    @property
    def locked(self) -> bool:
        """Encrypted and not unlocked by this process: nothing can be read yet."""
        path = self.database_path
        return (
            path is not None
            and self.encryption_state() == "encrypted"
            and self.keyring.key_for(path) is None
        )

    @property
    def key(self):
        """The key of this desk's database when it is encrypted and unlocked, else None."""
        return self.keyring.key_for(self.database_path)

    def passphrase_first(self) -> bool:
        """Whether the TUI must ask for a passphrase before anything can be shown: to unlock
        this file, or (require_encryption) to encrypt a new or plain one."""
        if self.locked:
            return True
        return self.require_encryption and self.encryption_state() in ("missing", "plain")

    def unlock(self, passphrase: str) -> None:
        """Raises security.WrongPassphrase (after a growing delay on repeated mistakes)."""
        from nmi_desk.domain.security import unlock

        key = unlock(self.database_path, passphrase, sleep=self.sleep, now=self.wall)
        self.keyring.remember(self.database_path, key)
        if not key.normalised and self._engine is None:
            # Opened with the passphrase as typed (encrypted before passphrases were
            # NFC-normalised): re-keyed now under the normalised one, so any spelling opens it.
            self.set_passphrase(passphrase)

    def set_passphrase(self, new_passphrase: str) -> None:
        """Encrypt this desk's database (converting a plain one) or re-key it; unlock first."""
        from nmi_desk.domain.security import set_passphrase

        path = self.database_path
        if path is None:
            from nmi_desk.core.errors import UserError

            raise UserError.of("errors.security.local_only")
        with self._lock:
            if self._engine is not None:  # no pooled connection may hold the old file open
                self._engine.dispose()
                self._engine = None
            key = set_passphrase(path, new_passphrase, old_key=self.keyring.key_for(path))
            self.keyring.remember(path, key)

    def save_settings(self) -> None:
        save_settings(self.paths, self.settings)
        self._config_stamp = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.paths.config.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def reload_settings(self) -> set[str]:
        """Follow settings changed elsewhere (`nmi-desk sync --target` in another window, the
        settings screen of a second instance): when config.toml changed since this desk last
        read or wrote it, read it again. One stat when nothing changed, so a running app can
        ask every few seconds. Returns the names of the settings that changed; a file caught
        half-edited (not valid TOML) is left for the next check."""
        from dataclasses import fields

        from nmi_desk.core.errors import UserError

        stamp = self._stamp()
        if stamp == self._config_stamp:
            return set()
        try:
            fresh = load_settings(self.paths)
        except UserError:
            return set()
        self._config_stamp = stamp
        changed = set()
        for f in fields(Settings):
            value = getattr(fresh, f.name)
            if f.name != "device_id" and getattr(self.settings, f.name) != value:
                setattr(self.settings, f.name, value)  # in place: screens hold this object
                changed.add(f.name)
        return changed

    @property
    def inzage_folder(self) -> Path:
        """Where inzage documents go: settings.inzage_dir, else the Documents folder."""
        chosen = self.settings.inzage_dir.strip()
        if chosen:
            return Path(chosen).expanduser().absolute()
        from platformdirs import user_documents_dir

        return Path(user_documents_dir()) / "nmi-desk inzage"

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return local_today(self.clock)

    @property
    def reference(self) -> Reference:
        return self._reference or shipped_reference()

    def sync(self, target, **options):
        """Sync this desk's database with `target` (nmi_desk.sync.run_sync: the CLI and the
        TUI both come here); pulled reference rows are in use at once."""
        from nmi_desk.sync import run_sync

        report = run_sync(self.engine(), target, self.now, **options)
        if report.reference_changed:
            self.refresh_reference()
        return report

    def refresh_reference(self) -> None:
        """Read the reference again from the database (a sync pulled published rows)."""
        from nmi_desk.domain.reference.db import reference_from_database

        self._reference = reference_from_database(self.engine())

    @property
    def consultant(self) -> str:
        """The initials of who works at this desk: the settings' (set at the first start), or
        NMI_DESK_CONSULTANT for a script on a laptop nobody set up; "" when neither."""
        import os

        return (self.settings.consultant or os.environ.get(CONSULTANT_ENV, "")).strip()

    @property
    def actor(self) -> Actor:
        """Who writes. A desk without a consultant (initials) cannot write: that is an error,
        never a placeholder the audit trail would accept."""
        if not self.consultant:
            from nmi_desk.core.errors import UserError

            raise UserError.of("errors.desk.no_consultant")
        return Actor(consultant=self.consultant, device_id=self.settings.device_id)

    def context(self) -> Context:
        """The context for one piece of domain work: the open engine, the actor (None when no
        consultant is set: writing then fails with one line), the clock, the reference in use,
        the keyring and the client index cache."""
        engine = self.engine()
        consultant = self.consultant
        actor = Actor(consultant, self.settings.device_id) if consultant else None
        return Context(
            engine=engine,
            actor_or_none=actor,
            clock=self.clock,
            reference=self.reference,
            keyring=self.keyring,
            client_indexes=self._client_indexes,
            data_dir=self.paths.home if self.database_path is not None else None,
        )
