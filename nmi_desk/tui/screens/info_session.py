"""Information sessions (voorlichtingsbijeenkomsten): date, place, partner, attendees, topics."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Header, Input, Label, Select, Static, TextArea

from nmi_desk.form_payloads import session_input
from nmi_desk.refdata import reference
from nmi_desk.tui.messages import SessionSaved
from nmi_desk.tui.screens.base import footer
from nmi_desk.tui.screens.draft_form import DraftFormScreen, field
from nmi_desk.tui.widgets.error_label import ErrorLabel
from nmi_desk.tui.widgets.topic_picker import TopicPicker

DRAFT_FORM = "session"


class InfoSessionScreen(DraftFormScreen):
    AUTO_FOCUS = "#place"  # typing may start before the form is filled: never lose it
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
        ref = reference()
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
                    tr("session.location"),
                    Select(
                        [(e.label(lang), e.code) for e in ref.locations],
                        prompt="—",
                        id="location_code",
                        compact=True,
                    ),
                    "location_code",
                )
                yield field(
                    tr("session.place"),
                    Input(id="place", placeholder=tr("session.place_hint"), compact=True),
                    "place",
                )
            with Horizontal(classes="row"):
                yield field(
                    tr("session.partner"),
                    Select(
                        [(e.label(lang), e.code) for e in ref.organisations],
                        prompt="—",
                        id="partner_code",
                        compact=True,
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
                "held_on": desk.today().isoformat(),
                "location_code": desk.settings.location,
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
        for name in ("location_code", "partner_code"):
            select = self.query_one(f"#{name}", Select)
            if payload.get(name):
                select.value = payload[name]
            else:
                select.clear()
        self.query_one(TopicPicker).set_selected(payload.get("topics", []))
        self.query_one("#notes", TextArea).text = payload.get("notes", "")

    def read(self) -> dict:
        out = {n: self.query_one(f"#{n}", Input).value for n in ("held_on", "place", "attendees")}
        for name in ("location_code", "partner_code"):
            value = self.query_one(f"#{name}", Select).value
            out[name] = value if isinstance(value, str) else ""
        out["topics"] = list(self.query_one(TopicPicker).selected)
        out["notes"] = self.query_one("#notes", TextArea).text
        return out

    def action_topics(self) -> None:
        self.query_one(TopicPicker).focus_filter()

    def to_input(self, payload: dict):
        return session_input(payload)

    def store(self, inp) -> SessionSaved:
        from nmi_desk.sessions import create_info_session

        desk = self.app.desk
        create_info_session(desk.engine(), inp, desk.actor, desk.now())
        return SessionSaved()

    def on_session_saved(self, message: SessionSaved) -> None:
        self.app.notify(self.app.tr("session.saved"))
        self.dismiss(None)
