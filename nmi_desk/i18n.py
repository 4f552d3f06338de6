"""Message catalogs: what the consultant reads, in Dutch (default) or English.

Catalogs are TOML files in nmi_desk/locale/ (flat `key = "text"` with {placeholders}).
A text that depends on a count has two forms, `key.one` and `key.other` (Dutch and English
both use "one" for exactly 1); `t("key", n=2)` picks the form and writes the count the
language's way (1.234 in Dutch, 1,234 in English).
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


def number(value: int, lang: str = DEFAULT_LANG) -> str:
    """A whole number with the language's thousands separator."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "nl" else text


def _lookup(key: str, lang: str) -> str | None:
    return catalog(lang).get(key) or catalog(DEFAULT_LANG).get(key)


def t(key: str, lang: str = DEFAULT_LANG, **params) -> str:
    n = params.get("n")
    text = None
    if isinstance(n, int) and not isinstance(n, bool):
        text = _lookup(f"{key}.{'one' if n == 1 else 'other'}", lang)
        if text is not None:
            params = {**params, "n": number(n, lang)}
    text = text or _lookup(key, lang) or key
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

    def number(self, value: int) -> str:
        return number(value, self.lang)

    def optional(self, key: str) -> str:
        """The text of `key`, or "" when no catalog has it (unlike a call, which shows the key)."""
        return catalog(self.lang).get(key) or catalog(DEFAULT_LANG).get(key) or ""
