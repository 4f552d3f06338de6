"""The walk-in form: register a new visit or edit an earlier one.

The form's content is a payload (nmi_desk.form_payloads), which is also what a draft holds;
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
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from nmi_desk.form_payloads import empty_payload, payload_to_input, visit_payload
from nmi_desk.refdata import reference
from nmi_desk.tui.messages import VisitLoaded, VisitSaved
from nmi_desk.tui.screens.base import footer
from nmi_desk.tui.screens.draft_form import DraftFormScreen, field
from nmi_desk.tui.widgets.error_label import ErrorLabel
from nmi_desk.tui.widgets.topic_picker import TopicPicker
from nmi_desk.validation import FieldError, check_birth_year, check_children

TEXT_FIELDS = ("time", "client_name", "birth_year", "children")
SELECT_FIELDS = ("origin_country", "destination_country", "language", "came_via", "outcome")


class VisitFormScreen(DraftFormScreen):
    AUTO_FOCUS = "#client_name"  # typing may start before the form is filled: never lose it
    CSS_PATH = "visit_form.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", priority=True),
        Binding("ctrl+t", "topics", "key.topics", priority=True),
        Binding("ctrl+r", "add_referral", "key.add_referral", priority=True),
        Binding("escape", "leave", "key.back"),
        # Not in the footer (80 columns are full): named in the referrals' heading and in help.
        Binding("ctrl+n", "letter", "letter.key", priority=True, show=False),
        Binding("delete", "remove_referral", "key.remove_referral", show=False),
    ]

    def __init__(self, uuid: str | None = None, draft: dict | None = None) -> None:
        super().__init__(draft)
        self.uuid = uuid or (draft or {}).get("uuid")
        self.referrals: list[dict] = []

    @property
    def form_key(self) -> str:
        return f"visit:{self.uuid}" if self.uuid else "visit"

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        lang = self.app.tr.lang
        ref = reference()
        countries = sorted(((c.label(lang), c.code) for c in ref.countries), key=lambda x: x[0])

        def select(name: str, options) -> Select:
            return Select(options, prompt="—", id=name, compact=True)

        def listed(name: str) -> list[tuple[str, str]]:
            return [(e.label(lang), e.code) for e in ref.lists[name]]

        yield Header()
        with VerticalScroll(id="form"):
            yield Static("", id="form-title")
            with Horizontal(classes="row"):
                yield field(
                    tr("form.time"),
                    Input(id="time", max_length=5, compact=True),
                    "time",
                    "narrow",
                )
                yield field(
                    tr("form.client_name"),
                    Input(id="client_name", placeholder=tr("form.optional"), compact=True),
                    "client_name",
                    "wide",
                )
                yield field(
                    tr("form.birth_year"),
                    Input(id="birth_year", max_length=4, type="integer", compact=True),
                    "birth_year",
                )
            with Horizontal(classes="row"):
                yield field(
                    tr("form.origin_country"), select("origin_country", countries), "origin_country"
                )
                yield field(
                    tr("form.destination_country"),
                    select("destination_country", countries),
                    "destination_country",
                )
                yield field(tr("form.language"), select("language", listed("language")), "language")
            with Horizontal(classes="row"):
                yield field(
                    tr("form.household"),
                    Checkbox(tr("form.partner"), id="partner", compact=True),
                    "partner",
                )
                yield field(
                    tr("form.children"),
                    Input(id="children", max_length=2, type="integer", compact=True),
                    "children_coremigrating",
                )
                yield field(tr("form.came_via"), select("came_via", listed("came_via")), "came_via")
            yield Label(tr("form.topics"), classes="section")
            yield TopicPicker(id="topics")
            yield ErrorLabel(id="err-topics")
            yield Label(tr("form.referrals"), classes="section")
            yield OptionList(id="referrals", compact=True)
            yield ErrorLabel(id="err-referrals")
            with Horizontal(classes="row"):
                yield field(
                    tr("form.notes"),
                    TextArea(id="notes", compact=True, soft_wrap=True),
                    "notes",
                    "wide",
                )
                yield field(tr("form.outcome"), select("outcome", listed("outcome")), "outcome")
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
            self.start(empty_payload(self.app.desk.now()))

    @work(thread=True, exclusive=True, group="visit-load")
    def _load(self, uuid: str) -> None:
        from nmi_desk.visits import load_visit

        desk = self.app.desk
        view = load_visit(desk.engine(), uuid, desk.actor, desk.now())
        self.post_message(VisitLoaded(visit_payload(uuid, view.input)))

    def on_visit_loaded(self, message: VisitLoaded) -> None:
        self.start(message.payload)

    # ---- reading and writing the widgets ----

    def fill(self, payload: dict) -> None:
        for name in TEXT_FIELDS:
            self.query_one(f"#{name}", Input).value = payload.get(name, "")
        for name in SELECT_FIELDS:
            widget = self.query_one(f"#{name}", Select)
            value = payload.get(name) or ""
            if value:
                widget.value = value
            else:
                widget.clear()
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
        for name in SELECT_FIELDS:
            value = self.query_one(f"#{name}", Select).value
            payload[name] = value if isinstance(value, str) else ""
        payload["partner"] = self.query_one("#partner", Checkbox).value
        payload["notes"] = self.query_one("#notes", TextArea).text
        payload["topics"] = list(self.query_one(TopicPicker).selected)
        payload["referrals"] = [dict(r) for r in self.referrals]
        return payload

    def _show_referrals(self) -> None:
        tr = self.app.tr
        orgs = reference().by_code("organisations")
        statuses = {e.code: e for e in reference().lists["referral_status"]}
        lst = self.query_one("#referrals", OptionList)
        lst.clear_options()
        for i, r in enumerate(self.referrals):
            org = orgs.get(r["organisation_code"])
            parts = [org.label(tr.lang) if org else r["organisation_code"]]
            if r.get("reason"):
                parts.append(r["reason"])
            if r.get("follow_up_on"):
                parts.append(tr("form.follow_up_on", date=r["follow_up_on"]))
            status = statuses.get(r.get("status", "open"))
            parts.append(status.label(tr.lang) if status else r.get("status", ""))
            lst.add_option(Option(" · ".join(parts), id=str(i)))
        if not self.referrals:
            lst.add_option(Option(tr("form.no_referrals"), id="none", disabled=True))

    # ---- checks while typing ----

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "birth_year":
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
        outcome = self.query_one("#outcome", Select)
        if not isinstance(outcome.value, str):
            outcome.value = "referred"

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

    def to_input(self, payload: dict):
        return payload_to_input(payload, self.app.desk.settings.location)

    def store(self, inp) -> VisitSaved:
        from nmi_desk.visits import create_visit, update_visit

        desk = self.app.desk
        if self.uuid:
            return VisitSaved(update_visit(desk.engine(), self.uuid, inp, desk.actor, desk.now()))
        create_visit(desk.engine(), inp, desk.actor, desk.now())
        return VisitSaved(None)

    def on_visit_saved(self, message: VisitSaved) -> None:
        tr = self.app.tr
        self.app.notify(
            tr("form.updated", revision=message.revision) if self.uuid else tr("form.saved")
        )
        self.dismiss(None)
