"""The letter's fixed phrases per language (nmi_desk/locale/letter/<code>.toml).

A catalog is reviewed like code. A language the visit form knows but without a catalog gets
Dutch + English and a line saying so; a code nobody knows is the caller's error.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nmi_desk.core.errors import UserError
from nmi_desk.domain.reference.files import shipped_reference

CATALOG_DIR = Path(__file__).resolve().parent.parent / "locale" / "letter"
RTL = frozenset({"ar", "fa", "he", "ur"})  # written right to left
FALLBACK = "en"
KEYS = (
    "language",
    "title",
    "intro",
    "ask",
    "note",
    "bring",
    "follow_up",
    "address",
    "by_appointment",
    "own_contact",
    "phone",
    "website",
    "date",
    "location",
    "consultant",
)


@cache
def phrases(lang: str) -> dict[str, str]:
    path = CATALOG_DIR / f"{lang}.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        return {k: str(v) for k, v in tomllib.load(handle).items()}


@cache
def supported_languages() -> tuple[str, ...]:
    """Codes with a reviewed catalog, Dutch first."""
    codes = sorted(p.stem for p in CATALOG_DIR.glob("*.toml"))
    return tuple(["nl"] + [c for c in codes if c != "nl"])


@dataclass(frozen=True)
class LetterLanguage:
    requested: str  # what the visit or the caller asked for
    client: str  # the catalog used beside Dutch ("nl" = Dutch only)
    fallback: bool  # no catalog for `requested`: English instead, said on the page

    @property
    def rtl(self) -> bool:
        return self.client in RTL


def known_language_codes() -> set[str]:

    return shipped_reference().list_codes("language") - {"other"}


def resolve_language(code: str | None) -> LetterLanguage:
    """The letter's second language for an ISO 639-1 code (None: English beside Dutch)."""
    if not code or code == "other":
        return LetterLanguage(code or "", FALLBACK, False)
    code = code.strip().lower()
    if code in supported_languages():
        return LetterLanguage(code, code, False)
    if code in known_language_codes():
        return LetterLanguage(code, FALLBACK, True)
    raise UserError.of(
        "errors.letter.unknown_language", code=code, known=", ".join(supported_languages())
    )


def language_name(code: str, lang: str) -> str:
    """A language's name in Dutch or English (for the fallback line)."""

    for entry in shipped_reference().lists.get("language", ()):
        if entry.code == code:
            return entry.label(lang)
    own = phrases(code).get("language")
    return own or code
