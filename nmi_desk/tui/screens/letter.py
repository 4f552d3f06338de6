"""The client's letter from a visit: choose the language, then print, open or save it.

The letter is built and rendered in a worker (nmi_desk.letter); printing and opening go
through an owner-only temporary file that the app removes (after printing at once, after
opening when the app closes). A saved copy is written where the consultant says, and the
audit trail names that it was saved (never its content).
"""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from nmi_desk.domain.form_payloads import payload_to_input
from nmi_desk.domain.reference.files import Reference
from nmi_desk.tui.keys import localize_bindings
from nmi_desk.tui.messages import LetterDone, LetterFailed
from nmi_desk.tui.widgets.error_label import ErrorLabel


def language_options(lang: str, ref: Reference) -> list[tuple[str, str]]:
    """The reviewed languages in their own names, then the visit form's others (fallback)."""
    from nmi_desk.letter.catalog import phrases, supported_languages

    options = [(phrases(code)["language"], code) for code in supported_languages()]
    known = {code for _, code in options}
    for entry in ref.lists.get("language", ()):
        if entry.code not in known and entry.code != "other":
            options.append((f"{entry.label(lang)} (→ English)", entry.code))
    return options


class LetterScreen(ModalScreen[None]):
    CSS_PATH = ["dialogs.tcss", "letter.tcss"]
    NMI_COMMANDS = True
    BINDINGS = [Binding("escape", "close", "key.back")]

    def __init__(self, visit_input, visit_uuid: str | None) -> None:
        super().__init__()
        localize_bindings(self, self.app.tr)
        self.visit_input = visit_input
        self.visit_uuid = visit_uuid
        self._busy = False

    def compose(self) -> ComposeResult:
        from nmi_desk.domain.stats.end_of_day import default_folder
        from nmi_desk.letter.catalog import resolve_language
        from nmi_desk.letter.service import file_name

        tr = self.app.tr
        language = resolve_language(self.visit_input.language)
        initial = self.visit_input.language if language.fallback else language.client
        day = self.app.desk.today()
        with Vertical(id="letter", classes="dialog"):
            yield Static(tr("letter.title"), classes="question")
            yield Label(tr("letter.language"), classes="field-label")
            yield Select(
                language_options(tr.lang, self.app.desk.reference),
                value=initial,
                allow_blank=False,
                id="letter-lang",
            )
            yield Static("", id="letter-fallback", classes="hint")
            yield Label(tr("letter.save_to"), classes="field-label")
            folder = default_folder()
            if not folder.is_dir():  # no Documents folder on this laptop: the home folder
                folder = Path.home()
            yield Input(str(folder / file_name(day)), id="letter-path", compact=True)
            yield ErrorLabel(id="err-letter")
            with Horizontal(classes="buttons"):
                yield Button(tr("letter.print"), id="print", variant="primary")
                yield Button(tr("letter.open"), id="open")
                yield Button(tr("letter.save"), id="save")
            yield Static(tr("letter.hint"), classes="hint")

    def on_mount(self) -> None:
        self._show_fallback()
        self.query_one("#print", Button).focus()

    @on(Select.Changed, "#letter-lang")
    def _show_fallback(self) -> None:
        from nmi_desk.letter.catalog import language_name, resolve_language

        code = self.query_one("#letter-lang", Select).value
        text = ""
        if isinstance(code, str) and resolve_language(code).fallback:
            text = self.app.tr("letter.fallback", language=language_name(code, self.app.tr.lang))
        note = self.query_one("#letter-fallback", Static)
        note.update(text)
        note.display = bool(text)

    @on(Input.Submitted, "#letter-path")
    def _save_on_enter(self, event: Input.Submitted) -> None:
        event.stop()
        self._start("save")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id in ("print", "open", "save"):
            self._start(event.button.id)

    def _start(self, how: str) -> None:
        if self._busy:
            return
        self._busy = True
        self.query_one("#err-letter", Label).update(self.app.tr("letter.working"))
        code = self.query_one("#letter-lang", Select).value
        path = self.query_one("#letter-path", Input).value.strip()
        self._make(how, code if isinstance(code, str) else None, path)

    @work(thread=True, exclusive=True, group="letter")
    def _make(self, how: str, lang: str | None, path: str) -> None:
        from nmi_desk.core.errors import UserError, os_reason
        from nmi_desk.core.outputs import check_output, write_output
        from nmi_desk.domain.copies import register_file
        from nmi_desk.letter import build_letter, render_pdf
        from nmi_desk.letter.deliver import open_in_viewer, print_file
        from nmi_desk.letter.service import file_name, record_letter

        desk = self.app.desk
        letters = self.app.letters
        try:
            if how == "save":
                check_output(path or "")
                if path == "-":
                    raise UserError.of("errors.letter.no_file_name")
            day = None if self.visit_input.started_at else desk.today()
            letter = build_letter(
                self.visit_input, desk.actor.consultant, lang, day, ref=desk.reference
            )
            data = render_pdf(letter)
            if how == "save":
                where = write_output(path, data, private=True)
                record_letter(desk.context(), self.visit_uuid, "saved")
                # registered: erasure and retention remove it (nmi_desk.domain.copies)
                register_file(desk.engine(), where, "letter", desk.now(), visit=self.visit_uuid)
                self.post_message(LetterDone("saved", where))
                return
            temp = letters.write(data, file_name(letter.day))
            if how == "print":
                try:
                    print_file(temp)
                finally:
                    letters.remove(temp)  # lp has copied it into the queue (or failed)
            else:
                open_in_viewer(temp)  # stays until the app closes: the viewer reads it
            done = "printed" if how == "print" else "opened"
            record_letter(desk.context(), self.visit_uuid, done)
            self.post_message(LetterDone(how))
        except (UserError, OSError) as exc:
            reason = exc if isinstance(exc, UserError) else os_reason(exc)
            self.post_message(LetterFailed(self.app.tr.explain(reason)))

    def on_letter_failed(self, message: LetterFailed) -> None:
        message.stop()
        self._busy = False
        self.query_one("#err-letter", Label).update(
            self.app.tr("letter.failed", reason=message.reason)
        )
        self.app.bell()

    def on_letter_done(self, message: LetterDone) -> None:
        message.stop()
        self._busy = False
        key = {"saved": "letter.saved", "print": "letter.printed", "open": "letter.opened"}
        self.app.notify(self.app.tr(key[message.how], path=message.where), timeout=8)
        self.dismiss(None)

    def action_close(self) -> None:
        if not self._busy:
            self.dismiss(None)


def letter_referrals(referrals: list[dict]) -> list[dict]:
    """The referrals a letter names: not the cancelled ones."""
    return [r for r in referrals if r.get("status") != "cancelled"]


def open_letter(screen, payload: dict, uuid: str | None) -> None:
    """From a form's payload: the letter dialog, or a one-line reason why not."""
    app = screen.app
    if not letter_referrals(payload.get("referrals", [])):
        app.notify(app.tr("letter.no_referrals"), severity="warning")
        app.bell()
        return
    inp, errors = payload_to_input(payload, app.desk.settings.location)
    bad_dates = [e for e in errors if e.field == "referrals"]  # the time is not on the letter
    if bad_dates:
        app.notify(app.tr(bad_dates[0].key, **bad_dates[0].params), severity="error")
        return
    app.push_screen(LetterScreen(inp, uuid))
