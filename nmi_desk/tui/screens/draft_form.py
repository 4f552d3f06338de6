"""The base of a form that keeps a draft: the walk-in form and the information session.

What a form does here, once: every change is saved as a draft shortly after typing stops (a
crash or kill loses nothing); Ctrl+S maps the payload to the domain's input and saves it in a
worker; a refusal shows next to its fields; Escape leaves, asking first when something
changed; saving or leaving throws the draft away. When the disk or the database file fails,
nothing typed is lost: a failed save leaves the form open with one line under it (Ctrl+S tries
again), a failed draft write is said once and retried every DRAFT_RETRY seconds. A subclass
says what its form holds:

- `form_key`: the draft's key ("visit", "visit:<uuid>", "session");
- `read()` / `fill(payload)`: the widgets as a payload (nmi_desk.domain.form_payloads) and back;
- `to_input(payload)`: (domain input, field errors) from a payload;
- `store(input)`: the domain call, run in a worker thread; returns the message to post
  (e.g. VisitSaved), handled by the subclass's `on_...` method.

`baseline` is the payload the form started from (the stored record or an empty form);
`start(baseline)` fills the form and starts tracking changes.
"""

from __future__ import annotations

import threading

from textual import on, work
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Select, TextArea
from textual.worker import Worker, WorkerState

from nmi_desk.tui.messages import DraftFailed, DraftWritten, SaveFailed, SaveRefused
from nmi_desk.tui.screens.base import NmiScreen
from nmi_desk.tui.widgets.error_label import ErrorLabel
from nmi_desk.tui.widgets.topic_picker import TopicPicker

DRAFT_DELAY = 0.4  # seconds after the last change before the draft is written
DRAFT_RETRY = 5.0  # seconds between draft writes while the disk refuses them
SAVE_GROUP = "form-save"


def field(label: str, widget, name: str, classes: str = "") -> Vertical:
    """A labelled field with its error line below (`err-<name>`, hidden while empty)."""
    return Vertical(
        Label(label, classes="field-label"),
        widget,
        ErrorLabel(id=f"err-{name}"),
        classes=f"field {classes}".strip(),
    )


