"""Messages that workers post back to the UI."""

from __future__ import annotations

from textual.message import Message


class DatabaseReady(Message, bubble=False):
    """The engine is open, migrated and holds the reference data.

    The app forwards it to each screen; it must not bubble back up to the app.
    """


class DatabaseFailed(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class DraftFound(Message):
    """An unsaved form from an earlier run (crash, kill) is waiting in the database."""

    def __init__(self, draft) -> None:
        super().__init__()
        self.draft = draft


class WorkDone(Message):
    """A worker of a screen finished: `result` on success, `error` (FieldErrors or text) otherwise."""

    def __init__(self, kind: str, result=None, error=None) -> None:
        super().__init__()
        self.kind = kind
        self.result = result
        self.error = error
