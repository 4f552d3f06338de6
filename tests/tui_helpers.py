"""Helpers for the counter TUI tests: wait for a screen or condition, count keystrokes."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Input, TextArea

STEP = 0.05
LIMIT = 400  # steps: generous on a loaded machine; waiting is not a timing assertion


async def wait_until(pilot, condition, what: str = "condition") -> None:
    for _ in range(LIMIT):
        await pilot.pause(STEP)
        if condition():
            return
    raise AssertionError(f"gave up waiting for {what}")


async def wait_screen(pilot, cls) -> None:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, cls), cls.__name__)


async def wait_today(pilot, rows: int | None = None) -> None:
    from nmi_desk.tui.screens.today import TodayScreen

    def ready() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, TodayScreen) or not screen.loaded:
            return False
        return rows is None or screen.query_one(DataTable).row_count == rows

    await wait_until(pilot, ready, f"Today with {rows} rows")


async def workers_done(pilot) -> None:
    """Wait until no worker is pending or running.

    `WorkerManager.wait_for_complete` raises when an exclusive worker is cancelled by its
    successor (the sync line re-reads on every save), which is normal app behaviour, not a
    failure. A worker that failed leaves the app running (the consultant reads one line), so
    it is checked here: an unexpected error fails the test.
    """
    from textual.worker import WorkerCancelled, WorkerState

    for _ in range(LIMIT):
        errors = getattr(pilot.app, "unexpected_errors", None)
        assert not errors, f"a worker failed: {errors}"
        busy = [
            w for w in pilot.app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]
        if not busy:
            return
        for worker in busy:
            if worker.state == WorkerState.PENDING:
                continue  # not started yet: wait() would refuse it; look again next round
            try:
                await worker.wait()
            except WorkerCancelled:
                pass
        await pilot.pause(STEP / 5)
    raise AssertionError("gave up waiting for workers")


async def settle(pilot) -> None:
    """Let workers finish and messages drain."""
    await workers_done(pilot)
    await pilot.pause(0.1)
    await asyncio.sleep(0)


def steady_cursor(app) -> None:
    """No blinking cursor in snapshots: the same picture every run."""
    for widget in app.screen.query(Input).results():
        widget.cursor_blink = False
    for widget in app.screen.query(TextArea).results():
        widget.cursor_blink = False


class Keys:
    """Presses keys through the pilot and counts what is not text typed."""

    def __init__(self, pilot) -> None:
        self.pilot = pilot
        self.count = 0
        self.typed = 0

    async def press(self, *keys: str) -> None:
        for key in keys:
            self.count += 1
            await self.pilot.press(key)

    async def type(self, text: str) -> None:
        for char in text:
            self.typed += 1
            await self.pilot.press(char if char != " " else "space")


def table_rows(app) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
