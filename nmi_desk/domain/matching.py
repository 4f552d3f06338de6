"""One matcher for everything a consultant picks by typing: topics, organisations, countries,
languages and the short lists (how the client came, outcome, channel, location).

What a consultant types is rarely the label: a verb ("verhuizen" for Verhuizing), an English
word ("health"), a code ("TR"), an old name ("Türkiye"), a typo ("pensoen"). Each entry is
matched word by word against its code, Dutch and English labels and synonyms:

- a whole word, or the same word form (Snowball's Dutch and English stemmers), ranks first,
  so "car" finds "... and car" before "Care abroad";
- then the start of a word ("verz" for Verzekeringen), then a word inside, then a typo
  (rapidfuzz's edit distance on words of four letters or more);
- a Dutch compound is also read as its parts when they are words of the list's vocabulary
  ("ziektekosten|verzekering", "huur|huis", "belasting|aangifte"; a linking "s" or "e(n)"
  allowed between them), each part scored like a word and the parts sharing the word's score
  (the last part, the head, a little more): "ziektekostenverzekering" is Verzekeringen
  first (both parts), then Zorg in het buitenland (ziektekosten);
- several words need not all match: an entry scores the average of its words' scores (a word
  it does not match counts 0), each word weighted by how few entries it finds, so the
  entries that match most of the words come first and one that matches some still shows
  ("huurhuis opzeggen", "studieschuld buitenland"); small words such as "in", "de", "the" are
  ignored, and a last word of one or two letters (being typed) only adds to a score;
- an entry whose route is closed to new applications (`closed_to_new` in the data, the
  Remigratiewet since 1 January 2025) ranks below the open entries that match about as well;
- text is folded with anyascii, so "ozturk" finds "Öztürk", "Cakir" finds "Çakır" and Arabic
  script is compared by its Latin transliteration.

Plain Python, no Textual: the TUI's pickers and `nmi-desk topics search` use the same code.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
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

# How much a hit in each part of an entry counts. A word of a synonym of several words ("vrijwillige verzekering") says less about the entry
# than a synonym of one word: "verzekering" is Verzekeringen before the AOW.
_FIELD_WEIGHT = {"code": 1.0, "label": 1.0, "synonym": 0.92, "phrase": 0.86, "handles": 0.75}
_WORD = re.compile(r"[0-9a-z]+")

# The head of a compound (the last part, what the thing is) counts this much more than an
# equally specific part before it, so it wins a tie: "huisarts" is Zorg (arts), then Wonen.
_HEAD_EXTRA = 0.02
# A word read as its parts scores a little under the same parts typed as one known word.
_COMPOUND = 0.95
# Linking letters a Dutch compound may have after a part ("staat|s|pensioen", "pann|en|koek").
_LINKS = ("s", "en", "e")
# A part of a compound the vocabulary does not know still counts as a part from this length
# ("aow|aanvraag": the head unknown, the AOW found), so a word is not split at random.
_UNKNOWN_PART = 4
# The factor on the score of an entry closed to new applications: below an open entry that
# matches as well or somewhat less well, still in the list (it is asked about).
_CLOSED = 0.7
# A word's score from which it counts as found well (a whole word, a word form, a start).
_STRONG = 70.0


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@lru_cache(maxsize=1)
def _stemmers():

    return snowballstemmer.stemmer("dutch"), snowballstemmer.stemmer("english")


@lru_cache(maxsize=1)
def _osa():
    # Imported on the first typo check, once (not on every word compared).
    from rapidfuzz.distance import OSA

    return OSA


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
    parts += [("synonym" if len(words(s)) == 1 else "phrase", s) for s in entry.synonyms]
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
        distance = _osa().distance(
            query, word[: len(query) + 1] if len(word) > len(query) + 2 else word
        )
        allowed = 1 if len(query) < 7 else 2
        if distance <= allowed:
            return 50.0 - 10.0 * distance
    return 0.0


def _best(item: _Indexed, word: str, word_stems: frozenset[str]) -> float:
    """The word's best score over an entry's words."""
    return max((_word_score(word, word_stems, t) * t.weight for t in item.terms), default=0.0)


class Matcher:
    """Ranks a fixed set of entries for a typed query. Build once per list; search per key."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._items = tuple(_index(e) for e in entries)
        self._closed = frozenset(
            i.entry.code for i in self._items if i.entry.extra.get("closed_to_new")
        )
        # The words a compound may be split into: every word of every entry, of three letters
        # or more, not a stopword; their stems for a head typed in another form ("huizen").
        self._vocab = frozenset(
            t.word
            for i in self._items
            for t in i.terms
            if len(t.word) >= 3 and t.word not in STOPWORDS and not t.word.isdigit()
        )
        self._vocab_stems = frozenset(s for w in self._vocab for s in stems(w))
        self._vocab_sorted = sorted(self._vocab)
        self._splits: dict[str, tuple[tuple[str, bool], ...]] = {}
        # A word's scores, kept while typing on: "verenigd k", "verenigd ko", ... score
        # "verenigd" once.
        self._word_cache: dict[str, tuple[float, ...]] = {}

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
        scores = self._scores(meaningful, phrase) if meaningful else None
        scored: list[tuple[float, float, int, Entry]] = []
        for position, item in enumerate(self._items):
            score = scores[position] if scores is not None else 0.0
            if scores is not None and score <= 0:
                continue
            scored.append((-score, -order.get(item.entry.code, 0.0), position, item.entry))
        scored.sort(key=lambda row: row[:3])
        out = [Match(entry, round(-neg, 1)) for neg, _, _, entry in scored]
        return out[:limit] if limit else out

    def best(self, query: str, prefer: Sequence[str] | Mapping[str, float] = ()) -> Entry | None:
        hits = self.search(query, 1, prefer)
        return hits[0].entry if hits and words(query) else None

    def _scores(self, query_words: list[str], phrase: str) -> list[float]:
        """Every entry's score (0: not found) for the meaningful words of a query."""
        per_word = [self._word_scores(q) for q in query_words]
        weights = [self._specificity(got) for got in per_word]
        total_weight = sum(weights)
        # The last word, of one or two letters beside others, is being typed ("kinderen s"):
        # it adds to a score but does not find an entry on its own.
        typing_on = len(query_words) > 1 and len(query_words[-1]) <= 2
        finding = per_word[:-1] if typing_on else per_word
        out = []
        for position, item in enumerate(self._items):
            if not any(got[position] > 0 for got in finding):
                out.append(0.0)
                continue
            # Words count for 90 of the 100, a word not found as 0: the entries that match
            # most of the words come first. The rest goes to typing a whole label or synonym
            # ("nederland" is Nederland before Caribisch Nederland) or the start of one.
            total = sum(w * got[position] for w, got in zip(weights, per_word, strict=True))
            score = 0.9 * total / total_weight
            if phrase in item.phrases:
                score += 10.0
            elif any(p.startswith(phrase) for p in item.phrases):
                score += 4.0
            if item.entry.code in self._closed:
                score *= _CLOSED
            out.append(score)
        return out

    def _specificity(self, scores: Sequence[float]) -> float:
        """How much a word (or a compound's part) counts beside others: the fewer entries it
        finds well, the more. "buitenland" is in many topics, "studieschuld" in one, so
        "studieschuld buitenland" is Onderwijs before Zorg in het buitenland. Damped (half
        the log), so a specific word in a synonym does not outweigh a plain word of a label
        ("zorg suriname" is still Zorg). A word found nowhere counts as the most specific."""
        found = sum(1 for s in scores if s >= _STRONG)
        # max(1, ...): an empty list (an organisation without standard reasons) has no log.
        return 1.0 + 0.5 * math.log(max(1, len(self._items)) / max(1, found))

    def _word_scores(self, q: str) -> tuple[float, ...]:
        """One query word's best score in each entry: the word whole, or its compound parts."""
        got = self._word_cache.get(q)
        if got is None:
            got = tuple(self._score_word(q))
            if len(self._word_cache) > 1024:
                self._word_cache.clear()
            self._word_cache[q] = got
        return got

    def _score_word(self, q: str) -> list[float]:
        q_stems = stems(q)
        out = [_best(item, q, q_stems) for item in self._items]
        parts = self._split(q)
        if parts:
            # Parts: whole words, word forms and starts of words only (a part is short; found
            # inside another word or as a typo it is mostly chance).
            per_part = []
            for w, known in parts:
                w_stems = stems(w)
                per_part.append(
                    [s if known and (s := _best(item, w, w_stems)) >= _STRONG else 0.0
                     for item in self._items]
                )  # fmt: skip
            # The parts share the word's score by how specific each is ("arbeidsongeschiktheid"
            # over "uitkering"), the head (the last part: what the thing is) a little more.
            weights = [self._specificity(got) for got in per_part]
            weights[-1] *= 1.0 + _HEAD_EXTRA
            total = sum(weights)
            for position in range(len(out)):
                compound = sum(w * got[position] for w, got in zip(weights, per_part, strict=True))
                out[position] = max(out[position], _COMPOUND * compound / total)
        return out

    def _split(self, word: str) -> tuple[tuple[str, bool], ...]:
        """The word as a compound of vocabulary words, head last, each part with whether the
        vocabulary knows it; () if it is not a compound."""
        got = self._splits.get(word)
        if got is None:
            got = self._find_split(word)
            if len(self._splits) > 4096:
                self._splits.clear()
            self._splits[word] = got
        return got

    def _find_split(self, word: str) -> tuple[tuple[str, bool], ...]:
        if len(word) < 6 or word.isdigit():
            return ()
        best: tuple[int, int, list[tuple[str, bool]]] | None = None  # known letters, -parts

        def heads(rest: str) -> bool:
            return (
                rest in self._vocab
                or bool(stems(rest) & self._vocab_stems)
                or (len(rest) >= 3 and self._starts_a_word(rest))
            )

        def walk(at: int, parts: list[tuple[str, bool]]) -> None:
            nonlocal best
            rest = word[at:]
            if parts and len(parts) < 4:
                if heads(rest) or len(rest) >= _UNKNOWN_PART:
                    done = parts + [(rest, heads(rest))]
                    known = sum(len(p) for p, k in done if k)
                    if any(k for _, k in done):
                        key = (known, -len(done), done)
                        if best is None or key[:2] > best[:2]:
                            best = key
            if len(parts) >= 3:
                return
            for end in range(at + 3, len(word) - 2):
                part = word[at:end]
                if part in self._vocab:
                    for link in ("", *_LINKS):
                        if word.startswith(link, end) and len(word) - end - len(link) >= 3:
                            walk(end + len(link), parts + [(part, True)])
            if not parts:
                # An unknown first part before a known rest ("reis|verzekering").
                for end in range(_UNKNOWN_PART, len(word) - 2):
                    if word[end:] in self._vocab or (heads(word[end:]) and len(word) - end >= 5):
                        walk(end, [(word[:end], False)])

        walk(0, [])
        if best is None:
            return ()
        parts = best[2]
        if word in self._vocab:
            # A compound the list knows is found whole as what it is (its head); its parts add
            # what it is about: "zorgverzekering" adds Zorg, "remigratiewet" does not add the
            # WMO's "Wet".
            parts = parts[:-1] + [(parts[-1][0], False)]
        return tuple(parts)

    def _starts_a_word(self, prefix: str) -> bool:
        i = bisect_left(self._vocab_sorted, prefix)
        return i < len(self._vocab_sorted) and self._vocab_sorted[i].startswith(prefix)


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
