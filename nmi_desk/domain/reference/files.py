"""Reference data (topics, organisations, locations, countries, lists) from the TOML files in data/.

Plain Python, no database and no Textual: the TUI, the CLI and the loader into the database
all read it through here.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from nmi_desk.core.paths import shipped_data_dir


@dataclass(frozen=True)
class Entry:
    code: str
    nl: str
    en: str
    parent: str | None = None
    synonyms: tuple[str, ...] = ()
    handles: str = ""
    opens: str = ""
    closes: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def label(self, lang: str = "nl") -> str:
        return self.en if lang == "en" and self.en else self.nl

    def valid_on(self, day: date) -> bool:
        """Whether the entry exists on `day` (`valid_from`/`valid_until` in the data file: a
        municipality merged into another, an organisation that closed)."""
        since, until = self.extra.get("valid_from"), self.extra.get("valid_until")
        return not (isinstance(since, date) and day < since) and not (
            isinstance(until, date) and day > until
        )

    @property
    def successor(self) -> str | None:
        """The code that took this entry's place when it ended (`successor`), if any."""
        value = self.extra.get("successor")
        return str(value) if value else None

    def short_label(self, lang: str = "nl") -> str:
        """The name a busy table shows: `short` (or `short_en`) from the data file, else the
        abbreviation in the label's brackets ("Sociale Verzekeringsbank (SVB)"), else the label."""
        short = (self.extra.get("short_en") if lang == "en" else None) or self.extra.get("short")
        if short:
            return str(short)
        label = self.label(lang)
        if label.endswith(")") and "(" in label:
            inner = label[label.rindex("(") + 1 : -1]
            if inner and " " not in inner:
                return inner
        return label


KINDS = {
    "topic": "topics.toml",
    "organisation": "organisations.toml",
    "location": "locations.toml",
    "country": "countries.toml",
}


def _read(path: Path, key: str) -> list[Entry]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    out = []
    for row in data.get(key, []):
        row = dict(row)
        out.append(
            Entry(
                code=row.pop("code"),
                nl=row.pop("nl"),
                en=row.pop("en", ""),
                parent=row.pop("parent", None),
                synonyms=tuple(row.pop("synonyms", ())),
                handles=row.pop("handles", ""),
                opens=row.pop("opens", ""),
                closes=row.pop("closes", ""),
                extra=row,
            )
        )
    return out


class _Deferred(Sequence):
    """A reference file's entries, read on first use. Today's first frame needs the topics,
    locations and lists, not the 250 countries (most of the parse time at start-up)."""

    def __init__(self, path: Path, key: str) -> None:
        self._path, self._key = path, key
        self._entries: tuple[Entry, ...] | None = None

    def _load(self) -> tuple[Entry, ...]:
        if self._entries is None:
            self._entries = tuple(_read(self._path, self._key))
        return self._entries

    def __getitem__(self, index):
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self):
        return iter(self._load())

    def __eq__(self, other) -> bool:
        if isinstance(other, _Deferred | tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._load())


@dataclass(frozen=True)
class Reference:
    topics: tuple[Entry, ...]
    organisations: Sequence[Entry]  # tuple, or read on first use (_Deferred)
    locations: tuple[Entry, ...]
    countries: Sequence[Entry]
    lists: dict[str, tuple[Entry, ...]]
    # CBS municipalities (data/municipalities.toml): where an information session was held.
    # Shipped only, never published centrally: the list changes once a year, with a release.
    municipalities: Sequence[Entry] = ()

    def by_code(self, kind: str) -> dict[str, Entry]:
        return {e.code: e for e in getattr(self, kind)}

    def topic_codes(self) -> set[str]:
        return {t.code for t in self.topics}

    def organisation_codes(self) -> set[str]:
        return {o.code for o in self.organisations}

    def location_codes(self) -> set[str]:
        return {loc.code for loc in self.locations}

    def country_codes(self) -> set[str]:
        return {c.code for c in self.countries}

    def municipality_codes(self, on: date | None = None) -> set[str]:
        """Every municipality code; with `on`, those that existed on that day."""
        return {m.code for m in self.municipalities if on is None or m.valid_on(on)}

    def list_codes(self, name: str) -> set[str]:
        return {e.code for e in self.lists[name]}

    def entries(self, source: str) -> Sequence[Entry]:
        """The entries a statistics dimension's labels come from (store.dimensions `labels`):
        a kind ("topics", "countries", ...), "list:<name>", or "" for none."""
        if not source:
            return ()
        if source.startswith("list:"):
            return self.lists.get(source.removeprefix("list:"), ())
        return getattr(self, source)


