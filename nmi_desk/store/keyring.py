"""The keys of the encrypted database files this desk has unlocked, held by the Desk (never a
module global): every connection the desk makes (engine pool, the start-up fast path,
backups, doctor) is given its key explicitly, and closing the desk forgets it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol


class Key(Protocol):
    """An encrypted database's key (nmi_desk.domain.security.DatabaseKey): what SQLCipher is
    given, never printed."""

    @property
    def pragma_value(self) -> str: ...


def _name(path: Path) -> str:
    return str(Path(path).resolve())


class Keyring:
    def __init__(self) -> None:
        self._keys: dict[str, Key] = {}
        self._lock = threading.Lock()

    def remember(self, path: Path, key: Key) -> None:
        with self._lock:
            self._keys[_name(path)] = key

    def forget(self, path: Path) -> None:
        with self._lock:
            self._keys.pop(_name(path), None)

    def key_for(self, path: Path | None) -> Key | None:
        if path is None:
            return None
        with self._lock:
            return self._keys.get(_name(path))
