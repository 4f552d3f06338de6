"""Information sessions (voorlichtingsbijeenkomsten): date, place, partner, attendees, topics."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Header, Input, Label, Static, TextArea

from nmi_desk.core.dates import format_date
from nmi_desk.domain.form_payloads import session_input
from nmi_desk.domain.matching import matcher_for
from nmi_desk.tui.messages import SessionSaved
from nmi_desk.tui.screens.base import footer
from nmi_desk.tui.screens.draft_form import DraftFormScreen, field
from nmi_desk.tui.widgets.choice_field import ChoiceField
from nmi_desk.tui.widgets.error_label import ErrorLabel
from nmi_desk.tui.widgets.topic_picker import TopicPicker

DRAFT_FORM = "session"
CHOICES = ("municipality_code", "partner_code")


class InfoSessionScreen(DraftFormScreen):
    # typing may start before the form is filled: never lose it
    AUTO_FOCUS = "#municipality_code-input"
    CSS_PATH = "info_session.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", priority=True),
        Binding("ctrl+t", "topics", "key.topics", priority=True),
        Binding("escape", "leave", "key.back"),
    ]

    form_key = DRAFT_FORM

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        lang = tr.lang
        yield Header()
        with VerticalScroll(id="session-form"):
            yield Static(tr("session.title"), id="session-title")
            with Horizontal(classes="row"):
                yield field(
                    tr("session.held_on"),
                    Input(id="held_on", max_length=10, compact=True),
                    "held_on",
                    "narrow",
                )
                yield field(
                    # Anywhere in the Netherlands: a CBS municipality, typed (Deventer, Sneek)
                    tr("session.location"),
                    ChoiceField(
                        matcher_for("municipality", self.app.desk.reference),
                        lang,
                        placeholder="—",
                        id="municipality_code",
                    ),
                    "municipality_code",
                )
                yield field(
                    tr("session.place"),
                    Input(id="place", placeholder=tr("session.place_hint"), compact=True),
                    "place",
                )
            with Horizontal(classes="row"):
                yield field(
                    tr("session.partner"),
                    ChoiceField(
                        matcher_for("organisation", self.app.desk.reference),
                        lang,
                        placeholder="—",
                        id="partner_code",
                    ),
                    "partner_code",
                )
                yield field(
                    tr("session.attendees"),
                    Input(id="attendees", max_length=4, type="integer", compact=True),
                    "attendees",
                    "narrow",
                )
            yield Label(tr("session.topics"), classes="section")
            yield TopicPicker(id="topics")
            yield Label(tr("form.notes"), classes="section")
            yield TextArea(id="notes", compact=True)
            yield ErrorLabel(id="err-form")
        yield footer()

    def on_mount(self) -> None:
        desk = self.app.desk
        self.start(
            {
                "held_on": format_date(desk.today()),
                "location_code": desk.settings.location,
                "municipality_code": "",
                "place": "",
                "partner_code": "",
                "attendees": "",
                "topics": [],
                "notes": "",
            }
        )

    def fill(self, payload: dict) -> None:
        for name in ("held_on", "place", "attendees"):
            self.query_one(f"#{name}", Input).value = payload.get(name, "")
        for name in CHOICES:
            self.query_one(f"#{name}", ChoiceField).set_value(payload.get(name) or "")
        self.query_one(TopicPicker).set_selected(payload.get("topics", []))
        self.query_one("#notes", TextArea).text = payload.get("notes", "")

    def read(self) -> dict:
        out = {n: self.query_one(f"#{n}", Input).value for n in ("held_on", "place", "attendees")}
        for name in CHOICES:
            out[name] = self.query_one(f"#{name}", ChoiceField).value
        # counted under this desk's NMI location, wherever in the country it was held
        out["location_code"] = (self.baseline or {}).get("location_code", "")
        out["topics"] = list(self.query_one(TopicPicker).selected)
        out["notes"] = self.query_one("#notes", TextArea).text
        return out

    @on(ChoiceField.Changed)
    def _choice_changed(self) -> None:
        self.changed()

    def action_topics(self) -> None:
        self.query_one(TopicPicker).focus_filter()

    def to_input(self, payload: dict):
        return session_input(payload)

    def store(self, inp) -> SessionSaved:
        from nmi_desk.domain.sessions import create_info_session

        desk = self.app.desk
        create_info_session(desk.context(), inp)
        return SessionSaved()

    def on_session_saved(self, message: SessionSaved) -> None:
        self.app.notify(self.app.tr("session.saved"))
        self.dismiss(None)
