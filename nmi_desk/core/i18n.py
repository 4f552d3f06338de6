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
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LANG = "nl"


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
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


def t(key: str, /, lang: str = DEFAULT_LANG, **params: Any) -> str:
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


class Text(str):
    """A catalog text that is also its English rendering.

    `Text("errors.output_folder", output=p)` is a `str` holding the English text, so code and
    tests that print or compare it (the CLI, logs, the sync record) see plain English; it keeps
    its key and parameters so the TUI can render the same message in the consultant's language
    with `.render(lang)`. A parameter that is itself a Text (a reason inside a message) is
    rendered in the same language; any other value (a path, a command, a driver's own words)
    is shown as it is. Placeholders may use `!r` (`{code!r}`), as in an f-string.
    """

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, /, **params: Any) -> Text:
        self = super().__new__(cls, _render(key, "en", params))
        self.key = key
        self.params = params
        return self

    def render(self, lang: str) -> str:
        return _render(self.key, lang, self.params)

    def map_params(self, change: Callable[[Any], Any]) -> Text:
        """The same text with `change` applied to every plain string parameter, in nested
        texts too (e.g. masking a password a driver's message repeated)."""
        params = {
            name: value.map_params(change)
            if isinstance(value, Text)
            else change(value)
            if isinstance(value, str)
            else value
            for name, value in self.params.items()
        }
        return Text(self.key, **params)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_text, (self.key, self.params))

    def to_json(self) -> str:
        """Key and parameters, to be stored (values other than numbers become strings)."""
        import json

        return json.dumps(_plain(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, stored: str) -> Text | None:
        """The text `to_json` stored; None when it cannot be read."""
        import json

        try:
            found = _from_plain(json.loads(stored))
            return found if isinstance(found, Text) else None
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def _plain(value: Any) -> Any:
    if isinstance(value, Text):
        return {"key": value.key, "params": {k: _plain(v) for k, v in value.params.items()}}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _from_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return Text(value["key"], **{k: _from_plain(v) for k, v in value["params"].items()})
    return value


def _text(key: str, params: dict[str, Any]) -> Text:
    return Text(key, **params)


def _render(key: str, lang: str, params: dict[str, Any]) -> str:
    shown = {
        name: value.render(lang) if callable(getattr(value, "render", None)) else value
        for name, value in params.items()
    }
    return t(key, lang, **shown)
