"""Topic picker: type to filter, enter (or space in the list) toggles, chosen topics as tags."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from nmi_desk.domain.matching import matcher_for
from nmi_desk.tui.keys import LocalizedBindings


class TopicPicker(LocalizedBindings, Vertical, can_focus=False):
    BINDINGS = [
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("space", "toggle_highlighted", show=False),
        Binding("f2", "guidance", "key.topic_guidance"),
    ]

    class Changed(Message):
        def __init__(self, picker: TopicPicker) -> None:
            super().__init__()
            self.picker = picker

        @property
        def control(self) -> TopicPicker:
            return self.picker

    def __init__(self, selected: list[str] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="topic-picker")
        self.selected: list[str] = list(selected or [])

    def on_mount(self) -> None:
        self._refill()

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        yield Input(placeholder=tr("topics.filter"), id="topic-filter", compact=True)
        yield OptionList(id="topic-options", compact=True)
        yield Static("", id="topic-tags", classes="tags")

    # ---- state ----

    def set_selected(self, codes: list[str]) -> None:
        self.selected = list(dict.fromkeys(codes))
        self._refill()

    def _label(self, code: str) -> str:
        entry = self.app.desk.reference.by_code("topics").get(code)
        return entry.label(self.app.desk.settings.lang) if entry else code

    def _refill(self) -> None:
        query = self.query_one("#topic-filter", Input).value
        options = self.query_one("#topic-options", OptionList)
        keep = options.highlighted_option.id if options.highlighted_option else None
        lang = self.app.tr.lang
        entries = [m.entry for m in matcher_for("topic", self.app.desk.reference).search(query)]
        options.set_options(
            Option(
                ("✓ " if e.code in self.selected else "  ")
                + ("  " if e.parent and not query else "")
                + e.label(lang),
                id=e.code,
            )
            for e in entries
        )
        if query and not entries:
            # Said, not left blank: the consultant sees the words found nothing.
            options.add_option(Option(self.app.tr("topics.nothing_found"), disabled=True))
        codes = [e.code for e in entries]
        if codes:
            options.highlighted = codes.index(keep) if keep in codes and not query else 0
        tags = self.query_one("#topic-tags", Static)
        if self.selected:
            tags.update("  ".join(f"[reverse] {self._label(c)} [/]" for c in self.selected))
        else:
            tags.update(self.app.tr("topics.none"))

    @property
    def highlighted_code(self) -> str | None:
        option = self.query_one("#topic-options", OptionList).highlighted_option
        return option.id if option else None

    def toggle(self, code: str) -> None:
        if code in self.selected:
            self.selected.remove(code)
        else:
            self.selected.append(code)
        self._refill()
        self.post_message(self.Changed(self))

    # ---- events ----

    @on(Input.Changed, "#topic-filter")
    def _filter(self, event: Input.Changed) -> None:
        event.stop()
        self._refill()

    @on(Input.Submitted, "#topic-filter")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()  # enter toggles here; it does not move to the next field
        code = self.highlighted_code
        if code:
            filter_input = self.query_one("#topic-filter", Input)
            filter_input.value = ""
            self.toggle(code)

    @on(OptionList.OptionSelected, "#topic-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.toggle(event.option.id)

    def action_move(self, step: int) -> None:
        options = self.query_one("#topic-options", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_toggle_highlighted(self) -> None:
        code = self.highlighted_code
        if code:
            self.toggle(code)

    def action_guidance(self) -> None:
        self.app.action_guidance(topic=self.highlighted_code)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_highlighted":
            # space types a space in the filter; it toggles only in the list
            return self.screen.focused is self.query_one("#topic-options", OptionList)
        return True

    def focus_filter(self) -> None:
        self.query_one("#topic-filter", Input).focus()
