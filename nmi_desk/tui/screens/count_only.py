"""Quick count-only visit: just the topics, nothing personal, so a rushed walk-in still counts."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, Static

from nmi_desk.tui.messages import CountOnlySaved, SaveRefused
from nmi_desk.tui.screens.base import NmiModal
from nmi_desk.tui.widgets.error_label import ErrorLabel
from nmi_desk.tui.widgets.topic_picker import TopicPicker


class CountOnlyScreen(NmiModal[None]):
    AUTO_FOCUS = "#topic-filter"  # typing may start before the form is filled: never lose it
    CSS_PATH = "count_only.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", priority=True),
        Binding("escape", "cancel", "key.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        with Vertical(id="count-only", classes="dialog"):
            yield Static(tr("count_only.title"), classes="dialog-title")
            yield Static(tr("count_only.intro"), classes="hint")
            yield TopicPicker(id="topics")
            yield ErrorLabel(id="err-count")

    def on_mount(self) -> None:
        self.query_one(TopicPicker).focus_filter()

    def action_save(self) -> None:
        self._save(list(self.query_one(TopicPicker).selected))

    @work(thread=True, exclusive=True, group="count-save")
    def _save(self, topics: list[str]) -> None:
        from nmi_desk.validation import ValidationError
        from nmi_desk.visits import VisitInput, create_visit

        desk = self.app.desk
        inp = VisitInput(location_code=desk.settings.location, count_only=True, topics=topics)
        try:
            create_visit(desk.engine(), inp, desk.actor, desk.now())
        except ValidationError as exc:
            self.post_message(SaveRefused(exc.errors))
            return
        self.post_message(CountOnlySaved())

    def on_save_refused(self, message: SaveRefused) -> None:
        e = message.errors[0]
        self.query_one("#err-count", Label).update(self.app.tr(e.key, **e.params))

    def on_count_only_saved(self, message: CountOnlySaved) -> None:
        self.app.notify(self.app.tr("count_only.saved"))
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
