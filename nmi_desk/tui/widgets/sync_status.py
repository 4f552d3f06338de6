"""The sync line on the Today screen: pending count, last success, last error, a progress bar.

It also runs sync: on the app's key (F5) and in the background every few minutes when a target
is configured, with a growing pause after failures. The work happens in a thread worker
(nmi_desk.sync.run_sync, the same function the CLI calls), so typing never waits for it.
"""

from __future__ import annotations

import os
import time

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import ProgressBar, Static

INTERVAL = 300.0  # seconds between background attempts while all is well
FIRST_DELAY = 20.0  # let start-up and the first visit go first
RETRY_MIN, RETRY_MAX = 60.0, 1800.0  # backoff after a failure: 1 min doubling up to 30 min
TICK = 5.0


class SyncStatusLine(Horizontal):
    DEFAULT_CSS = """
    SyncStatusLine { height: 1; padding: 0 1; }
    SyncStatusLine #sync-text { width: 1fr; }
    SyncStatusLine ProgressBar { width: 30; display: none; }
    SyncStatusLine.running ProgressBar { display: block; }
    """

    class StatusRead(Message):
        def __init__(self, status) -> None:
            super().__init__()
            self.status = status

    class Progressed(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done, self.total = done, total

    class Finished(Message):
        def __init__(self, report=None, error: str | None = None) -> None:
            super().__init__()
            self.report, self.error = report, error

    class SwitchAsked(Message):
        """The target is another central database than the last one: ask before sending."""

        def __init__(self, target, switch, interactive: bool) -> None:
            super().__init__()
            self.target, self.switch, self.interactive = target, switch, interactive

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.running = False
        self.status = None
        self.error: str | None = None
        self._retry = RETRY_MIN
        self._next_at = time.monotonic() + FIRST_DELAY
        self._confirmed: str | None = None  # a target the consultant agreed to switch to
        self._waiting = False  # a switch waits for the consultant (F5)

    def compose(self) -> ComposeResult:
        yield Static(self.app.tr("sync.reading"), id="sync-text", markup=False)
        yield ProgressBar(total=None, show_eta=False, id="sync-progress")

    def on_mount(self) -> None:
        self.set_interval(TICK, self._tick)
        self.read_status()

    @property
    def target_configured(self) -> bool:
        from nmi_desk.sync.target import ENV_URL

        return bool(self.app.desk.settings.sync_target or os.environ.get(ENV_URL))

    def _tick(self) -> None:
        self.app.follow_settings()  # one stat of config.toml
        if self.running or self._waiting or not self.target_configured:
            return
        if time.monotonic() >= self._next_at:
            self._start(interactive=False)

    def target_changed(self) -> None:
        """The saved target changed elsewhere: its figures now, a sync soon."""
        self.error = None
        self._waiting = False
        self._retry = RETRY_MIN
        self._next_at = time.monotonic() + FIRST_DELAY
        self.read_status()

    def sync_now(self) -> None:
        """F5."""
        if self.running:
            return
        if not self.target_configured:
            self.app.notify(self.app.tr("sync.no_target"), severity="warning")
            return
        self._start(interactive=True)

    def _start(self, interactive: bool) -> None:
        self.running = True
        self.add_class("running")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self._render_text()
        self.run_sync(interactive)

    @work(thread=True, exclusive=True, group="sync-status")
    def read_status(self) -> None:
        from nmi_desk.core.errors import UserError
        from nmi_desk.sync import read_status

        try:
            status = read_status(self.app.desk.engine())
        except UserError:
            return  # no database yet (locked, first run): the app reports that itself
        self.post_message(self.StatusRead(status))

    @work(thread=True, exclusive=True, group="sync-run")
    def run_sync(self, interactive: bool = False) -> None:
        from nmi_desk.core.errors import UserError
        from nmi_desk.sync import resolve_target
        from nmi_desk.sync.state import switch_needed

        desk = self.app.desk
        try:
            target = resolve_target(None, desk.settings.sync_target)
            if self._confirmed != target.saved:
                switch = switch_needed(desk.engine(), target.saved, desk.settings.sync_target)
                if switch is not None:
                    self.post_message(self.SwitchAsked(target, switch, interactive))
                    return
            report = desk.sync(
                target,
                progress=lambda done, total: self.post_message(self.Progressed(done, total)),
            )
        except UserError as exc:
            self.post_message(self.Finished(error=exc.text))
        except Exception as exc:  # never let a background attempt take the counter app down
            self.post_message(self.Finished(error=f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(self.Finished(report=report))

    def on_sync_status_line_switch_asked(self, message: SwitchAsked) -> None:
        self.running = False
        self.remove_class("running")
        self._waiting = True
        self._render_text()
        if not message.interactive:
            return  # the background timer never switches: the line says to press F5
        from nmi_desk.tui.screens.confirm import ConfirmScreen

        tr = self.app.tr
        what = message.switch.describe(lambda t: tr(f"day_overview.table_{t}"))
        question = tr(
            "sync_target.confirm",
            target=message.target.shown,
            previous=message.switch.previous,
            what=what or tr("sync_target.nothing"),
        )

        def answered(yes: bool | None) -> None:
            self._waiting = False
            if yes:
                self._confirmed = message.target.saved
                self._start(interactive=True)
            else:
                self._waiting = True
                self._render_text()
                self.app.notify(tr("sync_target.unchanged"), severity="warning")

        self.app.push_screen(ConfirmScreen(question), answered)

    def on_sync_status_line_progressed(self, message: Progressed) -> None:
        for bar in self.query(ProgressBar):  # none while being removed
            bar.update(total=max(message.total, 1), progress=message.done)

    def on_sync_status_line_finished(self, message: Finished) -> None:
        self.running = False
        self.remove_class("running")
        self.error = message.error
        self._waiting = False
        if message.error is None:
            self._retry = RETRY_MIN
            self._next_at = time.monotonic() + INTERVAL
        else:
            self._next_at = time.monotonic() + self._retry
            self._retry = min(self._retry * 2, RETRY_MAX)
        self.read_status()

    def on_sync_status_line_status_read(self, message: StatusRead) -> None:
        self.status = message.status
        if self.error is None and message.status.last_error:
            self.error = message.status.last_error
        self._render_text()

    def _render_text(self) -> None:
        from datetime import datetime

        from nmi_desk.core.clock import local

        tr = self.app.tr
        parts = []
        if self.status is not None:
            parts.append(tr("sync.pending", n=self.status.pending))
            when = tr("sync.never")
            if self.status.last_success:
                moment = local(datetime.fromisoformat(self.status.last_success))
                same_day = moment.date() == self.app.desk.today()
                when = moment.strftime("%H:%M" if same_day else "%d-%m %H:%M")
            parts.append(tr("sync.last", when=when))
        if self.running:
            parts.append(tr("sync.running"))
        elif self._waiting:
            parts.append(tr("sync_target.waiting"))
        elif self.error:
            parts.append(tr("sync.error", reason=tr.explain(self.error)))
        text = tr("sync.label") + " " + " · ".join(parts)
        for label in self.query("#sync-text").results(Static):  # none while being removed
            label.update(text)
