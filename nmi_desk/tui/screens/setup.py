"""First run (and later the settings): initials, location, language, and where the data lives."""

from __future__ import annotations

import re

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Button, Header, Input, Label, Select, Static

from nmi_desk.refdata import reference
from nmi_desk.tui.messages import SettingsSaved
from nmi_desk.tui.screens.base import NmiScreen, footer
from nmi_desk.tui.widgets.error_label import ErrorLabel

INITIALS = re.compile(r"^[^\W\d_]{1,5}$")


class SetupScreen(NmiScreen[None]):
    CSS_PATH = "setup.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", priority=True),
        Binding("escape", "cancel", "key.back"),
    ]

    def __init__(self, settings_mode: bool = False) -> None:
        super().__init__()
        self.settings_mode = settings_mode

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        settings = self.app.desk.settings
        lang = tr.lang
        yield Header()
        with VerticalScroll(id="setup"):
            yield Static(
                tr("setup.settings_title") if self.settings_mode else tr("setup.title"),
                id="setup-title",
            )
            if not self.settings_mode:
                yield Static(tr("setup.intro"))
            yield Label(tr("setup.initials"))
            yield Input(
                value=settings.consultant,
                placeholder=tr("setup.initials_placeholder"),
                max_length=5,
                id="initials",
                compact=True,
            )
            yield ErrorLabel(id="initials-error")
            yield Label(tr("setup.location"))
            yield Select(
                [(loc.label(lang), loc.code) for loc in reference().locations],
                prompt=tr("setup.location"),
                value=settings.location or Select.NULL,
                id="location",
                compact=True,
            )
            yield ErrorLabel(id="location-error")
            yield Label(tr("setup.language"))
            yield Select(
                [("Nederlands", "nl"), ("English", "en")],
                value=settings.lang,
                allow_blank=False,
                id="lang",
                compact=True,
            )
            yield Static(tr("setup.data_here", path=self.app.desk.paths.home), id="data-path")
            yield Button(tr("setup.save"), id="save", variant="primary", compact=True)
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#initials", Input).focus()

    @on(Input.Submitted, "#initials")
    def _next(self) -> None:
        self.query_one("#location", Select).focus()

    @on(Button.Pressed, "#save")
    def _pressed(self) -> None:
        self.action_save()

    def action_save(self) -> None:
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
            settings = self.app.desk.settings
            settings.consultant = initials
            settings.location = location
            lang = self.query_one("#lang", Select).value
            self._new_lang = lang if lang != settings.lang else None
            settings.lang = lang
            self._write()

    @work(thread=True, exclusive=True, group="settings")
    def _write(self) -> None:
        self.app.desk.save_settings()
        self.post_message(SettingsSaved())

    def on_settings_saved(self, message: SettingsSaved) -> None:
        if self.settings_mode and self._new_lang:
            self.app.set_language(self._new_lang)  # rebuilds the screens in the new language
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        if self.settings_mode:
            self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.settings_mode
        return True
