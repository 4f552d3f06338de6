"""Information sessions (voorlichtingsbijeenkomsten): date, place, partner, attendees, topics."""

from __future__ import annotations

import threading

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header, Input, Label, Static, TextArea

from nmi_desk.dates import format_date, parse_date
from nmi_desk.matching import matcher_for
from nmi_desk.tui.messages import SaveRefused, SessionSaved
from nmi_desk.tui.screens.base import NmiScreen, footer
from nmi_desk.tui.widgets.choice_field import ChoiceField
from nmi_desk.tui.widgets.error_label import ErrorLabel
from nmi_desk.tui.widgets.topic_picker import TopicPicker
from nmi_desk.validation import FieldError

DRAFT_FORM = "session"
CHOICES = ("municipality_code", "partner_code")


def session_input(payload: dict):
    """(InfoSessionInput | None, errors) from the form's payload."""
    from nmi_desk.sessions import InfoSessionInput

    errors = []
    held_on = parse_date(payload.get("held_on") or "")  # DD-MM-YYYY, or YYYY-MM-DD
    if held_on is None:
        errors.append(FieldError("held_on", "walkin.date_invalid"))
    attendees = 0
    text = (payload.get("attendees") or "").strip()
    if text:
        try:
            attendees = int(text)
        except ValueError:
            errors.append(FieldError("attendees", "form.not_a_number"))
    if errors:
        return None, errors
    return (
        InfoSessionInput(
            held_on=held_on,
            attendees=attendees,
            location_code=payload.get("location_code") or None,
            municipality_code=payload.get("municipality_code") or None,
            place=payload.get("place") or None,
            partner_code=payload.get("partner_code") or None,
            topics=list(payload.get("topics", [])),
            notes=payload.get("notes") or None,
        ),
        [],
    )


class InfoSessionScreen(NmiScreen[None]):
    # typing may start before the form is filled: never lose it
    AUTO_FOCUS = "#municipality_code-input"
    CSS_PATH = "info_session.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", priority=True),
        Binding("ctrl+t", "topics", "key.topics", priority=True),
        Binding("escape", "leave", "key.back"),
    ]

    def __init__(self, draft: dict | None = None) -> None:
        super().__init__()
        self.draft = draft
        self.baseline: dict = {}
        self._tracking = False
        self._draft_timer = None
        self._draft_lock = threading.Lock()
        self._draft_closed = False

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        lang = tr.lang
        yield Header()
        with VerticalScroll(id="session-form"):
            yield Static(tr("session.title"), id="session-title")
            with Horizontal(classes="row"):
                with Vertical(classes="field narrow"):
                    yield Label(tr("session.held_on"), classes="field-label")
                    yield Input(id="held_on", max_length=10, compact=True)
                    yield ErrorLabel(id="err-held_on")
                with Vertical(classes="field"):
                    # Anywhere in the Netherlands: a CBS municipality, typed (Deventer, Sneek)
                    yield Label(tr("session.location"), classes="field-label")
                    yield ChoiceField(
                        matcher_for("municipality"), lang, placeholder="—", id="municipality_code"
                    )
                    yield ErrorLabel(id="err-municipality_code")
                with Vertical(classes="field"):
                    yield Label(tr("session.place"), classes="field-label")
                    yield Input(id="place", placeholder=tr("session.place_hint"), compact=True)
            with Horizontal(classes="row"):
                with Vertical(classes="field"):
                    yield Label(tr("session.partner"), classes="field-label")
                    yield ChoiceField(
                        matcher_for("organisation"), lang, placeholder="—", id="partner_code"
                    )
                with Vertical(classes="field narrow"):
                    yield Label(tr("session.attendees"), classes="field-label")
                    yield Input(id="attendees", max_length=4, type="integer", compact=True)
                    yield ErrorLabel(id="err-attendees")
            yield Label(tr("session.topics"), classes="section")
            yield TopicPicker(id="topics")
            yield Label(tr("form.notes"), classes="section")
            yield TextArea(id="notes", compact=True)
            yield ErrorLabel(id="err-form")
        yield footer()

    def on_mount(self) -> None:
        desk = self.app.desk
        self.baseline = {
            "held_on": format_date(desk.today()),
            "location_code": desk.settings.location,
            "municipality_code": "",
            "place": "",
            "partner_code": "",
            "attendees": "",
            "topics": [],
            "notes": "",
        }
        self.fill(self.draft or self.baseline)
        self.query_one("#municipality_code", ChoiceField).focus()
        self.call_after_refresh(self._start_tracking)

    def _start_tracking(self) -> None:
        self._tracking = True
        if self.draft:
            self._changed()

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
        out["location_code"] = self.baseline.get("location_code", "")
        out["topics"] = list(self.query_one(TopicPicker).selected)
        out["notes"] = self.query_one("#notes", TextArea).text
        return out

    @on(Input.Changed)
    @on(ChoiceField.Changed)
    @on(TextArea.Changed)
    @on(TopicPicker.Changed)
    def _changed(self) -> None:
        if not self._tracking:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(0.4, self._write_draft)

    @on(Input.Submitted)
    def _next(self) -> None:
        self.focus_next()

    def _write_draft(self) -> None:
        payload = self.read()
        self._draft_worker(payload, payload != self.baseline)

    @work(thread=True, exclusive=True, group="draft")
    def _draft_worker(self, payload: dict, keep: bool) -> None:
        from nmi_desk.drafts import discard_draft, save_draft

        engine = self.app.desk.engine()
        with self._draft_lock:
            if self._draft_closed:
                return
            if keep:
                save_draft(engine, DRAFT_FORM, payload, self.app.desk.now())
            else:
                discard_draft(engine, DRAFT_FORM)

    def _close_draft(self) -> None:
        from nmi_desk.drafts import discard_draft

        with self._draft_lock:
            self._draft_closed = True
            discard_draft(self.app.desk.engine(), DRAFT_FORM)

    def action_topics(self) -> None:
        self.query_one(TopicPicker).focus_filter()

    def action_save(self) -> None:
        for label in self.query(".field-error"):
            label.update("")
        inp, errors = session_input(self.read())
        if errors:
            self._show_errors(errors)
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._save(inp)

    @work(thread=True, exclusive=True, group="session-save")
    def _save(self, inp) -> None:
        from nmi_desk.sessions import create_info_session
        from nmi_desk.validation import ValidationError

        desk = self.app.desk
        try:
            create_info_session(desk.engine(), inp, desk.actor, desk.now())
        except ValidationError as exc:
            self.post_message(SaveRefused(exc.errors))
            return
        self._close_draft()
        self.post_message(SessionSaved())

    def on_save_refused(self, message: SaveRefused) -> None:
        self._show_errors(message.errors)

    def on_session_saved(self, message: SessionSaved) -> None:
        self.app.notify(self.app.tr("session.saved"))
        self.dismiss(None)

    def _show_errors(self, errors) -> None:
        tr = self.app.tr
        for e in errors:
            found = self.query(f"#err-{e.field}")
            (found.first() if found else self.query_one("#err-form", Label)).update(
                tr(e.key, **e.params)
            )
        self.app.bell()

    def action_leave(self) -> None:
        if self.read() == self.baseline:
            self._leave()
            return
        from nmi_desk.tui.screens.confirm import ConfirmScreen

        self.app.push_screen(
            ConfirmScreen(self.app.tr("form.discard_question")),
            lambda yes: self._leave() if yes else None,
        )

    def _leave(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self.app.run_worker(self._close_draft, thread=True, group="drafts")
        self.dismiss(None)
