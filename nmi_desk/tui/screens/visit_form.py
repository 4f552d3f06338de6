"""The walk-in form: register a new visit or edit an earlier one.

The form's content lives as a plain dict (the "payload": strings, lists, a bool), which is also
what a draft holds; `payload_to_input` turns it into the domain's VisitInput. Every change is
saved as a draft shortly after typing stops, so a crash or kill loses nothing.
"""

from __future__ import annotations

import threading
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Checkbox,
    Header,
    Input,
    Label,
    OptionList,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from nmi_desk.clock import AMS
from nmi_desk.dates import format_date, parse_date, parse_time
from nmi_desk.refdata import reference
from nmi_desk.tui.messages import ChoicesPreferred, SaveRefused, VisitLoaded, VisitSaved
from nmi_desk.tui.screens.base import NmiScreen, footer
from nmi_desk.tui.widgets.choice_field import ChoiceField
from nmi_desk.tui.widgets.error_label import ErrorLabel
from nmi_desk.tui.widgets.topic_picker import TopicPicker
from nmi_desk.validation import FieldError, check_birth_year, check_children

DRAFT_DELAY = 0.4  # seconds after the last change before the draft is written
TEXT_FIELDS = ("time", "client_name", "birth_year", "children")
CHOICE_FIELDS = (
    "origin_country",
    "destination_country",
    "language",
    "came_via",
    "channel",
    "outcome",
)
# Where a field's error is shown and where the focus goes for it, in the form's order.
ERROR_TARGETS = {
    "time": "time",
    "client_name": "client_name",
    "birth_year": "birth_year",
    "origin_country": "origin_country",
    "destination_country": "destination_country",
    "language": "language",
    "partner_coremigrating": "partner",
    "children_coremigrating": "children",
    "came_via": "came_via",
    "channel": "channel",
    "topics": "topic-filter",
    "referrals": "referrals",
    "notes": "notes",
    "outcome": "outcome",
}


# ---- payload <-> domain (no Textual below this line until the screen) ----


def empty_payload(now: datetime) -> dict:
    local_now = now.astimezone(AMS)
    return {
        "uuid": None,
        "date": local_now.date().isoformat(),
        "time": local_now.strftime("%H:%M"),
        "client_name": "",
        "birth_year": "",
        "origin_country": "",
        "destination_country": "",
        "language": "",
        "partner": False,
        "children": "",
        "came_via": "",
        "channel": "walk-in",
        "topics": [],
        "referrals": [],
        "notes": "",
        "outcome": "",
    }


def referral_payload(r) -> dict:
    return {
        "organisation_code": r.organisation_code,
        "reason": r.reason or "",
        "note": r.note or "",
        "follow_up_on": r.follow_up_on.isoformat() if r.follow_up_on else "",
        "status": r.status,
        "outcome_note": r.outcome_note or "",
        "uuid": r.uuid,
    }


def visit_payload(uuid: str, inp) -> dict:
    started = inp.started_at.astimezone(AMS)
    return {
        "uuid": uuid,
        "date": started.date().isoformat(),
        "time": started.strftime("%H:%M"),
        "client_name": inp.client_name or "",
        "birth_year": "" if inp.birth_year is None else str(inp.birth_year),
        "origin_country": inp.origin_country or "",
        "destination_country": inp.destination_country or "",
        "language": inp.language or "",
        "partner": bool(inp.partner_coremigrating),
        "children": "" if inp.children_coremigrating is None else str(inp.children_coremigrating),
        "came_via": inp.came_via or "",
        "channel": inp.channel or "walk-in",
        "topics": list(inp.topics),
        "referrals": [referral_payload(r) for r in inp.referrals],
        "notes": inp.notes or "",
        "outcome": inp.outcome or "",
    }


