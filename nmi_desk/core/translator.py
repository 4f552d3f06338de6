"""A Translator is bound to one language: catalog texts (nmi_desk.core.i18n) and errors
(nmi_desk.core.errors) said in it. The TUI keeps one on the app; the CLI and the report make
one where they need Dutch."""

from __future__ import annotations

from typing import Any

from nmi_desk.core.errors import user_text
from nmi_desk.core.i18n import DEFAULT_LANG, catalog, number, t


class Translator:
    """Bound to one language; the TUI keeps one on the app."""

    def __init__(self, lang: str = DEFAULT_LANG):
        self.lang = lang if lang in ("nl", "en") else DEFAULT_LANG

    def __call__(self, key: str, /, **params: Any) -> str:
        return t(key, self.lang, **params)

    def number(self, value: int) -> str:
        return number(value, self.lang)

    def explain(self, what: BaseException | str | None) -> str:
        """An error (a UserError or any other) or a one-line explanation (a Text from
        nmi_desk.core.errors or store.file_state) in this language: nmi_desk.core.errors.user_text."""
        return user_text(what, self.lang)

    def optional(self, key: str) -> str:
        """The text of `key`, or "" when no catalog has it (unlike a call, which shows the key)."""
        return catalog(self.lang).get(key) or catalog(DEFAULT_LANG).get(key) or ""
