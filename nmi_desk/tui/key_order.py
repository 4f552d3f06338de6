"""Keys applied in the order typed, each to the widget that has the focus once the keys before
it are handled.

Textual hands a key to whatever has the focus the moment the app reads it. A consultant who
types without looking is faster than the app on a busy laptop: the letters after `n` reached
Today before the walk-in form was there, and the letters after Enter reached the field Enter
was leaving, because Enter moves the focus through a message handled later ("turktur" as the
origin). So the app holds every key from the terminal and releases it only when everything the
previous key set off is done: its handlers, the messages they posted, a screen they pushed and
the focus they moved. That is a property of the whole app, not of one form.

"Done" is found the way Textual's own Pilot waits for a screen: a callback queued behind every
pending message of the app and of every widget on the current screen has run, and no queue has
received anything since; and the work the key started in a worker (a save, a visit loading, a
returning client's details) has finished, so "n" right after Ctrl+S opens the next walk-in
instead of typing into the one being saved. Searches as you type are not waited for (the next
key cancels them by design), nor is long background work (sync, the database opening, drafts,
letters). Keys held longer than HOLD_LIMIT (something that never settles) are released anyway:
late is better than never. Pasted text waits its turn the same way; mouse clicks do not (a
click is aimed at what is on the screen when it is made).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from textual import events
from textual.worker import WorkerState

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

# Seconds one key may wait for the app to settle: the passphrase check after Enter on the
# unlock screen takes seconds on a slow laptop, and "n" typed after it belongs to Today.
HOLD_LIMIT = 10.0
WORKER_POLL = 0.005  # seconds between looks at the workers a key started
# Worker groups a key does not wait for: searches as you type and long background work.
NOT_WAITED_FOR = frozenset(
    {
        "guidance-search",
        "client-search",
        "client-central",
        "client-central-close",
        "open-database",
        "sync-run",
        "sync-status",
        "draft",
        "drafts",
        "letter",
    }
)


class KeyOrder:
    def __init__(self, app: App) -> None:
        self.app = app
        self._held: deque[events.Key | events.Paste] = deque()
        self._released: set[int] = set()  # ids of keys on their way: not held twice
        self._pump: asyncio.Task | None = None
        self._drained = asyncio.Event()
        self._drained.set()

    def hold(self, event: events.Key | events.Paste) -> bool:
        """Take a key (or pasted text) from the terminal (True); it comes back when the ones
        before it are done, and is then let through (False)."""
        if id(event) in self._released:
            self._released.discard(id(event))
            return False
        self._held.append(event)
        self._drained.clear()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._release_all(), name="nmi-key-order")
        return True

    async def drained(self) -> None:
        """Wait until every key the app has read so far is handled (Pilot's press waits)."""
        read = asyncio.Event()
        if self.app.call_later(read.set):  # behind the keys still in the app's queue
            await read.wait()
        await self._drained.wait()
        if self._pump is not None and not self._pump.done():
            await asyncio.shield(self._pump)

    async def _release_all(self) -> None:
        try:
            while self._held:
                event = self._held.popleft()
                before = set(self.app.workers)
                self._released.add(id(event))
                if not self.app.post_message(event):
                    self._released.discard(id(event))  # the app is closing
                    break
                await self._settle(before)
        finally:
            if not self._held:
                self._drained.set()

    def _pumps(self) -> list[MessagePump]:
        try:
            screen = self.app.screen
        except Exception:  # no screen yet (starting) or none left (closing)
            return [self.app]
        return [self.app, *screen.walk_children(with_self=True)]

    def _started_work(self, before: set) -> bool:
        return any(
            worker not in before
            and worker.group not in NOT_WAITED_FOR
            and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for worker in self.app.workers
        )

    async def _settle(self, before: set) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HOLD_LIMIT
        # Each round is one hop of messages (Submitted, a focus change, a screen's mount, ...).
        while loop.time() < deadline:
            pumps = self._pumps()
            left = 0
            all_done = asyncio.Event()

            def one_done(all_done: asyncio.Event = all_done) -> None:
                nonlocal left
                left -= 1
                if left == 0:
                    all_done.set()

            for pump in pumps:
                if pump.call_later(one_done):
                    left += 1
            if left:
                try:
                    await asyncio.wait_for(all_done.wait(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    return
            if not self.app.is_running:
                return
            if self._started_work(before):
                await asyncio.sleep(WORKER_POLL)
                continue
            # Settled when nothing was posted meanwhile and no new screen came up.
            if self._pumps() == pumps and all(pump._message_queue.empty() for pump in pumps):
                return