def load_reference(root: Path | None = None) -> Reference:
    root = root or shipped_data_dir()
    with (root / "lists.toml").open("rb") as handle:
        raw_lists = tomllib.load(handle)
    lists = {
        name: tuple(
            Entry(
                code=r["code"],
                nl=r["nl"],
                en=r.get("en", ""),
                synonyms=tuple(r.get("synonyms", ())),
            )
            for r in rows
        )
        for name, rows in raw_lists.items()
    }
    return Reference(
        topics=tuple(_read(root / "topics.toml", "topic")),
        organisations=_Deferred(root / "organisations.toml", "organisation"),
        locations=tuple(_read(root / "locations.toml", "location")),
        countries=_Deferred(root / "countries.toml", "country"),
        lists=lists,
        municipalities=_Deferred(root / "municipalities.toml", "municipality"),
    )


@cache
def shipped_reference() -> Reference:
    """The reference data shipped in data/, read once per process."""
    return load_reference()


def labels_for(ref: Reference, source: str, lang: str) -> dict[str, str]:
    """Code -> label for a statistics dimension's label source."""
    return {e.code: e.label(lang) for e in ref.entries(source)}


@cache
def country_languages() -> dict[str, str]:
    """Country code -> the language proposed for its clients before this location has chosen
    one (data/country_languages.toml, from CLDR; read once per process)."""
    with (shipped_data_dir() / "country_languages.toml").open("rb") as handle:
        return dict(tomllib.load(handle)["language_of_country"])


@dataclass(frozen=True)
class ReferralReason:
    """A standard referral reason (data/referral_reasons.toml): what the client should ask."""

    code: str
    organisation: str
    texts: dict[str, str]  # language code -> text; "nl" always
    source: str
    checked: date | None

    @property
    def nl(self) -> str:
        return self.texts["nl"]

    def text(self, lang: str) -> str | None:
        return self.texts.get(lang)

    def entry(self) -> Entry:
        """As a choice for the matcher: Dutch and English names."""
        return Entry(code=self.code, nl=self.nl, en=self.texts.get("en", ""))


@cache
def referral_reasons() -> tuple[ReferralReason, ...]:
    """Every standard referral reason, in the file's order (read once per process)."""
    with (shipped_data_dir() / "referral_reasons.toml").open("rb") as handle:
        rows = tomllib.load(handle).get("reason", [])
    meta = ("code", "organisation", "source", "checked")
    return tuple(
        ReferralReason(
            code=row["code"],
            organisation=row["organisation"],
            texts={k: v for k, v in row.items() if k not in meta},
            source=row.get("source", ""),
            checked=row.get("checked"),
        )
        for row in rows
    )


def reasons_for(organisation: str) -> tuple[ReferralReason, ...]:
    return tuple(r for r in referral_reasons() if r.organisation == organisation)


def reason_by_code(code: str) -> ReferralReason | None:
    return next((r for r in referral_reasons() if r.code == code), None)


def standard_reason(text: str | None) -> ReferralReason | None:
    """The standard reason a stored reason is: its Dutch text exactly (as the dialog stores
    it); edited or typed text is the consultant's own and has no translation."""
    wanted = (text or "").strip()
    return next((r for r in referral_reasons() if r.nl == wanted), None) if wanted else None
