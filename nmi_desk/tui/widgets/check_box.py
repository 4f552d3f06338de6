"""A checkbox whose off state is visibly empty.

Textual's Checkbox draws `▐X▌` on and off and only changes the colour; a consultant who
does not look closely (or a terminal with few colours) reads an unticked box as ticked.
Off shows `▐ ▌`, on `▐X▌`.
"""

from __future__ import annotations

from textual.widgets import Checkbox


class CheckBox(Checkbox):
    @property  # type: ignore[override]
    def BUTTON_INNER(self) -> str:  # noqa: N802 - Textual's name, read as self.BUTTON_INNER
        return "X" if self.value else " "
