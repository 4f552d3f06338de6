"""The guidance search index: SQLite FTS5 in its own plain file, and search over it.

The index is a cache derived from the library (shipped files + central overrides + the
reference data whose labels and synonyms it holds). Guidance holds no personal data, so the
index lives in a plain SQLite file beside the desk's database, not in the (encrypted) database:
search works before the passphrase is given. `ensure_index` creates it on first use and
rebuilds it whenever the library's content hash (kept in guidance_meta) changes.

Matching for Dutch consultants:
- diacritics folded and prefix matching (`unicode61 remove_diacritics 2`, prefix indexes);
- synonyms and abbreviations: a query word naming a topic (its labels, code or synonyms in
  data/topics.toml: AOW, WW, PD U2, BRP, RNI, IND ...) scores the articles of that topic; each
  article's key row carries its keywords, organisation codes and names and the names of its
  countries, so "M-biljet", "SVB" or "Turkije" find the right articles;
- typo tolerance: a word the index does not know is matched to the nearest words of titles,
  topics and keywords (rapidfuzz, optimal string alignment: one or two edits), split into two
  known words ("remigratieuitkering"), or stripped of a plural ending;
- ranking: bm25 with column weights over title and keywords, plus topic and text matches
  weighted by inverse document frequency: title first, then topic, keyword, text.

User text never reaches MATCH: it is tokenised here and every term is quoted.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass
from operator import itemgetter

from rapidfuzz import process
from rapidfuzz.distance import OSA

from nmi_desk.domain.reference.files import Reference
from nmi_desk.guidance.library import Article, Library
from nmi_desk.guidance.text import STOPWORDS, fold, fts_string, query_tokens, tokens

INDEX_FORMAT = "8"  # bump when the layout or what goes into a column changes
HASH_KEY = "guidance_index_hash"
META = "guidance_meta"  # key/value: the content hash the index was built from
KEY = "guidance_fts_key"  # short fields: what an article is about
BODY = "guidance_fts_body"  # the article text
TABLES = (KEY, BODY)
# bm25 weights of the key table (unindexed slug, topic codes get 0): title > keywords.
KEY_WEIGHTS = (0.0, 0.0, 10.0, 4.0)
# A word naming one of the article's topics (label, code or synonym from data/topics.toml)
# weighs between a title and a keyword word; a word in the article's text least.
TOPIC_WEIGHT = 6.0
SIDE_TOPIC = 0.5
COUNTRY_WEIGHT = 6.0  # a word naming a country the article is tagged with, as a topic  # a topic listed after the first counts half: the first is what it is about
BODY_WEIGHT = 1.5
COORDINATION = 1.0  # exponent on the share of query words an article matches
COORDINATION_POOL = 60  # best raw scores re-ranked by that share
SHORT_PREFIX_COLUMNS = "{title} : "
COMMON_SHARE = 0.75  # a word in more of the articles' texts than this is not looked up there
CACHE_WORDS = 64  # per-word scores kept; at 2,000 articles a word's scores are ~100 kB
TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'"
DDL = (
    f"CREATE VIRTUAL TABLE {KEY} USING fts5("
    f"slug UNINDEXED, topic_codes UNINDEXED, title, keywords, {TOKENIZE})",
    f"CREATE VIRTUAL TABLE {BODY} USING fts5(body, {TOKENIZE})",
)


@dataclass(frozen=True)
class Hit:
    slug: str
    title: str
    topics: tuple[str, ...]
    score: float


def _distinct_words(phrases: list[str]) -> str:
    """Each word once: the keyword field is a bag of words (keywords, organisation and country
    names), where a repeated word would only make ranking slower, not better."""
    return " ".join(dict.fromkeys(tokens(" ".join(phrases))))


def _row(article: Article, ref: Reference) -> tuple[tuple[str, ...], str]:
    orgs = ref.by_code("organisations")
    countries = ref.by_code("countries")
    keyword_words = list(article.keywords)
    for code in article.organisations:
        entry = orgs.get(code)
        keyword_words += [code, entry.nl] if entry is not None else [code]
    for code in article.countries:
        entry = countries.get(code)
        if entry is not None:
            keyword_words += [entry.nl, entry.en]
    body = "\n".join([article.status, article.body, *(s.name for s in article.sources)])
    return (
        (
            article.slug,
            " ".join(article.topics),
            f"{article.title} {article.title_en}".strip(),
            _distinct_words(keyword_words),
        ),
        body,
    )


def reference_digest(ref_root) -> bytes:
    """The reference files whose labels and synonyms go into the index, plus the layout."""
    parts = [INDEX_FORMAT.encode()]
    for name in ("topics.toml", "organisations.toml", "countries.toml"):
        parts.append((ref_root / name).read_bytes())
    return b"\0".join(parts)


def _stored_hash(conn: sqlite3.Connection) -> str | None:
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (META,)).fetchone():
        return None
    row = conn.execute(f"SELECT value FROM {META} WHERE key = ?", (HASH_KEY,)).fetchone()
    return row[0] if row else None


def _has_table(conn: sqlite3.Connection) -> bool:
    found = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE name IN (?, ?)", TABLES
    ).fetchone()[0]
    return found == len(TABLES)


def ensure_index(conn: sqlite3.Connection, library: Library, ref: Reference) -> bool:
    """Build the index if it is missing or stale; True when it was (re)built."""
    if _has_table(conn) and _stored_hash(conn) == library.digest:
        return False
    # IMMEDIATE: a second process (CLI while the TUI runs) waits instead of building twice.
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _has_table(conn) and _stored_hash(conn) == library.digest:
            conn.execute("ROLLBACK")
            return False
        build_index(conn, library, ref)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {META} (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute(
            f"INSERT INTO {META} (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (HASH_KEY, library.digest),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


def build_index(conn: sqlite3.Connection, library: Library, ref: Reference) -> None:
    """Drop and fill the FTS tables (inside the caller's transaction); rowids line up."""
    for table in TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    for ddl in DDL:
        conn.execute(ddl)
    rows = [(n, *_row(a, ref)) for n, a in enumerate(library.articles.values(), 1)]
    conn.executemany(
        f"INSERT INTO {KEY} (rowid, slug, topic_codes, title, keywords) VALUES (?, ?, ?, ?, ?)",
        ((rowid, *key) for rowid, key, _ in rows),
    )
    conn.executemany(
        f"INSERT INTO {BODY} (rowid, body) VALUES (?, ?)",
        ((rowid, body) for rowid, _, body in rows),
    )
    for table in TABLES:
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")


class Vocabulary:
    """The index's words, for deciding how to match each query word."""

    def __init__(self, conn: sqlite3.Connection, ref: Reference) -> None:
        # Topic words are matched here, not in FTS5: every article carries the synonyms of
        # its topics, and ranking that repeated text per article was most of a search's cost.
        self.topic_words: dict[str, set[str]] = {}
        for topic in ref.topics:
            for word in tokens(" ".join([topic.nl, topic.en, topic.code, *topic.synonyms])):
                self.topic_words.setdefault(word, set()).add(topic.code)
        self.topic_sorted = sorted(self.topic_words)
        # Country names: a word naming one country only ("marokko", "tunisia", "herzegovina";
        # not "noord", "nederland" or "staten", which are in several names).
        owners: dict[str, set[str]] = {}
        for country in ref.countries:
            for word in tokens(" ".join([country.nl, country.en])):
                owners.setdefault(word, set()).add(country.code)
        self.country_words = {
            w: codes.pop()
            for w, codes in owners.items()
            if len(codes) == 1 and len(w) > 2 and w not in STOPWORDS
        }
        self.country_sorted = sorted(self.country_words)
        # fts5vocab in the temp schema: per connection, never part of the database's schema.
        rows = []
        for table in TABLES:
            conn.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.guidance_vocab "
                f"USING fts5vocab(main, {table}, col)"
            )
            rows += conn.execute("SELECT term, col, doc FROM temp.guidance_vocab").fetchall()
            conn.execute("DROP TABLE temp.guidance_vocab")
        self.documents = conn.execute(f"SELECT count(*) FROM {KEY}").fetchone()[0]
        # In how many articles' text each word occurs.
        self.body_df = {term: doc for term, col, doc in rows if col == "body"}
        rows = [(term, col) for term, col, _ in rows]
        rows += [(word, "topics") for word in self.topic_words]
        rows += [(word, "countries") for word in self.country_words]
        self.all = {term for term, _ in rows}
        self.sorted = sorted(self.all)
        self.key = sorted(
            {
                term
                for term, col in rows
                if col != "body" and len(term) > 2 and term not in STOPWORDS
            }
        )

    def common_in_text(self, word: str, prefix: bool = False) -> bool:
        """In nearly every article's text: looking it up there would cost time and add almost
        nothing to the ranking (its inverse document frequency is close to zero)."""
        limit = COMMON_SHARE * self.documents
        if not prefix:
            return self.body_df.get(word, 0) > limit
        # The prefix matches at most the sum of its words' articles: an estimate from above,
        # so a prefix of several fairly common words also counts as common.
        i, seen = bisect_left(self.sorted, word), 0
        while i < len(self.sorted) and self.sorted[i].startswith(word):
            seen += self.body_df.get(self.sorted[i], 0)
            if seen > limit:
                return True
            i += 1
        return False

    def topics_of(self, terms: tuple[tuple[str, bool], ...]) -> set[str]:
        """Topic codes named by any of the (term, is_prefix) spellings of a query word."""
        codes: set[str] = set()
        for term, prefix in terms:
            if not prefix:
                codes |= self.topic_words.get(term, set())
                continue
            i = bisect_left(self.topic_sorted, term)
            while i < len(self.topic_sorted) and self.topic_sorted[i].startswith(term):
                codes |= self.topic_words[self.topic_sorted[i]]
                i += 1
        return codes

    def countries_of(self, terms: tuple[tuple[str, bool], ...]) -> set[str]:
        """Country codes named by any of the (term, is_prefix) spellings of a query word."""
        codes: set[str] = set()
        for term, prefix in terms:
            if not prefix:
                if term in self.country_words:
                    codes.add(self.country_words[term])
                continue
            i = bisect_left(self.country_sorted, term)
            while i < len(self.country_sorted) and self.country_sorted[i].startswith(term):
                codes.add(self.country_words[self.country_sorted[i]])
                i += 1
        return codes

    def has_prefix(self, word: str) -> bool:
        i = bisect_left(self.sorted, word)
        return i < len(self.sorted) and self.sorted[i].startswith(word)

    def near(self, word: str) -> list[str]:
        """Known title/topic/keyword words within one edit (two for longer words)."""
        if len(word) < 4:
            return []
        limit = 1 if len(word) < 7 else 2
        found = process.extract(word, self.key, scorer=OSA.distance, score_cutoff=limit, limit=8)
        best = min((d for _, d, _ in found), default=None)
        return [term for term, d, _ in found if d == best][:3]  # the nearest only: less noise

    def near_prefix(self, word: str) -> list[str]:
        """Beginnings of title/topic/keyword words within one edit of a word still being
        typed ('uitschr' for 'uitschi'), to be matched as prefixes."""
        if len(word) < 5:
            return []
        size = len(word)
        starts = sorted({t[:size] for t in self.key if len(t) > size})
        found = process.extract(word, starts, scorer=OSA.distance, score_cutoff=1, limit=3)
        return [start for start, _, _ in found]

    def split(self, word: str) -> list[str]:
        """A compound written as one word that the articles write as two ('aowleeftijd')."""
        for i in range(2, len(word) - 1):  # two-letter parts: abbreviations ("pdu2", "wwuitk...")
            if (i > 2 or len(word) <= 5) and word[:i] in self.all and word[i:] in self.all:
                return [word[:i], word[i:]]
        return []


