"""First run (and later the settings): initials, location, language, and where the data lives."""

from __future__ import annotations

import re

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Button, Header, Input, Label, Static

from nmi_desk.domain.matching import Matcher, matcher_for
from nmi_desk.domain.reference.files import Entry
from nmi_desk.tui.messages import SettingsFailed, SettingsSaved
from nmi_desk.tui.screens.base import NmiScreen, footer
from nmi_desk.tui.widgets.choice_field import ChoiceField
from nmi_desk.tui.widgets.error_label import ErrorLabel

INITIALS = re.compile(r"^[^\W\d_]{1,5}$")
# The app's languages, each named in itself (whoever reads it must recognise their own).
LANGUAGES = (
    Entry("nl", "Nederlands", "Nederlands", synonyms=("Dutch",)),
    Entry("en", "English", "English", synonyms=("Engels",)),
)


class SetupScreen(NmiScreen[None]):
    AUTO_FOCUS = "#initials"  # typing may start before the form is filled: never lose it
    CSS_PATH = "setup.tcss"
    AUTO_FOCUS = "#initials"  # not a query in on_mount: a quit mid-mount would crash on it
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
            yield ChoiceField(
                matcher_for("location", self.app.desk.reference),
                lang,
                placeholder=tr("walkin.type_to_choose"),
                id="location",
            )
            yield ErrorLabel(id="location-error")
            yield Label(tr("setup.language"))
            yield ChoiceField(Matcher(LANGUAGES), lang, id="lang")
            yield Static(tr("setup.data_here", path=self.app.desk.paths.home), id="data-path")
            yield Button(tr("setup.save"), id="save", variant="primary", compact=True)
        yield footer()

    def on_mount(self) -> None:
        # A quit while this screen mounts tears it down under us: look the fields up without
        # insisting (query_one would raise NoMatches and crash the app on its way out).
        settings = self.app.desk.settings
        for name, value in (("location", settings.location or ""), ("lang", settings.lang or "nl")):
            for field in self.query(f"#{name}").results(ChoiceField):
                field.set_value(value)

    @on(Input.Submitted)
    def _next(self) -> None:
        self.focus_next()

    @on(ChoiceField.Changed, "#location")
    def _location_chosen(self, event: ChoiceField.Changed) -> None:
        # "Choose a location" must not stay under a location that is now valid.
        if event.value in self.app.desk.reference.location_codes():
            self.query_one("#location-error", Label).update("")

    @on(Input.Changed, "#initials")
    def _initials_typed(self) -> None:
        self.query_one("#initials-error", Label).update("")  # stale once edited

    @on(Button.Pressed, "#save")
    def _pressed(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        tr = self.app.tr
        initials = self.query_one("#initials", Input).value.strip().upper()
        for field in self.query(ChoiceField).results(ChoiceField):
            if field.typing:
                field.commit()  # Ctrl+S straight after typing a location: take the match
        location = self.query_one("#location", ChoiceField).value
        ok = True
        if not INITIALS.match(initials):
            self.query_one("#initials-error", Label).update(tr("setup.initials_invalid"))
            ok = False
        else:
            self.query_one("#initials-error", Label).update("")
        if location not in self.app.desk.reference.location_codes():
            self.query_one("#location-error", Label).update(tr("setup.location_required"))
            ok = False
        else:
            self.query_one("#location-error", Label).update("")
        if ok:
            settings = self.app.desk.settings
            settings.consultant = initials
            settings.location = location
            lang = self.query_one("#lang", ChoiceField).value
            lang = lang if lang in ("nl", "en") else settings.lang
            self._new_lang = lang if lang != settings.lang else None
            settings.lang = lang
            self._write()

    @work(thread=True, exclusive=True, group="settings")
    def _write(self) -> None:
        from nmi_desk.core.errors import UserError

        try:
            self.app.desk.save_settings()
        except UserError as exc:  # a read-only or full disk: one line, the screen stays
            self.post_message(SettingsFailed(self.app.tr.explain(exc)))
            return
        self.post_message(SettingsSaved())

    def on_settings_failed(self, message: SettingsFailed) -> None:
        text = self.app.tr("setup.save_failed", reason=message.reason)
        self.query_one("#location-error", Label).update(text)
        self.app.notify(text, severity="error")

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