class DraftFormScreen(NmiScreen[None]):
    def __init__(self, draft: dict | None = None) -> None:
        super().__init__()
        self.draft = draft
        self.baseline: dict | None = None
        self._draft_timer = None
        self._tracking = False
        self._saving = False
        # Draft writes and the final save/discard are serialised, so a late draft write can
        # never resurrect a draft after the form was saved or thrown away.
        self._draft_lock = threading.Lock()
        self._draft_closed = False
        self._draft_failing = False  # a draft write failed and has not succeeded since
        self._doubts_shown: list = []  # the doubts the last Ctrl+S pointed out

    # ---- what a subclass provides ----

    @property
    def form_key(self) -> str:
        raise NotImplementedError

    def read(self) -> dict:
        raise NotImplementedError

    def fill(self, payload: dict) -> None:
        raise NotImplementedError

    def to_input(self, payload: dict):
        raise NotImplementedError

    def store(self, inp) -> Message:
        raise NotImplementedError

    def doubts(self, inp) -> list:
        """FieldErrors for what is allowed but unlikely (a time later than now, a choice the
        typed text hardly supports): pointed out at the first Ctrl+S, saved at the second."""
        return []

    # ---- filling and change tracking ----

    def start(self, baseline: dict) -> None:
        """Show the draft being restored, else `baseline`; track changes from then on."""
        self.baseline = baseline
        self.fill(self.draft or baseline)
        # Setting values posts Changed messages; start tracking only after they are handled.
        self.call_after_refresh(self._start_tracking)

    def _start_tracking(self) -> None:
        self._tracking = True
        if self.draft:
            self._schedule_draft()  # a restored draft is this form's draft again

    @property
    def dirty(self) -> bool:
        return self.baseline is not None and self.read() != self.baseline

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(TextArea.Changed)
    @on(TopicPicker.Changed)
    def changed(self) -> None:
        if self._tracking:
            self._schedule_draft()

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()  # Enter moves on, like Tab: fast on a counter keyboard

    # ---- drafts ----

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
        from nmi_desk.domain.drafts import discard_draft, save_draft

        with self._draft_lock:
            if self._draft_closed:
                return
            try:
                ctx = self.app.desk.context()
                if keep:
                    save_draft(ctx, form, payload)
                else:
                    discard_draft(ctx, form)
            except Exception as exc:
                reason = storage_failure(exc)
                if reason is None:
                    raise  # unexpected: the app's handler says so (and logs where)
                self.post_message(DraftFailed(reason))
                return
        if self._draft_failing:
            self.post_message(DraftWritten())

    def on_draft_failed(self, message: DraftFailed) -> None:
        if not self._draft_failing:  # said once per spell of failures
            self._draft_failing = True
            self.app.notify(
                self.app.tr(
                    "reliability.draft_failed",
                    reason=self.app.tr.explain(message.reason).rstrip("."),
                ),
                severity="error",
                timeout=15,
            )
        self._retry_draft()

    def on_draft_written(self, message: DraftWritten) -> None:
        if self._draft_failing:
            self._draft_failing = False
            self.app.notify(self.app.tr("reliability.draft_back"))

    def _retry_draft(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_RETRY, self._write_draft)

    def _close_draft(self) -> None:
        """Drop this form's draft for good (runs in a worker thread)."""
        from nmi_desk.domain.drafts import discard_draft

        with self._draft_lock:
            self._draft_closed = True
            discard_draft(self.app.desk.context(), self.form_key)

    # ---- saving ----

    def action_save(self) -> None:
        if self.baseline is None or self._saving:
            return
        for label in self.query(ErrorLabel):
            label.update("")
        inp, errors = self.to_input(self.read())
        if errors:
            self.show_errors(errors)
            return
        doubts = self.doubts(inp)
        seen = [(d.field, d.key, sorted(d.params.items())) for d in doubts]
        if doubts and seen != self._doubts_shown:
            self._doubts_shown = seen
            self.show_errors(doubts)
            return
        self._saving = True
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._save_worker(inp)

    @work(thread=True, exclusive=True, group=SAVE_GROUP)
    def _save_worker(self, inp) -> None:
        from nmi_desk.core.validation import ValidationError

        try:
            done = self.store(inp)
        except ValidationError as exc:
            self.post_message(SaveRefused(exc.errors))
            return
        except Exception as exc:  # the disk or the file failed: nothing saved, form kept
            reason = storage_failure(exc)
            if reason is None:
                raise
            self.post_message(SaveFailed(reason))
            return
        try:
            self._close_draft()
        except Exception as exc:  # saved; only the draft could not go (it is offered later)
            if storage_failure(exc) is None:
                raise
        self.post_message(done)

    def on_save_refused(self, message: SaveRefused) -> None:
        self._saving = False
        self.show_errors(message.errors)

    def on_save_failed(self, message: SaveFailed) -> None:
        """One line on the form; Ctrl+S again retries; the draft keeps being tried meanwhile."""
        self._saving = False
        label = self.query_one("#err-form", Label)
        reason = self.app.tr.explain(message.reason).rstrip(".")
        label.update(self.app.tr("reliability.save_failed", reason=reason))
        label.scroll_visible()
        self.app.bell()
        self._retry_draft()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == SAVE_GROUP:
            self._saving = False  # the app told the consultant; saving again must be possible

    def show_errors(self, errors) -> None:
        """Each error under its field (`err-<field>`), else at the form's end (`err-form`)."""
        tr = self.app.tr
        first = None
        for error in errors:
            found = self.query(f"#err-{error.field}")
            target = found.first() if found else self.query_one("#err-form", Label)
            target.update(tr(error.key, **error.params))
            first = first or target
        scroll = self.query(VerticalScroll)
        if first is not None and scroll:
            scroll.first().scroll_to_widget(first)
        self.app.bell()

    # ---- leaving ----

    def action_leave(self) -> None:
        if not self.dirty:
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
        self._saving = True
        # An app worker: this screen's own workers end with it.
        self.app.run_worker(self._close_draft, thread=True, group="drafts")
        self.dismiss(None)


def storage_failure(exc: BaseException) -> str | None:
    """For a form's worker: the one line for a failed disk or database file, else None (the
    error is unexpected and goes on to the app's handler)."""
    from nmi_desk.core.errors import storage_problem

    return storage_problem(exc)
