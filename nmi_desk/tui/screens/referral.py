"""A referral: organisation (filter as you type), reason, note, follow-up date, status.

The reason is typed like a choice: the chosen organisation's standard reasons
(data/referral_reasons.toml) are suggested, and "aow" then Ctrl+S takes "AOW meenemen naar het
buitenland", which the client's letter also prints in the client's language; text that plainly
names no standard reason is kept as typed.

Returned to the walk-in form as a dict (the form's payload shape); the form saves it with the
visit. Ctrl+N makes the client's letter for the visit with this referral as it stands
(nmi_desk.tui.screens.letter).
"""

from __future__ import annotations

from datetime import timedelta

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from nmi_desk.core.dates import format_date, parse_date
from nmi_desk.domain.matching import Matcher, matcher_for
from nmi_desk.domain.reference.files import reason_by_code, reasons_for, standard_reason
from nmi_desk.tui.screens.base import NmiModal
from nmi_desk.tui.widgets.choice_field import ChoiceField
from nmi_desk.tui.widgets.error_label import ErrorLabel


class ReferralScreen(NmiModal[dict | None]):
    AUTO_FOCUS = "#org-filter"  # typing may start before the form is filled: never lose it
    CSS_PATH = "referral.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save_referral", priority=True),
        Binding("ctrl+n", "letter", "letter.key", priority=True),
        Binding("escape", "cancel", "key.cancel"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def __init__(self, initial: dict | None = None, letter=None) -> None:
        """`letter`: called with this referral (a dict) to make the visit's letter."""
        super().__init__()
        self.initial = initial or {}
        self._letter = letter
        self.organisation: str | None = self.initial.get("organisation_code")

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        lang = tr.lang
        default_date = self.app.desk.today() + timedelta(days=_follow_up_days())
        with VerticalScroll(id="referral", classes="dialog"):
            yield Static(tr("referral.title"), classes="dialog-title")
            yield Label(tr("referral.organisation"), classes="field-label")
            yield Input(placeholder=tr("referral.filter"), id="org-filter", compact=True)
            yield OptionList(id="org-options", compact=True)
            yield Static("", id="org-chosen")
            yield ErrorLabel(id="err-organisation")
            yield Label(tr("referral.reason"), classes="field-label")
            yield ChoiceField(
                self._reasons(self.organisation),
                lang,
                placeholder=tr("referral.reason_hint"),
                free_text=True,
                id="reason",
            )
            yield Label(tr("referral.note"), classes="field-label")
            yield Input(self.initial.get("note", ""), id="note", compact=True)
            with Horizontal(classes="row"):
                with Vertical(classes="field"):
                    yield Label(tr("referral.follow_up_on"), classes="field-label")
                    initial = parse_date(self.initial.get("follow_up_on") or "")
                    yield Input(
                        format_date(initial or default_date),  # DD-MM-YYYY; ISO is read too
                        id="follow_up_on",
                        max_length=10,
                        compact=True,
                    )
                    yield ErrorLabel(id="err-follow_up_on")
                with Vertical(classes="field"):
                    yield Label(tr("referral.status"), classes="field-label")
                    yield ChoiceField(
                        matcher_for("referral_status", self.app.desk.reference), lang, id="status"
                    )
            yield Static(tr("referral.hint"), classes="hint")

    @staticmethod
    def _reasons(organisation: str | None) -> Matcher:
        return Matcher(r.entry() for r in reasons_for(organisation or ""))

    def on_mount(self) -> None:
        self.query_one("#status", ChoiceField).set_value(self.initial.get("status") or "open")
        reason = self.initial.get("reason", "")
        standard = standard_reason(reason)
        self.query_one("#reason", ChoiceField).set_value(standard.code if standard else reason)
        self._refill("")
        self._show_chosen()
        if self.organisation:
            self.query_one("#reason", ChoiceField).focus()
        else:
            self.query_one("#org-filter", Input).focus()

    def _refill(self, query: str) -> None:
        lang = self.app.tr.lang
        options = self.query_one("#org-options", OptionList)
        entries = [
            m.entry for m in matcher_for("organisation", self.app.desk.reference).search(query)
        ]
        options.set_options(Option(f"{e.label(lang)}", id=e.code) for e in entries)
        if entries:
            options.highlighted = 0

    def _show_chosen(self) -> None:
        org = self.app.desk.reference.by_code("organisations").get(self.organisation or "")
        text = self.app.tr("referral.chosen", name=org.label(self.app.tr.lang)) if org else ""
        self.query_one("#org-chosen", Static).update(text)

    @on(Input.Changed, "#org-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._refill(event.value)

    def _choose(self, code: str) -> None:
        self.organisation = code
        self._show_chosen()
        self.query_one("#err-organisation", Label).update("")
        reason = self.query_one("#reason", ChoiceField)
        chosen = reason_by_code(reason.value)
        reason.set_matcher(self._reasons(code))
        if chosen is not None and chosen.organisation != code:
            reason.set_value(chosen.nl)  # another organisation's reason: kept, as text
        reason.focus()

    @on(Input.Submitted, "#org-filter")
    def _submit_filter(self, event: Input.Submitted) -> None:
        event.stop()
        option = self.query_one("#org-options", OptionList).highlighted_option
        if option and option.id:
            self._choose(option.id)

    @on(OptionList.OptionSelected, "#org-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self._choose(event.option.id)

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        self.focus_next()

    def action_move(self, step: int) -> None:
        options = self.query_one("#org-options", OptionList)
        options.action_cursor_down() if step > 0 else options.action_cursor_up()

    def _collect(self) -> dict | None:
        tr = self.app.tr
        ok = True
        if not self.organisation:
            self.query_one("#err-organisation", Label).update(tr("referral.choose_organisation"))
            self.query_one("#org-filter", Input).focus()
            ok = False
        text = self.query_one("#follow_up_on", Input).value.strip()
        follow = parse_date(text)
        if text and follow is None:
            self.query_one("#err-follow_up_on", Label).update(tr("walkin.date_invalid"))
            ok = False
        else:
            self.query_one("#err-follow_up_on", Label).update("")
        if not ok:
            self.app.bell()
            return None
        for choice in self.query(ChoiceField).results(ChoiceField):
            if choice.typing:
                choice.commit()  # Ctrl+S straight after typing: take the match (or the text)
        status = self.query_one("#status", ChoiceField).value
        reason = self.query_one("#reason", ChoiceField).value.strip()
        standard = reason_by_code(reason)
        known = {e.code for e in self.app.desk.reference.lists["referral_status"]}
        return {
            "organisation_code": self.organisation,
            "reason": standard.nl if standard else reason,  # stored in Dutch, as before
            "note": self.query_one("#note", Input).value.strip(),
            "follow_up_on": follow.isoformat() if follow else "",
            "status": status if status in known else "open",
            "outcome_note": self.initial.get("outcome_note", ""),
            "uuid": self.initial.get("uuid"),
        }

    def action_save(self) -> None:
        result = self._collect()
        if result is not None:
            self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_letter(self) -> None:
        result = self._collect()
        if result is not None and self._letter is not None:
            self._letter(result)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "move":
            return self.focused is self.query_one("#org-filter", Input)
        if action == "letter":
            return self._letter is not None
        return True


def _follow_up_days() -> int:
    from nmi_desk.domain.inputs import FOLLOW_UP_DAYS

    return FOLLOW_UP_DAYS
