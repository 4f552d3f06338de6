"""A horizontal bar chart: one line per (label, count), the bar in eighths of a cell.

Drawn as plain lines of text for the width it has. A Rich Table per chart (the first version)
was measured and laid out again on every refresh and cost ~100 ms for the Day overview's eight
charts on the 2-core machine: most of the time between the figures arriving and the frame
showing them (docs/performance.md, Statistics).
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.widget import Widget

BAR_WIDTH = 16
EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(n: int, most: int, width: int = BAR_WIDTH) -> str:
    """A horizontal bar in eighths of a cell: n relative to the largest count `most`."""
    if most <= 0 or n <= 0:
        return ""
    eighths = max(1, round(n / most * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[rest] if rest else "")


class BarChart(Widget):
    """Rows of `label  bar  count`; the label takes what the bar and the count leave."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.items: list[tuple[str, int]] = []
        self.empty = ""

    def show(self, items: list[tuple[str, int]], empty: str = "") -> None:
        self.items = items
        self.empty = empty
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.items))

    def render(self) -> Text:
        if not self.items:
            return Text(self.empty, style="dim")
        width = self.content_size.width
        most = max(n for _, n in self.items)
        digits = max(len(str(n)) for _, n in self.items)
        label_width = max(1, width - BAR_WIDTH - digits - 2)
        text = Text(no_wrap=True, overflow="crop")
        for i, (label, n) in enumerate(self.items):
            if cell_len(label) > label_width:
                label = set_cell_size(label, label_width - 1) + "…"
            text.append(set_cell_size(label, label_width) + " ")
            text.append(set_cell_size(bar(n, most), BAR_WIDTH), style="bold cyan")
            text.append(f" {n:>{digits}}" + ("\n" if i < len(self.items) - 1 else ""))
        return text