@dataclass(frozen=True)
class Group:
    """How one query word is looked for: in the key fields, and in the article text
    (None: not in the text, e.g. two letters still being typed, which would match nearly
    every article and only cost time)."""

    key: str
    body: str | None
    topics: tuple[tuple[str, bool], ...] = ()  # (term, is_prefix) matched against topic words


def match_groups(query: str, vocab: Vocabulary) -> list[Group]:
    """One FTS5 expression pair per query word (its spellings OR-ed); [] when nothing can match."""
    words = query_tokens(query)
    groups: list[Group] = []
    for n, word in enumerate(words):
        last = n == len(words) - 1
        alts: list[tuple[str, bool]] = []  # (term, is_prefix) for the key fields and topics
        extra: list[str] = []  # key-only expressions
        body: list[str] = []
        if word in vocab.all:
            # Exact; the word being typed also as a prefix: 'pensioen' -> 'pensioenfonds'.
            alts.append((word, last and len(word) >= 4))
            if last and 2 <= len(word) < 4:
                extra.append(SHORT_PREFIX_COLUMNS + fts_string(word, prefix=True))
            if not vocab.common_in_text(word):
                body.append(fts_string(word))
        elif len(word) >= 4 and vocab.has_prefix(word):
            alts.append((word, True))  # still typing, or a stem
            if not vocab.common_in_text(word, prefix=True):
                body.append(fts_string(word, prefix=True))
        elif last and len(word) >= 2 and vocab.has_prefix(word):
            # Two or three letters typed: complete them in titles only; in every
            # field they would match most articles and rank nothing useful.
            extra.append(SHORT_PREFIX_COLUMNS + fts_string(word, prefix=True))
        else:
            for cut in ("en", "s", "e"):  # plural or inflected: 'uitkeringen' -> 'uitkering'
                stem = word[: -len(cut)]
                if word.endswith(cut) and len(stem) >= 4 and vocab.has_prefix(stem):
                    alts.append((stem, True))
                    break
            parts = vocab.split(word)
            if parts:
                extra.append("(" + " AND ".join(fts_string(p) for p in parts) + ")")
            alts += [(t, False) for t in vocab.near(word)]
            if last and not alts and not extra:
                alts += [(t, True) for t in vocab.near_prefix(word)]
            body = [fts_string(t, p) for t, p in alts] + extra
        key = [fts_string(t, p) for t, p in alts] + extra
        if key:
            groups.append(
                Group(
                    "(" + " OR ".join(key) + ")",
                    "(" + " OR ".join(body) + ")" if body else None,
                    tuple(alts),
                )
            )
    return groups


