"""Quick count-only visit: how many people, at what time, which topics; nothing personal, so
a rushed walk-in still counts. "Two people at 16:55" is 2, Enter, 1655, Ctrl+S."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from nmi_desk.core.clock import AMS
from nmi_desk.core.validation import FieldError, doubt_later_than_now
from nmi_desk.tui.messages import CountOnlySaved, SaveRefused
from nmi_desk.tui.screens.base import NmiModal
from nmi_desk.tui.widgets.error_label import ErrorLabel
from nmi_desk.tui.widgets.topic_picker import TopicPicker


class CountOnlyScreen(NmiModal[None]):
    AUTO_FOCUS = "#people"  # typing may start before the form is filled: never lose it
    CSS_PATH = "count_only.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", priority=True),
        Binding("ctrl+t", "topics", "key.topics", priority=True),
        Binding("escape", "cancel", "key.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._doubt_shown: dict | None = None  # the later-than-now time already asked about

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        now = self.app.desk.now()
        with Vertical(id="count-only", classes="dialog"):
            yield Static(tr("count_only.title"), classes="dialog-title")
            yield Static(tr("walkin.count_only_intro"), classes="hint")
            with Horizontal(classes="row"):
                with Vertical(classes="field"):
                    yield Label(tr("walkin.people"), classes="field-label")
                    yield Input(
                        placeholder="1", id="people", max_length=2, type="integer", compact=True
                    )
                with Vertical(classes="field"):
                    yield Label(tr("form.time"), classes="field-label")
                    yield Input(
                        now.astimezone(AMS).strftime("%H:%M"),
                        id="time",
                        max_length=5,
                        restrict=r"[0-9:.]*",
                        compact=True,
                    )
            yield ErrorLabel(id="err-people")
            yield ErrorLabel(id="err-time")
            yield TopicPicker(id="topics")
            yield ErrorLabel(id="err-count")

    @on(Input.Changed, "#people, #time")
    def _edited(self, event: Input.Changed) -> None:
        self.query_one(f"#err-{event.input.id}", ErrorLabel).update("")  # stale once edited

    @on(Input.Submitted, "#people, #time")
    def _next(self, event: Input.Submitted) -> None:
        self.focus_next()

    def action_topics(self) -> None:
        self.query_one(TopicPicker).focus_filter()

    def action_save(self) -> None:
        from nmi_desk.core.dates import parse_time

        errors = []
        people_text = self.query_one("#people", Input).value.strip() or "1"
        people = int(people_text) if people_text.isdigit() else 0
        if people < 1:
            errors.append(FieldError("people", "form.not_a_number"))
        at = parse_time(self.query_one("#time", Input).value)
        if at is None:
            errors.append(FieldError("time", "form.time_invalid"))
        if errors:
            self._show_errors(errors)
            return
        now = self.app.desk.now()
        started = now.astimezone(AMS).replace(
            hour=at.hour, minute=at.minute, second=0, microsecond=0
        )
        later = doubt_later_than_now(started, now)
        if later is not None and later.params != self._doubt_shown:
            self._doubt_shown = later.params  # asked once; Ctrl+S again saves it
            self._show_errors([later])
            return
        self._save(people, started, list(self.query_one(TopicPicker).selected))

    @work(thread=True, exclusive=True, group="count-save")
    def _save(self, people: int, started, topics: list[str]) -> None:
        from nmi_desk.core.validation import ValidationError
        from nmi_desk.domain.inputs import VisitInput
        from nmi_desk.domain.visits import create_count_only_visits

        desk = self.app.desk
        inp = VisitInput(location_code=desk.settings.location, started_at=started, topics=topics)
        try:
            create_count_only_visits(desk.context(), people, inp)
        except ValidationError as exc:
            self.post_message(SaveRefused(exc.errors))
            return
        self.post_message(CountOnlySaved(people))

    def _show_errors(self, errors: list[FieldError]) -> None:
        for label in self.query(ErrorLabel):
            label.update("")
        first = None
        for e in errors:
            target = {"people": "#err-people", "time": "#err-time"}.get(e.field, "#err-count")
            self.query_one(target, Label).update(self.app.tr(e.key, **e.params))
            first = first or {"people": "#people", "time": "#time"}.get(e.field)
        if first:
            self.query_one(first, Input).focus()
        self.app.bell()

    def on_save_refused(self, message: SaveRefused) -> None:
        self._show_errors(message.errors)

    def on_count_only_saved(self, message: CountOnlySaved) -> None:
        self.app.notify(self.app.tr("walkin.count_only_saved", n=message.people))
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
