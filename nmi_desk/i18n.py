"""Message catalogs: what the consultant reads, in Dutch (default) or English.

Catalogs are TOML files in nmi_desk/locale/ (flat `key = "text"` with {placeholders}).
A key missing in English falls back to Dutch, a key missing everywhere shows the key itself,
so a forgotten translation is visible instead of crashing.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LANG = "nl"


def _flatten(data: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{full}."))
        else:
            out[full] = str(value)
    return out


@cache
def catalog(lang: str) -> dict[str, str]:
    path = LOCALE_DIR / f"{lang}.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        return _flatten(tomllib.load(handle))


def t(key: str, lang: str = DEFAULT_LANG, **params) -> str:
    text = catalog(lang).get(key) or catalog(DEFAULT_LANG).get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


class Translator:
    """Bound to one language; the TUI keeps one on the app."""

    def __init__(self, lang: str = DEFAULT_LANG):
        self.lang = lang if lang in ("nl", "en") else DEFAULT_LANG

    def __call__(self, key: str, **params) -> str:
        return t(key, self.lang, **params)

    def optional(self, key: str) -> str:
        """The text of `key`, or "" when no catalog has it (unlike a call, which shows the key)."""
        return catalog(self.lang).get(key) or catalog(DEFAULT_LANG).get(key) or ""
