"""The desk: one object holding this laptop's dependencies (paths, settings, clock, database).

The CLI and the TUI are both built on a Desk, and tests build one on a tmp_path. The engine
(SQLAlchemy, migrations, reference load) is opened lazily, on first use, so nothing heavy sits
on the start-up path.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime

from nmi_desk.clock import Clock, local_today, system_clock
from nmi_desk.config import Paths, Settings, load_settings, resolve_paths, save_settings
from nmi_desk.visits import Actor


@dataclass
class Desk:
    paths: Paths
    settings: Settings
    clock: Clock = system_clock
    database_url: str | None = None  # default: the SQLite file in the data dir
    _engine: object = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def open(
        cls, data_dir=None, clock: Clock = system_clock, database_url: str | None = None
    ) -> Desk:
        paths = resolve_paths(data_dir)
        settings = load_settings(paths)
        if not paths.config.exists():
            save_settings(paths, settings)  # keep the device id stable from the first run on
        return cls(paths=paths, settings=settings, clock=clock, database_url=database_url)

    @property
    def url(self) -> str:
        return self.database_url or self.paths.database_url

    def engine(self):
        """The migrated engine with reference data loaded; opened once, thread-safe."""
        with self._lock:
            if self._engine is None:
                from nmi_desk.reference_db import load_reference_into
                from nmi_desk.store.engine import open_engine

                engine = open_engine(self.url)
                load_reference_into(engine)
                self._engine = engine
            return self._engine

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def save_settings(self) -> None:
        save_settings(self.paths, self.settings)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return local_today(self.clock)

    @property
    def actor(self) -> Actor:
        return Actor(consultant=self.settings.consultant or "?", device_id=self.settings.device_id)
