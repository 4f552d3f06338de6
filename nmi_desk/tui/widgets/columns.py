"""Table columns that fit a small laptop screen: fixed widths, one column takes the rest."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

# Cell padding and the scrollbar: what a DataTable needs beyond its columns' widths. One
# column less than this and an empty table shows a horizontal scrollbar thumb.
TABLE_CHROME = 14


def cell(value: str) -> Text:
    """A table cell shown as typed. A plain str cell is read as Textual markup, so a name or
    note with [brackets] would lose text or change style; parsing it also costs time."""
    return Text(value, no_wrap=True, end="")


def add_fitted_columns(
    table: DataTable,
    labels: dict[str, str],
    fixed: dict[str, int],
    flexible: str,
    minimum: int,
    screen_width: int,
) -> None:
    """Add columns in the order of `labels` (key -> header); `flexible` gets what is left."""
    widths = dict(fixed)
    widths[flexible] = max(minimum, screen_width - sum(fixed.values()) - TABLE_CHROME)
    for key, label in labels.items():
        table.add_column(cell(label), key=key, width=widths[key])
