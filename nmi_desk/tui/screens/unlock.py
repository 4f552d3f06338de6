"""Passphrase screens: unlock at start (and after the screen lock), set one at first run.

Full screens, not overlays: while one is up nothing of the screens below is drawn. The key
derivation (scrypt, ~1 s) and the growing delay after wrong tries run in a worker thread.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Input, Label, Static

from nmi_desk.core.errors import UserError
from nmi_desk.tui.messages import (
    PassphraseRefused,
    PassphraseSet,
    PassphraseWrong,
    Unlocked,
    UnlockFailed,
)
from nmi_desk.tui.screens.base import NmiScreen


class UnlockScreen(NmiScreen[bool]):
    """Ask the passphrase. `relock=True`: the screen lock (the database is already open)."""

    CSS_PATH = "unlock.tcss"
    AUTO_FOCUS = "#passphrase"

    def __init__(self, relock: bool = False) -> None:
        super().__init__()
        self.relock = relock

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        with Vertical(id="unlock"):
            yield Static(
                tr("security.locked_title" if self.relock else "security.unlock_title"),
                id="unlock-title",
            )
            yield Static(tr("security.locked_intro" if self.relock else "security.unlock_intro"))
            yield Label(tr("security.passphrase"))
            yield Input(password=True, id="passphrase")
            yield Label("", id="unlock-error", classes="error")
            yield Button(tr("security.unlock"), id="unlock-button", variant="primary")

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock-button")
    def _submit(self) -> None:
        field = self.query_one("#passphrase", Input)
        passphrase = field.value
        field.value = ""
        if not passphrase:
            return
        field.disabled = True
        self.query_one("#unlock-error", Label).update(self._checking_text())
        self._check(passphrase)

    def _checking_text(self) -> str:
        """'Checking…', and how long it waits first after earlier wrong tries (any process)."""
        from nmi_desk.domain.security import wait_before_unlock

        path = self.app.desk.database_path
        wait = wait_before_unlock(path) if path is not None else 0
        if wait >= 1:
            return self.app.tr("reliability.waiting", seconds=round(wait))
        return self.app.tr("security.checking")

    @work(thread=True, exclusive=True, group="unlock")
    def _check(self, passphrase: str) -> None:
        from nmi_desk.domain.security import WrongPassphrase

        try:
            self.app.desk.unlock(passphrase)
        except WrongPassphrase:
            self.post_message(PassphraseWrong())
        except UserError as exc:  # the file, its folder or the disk: not the passphrase
            self.post_message(UnlockFailed(self.app.tr.explain(exc)))
        else:
            self.post_message(Unlocked())

    def on_unlock_failed(self, message: UnlockFailed) -> None:
        self.query_one("#unlock-error", Label).update(message.reason)
        field = self.query_one("#passphrase", Input)
        field.disabled = False
        field.focus()

    def on_unlocked(self, message: Unlocked) -> None:
        self.dismiss(True)

    def on_passphrase_wrong(self, message: PassphraseWrong) -> None:
        self.query_one("#unlock-error", Label).update(self.app.tr("security.wrong"))
        field = self.query_one("#passphrase", Input)
        field.disabled = False
        field.focus()


class SetPassphraseScreen(NmiScreen[bool]):
    """First run (or a plain database from before): choose the passphrase; converts the data."""

    CSS_PATH = "unlock.tcss"
    AUTO_FOCUS = "#new-passphrase"

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        with Vertical(id="unlock"):
            yield Static(tr("security.set_title"), id="unlock-title")
            yield Static(tr("security.set_intro"))
            yield Label(tr("security.new_passphrase"))
            yield Input(password=True, id="new-passphrase")
            yield Label(tr("security.repeat_passphrase"))
            yield Input(password=True, id="repeat-passphrase")
            yield Label("", id="unlock-error", classes="error")
            yield Button(tr("security.set"), id="set-button", variant="primary")

    @on(Input.Submitted, "#new-passphrase")
    def _next(self) -> None:
        self.query_one("#repeat-passphrase", Input).focus()

    @on(Input.Submitted, "#repeat-passphrase")
    @on(Button.Pressed, "#set-button")
    def _submit(self) -> None:
        from nmi_desk.domain.security import MIN_PASSPHRASE

        new = self.query_one("#new-passphrase", Input).value
        repeat = self.query_one("#repeat-passphrase", Input).value
        error = self.query_one("#unlock-error", Label)
        if len(new) < MIN_PASSPHRASE:
            error.update(self.app.tr("security.too_short", n=MIN_PASSPHRASE))
        elif new != repeat:
            error.update(self.app.tr("security.differ"))
        else:
            error.update(self.app.tr("security.encrypting"))
            self._set(new)

    @work(thread=True, exclusive=True, group="unlock")
    def _set(self, passphrase: str) -> None:
        try:
            self.app.desk.set_passphrase(passphrase)
        except UserError as exc:
            self.post_message(PassphraseRefused(self.app.tr.explain(exc)))
        else:
            self.post_message(PassphraseSet())

    def on_passphrase_refused(self, message: PassphraseRefused) -> None:
        self.query_one("#unlock-error", Label).update(message.reason)

    def on_passphrase_set(self, message: PassphraseSet) -> None:
        self.dismiss(True)
