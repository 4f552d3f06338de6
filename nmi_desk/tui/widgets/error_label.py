"""A one-line error under a field: takes no room while empty (small screens need every row)."""

from __future__ import annotations

from textual.widgets import Label


class ErrorLabel(Label):
    DEFAULT_CSS = """
    ErrorLabel {
        color: $error;
        width: 100%;
        height: auto;
    }
    """

    def __init__(self, id: str | None = None, classes: str = "field-error") -> None:
        super().__init__("", id=id, classes=classes)
        self.display = False

    def update(self, content="") -> None:
        super().update(content)
        self.display = bool(content)
