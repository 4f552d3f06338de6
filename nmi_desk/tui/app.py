"""The Textual app. Built from a Desk (paths, settings, clock, database) so tests run it on tmp_path.

Start-up: the first screen is composed at once and today's rows are read through the standard
library; only then does the database engine (SQLAlchemy, migrations, reference data) open in a
worker thread. With NMI_DESK_EXIT_WHEN_READY=1 the app exits as soon as Today shows its rows
(benchmarks/startup.py measures that).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from nmi_desk.core.translator import Translator
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.stats.today import TodayPrefetch
from nmi_desk.tui.key_order import KeyOrder
from nmi_desk.tui.keys import localize_bindings
from nmi_desk.tui.messages import DatabaseFailed, DatabaseReady, DraftFound

if TYPE_CHECKING:
    from nmi_desk.tui.screens.lock import IdleLock

EXIT_WHEN_READY_ENV = "NMI_DESK_EXIT_WHEN_READY"


class NmiDeskApp(App):
    # Today's styles load with the app: it is usually the default screen, whose own CSS_PATH
    # Textual would not load.
    CSS_PATH = ["app.tcss", "screens/today.tcss"]
    BINDINGS = [
        Binding("ctrl+q", "quit", "key.quit", priority=True),
        # priority: also on dialogs, where Textual passes only the app's priority keys
        Binding("f1", "help", "key.help", priority=True),
        Binding("f2", "guidance", "key.guidance", show=False),  # Today shows g; forms their F2
        Binding("f5", "sync_now", "sync.key", show=False),  # named on the sync line
        # Textual adds its own Ctrl+P unless one is declared: this one is named in the catalog.
        Binding("ctrl+p", "command_palette", "general.key_palette", show=False, priority=True),
        Binding("ctrl+l", "lock", "general.key_lock", show=False, priority=True),
    ]

    def __init__(self, desk: Desk, today: TodayPrefetch | None = None) -> None:
        """`today`: today's rows already being read (run_tui starts that before Textual loads)."""
        super().__init__()
        self.desk = desk
        self._today_prefetch = today
        self.tr = Translator(desk.settings.lang)
        localize_bindings(self, self.tr)
        self.idle_lock: IdleLock | None = None  # installed once no passphrase is asked first
        self.unexpected_errors: list[str] = []  # "KeyError at nmi_desk/x.py:12", for tests
        self._crash: BaseException | None = None
        self.exit_when_ready = os.environ.get(EXIT_WHEN_READY_ENV) == "1"
        self._database_started = False
        self.last_client_uuid: str | None = None  # Today's "h": the client served last
        self.title = self.tr("app.title")
        self._letters = None  # client letters being printed or viewed (made on first use)
        self.key_order = KeyOrder(self)
        self._draft_to_offer = None  # an earlier run's unsaved form, until Today is on top

    async def _press_keys(self, keys: Iterable[str]) -> None:
        # Pilot's press returns when the keys are handled, not merely read: held keys too.
        await super()._press_keys(keys)
        await self.key_order.drained()

    def get_default_screen(self) -> Screen:
        """Today itself when nothing comes before it (setup, passphrase): it is composed with the
        app and shows in the app's first frame, instead of being pushed over an empty screen."""
        if self.desk.settings.is_set_up and not self.desk.passphrase_first():
            from nmi_desk.tui.screens.today import TodayScreen

            return TodayScreen()
        return super().get_default_screen()

    def on_mount(self) -> None:
        from nmi_desk.tui.screens.lock import ask_passphrase_first
        from nmi_desk.tui.screens.today import TodayScreen

        if isinstance(self.screen_stack[0], TodayScreen):
            self._start_idle_lock()
        elif not ask_passphrase_first(self, then=self._first_screen):
            self._first_screen()

    def _start_idle_lock(self) -> None:
        from nmi_desk.tui.screens.lock import CHECK_EVERY_S, IdleLock

        if self.idle_lock is None:
            self.idle_lock = IdleLock(self)
            self.set_interval(CHECK_EVERY_S, self.idle_lock.check)

    def _first_screen(self) -> None:
        """After the passphrase (if one was asked): setup on a first run, else Today."""
        from nmi_desk.tui.screens.today import TodayScreen

        self._start_idle_lock()
        if self.desk.settings.is_set_up:
            self.push_screen(TodayScreen())
        else:
            from nmi_desk.tui.screens.setup import SetupScreen

            self.push_screen(SetupScreen(), callback=lambda _: self.push_screen(TodayScreen()))
            self.start_database()

    def take_today_prefetch(self) -> TodayPrefetch | None:
        """The prefetched read of today, for the first Today screen only."""
        prefetch, self._today_prefetch = self._today_prefetch, None
        return prefetch

    # ---- the database, opened after the first paint ----

    def start_database(self) -> None:
        """Open the engine in a worker (once); Today calls this after showing its rows."""
        if not self._database_started:
            self._database_started = True
            self.open_database()

    @work(thread=True, exclusive=True, group="open-database")
    def open_database(self) -> None:
        from nmi_desk.core.errors import storage_problem
        from nmi_desk.domain.drafts import latest_draft, set_aside_misfits

        try:
            self.desk.engine()
        except Exception as exc:  # a damaged file or a full disk: one line, not a crash
            reason = storage_problem(exc)
            if reason is None:
                raise
            self.post_message(DatabaseFailed(reason))
            return
        self.post_message(DatabaseReady())
        if not self.is_running:
            return  # quit while the database was opening
        try:
            aside = set_aside_misfits(self.desk.context())
            if aside:  # said, never a crash: the form could not show it
                self.call_from_thread(
                    self.notify, self.tr("draft.set_aside", n=aside), severity="warning",
                    timeout=15,
                )  # fmt: skip
            draft = latest_draft(self.desk.context())
        except Exception as exc:
            reason = storage_problem(exc)
            if reason is None:
                raise
            self.post_message(DatabaseFailed(reason))
            return
        if draft is not None:
            self.post_message(DraftFound(draft))

    def on_database_ready(self, message: DatabaseReady) -> None:
        for screen in self.screen_stack:
            screen.post_message(DatabaseReady())

    def on_database_failed(self, message: DatabaseFailed) -> None:
        reason = self.tr.explain(message.reason)
        self.notify(self.tr("error.database", reason=reason), severity="error", timeout=30)
        for screen in self.screen_stack:  # Today shows it instead of "Loading…"
            show = getattr(screen, "show_database_problem", None)
            if show is not None:
                show(reason)

    def on_draft_found(self, message: DraftFound) -> None:
        # Offered on Today only: a dialog popping up over a form the consultant is typing in
        # would take the keys meant for the form. Today offers it when it is back on top.
        self._draft_to_offer = message.draft
        self.offer_draft_on_today()

    def offer_draft_on_today(self) -> None:
        from nmi_desk.tui.screens.drafts import offer_draft
        from nmi_desk.tui.screens.today import TodayScreen

        if self._draft_to_offer is not None and isinstance(self.screen, TodayScreen):
            draft, self._draft_to_offer = self._draft_to_offer, None
            offer_draft(self, draft)

    async def on_event(self, event: events.Event) -> None:
        # Every event passes the app first: the one place to see activity for the idle lock,
        # and to keep all but typing from a locked screen. Keys from the terminal then wait
        # until the ones before them are handled (key_order.py).
        if self.idle_lock is not None and not self.idle_lock.lets_through(event):
            return
        typed = isinstance(event, events.Key | events.Paste)  # pasted text keeps its place too
        if typed and not event.is_forwarded and self.key_order.hold(event):
            return
        await super().on_event(event)

    def action_lock(self) -> None:
        if self.idle_lock is not None:
            self.idle_lock.lock()

    # ---- unexpected errors: one place for all of them ----

    def _handle_exception(self, error: Exception) -> None:
        """Every exception nothing else handled arrives here (Textual's hook; it has no public
        one). A worker's error is a failed piece of work: the consultant reads one line, the log
        says where, the app stays up. Anything else is a crash: the app exits non-zero with
        one line. Textual's own report, a traceback with every frame's local variables, is
        never printed: those locals can hold a client's name (nmi_desk.core.errorlog)."""
        from textual.worker import WorkerFailed, active_worker

        if isinstance(error, WorkerFailed) and self.is_running:
            try:
                name = active_worker.get().name
            except LookupError:
                name = "?"
            self._report_worker_error(error.error, name)
            return
        self._crash = error
        super()._handle_exception(error)  # exit code 1, kept for tests; calls _fatal_error

    def _report_worker_error(self, error: BaseException, worker: str) -> None:
        from nmi_desk.core.errorlog import kind, where

        log = self._log_unexpected(error, f"worker {worker}")
        self.unexpected_errors.append(f"{kind(error)} at {where(error)}")
        self.bell()
        self.notify(
            self.tr("general.worker_failed", kind=kind(error), log=str(log)),
            severity="error",
            timeout=30,
        )

    def _fatal_error(self) -> None:
        from rich.text import Text

        from nmi_desk.core.errorlog import kind, where

        error = self._crash
        log = self._log_unexpected(error, "the app")
        self.bell()
        self.panic(
            Text(self.tr("general.crashed", kind=kind(error), where=where(error), log=str(log)))
        )

    def _log_unexpected(self, error: BaseException, context: str):
        from nmi_desk.core.errorlog import log_unexpected

        try:
            return log_unexpected(self.desk.paths.logs, error, context)
        except OSError:
            return self.desk.paths.logs  # no log (a full disk): the line on screen still says what

    async def on_unmount(self) -> None:
        # A thread worker may still be reading (the sync line's status, a draft write): closing
        # the engine under it crashed the SQLite driver. Textual has cancelled the workers by
        # now but their threads run on in the loop's executor: wait for those, then close.
        import asyncio

        try:
            await asyncio.wait_for(asyncio.get_running_loop().shutdown_default_executor(), 15)
        except (TimeoutError, RuntimeError):
            pass  # a stuck network call: close anyway rather than hang on quit
        self.cleanup_letters()
        self.desk.close()

    # ---- the client's letters ----

    @property
    def letters(self):
        """The temporary letters of this run (nmi_desk.letter.deliver.TempLetters)."""
        if self._letters is None:
            from nmi_desk.letter.deliver import TempLetters

            self._letters = TempLetters(forbidden=self.desk.paths.home)
        return self._letters

    def cleanup_letters(self) -> None:
        if self._letters is not None:
            self._letters.cleanup()

    # ---- language ----

    def set_language(self, lang: str) -> None:
        """Switch the UI language: new catalog, fresh screens (their texts come from it)."""
        from nmi_desk.tui.screens.today import TodayScreen

        self.tr = Translator(lang)
        localize_bindings(self, self.tr)
        self.title = self.tr("app.title")
        while len(self.screen_stack) > 1 and not isinstance(self.screen, TodayScreen):
            self.pop_screen()
        if isinstance(self.screen, TodayScreen):
            self.screen.relocalize()
        else:
            self.push_screen(TodayScreen())
        self.refresh_bindings()

    # ---- actions available everywhere ----

    def action_help(self) -> None:
        from nmi_desk.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)  # F1 again closes it
        else:
            self.push_screen(HelpScreen(origin=self.screen))

    def action_guidance(self, topic: str | None = None, query: str = "") -> None:
        from nmi_desk.tui.screens.guidance import GuidanceScreen

        self.push_screen(GuidanceScreen(topic=topic, query=query))

    # ---- opening the screens that open each other (the form, the client search) ----
    # Screens ask the app, so no screen module imports another that imports it back.

    def open_visit_form(self, **kwargs) -> None:
        from nmi_desk.tui.screens.visit_form import VisitFormScreen

        self.push_screen(VisitFormScreen(**kwargs))

    def back_to_today(self) -> None:
        """Close the screens above Today (a client's search and history after a visit)."""
        from nmi_desk.tui.screens.today import TodayScreen

        if not any(isinstance(s, TodayScreen) for s in self.screen_stack):
            return
        while not isinstance(self.screen_stack[-1], TodayScreen):
            self.pop_screen()

    def open_client_search(self, callback=None, **kwargs) -> None:
        from nmi_desk.tui.screens.clients import ClientSearchScreen

        self.push_screen(ClientSearchScreen(**kwargs), callback)

    def action_sync_now(self) -> None:
        """F5: sync now, wherever the consultant is; the Today screen's status line runs it."""
        self.follow_settings()  # a target saved by `nmi-desk sync --target` a moment ago
        for screen in self.screen_stack:
            for line in screen.query("SyncStatusLine"):
                line.sync_now()
                return

    def follow_settings(self) -> None:
        """Settings saved elsewhere (the CLI, another window) take effect without a restart.

        Called on F5 and on the sync line's timer; costs one stat of config.toml when nothing
        changed. The language follows at the next start (switching it rebuilds the screens,
        which would close an open form).
        """
        changed = self.desk.reload_settings()
        if not changed:
            return
        for screen in self.screen_stack:
            if changed & {"location", "consultant"} and hasattr(screen, "settings_changed"):
                screen.settings_changed()
            if "sync_target" in changed:
                for line in screen.query("SyncStatusLine"):
                    line.target_changed()

    # ---- command palette: every key of the current screen is also a command ----

    def action_command_palette(self) -> None:
        """Textual's palette with its search prompt in the consultant's language (its 'No
        matches found' line is fixed text inside Textual and stays English)."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(
                CommandPalette(id="--command-palette", placeholder=self.tr("walkin.palette_search"))
            )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from nmi_desk.tui.keys import (
            LocalizedBindings,
            from_catalog,
            key_label,
            long_description,
            translate,
        )

        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = translate(active.binding, self.tr)
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            if binding.action == "command_palette":
                continue  # the palette is open already
            if not (active.node is self or isinstance(active.node, (Screen, LocalizedBindings))):
                continue  # Textual's own widget keys (cursor moves, copy) are not commands
            if not from_catalog(active.node, key, binding.action):
                continue  # Textual's own app and screen keys ("Copy selected text", "Focus
                # Next"): English only, and not what a consultant asks the palette for
            title = long_description(binding)
            if title in seen:
                continue  # g and F2 on Today: one guidance command
            seen.update((binding.action, title))
            yield SystemCommand(
                title,
                key_label(key),
                partial(self.call_later, self.run_action, binding.action, active.node),
            )
        yield SystemCommand(self.tr("key.theme"), "", self.action_change_theme)
