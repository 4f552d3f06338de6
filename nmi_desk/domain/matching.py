"""One matcher for everything a consultant picks by typing: topics, organisations, countries,
languages and the short lists (how the client came, outcome, channel, location).

What a consultant types is rarely the label: a verb ("verhuizen" for Verhuizing), an English
word ("health"), a code ("TR"), an old name ("Türkiye"), a typo ("pensoen"). Each entry is
matched word by word against its code, Dutch and English labels and synonyms:

- a whole word, or the same word form (Snowball's Dutch and English stemmers), ranks first,
  so "car" finds "... and car" before "Care abroad";
- then the start of a word ("verz" for Verzekeringen), then a word inside, then a typo
  (rapidfuzz's edit distance on words of four letters or more);
- every word of the query must match (small words such as "in", "de", "the" may not);
- text is folded with anyascii, so "ozturk" finds "Öztürk", "Cakir" finds "Çakır" and Arabic
  script is compared by its Latin transliteration.

Plain Python, no Textual: the TUI's pickers and `nmi-desk topics search` use the same code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from nmi_desk.core.folding import fold
from nmi_desk.domain.reference.files import Entry, Reference, shipped_reference

# Words that carry no meaning in a picker query ("zorg in marokko", "move to turkey").
STOPWORDS = frozenset(
    "de het een en in naar van voor met bij op aan om te uit over the a an and to of for with at on".split()
)

# How much a hit in each part of an entry counts.
_FIELD_WEIGHT = {"code": 1.0, "label": 1.0, "synonym": 0.92, "handles": 0.75}
_WORD = re.compile(r"[0-9a-z]+")


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@lru_cache(maxsize=1)
def _stemmers():

    return snowballstemmer.stemmer("dutch"), snowballstemmer.stemmer("english")


@lru_cache(maxsize=8192)
def stems(word: str) -> frozenset[str]:
    """The word's Dutch and English stems (either may be the right language)."""
    if len(word) < 4:
        return frozenset((word,))
    dutch, english = _stemmers()
    return frozenset((dutch.stemWord(word), english.stemWord(word)))


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float  # 0..100, higher is better

    @property
    def code(self) -> str:
        return self.entry.code


@dataclass(frozen=True)
class _Term:
    word: str
    stems: frozenset[str]
    weight: float


@dataclass(frozen=True)
class _Indexed:
    entry: Entry
    terms: tuple[_Term, ...]
    phrases: tuple[str, ...]  # folded whole labels and synonyms, for exact-phrase hits


def _index(entry: Entry) -> _Indexed:
    parts: list[tuple[str, str]] = [("code", entry.code), ("label", entry.nl), ("label", entry.en)]
    parts += [("synonym", s) for s in entry.synonyms]
    if entry.handles:
        parts.append(("handles", entry.handles))
    seen: dict[str, _Term] = {}
    phrases = []
    for kind, text in parts:
        if not text:
            continue
        if kind != "handles":
            phrases.append(" ".join(words(text)))
        for w in words(text):
            weight = _FIELD_WEIGHT[kind]
            if w not in seen or seen[w].weight < weight:
                seen[w] = _Term(w, stems(w), weight)
    return _Indexed(entry, tuple(seen.values()), tuple(p for p in phrases if p))


def _word_score(query: str, query_stems: frozenset[str], term: _Term) -> float:
    word = term.word
    if query == word:
        return 100.0
    if query_stems & term.stems:
        return 95.0
    if word.startswith(query):
        # The closer the prefix is to the whole word, the better ("aow" for AOW ahead of nothing).
        return 70.0 + 20.0 * len(query) / len(word)
    if len(query) >= 4 and word.startswith(tuple(query_stems)):
        return 75.0  # "verhuizen" -> stem "verhuiz" starts "verhuizing"
    if len(query) >= 3 and query in word:
        return 55.0
    if len(query) >= 4 and len(word) >= 4:
        from rapidfuzz.distance import OSA

        distance = OSA.distance(
            query, word[: len(query) + 1] if len(word) > len(query) + 2 else word
        )
        allowed = 1 if len(query) < 7 else 2
        if distance <= allowed:
            return 50.0 - 10.0 * distance
    return 0.0


class Matcher:
    """Ranks a fixed set of entries for a typed query. Build once per list; search per key."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._items = tuple(_index(e) for e in entries)

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(i.entry for i in self._items)

    def search(
        self,
        query: str,
        limit: int | None = None,
        prefer: Sequence[str] | Mapping[str, float] = (),
    ) -> list[Match]:
        """Best first. `prefer`: codes to put first among equals (most used here, last used);
        an empty query lists every entry, preferred ones first."""
        order = _preference(prefer)
        query_words = words(query)
        meaningful = [w for w in query_words if w not in STOPWORDS] or query_words
        phrase = " ".join(query_words)
        scored: list[tuple[float, float, int, Entry]] = []
        for position, item in enumerate(self._items):
            if not meaningful:
                score = 0.0
            else:
                score = self._score(item, meaningful, phrase)
                if score <= 0:
                    continue
            scored.append((-score, -order.get(item.entry.code, 0.0), position, item.entry))
        scored.sort(key=lambda row: row[:3])
        out = [Match(entry, round(-neg, 1)) for neg, _, _, entry in scored]
        return out[:limit] if limit else out

    def best(self, query: str, prefer: Sequence[str] | Mapping[str, float] = ()) -> Entry | None:
        hits = self.search(query, 1, prefer)
        return hits[0].entry if hits and words(query) else None

    @staticmethod
    def _score(item: _Indexed, query_words: list[str], phrase: str) -> float:
        total = 0.0
        for q in query_words:
            q_stems = stems(q)
            best = max((_word_score(q, q_stems, t) * t.weight for t in item.terms), default=0.0)
            if best <= 0:
                return 0.0
            total += best
        # Words count for 90 of the 100; the rest goes to typing a whole label or synonym
        # ("nederland" is Nederland before Caribisch Nederland) or the start of one.
        score = 0.9 * total / len(query_words)
        if phrase in item.phrases:
            score += 10.0
        elif any(p.startswith(phrase) for p in item.phrases):
            score += 4.0
        return score


def _preference(prefer: Sequence[str] | Mapping[str, float]) -> dict[str, float]:
    if isinstance(prefer, Mapping):
        return dict(prefer)
    n = len(prefer)
    return {code: float(n - i) for i, code in enumerate(prefer)}


def matcher_for(kind: str, ref: Reference | None = None) -> Matcher:
    """The matcher over a reference list: 'topic', 'organisation', 'country', 'location',
    'municipality', or a list name from data/lists.toml ('language', 'came_via', ...). `ref`:
    the reference in use (the desk's); default the shipped files."""

    ref = ref or shipped_reference()
    attr = {
        "topic": "topics",
        "organisation": "organisations",
        "country": "countries",
        "location": "locations",
        "municipality": "municipalities",
    }.get(kind)
    entries = getattr(ref, attr) if attr else ref.lists[kind]
    return _cached_matcher(kind, tuple(entries))


@lru_cache(maxsize=32)
def _cached_matcher(kind: str, entries: tuple[Entry, ...]) -> Matcher:
    return Matcher(entries)