class GuidanceIndex:
    """Search over a built index. Thread-safe: TUI workers may overlap (one per keystroke)."""

    def __init__(self, conn: sqlite3.Connection, library: Library, ref: Reference) -> None:
        self.conn = conn
        self.library = library
        self._lock = threading.Lock()
        self.closed = False
        self.ref = ref
        self._folded_titles = {slug: fold(a.title) for slug, a in library.articles.items()}
        with self._lock:
            self._load()

        self._key_sql = (
            f"SELECT rowid, bm25({KEY}, {', '.join(map(str, KEY_WEIGHTS))}) "
            f"FROM {KEY} WHERE {KEY} MATCH ?"
        )
        self._body_sql = f"SELECT rowid FROM {BODY} WHERE {BODY} MATCH ?"
        # Scores per query word: typing "aow turk" reuses the scores of "aow" from the
        # keystrokes before, so only the word being typed costs a lookup.

    def _load(self) -> None:
        """Read the vocabulary and rowid -> article map of the index (caller holds the lock)."""
        self.vocab = Vocabulary(self.conn, self.ref)
        rows = self.conn.execute(f"SELECT rowid, slug, topic_codes FROM {KEY}").fetchall()
        self._docs = {
            rowid: (slug, tuple(codes.split()))
            for rowid, slug, codes in rows
            if slug in self.library.articles
        }
        # topic code -> {rowid: 1.0 where it is the article's first (main) topic, else less}
        self._topic_docs: dict[str, dict[int, float]] = {}
        for rowid, (_slug, codes) in self._docs.items():
            for n, code in enumerate(codes):
                self._topic_docs.setdefault(code, {})[rowid] = 1.0 if n == 0 else SIDE_TOPIC
        # country code -> {rowid: 1 / number of countries the article is tagged with}: an
        # article about Morocco alone answers "marokko" better than one listing twelve countries.
        self._country_docs: dict[str, dict[int, float]] = {}
        for rowid, (slug, _codes) in self._docs.items():
            countries = self.library.articles[slug].countries
            for code in countries:
                self._country_docs.setdefault(code, {})[rowid] = 1.0 / len(countries)
        self._cache = OrderedDict()
        self._data_version = self.conn.execute("PRAGMA data_version").fetchone()[0]

    def _follow_rebuilds(self) -> None:
        """Another process (a newer release, a sync pull) may rebuild the index while this one
        is open: its rowids then name other articles. SQLite's data_version says something was
        committed elsewhere; then reload the maps if the index is not the one they were read
        from (caller holds the lock)."""
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return
        self._data_version = version
        rows = self.conn.execute(f"SELECT rowid, slug FROM {KEY}").fetchall()
        if any(self._docs.get(rowid, (slug,))[0] != slug for rowid, slug in rows) or len(
            rows
        ) != len(self._docs):
            self._load()

    def _group_scores(self, group: Group) -> dict[int, float]:
        """rowid -> score for one query word (caller holds the lock).

        bm25 over the key fields (title, keywords; FTS5 sums bm25 over the phrases of a query,
        so scoring word by word gives the same total); for the topics the word names, and for
        the articles whose text holds it, a weight times the inverse document frequency: a
        common word over thousands of articles then costs a list of rowids, not a bm25 each.
        """
        cached = self._cache.get(group)
        if cached is not None:
            self._cache.move_to_end(group)
            return cached
        scores = {rowid: -r for rowid, r in self.conn.execute(self._key_sql, (group.key,))}
        total = max(len(self._docs), 1)
        codes = self.vocab.topics_of(group.topics)
        if codes:
            tagged: dict[int, float] = {}
            for code in codes:
                for rowid, share in self._topic_docs.get(code, {}).items():
                    tagged[rowid] = max(share, tagged.get(rowid, 0.0))
            if tagged:
                n = len(tagged)
                idf = TOPIC_WEIGHT * math.log(1 + (total - n + 0.5) / (n + 0.5))
                for rowid, share in tagged.items():
                    scores[rowid] = scores.get(rowid, 0.0) + idf * share
        countries = self.vocab.countries_of(group.topics)
        if countries:
            tagged = {}
            for code in countries:
                for rowid, share in self._country_docs.get(code, {}).items():
                    tagged[rowid] = max(share, tagged.get(rowid, 0.0))
            if tagged:
                n = len(tagged)
                idf = COUNTRY_WEIGHT * math.log(1 + (total - n + 0.5) / (n + 0.5))
                for rowid, share in tagged.items():
                    scores[rowid] = scores.get(rowid, 0.0) + idf * share
        if group.body is not None:
            found = self.conn.execute(self._body_sql, (group.body,)).fetchall()
            n = len(found)
            if n:
                idf = BODY_WEIGHT * math.log(1 + (total - n + 0.5) / (n + 0.5))
                for (rowid,) in found:
                    scores[rowid] = scores.get(rowid, 0.0) + idf
        self._cache[group] = scores
        if len(self._cache) > CACHE_WORDS:
            self._cache.popitem(last=False)
        return scores

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """Best matches first; [] for text with nothing to match. Never raises on user text."""
        limit = max(1, min(int(limit), 200))
        groups = match_groups(query, self.vocab)
        per_group: list[dict[int, float]] = []
        if groups:
            with self._lock:
                if self.closed:
                    return []
                try:
                    self._follow_rebuilds()
                    per_group = [self._group_scores(g) for g in dict.fromkeys(groups)]
                except Exception as exc:  # sqlite3's or SQLCipher's OperationalError
                    if type(exc).__name__ != "OperationalError":
                        raise
                    per_group = []  # defensive: quoting makes this unreachable
        per_group.sort(key=len, reverse=True)
        scores = dict(per_group[0]) if per_group else {}  # copy the largest, add the others
        for part in per_group[1:]:
            get = scores.get
            for rowid, score in part.items():
                scores[rowid] = get(rowid, 0.0) + score
        best = sorted(scores.items(), key=itemgetter(1), reverse=True)  # C-level sort
        if len(per_group) > 1:
            best = self._coordinate(best, per_group, limit)
        best = best[:limit]
        hits = []
        for rowid, score in best:
            doc = self._docs.get(rowid)
            if doc is not None:
                slug, codes = doc
                hits.append(Hit(slug, self.library.articles[slug].title, codes, round(score, 4)))
        if not hits:
            hits = self._fuzzy_titles(query, limit)
        return hits

    def _coordinate(self, best, per_group, limit):
        """Re-rank the best candidates by the share of the query's words they match.

        An article matching every word of "zorgverzekering marokko" beats one that matches a
        single word very well. Each word counts by its rarity, so missing a word found in most
        articles ("buitenland") costs little. Only the best raw scores are re-ranked: further
        down, no share can lift an article into the top."""
        total = max(len(self._docs), 1)
        weights = [math.log(1 + total / max(len(part), 1)) for part in per_group]
        full = sum(weights)
        rescored = []
        for rowid, score in best[: max(COORDINATION_POOL, 5 * limit)]:
            share = sum(w for part, w in zip(per_group, weights, strict=True) if rowid in part)
            rescored.append((rowid, score * (share / full) ** COORDINATION))
        rescored.sort(key=itemgetter(1), reverse=True)
        return rescored

    def close(self) -> None:
        """Close the connection once no search is running on it."""
        with self._lock:
            if not self.closed:
                self.closed = True
                self.conn.close()

    def _fuzzy_titles(self, query: str, limit: int) -> list[Hit]:
        """Last resort for text the word index cannot place: the nearest titles, if close."""
        from rapidfuzz import fuzz

        text = " ".join(tokens(query[:200]))
        if len(text) < 4:
            return []
        found = process.extract(
            text, self._folded_titles, scorer=fuzz.WRatio, score_cutoff=80, limit=limit
        )
        return [
            Hit(
                slug, self.library.articles[slug].title, self.library.articles[slug].topics, s / 100
            )
            for _t, s, slug in found
        ]

    def by_topic(self, topic: str) -> list[Hit]:
        """Articles tagged with a topic (or with a sub-topic of it), by title."""
        found = [a for a in self.library.articles.values() if topic in a.topics]
        found.sort(key=lambda a: (a.topics[0] != topic, fold(a.title)))
        return [Hit(a.slug, a.title, a.topics, 0.0) for a in found]

    def all(self) -> list[Hit]:
        items = sorted(self.library.articles.values(), key=lambda a: fold(a.title))
        return [Hit(a.slug, a.title, a.topics, 0.0) for a in items]
