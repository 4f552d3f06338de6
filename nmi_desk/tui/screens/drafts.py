"""Offering an unsaved form from an earlier run (after a crash or kill) for restoring."""

from __future__ import annotations


def offer_draft(app, draft) -> None:
    from nmi_desk.tui.screens.confirm import ConfirmScreen

    tr = app.tr
    kind = tr(f"draft.kind_{draft.form.split(':')[0]}")
    question = tr("draft.offer", kind=kind, time=draft.updated_at.strftime("%d-%m %H:%M"))

    def answered(restore: bool | None) -> None:
        if restore:
            _restore(app, draft)
        else:
            _discard(app, draft.form)

    app.push_screen(
        ConfirmScreen(question, yes=tr("draft.restore"), no=tr("draft.discard")), answered
    )


def _restore(app, draft) -> None:
    form = draft.form.split(":")[0]
    if form == "session":
        from nmi_desk.tui.screens.info_session import InfoSessionScreen

        app.push_screen(InfoSessionScreen(draft=draft.payload))
    else:
        from nmi_desk.tui.screens.visit_form import VisitFormScreen

        app.push_screen(VisitFormScreen(draft=draft.payload))


def _discard(app, form: str) -> None:
    def discard() -> None:
        from nmi_desk.drafts import discard_draft

        discard_draft(app.desk.engine(), form)

    app.run_worker(discard, thread=True, group="drafts")


DRAFT_RETRY = 5.0  # seconds between draft writes while the disk refuses them


def storage_failure(exc: BaseException) -> str | None:
    """For a form's worker: the one line for a failed disk or database file, else None (the
    error is unexpected and goes on to the app's handler)."""
    from nmi_desk.errors import storage_problem

    return storage_problem(exc)


class KeepsWhatWasTyped:
    """For a form screen that keeps drafts (visit form, info session): when the disk or the
    database fails, the form stays open with everything typed, says why in one line, and
    retries. The screen provides `_write_draft()`, `_draft_timer` and an `#err-form` label;
    its workers post DraftFailed / DraftWritten / SaveFailed (nmi_desk.tui.messages)."""

    _draft_failing = False

    def on_draft_failed(self, message) -> None:
        if not self._draft_failing:  # said once per spell of failures
            self._draft_failing = True
            self.app.notify(
                self.app.tr("reliability.draft_failed", reason=message.reason.rstrip(".")),
                severity="error",
                timeout=15,
            )
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_RETRY, self._write_draft)

    def on_draft_written(self, message) -> None:
        if self._draft_failing:
            self._draft_failing = False
            self.app.notify(self.app.tr("reliability.draft_back"))

    def on_save_failed(self, message) -> None:
        """One line on the form; Ctrl+S again retries; the draft keeps being tried meanwhile."""
        self._saving = False
        label = self.query_one("#err-form")
        label.update(self.app.tr("reliability.save_failed", reason=message.reason.rstrip(".")))
        label.scroll_visible()
        self.app.bell()
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_RETRY, self._write_draft)
