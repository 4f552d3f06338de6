"""Table columns that fit a small laptop screen: each column as wide as its content (up to a
cap), one column takes the rest; text that does not fit ends in an ellipsis."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.widgets import DataTable

# Cell padding and the scrollbar: what a DataTable needs beyond its columns' widths. One
# column less than this and an empty table shows a horizontal scrollbar thumb.
TABLE_CHROME = 14
ELLIPSIS = "…"
FLOOR = 8  # a column shrunk for a narrow screen keeps at least this many cells


def fit(value: str, width: int | None) -> str:
    """`value` cut to `width` terminal cells, ending in an ellipsis if anything was cut."""
    if width is None or cell_len(value) <= width:
        return value
    if width <= 1:
        return ELLIPSIS[:width]
    return set_cell_size(value, width - 1).rstrip() + ELLIPSIS


def cell(value: str, width: int | None = None, style: str = "") -> Text:
    """A table cell shown as typed. A plain str cell is read as Textual markup, so a name or
    note with [brackets] would lose text or change style; parsing it also costs time."""
    return Text(fit(value, width), style=style, no_wrap=True, end="")


def content_widths(
    labels: dict[str, str],
    rows: Sequence[Sequence[str]],
    caps: dict[str, int],
    flexible: str,
    minimum: int,
    screen_width: int,
    exact: Sequence[str] = (),
) -> dict[str, int]:
    """Per column key: as wide as its widest value or header (at most its cap). If the screen
    is too narrow for that, the widest columns give up room first, down to `minimum` cells
    for `flexible` and FLOOR for the others; dates and times (`exact`) are never cut. Room
    left over goes to `flexible`."""
    keys = list(labels)
    chrome = 2 * len(keys) + 4  # cell padding and the scrollbar
    widths: dict[str, int] = {}
    for i, key in enumerate(keys):
        widest = max([cell_len(labels[key])] + [cell_len(r[i]) for r in rows])
        widths[key] = min(caps.get(key, widest), widest)
    floor = {
        k: w if k in exact else min(w, minimum if k == flexible else FLOOR)
        for k, w in widths.items()
    }
    widths[flexible] = max(widths[flexible], floor[flexible])
    while sum(widths.values()) + chrome > screen_width:
        key = max(widths, key=lambda k: widths[k] - floor[k])
        if widths[key] <= floor[key]:
            break
        widths[key] -= 1
    widths[flexible] += max(0, screen_width - sum(widths.values()) - chrome)
    return widths


def set_columns(table: DataTable, labels: dict[str, str], widths: dict[str, int]) -> None:
    """(Re)build the table's columns with these widths; rows must be added afterwards."""
    table.clear(columns=True)
    for key, label in labels.items():
        table.add_column(cell(label, widths[key]), key=key, width=widths[key])


def add_fitted_columns(
    table: DataTable,
    labels: dict[str, str],
    fixed: dict[str, int],
    flexible: str,
    minimum: int,
    screen_width: int,
) -> list[int]:
    """Add columns in the order of `labels` (key -> header); `flexible` gets what is left.
    Returns the widths in that order, for `fitted_row`."""
    widths = dict(fixed)
    widths[flexible] = max(minimum, screen_width - sum(fixed.values()) - TABLE_CHROME)
    for key, label in labels.items():
        table.add_column(cell(label, widths[key]), key=key, width=widths[key])
    return [widths[key] for key in labels]


def fitted_row(values: Sequence[str], widths: Sequence[int]) -> list[Text]:
    """A row's cells, each cut to its column with an ellipsis (a DataTable cuts without)."""
    return [cell(value, width) for value, width in zip(values, widths, strict=True)]
