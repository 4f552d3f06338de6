"""The walk-in form: register a new visit or edit an earlier one.

The form's content is a payload (nmi_desk.domain.form_payloads), which is also what a draft holds;
drafts, saving and leaving are the DraftFormScreen's.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
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

from nmi_desk.core.dates import format_date, parse_date
from nmi_desk.core.validation import FieldError, check_birth_year, check_children
from nmi_desk.domain.form_payloads import empty_payload, payload_to_input, visit_payload
from nmi_desk.tui.messages import ChoicesPreferred, ClientPrefill, VisitLoaded, VisitSaved
from nmi_desk.tui.screens.base import footer
from nmi_desk.tui.screens.draft_form import DraftFormScreen, field
from nmi_desk.tui.widgets.check_box import CheckBox
from nmi_desk.tui.widgets.choice_field import ChoiceField
from nmi_desk.tui.widgets.error_label import ErrorLabel
from nmi_desk.tui.widgets.topic_picker import TopicPicker

TEXT_FIELDS = ("time", "client_name", "birth_year", "children")
CHOICE_FIELDS = (
    "origin_country",
    "destination_country",
    "language",
    "came_via",
    "channel",
    "outcome",
)
# Where the focus goes for a field's error, in the form's order (the first one gets it).
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


class VisitFormScreen(DraftFormScreen):
    AUTO_FOCUS = "#client_name"  # typing may start before the form is filled: never lose it
    CSS_PATH = "visit_form.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", priority=True),
        Binding("ctrl+t", "topics", "key.topics", priority=True),
        Binding("ctrl+r", "add_referral", "key.add_referral", priority=True),
        # Notes are below topics and referrals: one key there (the outcome is the next field).
        Binding("ctrl+o", "jump('notes')", "walkin.key_notes", priority=True),
        # Not in the footer (it must fit 80 columns): the name field's placeholder says it.
        Binding("ctrl+f", "find_client", "clients.key_find_in_form", priority=True, show=False),
        Binding("escape", "leave", "key.back"),
        # Not in the footer (80 columns are full): named in the referrals' heading and in help.
        Binding("ctrl+n", "letter", "letter.key", priority=True, show=False),
        Binding("delete", "remove_referral", "key.remove_referral", show=False),
        # Ctrl+Q quits here too (the app's key); left out of this footer so that F1 Hulp keeps
        # its place at 80 columns (help and the palette name it).
        Binding("ctrl+q", "app.quit", "key.quit", show=False, priority=True),
    ]

    def __init__(
        self, uuid: str | None = None, draft: dict | None = None, client_uuid: str | None = None
    ) -> None:
        super().__init__(draft)
        self.uuid = uuid or (draft or {}).get("uuid")
        # The returning client this visit continues (nmi_desk.domain.clients), if one was chosen.
        self.client_uuid = client_uuid or (draft or {}).get("client_uuid")
        self.referrals: list[dict] = []
        self._languages_here: dict[str, str] = {}  # origin -> language most chosen here
        self._preferred: dict[str, list[str]] = {}

    @property
    def form_key(self) -> str:
        return f"visit:{self.uuid}" if self.uuid else "visit"

    def compose(self) -> ComposeResult:
        from nmi_desk.domain.matching import matcher_for

        tr = self.app.tr
        lang = self.app.tr.lang

        def choice(name: str, kind: str, show_code: bool = False) -> ChoiceField:
            return ChoiceField(
                matcher_for(kind, self.app.desk.reference),
                lang,
                show_code=show_code,
                placeholder="—",
                id=name,
            )

        yield Header()
        with VerticalScroll(id="form"):
            yield Static("", id="form-title")
            with Horizontal(classes="row"):
                yield field(
                    tr("form.time"),
                    Input(id="time", max_length=5, restrict=r"[0-9:.]*", compact=True),
                    "time",
                    "narrow",
                )
                yield field(
                    tr("form.client_name"),
                    Input(
                        id="client_name", placeholder=tr("clients.name_placeholder"), compact=True
                    ),  # fmt: skip
                    "client_name",
                    "wide",
                )
                yield field(
                    tr("form.birth_year"),
                    Input(id="birth_year", max_length=4, type="integer", compact=True),
                    "birth_year",
                    "narrow",
                )
            with Horizontal(classes="row"):
                yield field(
                    tr("form.origin_country"),
                    choice("origin_country", "country", True),
                    "origin_country",
                )
                yield field(
                    tr("form.destination_country"),
                    choice("destination_country", "country", True),
                    "destination_country",
                )
                yield field(tr("form.language"), choice("language", "language"), "language")
            with Horizontal(classes="row"):
                yield field(
                    tr("form.household"),
                    CheckBox(tr("form.partner"), id="partner", compact=True),
                    "partner_coremigrating",
                )
                yield field(
                    tr("form.children"),
                    Input(id="children", max_length=2, type="integer", compact=True),
                    "children_coremigrating",
                    "narrow",
                )
                yield field(tr("form.came_via"), choice("came_via", "came_via"), "came_via")
                yield field(tr("walkin.channel"), choice("channel", "channel"), "channel")
            yield Label(tr("form.topics"), classes="section")
            yield TopicPicker(id="topics")
            yield ErrorLabel(id="err-topics")
            yield Label(tr("form.referrals"), classes="section")
            yield OptionList(id="referrals", compact=True)
            yield ErrorLabel(id="err-referrals")
            with Horizontal(classes="row"):
                yield field(
                    tr("walkin.notes"),
                    TextArea(id="notes", compact=True, soft_wrap=True),
                    "notes",
                    "wide",
                )
                yield field(tr("form.outcome"), choice("outcome", "outcome"), "outcome")
            yield ErrorLabel(id="err-form")
        yield footer()

    def on_mount(self) -> None:
        tr = self.app.tr
        self.query_one("#form-title", Static).update(
            tr("form.title_edit") if self.uuid else tr("form.title_new")
        )
        if self.uuid:
            self._load(self.uuid)
        elif self.client_uuid and not self.draft:
            self._prefill(self.client_uuid)
        else:
            self.start(empty_payload(self.app.desk.now()))
        self._load_preferred()

    @work(thread=True, exclusive=True, group="visit-preferred")
    def _load_preferred(self) -> None:
        from nmi_desk.domain.prefill import languages_chosen_here
        from nmi_desk.domain.visits import preferred_choices

        desk = self.app.desk
        ctx, location = desk.context(), desk.settings.location
        self.post_message(
            ChoicesPreferred(preferred_choices(ctx, location), languages_chosen_here(ctx, location))
        )

    def on_choices_preferred(self, message: ChoicesPreferred) -> None:
        self._preferred = message.preferred
        self._languages_here = message.languages
        for name, codes in message.preferred.items():
            for widget in self.query(f"#{name}").results(ChoiceField):
                widget.set_preferred(codes)
        origin = self.query_one("#origin_country", ChoiceField).value
        if origin:
            self._propose_from_origin(origin)

    # ---- proposals from what is known ----

    def _propose_from_origin(self, origin: str) -> None:
        """Destination and language from the origin country, in fields still empty or still
        holding an earlier proposal; the destination list starts with the origin."""
        from nmi_desk.domain.prefill import proposed_language

        if origin not in self.app.desk.reference.country_codes():
            return
        destination = self.query_one("#destination_country", ChoiceField)
        destination.set_preferred([origin, *self._preferred.get("destination_country", [])])
        language = self.query_one("#language", ChoiceField)
        proposals = (
            (destination, origin),
            (language, proposed_language(origin, self._languages_here)),
        )
        for widget, code in proposals:
            if code and (not widget.value or widget.proposed) and not widget.typing:
                widget.propose(code)

    # ---- a returning client: name, birth year and the stable fields filled in ----

    @work(thread=True, exclusive=True, group="visit-prefill")
    def _prefill(self, client_uuid: str) -> None:
        from dataclasses import replace

        from nmi_desk.domain.clients import new_visit_input

        desk = self.app.desk
        inp = new_visit_input(desk.context(), client_uuid, desk.settings.location)
        fields = visit_payload(None, replace(inp, started_at=desk.now()))
        keep = ("client_name", "birth_year", "origin_country", "destination_country",
                "language", "partner", "children", "client_uuid")  # fmt: skip
        self.post_message(ClientPrefill({k: fields[k] for k in keep}))

    def on_client_prefill(self, message: ClientPrefill) -> None:
        self.client_uuid = message.payload["client_uuid"]
        if self.baseline is None:  # a new visit opened for this client
            self.start({**empty_payload(self.app.desk.now()), **message.payload})
            self.query_one("#form-title", Static).update(
                self.app.tr("clients.form_title", name=message.payload["client_name"])
            )
            self.call_after_refresh(self.action_topics)  # the stable part is done: on to topics
            return
        self.fill({**self.read(), **message.payload})  # chosen with Ctrl+F in the form
        self.changed()

    def action_find_client(self) -> None:
        if self.uuid:  # an earlier visit keeps its client
            return

        def chosen(uuid: str | None) -> None:
            if uuid:
                self._prefill(uuid)

        name = self.query_one("#client_name", Input).value
        self.app.open_client_search(chosen, pick=True, initial=name)

    @work(thread=True, exclusive=True, group="visit-load")
    def _load(self, uuid: str) -> None:
        from nmi_desk.domain.visits import load_visit

        desk = self.app.desk
        view = load_visit(desk.context(), uuid)
        self.post_message(VisitLoaded(visit_payload(uuid, view.input)))

    def on_visit_loaded(self, message: VisitLoaded) -> None:
        self.start(message.payload)

    # ---- reading and writing the widgets ----

    def fill(self, payload: dict) -> None:
        self.client_uuid = payload.get("client_uuid") or self.client_uuid
        for name in TEXT_FIELDS:
            self.query_one(f"#{name}", Input).value = payload.get(name, "")
        for name in CHOICE_FIELDS:
            default = "walk-in" if name == "channel" else ""
            self.query_one(f"#{name}", ChoiceField).set_value(payload.get(name) or default)
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
        payload["client_uuid"] = self.client_uuid
        return payload

    def _show_referrals(self) -> None:
        tr = self.app.tr
        orgs = self.app.desk.reference.by_code("organisations")
        statuses = {e.code: e for e in self.app.desk.reference.lists["referral_status"]}
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

    # ---- checks while typing ----

    @on(ChoiceField.Changed)
    def _choice_changed(self, event: ChoiceField.Changed) -> None:
        event.field.remove_class("-proposed")  # taken or changed by the consultant
        # The field's line says at once what is wrong with it, and nothing once it is right.
        text = "" if event.field.known else self.app.tr("walkin.not_in_list", text=event.value)
        self.query_one(f"#err-{event.field.id}", ErrorLabel).update(text)
        if event.field.id == "origin_country" and self._tracking:
            self._propose_from_origin(event.value)
        self.changed()

    @on(TopicPicker.Changed)
    def _topics_changed(self) -> None:
        self.query_one("#err-topics", ErrorLabel).update("")

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id in ("time", "client_name"):
            self.query_one(f"#err-{event.input.id}", ErrorLabel).update("")  # stale once edited
        elif event.input.id == "birth_year":
            self._check_number("birth_year", "birth_year")
        elif event.input.id == "children":
            self._check_number("children", "children_coremigrating")

    def _check_number(self, name: str, field_name: str) -> None:
        text = self.query_one(f"#{name}", Input).value.strip()
        error = None
        if text:
            try:
                value = int(text)
            except ValueError:
                error = FieldError(field_name, "form.not_a_number")
            else:
                if field_name == "birth_year" and len(text) == 4:
                    error = check_birth_year(value, self.app.desk.today())
                elif field_name == "children_coremigrating":
                    error = check_children(value)
        self.query_one(f"#err-{field_name}", Label).update(
            self.app.tr(error.key, **error.params) if error else ""
        )

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
            self.changed()
            if index is None:
                self._auto_outcome()

        def letter(referral: dict) -> None:
            # The letter from inside the dialog names this referral as it stands, with the rest.
            referrals = list(self.referrals)
            if index is None:
                referrals.append(referral)
            else:
                referrals[index] = referral
            self._open_letter(referrals)

        self.app.push_screen(ReferralScreen(initial, letter=letter), done)

    # ---- the client's letter ----

    def action_letter(self) -> None:
        if self.baseline is not None:
            self._open_letter(self.referrals)

    def _open_letter(self, referrals: list[dict]) -> None:
        from nmi_desk.tui.screens.letter import open_letter

        payload = self.read()
        payload["referrals"] = [dict(r) for r in referrals]
        open_letter(self, payload, self.uuid)

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
            self.changed()

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
        for widget in self.query(ChoiceField).results(ChoiceField):
            if widget.typing:
                widget.commit()  # Ctrl+S straight after typing a country: take the match
        super().action_save()

    def to_input(self, payload: dict):
        """What cannot be read and what the domain would refuse, all at once."""
        from nmi_desk.domain.inputs import validate_visit

        inp, errors = payload_to_input(payload, self.app.desk.settings.location)
        seen = {e.field for e in errors}
        errors += [
            e
            for e in validate_visit(inp, self.app.desk.today(), self.app.desk.reference)
            if e.field not in seen
        ]
        return inp, errors

    def doubts(self, inp) -> list:
        from nmi_desk.core.validation import FieldError, doubt_later_than_now

        found = []
        later = doubt_later_than_now(inp.started_at, self.app.desk.now())
        if later is not None and not self.uuid:  # an earlier visit keeps its own time
            found.append(later)
        for name in CHOICE_FIELDS:
            widget = self.query_one(f"#{name}", ChoiceField)
            if widget.doubtful and widget.doubtful[1] == widget.value:
                text, code = widget.doubtful
                params = {"text": text, "label": widget.label_of(code)}
                found.append(FieldError(name, "walkin.check_choice", params))
        return found

    def show_errors(self, errors) -> None:
        """Every error next to its field; the focus on the first of them in the form."""
        tr = self.app.tr
        order = list(ERROR_TARGETS)
        errors = sorted(errors, key=lambda e: order.index(e.field) if e.field in order else 99)
        for error in errors:
            found = self.query(f"#err-{error.field}")
            target = found.first() if found else self.query_one("#err-form", Label)
            text = tr(error.key, **error.params)
            if error.field in CHOICE_FIELDS and error.key == "error.unknown_code":
                text = tr("walkin.not_in_list", text=error.params.get("code", ""))
            target.update(text)
        first = ERROR_TARGETS.get(errors[0].field) if errors else None
        if first:
            target = self.query_one(f"#{first}")
            if isinstance(target, ChoiceField):
                target.focus(open_list=False)  # its list would cover the error under it
            else:
                target.focus()
        elif errors:
            self.query_one("#form", VerticalScroll).scroll_to_widget(self.query_one("#err-form"))
        self.app.bell()

    def store(self, inp) -> VisitSaved:
        from nmi_desk.domain.visits import create_visit, update_visit

        desk = self.app.desk
        if self.uuid:
            return VisitSaved(update_visit(desk.context(), self.uuid, inp))
        create_visit(desk.context(), inp)
        return VisitSaved(None)

    def on_visit_saved(self, message: VisitSaved) -> None:
        tr = self.app.tr
        if self.uuid:
            self.app.notify(tr("form.updated", revision=message.revision))
            self.dismiss(None)
            return
        if self.client_uuid:
            # A returning client served: back to the queue on Today, the client's history
            # one key (h) away there.
            self.app.last_client_uuid = self.client_uuid
            self.app.notify(tr("form.saved_client"))
            self.dismiss(None)
            self.app.back_to_today()
            return
        self.app.notify(tr("form.saved"))
        self.dismiss(None)
