"""Messages that workers post back to the UI."""

from __future__ import annotations

from textual.message import Message


class DatabaseReady(Message):
    """The engine is open, migrated and holds the reference data."""


class DatabaseFailed(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
