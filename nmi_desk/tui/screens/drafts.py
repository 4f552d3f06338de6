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
        from nmi_desk.domain.drafts import discard_draft

        discard_draft(app.desk.context(), form)

    app.run_worker(discard, thread=True, group="drafts")
