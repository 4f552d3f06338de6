"""A choice field you type into at once: countries, language, how the client came, outcome,
organisation, place.

It replaces a drop-down, which swallowed keys typed while it was closed. Here every key lands
in the field's input; a list of matches (nmi_desk.domain.matching, over Dutch and English names, codes
and alternatives) opens under it while it has the focus. Enter or Tab takes the highlighted
match (the best one unless the consultant moved with the arrows); Up and Down move through the
list, which with nothing typed shows the preferred entries (most chosen here, last used) and
then all the rest. Text that matches nothing stays in the field as typed, so the form can say
so instead of dropping it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import DescendantBlur, DescendantFocus
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.input import Selection
from textual.widgets.option_list import Option

from nmi_desk.domain.matching import Matcher
from nmi_desk.domain.reference.files import Entry

LIST_LIMIT = 40  # matches shown while typing; with nothing typed every entry is listed
# Below this a match is not the start of any word, code or alternative name of the entry
# (inside a word, or a typo): taken, but pointed out before saving (nmi_desk.domain.matching).
SURE_SCORE = 70.0


class ChoiceField(Vertical, can_focus=False):
    """`value` is the chosen code, or the typed text when it matches nothing, or ""."""

    DEFAULT_CSS = """
    ChoiceField {
        height: auto;
        width: 1fr;
    }
    ChoiceField > OptionList {
        display: none;
        overlay: screen;
        constrain: none inside;
        height: auto;
        max-height: 8;
        width: 1fr;
        min-width: 24;
        border: none;
        background: $panel;
    }
    ChoiceField.-open > OptionList {
        display: block;
    }
    """

    BINDINGS = [
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("pagedown", "move(7)", show=False),
        Binding("pageup", "move(-7)", show=False),
        Binding("escape", "close", show=False),
    ]

    class Changed(Message):
        """The chosen value changed (a code, the unmatched text, or "")."""

        def __init__(self, field: ChoiceField, value: str) -> None:
            super().__init__()
            self.field = field
            self.value = value

        @property
        def control(self) -> ChoiceField:
            return self.field

    def __init__(
        self,
        matcher: Matcher,
        lang: str,
        *,
        show_code: bool = False,
        placeholder: str = "",
        free_text: bool = False,
        id: str | None = None,
    ) -> None:
        """`free_text`: the list only suggests (a referral's reason); Tab and Enter take a
        suggestion when the consultant moved to it or the text plainly names it, and keep
        the typed text otherwise."""
        super().__init__(id=id)
        self.matcher = matcher
        self.free_text = free_text
        self._moved = False  # Up/Down since the last key typed
        self.lang = lang
        self.show_code = show_code
        self.placeholder = placeholder
        self.preferred: list[str] = []
        self._by_code = {e.code: e for e in matcher.entries}
        self._value = ""
        self._shown_text = ""  # what the input says for the current value
        # (typed text, code) when Tab or Enter took a match the text hardly supports.
        self.doubtful: tuple[str, str] | None = None
        self._quiet_focus = False

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder=self.placeholder,
            id=f"{self.id}-input" if self.id else None,
            compact=True,
            select_on_focus=True,
        )
        options = OptionList(compact=True)
        options.can_focus = False  # Tab goes from field to field, never into the list
        yield options

    # ---- value ----

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self._value

    def label_of(self, code: str) -> str:
        entry = self._by_code.get(code)
        return entry.label(self.lang) if entry else code

    def set_value(self, value: str, *, notify: bool = False) -> None:
        """Show `value` (a code, or text that matched nothing)."""
        value = value or ""
        changed = value != self._value
        self._value = value
        self._show()
        if changed and notify:
            self.post_message(self.Changed(self, value))

    def _show(self) -> None:
        """The value's name in the input: whole while the consultant is in the field (selected:
        the next key replaces it), else cut to the field's width with an ellipsis."""
        text = self.label_of(self._value) if self._value else ""
        focused = self.input.has_focus
        width = self.input.size.width
        if not focused and width > 1 and cell_len(text) > width:
            cut = Text(text)
            cut.truncate(width, overflow="ellipsis")  # a visible cut
            text = cut.plain
        self._shown_text = text
        with self.input.prevent(Input.Changed):
            self.input.value = text
            if focused:
                self.input.selection = Selection(0, len(text))
            else:
                self.input.cursor_position = 0  # the start of the name in view

    def set_matcher(self, matcher: Matcher) -> None:
        """Other entries to choose from (the reasons of another organisation)."""
        self.matcher = matcher
        self._by_code = {e.code: e for e in matcher.entries}
        if self.has_class("-open"):
            self._refill()

    def propose(self, code: str) -> None:
        """Fill in a likely value (shown as a proposal until the consultant takes or changes it)."""
        self.set_value(code)
        self.set_class(bool(code), "-proposed")
        if self.has_class("-open"):
            self._refill()  # the list shows the proposal highlighted

    @property
    def proposed(self) -> bool:
        return self.has_class("-proposed")

    def set_preferred(self, codes: Sequence[str]) -> None:
        """Codes listed first with nothing typed, and ranked first among equal matches."""
        self.preferred = [c for c in dict.fromkeys(codes) if c in self._by_code]
        if self.has_class("-open"):
            self._refill()

    @property
    def typing(self) -> bool:
        """Whether the input holds text that is not yet a choice."""
        return self.input.value != self._shown_text

    def focus(self, scroll_visible: bool = True, *, open_list: bool = True) -> ChoiceField:
        """`open_list=False`: the list stays shut until a key (an error under the field must
        stay readable; the list would cover it)."""
        self._quiet_focus = not open_list
        self.input.focus(scroll_visible)
        return self

    @property
    def known(self) -> bool:
        """Whether the value is a code of the list (or empty)."""
        return not self._value or self._value in self._by_code

    # ---- the list ----

    def _option(self, entry: Entry) -> Option:
        text = entry.label(self.lang)
        if self.show_code:
            text = f"{text} · {entry.code}"
        return Option(text, id=entry.code)

    def _refill(self) -> None:
        query = self.input.value if self.typing else ""
        options = self.query_one(OptionList)
        if query.strip():
            entries = [m.entry for m in self.matcher.search(query, LIST_LIMIT, self.preferred)]
        else:
            first = [self._by_code[c] for c in self.preferred]
            rest = sorted(
                (e for e in self.matcher.entries if e.code not in self.preferred),
                key=lambda e: e.label(self.lang).casefold(),
            )
            entries = first + rest
        # One option per code: a code listed twice in the data must not break the field.
        unique: dict[str, Entry] = {}
        for entry in entries:
            unique.setdefault(entry.code, entry)
        entries = list(unique.values())
        options.set_options(self._option(e) for e in entries)
        if not entries:
            if query.strip() and not self.free_text:
                # Said, not left blank (a free text field keeps what is typed: nothing to say).
                options.add_option(Option(self.app.tr("topics.nothing_found"), disabled=True))
            return
        codes = [e.code for e in entries]
        if query.strip():
            options.highlighted = 0
        elif self._value in codes:
            options.highlighted = codes.index(self._value)
        else:
            options.highlighted = None  # nothing typed: Enter does not pick for the consultant

    def _open(self) -> None:
        self.add_class("-open")
        self._refill()

    def action_close(self) -> None:
        self.remove_class("-open")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # With the list closed, Escape means what it means on the screen (leave, cancel).
        return action != "close" or self.has_class("-open")

    def action_move(self, step: int) -> None:
        self._moved = True
        if not self.has_class("-open"):
            self._open()
        options = self.query_one(OptionList)
        if options.option_count == 0:
            return
        current = options.highlighted
        if current is None:
            options.highlighted = 0 if step > 0 else options.option_count - 1
        else:
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    @property
    def highlighted_code(self) -> str | None:
        options = self.query_one(OptionList)
        if not self.has_class("-open") or options.highlighted is None:
            return None
        return options.get_option_at_index(options.highlighted).id

    def commit(self) -> None:
        """Take the highlighted match; typed text that matches nothing stays as it is."""
        code = self.highlighted_code
        text = self.input.value.strip()
        if self.typing:
            self.doubtful = None
            if code is None and text and not self.free_text:
                best = self.matcher.best(text, self.preferred)
                code = best.code if best is not None else None
            if code is not None and text and self._score(text, code) < SURE_SCORE:
                if self.free_text and not self._moved:
                    code = None  # a suggestion the text does not plainly name: the text stays
                else:
                    self.doubtful = (text, code)
        if code is not None and (self.typing or code != self._value):
            self.set_value(code, notify=True)
        elif self.typing:
            if not text:
                self.set_value("", notify=True)
            else:
                self._value = text  # kept as typed; the form names it an unknown choice
                self._show()
                self.post_message(self.Changed(self, text))
        self.remove_class("-open")

    def _score(self, text: str, code: str) -> float:
        hits = {m.code: m.score for m in self.matcher.search(text, LIST_LIMIT, self.preferred)}
        return hits.get(code, 0.0)

    # ---- events ----

    @on(DescendantFocus)
    def _focused(self, event: DescendantFocus) -> None:
        if not self.typing:
            self._show()  # the whole name again, where it was cut
        if self._quiet_focus:
            self._quiet_focus = False
            return
        self._open()

    @on(DescendantBlur)
    def _blurred(self, event: DescendantBlur) -> None:
        # Tab, Shift+Tab, a click elsewhere or a jump key: the best match is taken, and a
        # proposal the consultant passed over is theirs now.
        self.commit()
        self.remove_class("-proposed")
        self._show()

    def on_resize(self) -> None:
        if not self.typing:
            self._show()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._moved = False
        self.remove_class("-proposed")
        if not self.has_class("-open"):
            self.add_class("-open")
        self._refill()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        # Not stopped: the form moves on to the next field, as Enter does everywhere.
        self.commit()

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.set_value(event.option.id, notify=True)
        self.remove_class("-open")