def _int(payload: dict, name: str, field: str, errors: list) -> int | None:
    text = (payload.get(name) or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        errors.append(FieldError(field, "form.not_a_number"))
        return None


def payload_to_input(payload: dict, location: str):
    """(VisitInput, errors): errors for what cannot even be parsed (time, numbers)."""
    from nmi_desk.visits import ReferralInput, VisitInput

    errors: list[FieldError] = []
    started = None
    at = parse_time(payload.get("time") or "")
    day = parse_date(payload.get("date") or "")
    if at is None or day is None:
        errors.append(FieldError("time", "form.time_invalid"))
    else:
        started = datetime(day.year, day.month, day.day, at.hour, at.minute, tzinfo=AMS)
    referrals = []
    for r in payload.get("referrals", []):
        follow = None
        if r.get("follow_up_on"):
            follow = parse_date(r["follow_up_on"])
            if follow is None:
                errors.append(FieldError("referrals", "walkin.date_invalid"))
        referrals.append(
            ReferralInput(
                organisation_code=r["organisation_code"],
                reason=r.get("reason") or None,
                note=r.get("note") or None,
                follow_up_on=follow,
                status=r.get("status") or "open",
                outcome_note=r.get("outcome_note") or None,
                uuid=r.get("uuid"),
            )
        )
    inp = VisitInput(
        location_code=location,
        started_at=started,
        client_name=payload.get("client_name") or None,
        birth_year=_int(payload, "birth_year", "birth_year", errors),
        origin_country=payload.get("origin_country") or None,
        destination_country=payload.get("destination_country") or None,
        language=payload.get("language") or None,
        partner_coremigrating=True if payload.get("partner") else None,
        children_coremigrating=_int(payload, "children", "children_coremigrating", errors),
        came_via=payload.get("came_via") or None,
        channel=payload.get("channel") or "walk-in",
        topics=list(payload.get("topics", [])),
        referrals=referrals,
        notes=payload.get("notes") or None,
        outcome=payload.get("outcome") or None,
    )
    return inp, errors


# ---- the screen ----


def _field(label: str, widget, name: str, classes: str = "") -> Vertical:
    return Vertical(
        Label(label, classes="field-label"),
        widget,
        ErrorLabel(id=f"err-{name}"),
        classes=f"field {classes}".strip(),
    )


class VisitFormScreen(NmiScreen[None]):
    AUTO_FOCUS = "#client_name"  # typing may start before the form is filled: never lose it
    CSS_PATH = "visit_form.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", priority=True),
        Binding("ctrl+t", "topics", "key.topics", priority=True),
        Binding("ctrl+r", "add_referral", "key.add_referral", priority=True),
        Binding("ctrl+n", "jump('notes')", "walkin.key_notes", priority=True),
        Binding("ctrl+o", "jump('outcome')", "walkin.key_outcome", priority=True, show=False),
        Binding("escape", "leave", "key.back"),
        Binding("delete", "remove_referral", "key.remove_referral", show=False),
    ]

    def __init__(self, uuid: str | None = None, draft: dict | None = None) -> None:
        super().__init__()
        self.uuid = uuid or (draft or {}).get("uuid")
        self.draft = draft
        self.baseline: dict | None = None  # the stored record (or empty form) as a payload
        self.referrals: list[dict] = []
        self._draft_timer = None
        self._tracking = False
        self._saving = False
        # Draft writes and the final save/discard are serialised, so a late draft write can
        # never resurrect a draft after the visit was saved or thrown away.
        self._draft_lock = threading.Lock()
        self._draft_closed = False

    @property
    def form_key(self) -> str:
        return f"visit:{self.uuid}" if self.uuid else "visit"

    def compose(self) -> ComposeResult:
        from nmi_desk.matching import matcher_for

        tr = self.app.tr
        lang = tr.lang

        def choice(name: str, kind: str, show_code: bool = False) -> ChoiceField:
            return ChoiceField(
                matcher_for(kind), lang, show_code=show_code, placeholder="—", id=name
            )

        yield Header()
        with VerticalScroll(id="form"):
            yield Static("", id="form-title")
            with Horizontal(classes="row"):
                yield _field(
                    tr("form.time"),
                    Input(id="time", max_length=5, compact=True),
                    "time",
                    "narrow",
                )
                yield _field(
                    tr("form.client_name"),
                    Input(id="client_name", placeholder=tr("form.optional"), compact=True),
                    "client_name",
                    "wide",
                )
                yield _field(
                    tr("form.birth_year"),
                    Input(id="birth_year", max_length=4, type="integer", compact=True),
                    "birth_year",
                    "narrow",
                )
            with Horizontal(classes="row"):
                yield _field(
                    tr("form.origin_country"),
                    choice("origin_country", "country", True),
                    "origin_country",
                )
                yield _field(
                    tr("form.destination_country"),
                    choice("destination_country", "country", True),
                    "destination_country",
                )
                yield _field(tr("form.language"), choice("language", "language"), "language")
            with Horizontal(classes="row"):
                yield _field(
                    tr("form.household"),
                    Checkbox(tr("form.partner"), id="partner", compact=True),
                    "partner_coremigrating",
                )
                yield _field(
                    tr("form.children"),
                    Input(id="children", max_length=2, type="integer", compact=True),
                    "children_coremigrating",
                    "narrow",
                )
                yield _field(tr("form.came_via"), choice("came_via", "came_via"), "came_via")
                yield _field(tr("walkin.channel"), choice("channel", "channel"), "channel")
            yield Label(tr("form.topics"), classes="section")
            yield TopicPicker(id="topics")
            yield ErrorLabel(id="err-topics")
            yield Label(tr("form.referrals"), classes="section")
            yield OptionList(id="referrals", compact=True)
            yield ErrorLabel(id="err-referrals")
            with Horizontal(classes="row"):
                yield _field(
                    tr("walkin.notes"),
                    TextArea(id="notes", compact=True, soft_wrap=True),
                    "notes",
                    "wide",
                )
                yield _field(tr("walkin.outcome"), choice("outcome", "outcome"), "outcome")
            yield ErrorLabel(id="err-form")
        yield footer()

    def on_mount(self) -> None:
        tr = self.app.tr
        self.query_one("#form-title", Static).update(
            tr("form.title_edit") if self.uuid else tr("form.title_new")
        )
        if self.uuid:
            self._load(self.uuid)
        else:
            self._fill_initial(empty_payload(self.app.desk.now()))
        self._load_preferred()

    @work(thread=True, exclusive=True, group="visit-load")
    def _load(self, uuid: str) -> None:
        from nmi_desk.visits import load_visit

        view = load_visit(self.app.desk.engine(), uuid)
        self.post_message(VisitLoaded(visit_payload(uuid, view.input)))

    @work(thread=True, exclusive=True, group="visit-preferred")
    def _load_preferred(self) -> None:
        from nmi_desk.visits import preferred_choices

        desk = self.app.desk
        self.post_message(
            ChoicesPreferred(preferred_choices(desk.engine(), desk.settings.location, desk.now()))
        )

    def on_choices_preferred(self, message: ChoicesPreferred) -> None:
        for name, codes in message.preferred.items():
            for field in self.query(f"#{name}").results(ChoiceField):
                field.set_preferred(codes)

    def on_visit_loaded(self, message: VisitLoaded) -> None:
        self._fill_initial(message.payload)

    def _fill_initial(self, baseline: dict) -> None:
        self.baseline = baseline
        self.fill(self.draft or baseline)
        # Setting values posts Changed messages; start tracking only after they are handled.
        self.call_after_refresh(self._start_tracking)

    def _start_tracking(self) -> None:
        self._tracking = True
        if self.draft:
            self._schedule_draft()

    # ---- reading and writing the widgets ----

    def fill(self, payload: dict) -> None:
        for name in TEXT_FIELDS:
            self.query_one(f"#{name}", Input).value = payload.get(name, "")
        for name in CHOICE_FIELDS:
            self.query_one(f"#{name}", ChoiceField).set_value(payload.get(name) or "")
        self.query_one("#partner", Checkbox).value = bool(payload.get("partner"))
        self.query_one("#notes", TextArea).text = payload.get("notes", "")
        self.query_one(TopicPicker).set_selected(payload.get("topics", []))
        self.referrals = [dict(r) for r in payload.get("referrals", [])]
        self._show_referrals()

    def read(self) -> dict:
        base = self.baseline or {}
        payload = {"uuid": self.uuid, "date": base.get("date")}
        for name in TEXT_FIELDS:
            payload[name] = self.query_one(f"#{name}", Input).value
        for name in CHOICE_FIELDS:
            payload[name] = self.query_one(f"#{name}", ChoiceField).value
        payload["partner"] = self.query_one("#partner", Checkbox).value
        payload["notes"] = self.query_one("#notes", TextArea).text
        payload["topics"] = list(self.query_one(TopicPicker).selected)
        payload["referrals"] = [dict(r) for r in self.referrals]
        return payload

    @property
    def dirty(self) -> bool:
        return self.baseline is not None and self.read() != self.baseline

    def _show_referrals(self) -> None:
        tr = self.app.tr
        orgs = reference().by_code("organisations")
        statuses = {e.code: e for e in reference().lists["referral_status"]}
        lst = self.query_one("#referrals", OptionList)
        lst.clear_options()
        for i, r in enumerate(self.referrals):
            org = orgs.get(r["organisation_code"])
            parts = [org.short_label(tr.lang) if org else r["organisation_code"]]
            if r.get("reason"):
                parts.append(r["reason"])
            if r.get("follow_up_on"):
                day = parse_date(r["follow_up_on"])
                parts.append(tr("form.follow_up_on", date=format_date(day) if day else ""))
            status = statuses.get(r.get("status", "open"))
            parts.append(status.label(tr.lang) if status else r.get("status", ""))
            lst.add_option(Option(" · ".join(parts), id=str(i)))
        if not self.referrals:
            lst.add_option(Option(tr("form.no_referrals"), id="none", disabled=True))

    # ---- change tracking and drafts ----

    def _changed(self) -> None:
        if self._tracking:
            self._schedule_draft()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "birth_year":
            self._check_number("birth_year", "birth_year")
        elif event.input.id == "children":
            self._check_number("children", "children_coremigrating")
        self._changed()

    @on(ChoiceField.Changed)
    @on(Checkbox.Changed)
    @on(TextArea.Changed)
    @on(TopicPicker.Changed)
    def _other_changed(self) -> None:
        self._changed()

    def _check_number(self, name: str, field: str) -> None:
        text = self.query_one(f"#{name}", Input).value.strip()
        error = None
        if text:
            try:
                value = int(text)
            except ValueError:
                error = FieldError(field, "form.not_a_number")
            else:
                if field == "birth_year" and len(text) == 4:
                    error = check_birth_year(value, self.app.desk.today())
                elif field == "children_coremigrating":
                    error = check_children(value)
        self.query_one(f"#err-{field}", Label).update(
            self.app.tr(error.key, **error.params) if error else ""
        )

    def _schedule_draft(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DELAY, self._write_draft)

    def _write_draft(self) -> None:
        if self._saving:
            return
        payload = self.read()
        self._draft_worker(self.form_key, payload, keep=payload != self.baseline)

    @work(thread=True, exclusive=True, group="draft")
    def _draft_worker(self, form: str, payload: dict, keep: bool) -> None:
        from nmi_desk.drafts import discard_draft, save_draft

        engine = self.app.desk.engine()
        with self._draft_lock:
            if self._draft_closed:
                return
            if keep:
                save_draft(engine, form, payload, self.app.desk.now())
            else:
                discard_draft(engine, form)

    # ---- Enter moves on, like Tab: fast on a counter keyboard ----

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        self.focus_next()

    # ---- referrals ----

    def action_add_referral(self) -> None:
        self._edit_referral(None)

    @on(OptionList.OptionSelected, "#referrals")
    def _referral_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id and event.option.id.isdigit():
            self._edit_referral(int(event.option.id))

    def _edit_referral(self, index: int | None) -> None:
        from nmi_desk.tui.screens.referral import ReferralScreen

        initial = self.referrals[index] if index is not None else None

        def done(result: dict | None) -> None:
            if result is None:
                return
            if index is None:
                self.referrals.append(result)
            else:
                self.referrals[index] = result
            self._show_referrals()
            self._changed()
            if index is None:
                self._auto_outcome()

        self.app.push_screen(ReferralScreen(initial), done)

    def _auto_outcome(self) -> None:
        # A referral usually means the outcome "referred": one choice fewer at the counter.
        outcome = self.query_one("#outcome", ChoiceField)
        if not outcome.value:
            outcome.set_value("referred", notify=True)

    def action_remove_referral(self) -> None:
        lst = self.query_one("#referrals", OptionList)
        option = lst.highlighted_option
        if option and option.id and option.id.isdigit():
            del self.referrals[int(option.id)]
            self._show_referrals()
            self._changed()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_referral":
            return self.focused is self.query_one("#referrals", OptionList)
        return True

    # ---- jump, save, leave ----

    def action_topics(self) -> None:
        self.query_one(TopicPicker).focus_filter()

    def action_jump(self, name: str) -> None:
        self.query_one(f"#{name}").focus()

    def action_save(self) -> None:
        from nmi_desk.visits import validate_visit

        if self.baseline is None or self._saving:
            return
        for field in self.query(ChoiceField).results(ChoiceField):
            if field.typing:
                field.commit()  # Ctrl+S straight after typing a country: take the match
        inp, errors = payload_to_input(self.read(), self.app.desk.settings.location)
        # Everything wrong at once: what cannot be read, and what the domain would refuse.
        seen = {e.field for e in errors}
        errors += [
            e for e in validate_visit(inp, self.app.desk.today()) if e.field not in seen
        ]
        if errors:
            self._show_errors(errors)
            return
        self._saving = True
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._save_worker(inp)

    @work(thread=True, exclusive=True, group="visit-save")
    def _save_worker(self, inp) -> None:
        from nmi_desk.validation import ValidationError
        from nmi_desk.visits import create_visit, update_visit

        desk = self.app.desk
        engine = desk.engine()
        try:
            if self.uuid:
                result = update_visit(engine, self.uuid, inp, desk.actor, desk.now())
            else:
                result = create_visit(engine, inp, desk.actor, desk.now())
        except ValidationError as exc:
            self.post_message(SaveRefused(exc.errors))
            return
        self._close_draft()
        self.post_message(VisitSaved(result if self.uuid else None))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "visit-save":
            self._saving = False  # the app told the consultant; saving again must be possible

    def on_save_refused(self, message: SaveRefused) -> None:
        self._saving = False
        self._show_errors(message.errors)

    def on_visit_saved(self, message: VisitSaved) -> None:
        self._saving = False
        tr = self.app.tr
        self.app.notify(
            tr("form.updated", revision=message.revision) if self.uuid else tr("form.saved")
        )
        self.dismiss(None)

    def _show_errors(self, errors: list[FieldError]) -> None:
        """Every error next to its field; the focus on the first of them in the form."""
        tr = self.app.tr
        for label in self.query(".field-error"):
            label.update("")
        order = list(ERROR_TARGETS)
        errors = sorted(errors, key=lambda e: order.index(e.field) if e.field in order else 99)
        for error in errors:
            label = self.query(f"#err-{error.field}")
            target = label.first() if label else self.query_one("#err-form", Label)
            text = tr(error.key, **error.params)
            if error.field in CHOICE_FIELDS and error.key == "error.unknown_code":
                text = tr("walkin.not_in_list", text=error.params.get("code", ""))
            target.update(text)
        if errors:
            name = ERROR_TARGETS.get(errors[0].field)
            widget = self.query(f"#{name}").first() if name else None
            if widget is not None:
                widget.focus()
            else:
                self.query_one("#form", VerticalScroll).scroll_to_widget(
                    self.query_one("#err-form")
                )
        self.app.bell()

    def action_leave(self) -> None:
        if not self.dirty:
            self._leave(discard=True)
            return
        from nmi_desk.tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self._leave(discard=True)

        self.app.push_screen(ConfirmScreen(self.app.tr("form.discard_question")), answered)

    def _close_draft(self) -> None:
        """Drop this form's draft for good (runs in a worker thread)."""
        from nmi_desk.drafts import discard_draft

        with self._draft_lock:
            self._draft_closed = True
            discard_draft(self.app.desk.engine(), self.form_key)

    def _leave(self, discard: bool) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._saving = True
        if discard:
            # An app worker: this screen's own workers end with it.
            self.app.run_worker(self._close_draft, thread=True, group="drafts")
        self.dismiss(None)
