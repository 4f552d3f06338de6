"""First run: the consultant's initials and location, and where the data lives."""

from __future__ import annotations

import re

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from nmi_desk.refdata import reference

INITIALS = re.compile(r"^[^\W\d_]{1,5}$")


class SetupScreen(Screen[None]):
    CSS_PATH = "setup.tcss"

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        lang = self.app.desk.settings.lang
        yield Header()
        with Vertical(id="setup"):
            yield Static(tr("setup.title"), id="setup-title")
            yield Static(tr("setup.intro"))
            yield Label(tr("setup.initials"))
            yield Input(
                value=self.app.desk.settings.consultant,
                placeholder=tr("setup.initials_placeholder"),
                max_length=5,
                id="initials",
            )
            yield Label("", id="initials-error", classes="error")
            yield Label(tr("setup.location"))
            yield Select(
                [(loc.label(lang), loc.code) for loc in reference().locations],
                prompt=tr("setup.location"),
                id="location",
            )
            yield Label("", id="location-error", classes="error")
            yield Static(tr("setup.data_here", path=self.app.desk.paths.home), id="data-path")
            yield Button(tr("setup.save"), id="save", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#initials", Input).focus()

    @on(Input.Submitted, "#initials")
    def _next(self) -> None:
        self.query_one("#location", Select).focus()

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        tr = self.app.tr
        initials = self.query_one("#initials", Input).value.strip().upper()
        location = self.query_one("#location", Select).value
        ok = True
        if not INITIALS.match(initials):
            self.query_one("#initials-error", Label).update(tr("setup.initials_invalid"))
            ok = False
        else:
            self.query_one("#initials-error", Label).update("")
        if not isinstance(location, str):
            self.query_one("#location-error", Label).update(tr("setup.location_required"))
            ok = False
        else:
            self.query_one("#location-error", Label).update("")
        if ok:
            self.app.desk.settings.consultant = initials
            self.app.desk.settings.location = location
            self._write()

    @work(thread=True, exclusive=True, group="settings")
    def _write(self) -> None:
        self.app.desk.save_settings()
        self.app.call_from_thread(self.dismiss, None)
