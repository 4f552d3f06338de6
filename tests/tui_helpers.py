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
    # A worker's error leaves the app up and waiting (by design): name it, it is the cause.
    errors = getattr(pilot.app, "unexpected_errors", None)
    raise AssertionError(
        f"gave up waiting for {what}" + (f"; app errors: {errors}" if errors else "")
    )


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
    """Presses keys through the pilot and counts what is not text typed.

    The count is what the app needs, not what a script happens to press: `reach` presses Tab
    only while the focus is not yet on the field (Enter that already moved on costs nothing),
    `pick` presses Down only while the wanted entry is not highlighted, so a worse ranking,
    a lost focus or a longer path through the form shows up as more keys.
    """

    def __init__(self, pilot) -> None:
        self.pilot = pilot
        self.count = 0
        self.typed = 0
        self.log: list[str] = []

    async def press(self, *keys: str) -> None:
        for key in keys:
            self.count += 1
            self.log.append(key)
            await self.pilot.press(key)

    async def type(self, text: str) -> None:
        for char in text:
            self.typed += 1
            await self.pilot.press(char if char != " " else "space")

    def _focused_in(self, selector: str) -> bool:
        focused = self.pilot.app.focused
        if focused is None:
            return False
        targets = list(self.pilot.app.screen.query(selector))
        return any(t is focused or t in focused.ancestors for t in targets)

    async def reach(self, selector: str, shortcut: str | None = None, limit: int = 30) -> None:
        """Bring the focus to `selector`: nothing if it is there, else the screen's shortcut
        key (if it has one), else Tab until it is there."""
        await self.pilot.pause()
        if self._focused_in(selector):
            return
        if shortcut:
            await self.press(shortcut)
            await wait_until(self.pilot, lambda: self._focused_in(selector), selector)
            return
        for _ in range(limit):
            await self.press("tab")
            await self.pilot.pause()
            if self._focused_in(selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    async def pick(self, highlighted, want: str, limit: int = 40) -> None:
        """Down until `highlighted()` (the code under the cursor) is `want`."""
        await self.pilot.pause()
        for _ in range(limit):
            if highlighted() == want:
                return
            await self.press("down")
            await self.pilot.pause()
        raise AssertionError(f"{want} never highlighted (at {highlighted()})")

    async def fill(self, selector: str, text: str) -> None:
        await self.reach(selector)
        await self.type(text)

    async def choose(self, selector: str, text: str, code: str) -> None:
        """A choice field: type part of a name, move to `code` if it is not the best match."""
        from nmi_desk.tui.widgets.choice_field import ChoiceField

        await self.reach(selector)
        await self.type(text)
        field = self.pilot.app.screen.query_one(selector, ChoiceField)
        await self.pick(lambda: field.highlighted_code, code)


def table_rows(app) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
