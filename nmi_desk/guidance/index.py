"""The guidance search index: SQLite FTS5 in the local database, and search over it.

The index is a cache derived from the library (shipped files + central overrides + the
reference data whose labels and synonyms it holds). It is SQLite-only (FTS5), so it is not
part of the migrated schema shared with PostgreSQL: `ensure_index` creates it on first use and
rebuilds it whenever the library's content hash (kept in app_meta) changes.

Matching for Dutch consultants:
- diacritics folded and prefix matching (`unicode61 remove_diacritics 2`, prefix indexes);
- synonyms and abbreviations: each article's row carries its topics' labels and synonyms
  (data/topics.toml), its keywords, organisation codes and names (SVB, UWV, IND ...) and the
  names of its countries, so "AOW", "PD U2" or "Turkije" find the right articles;
- typo tolerance: a word the index does not know is matched to the nearest words of titles,
  topics and keywords (rapidfuzz, optimal string alignment: one or two edits), split into two
  known words ("remigratieuitkering"), or stripped of a plural ending;
- ranking by bm25 with column weights that prefer title, then topic, then keyword matches.

User text never reaches MATCH: it is tokenised here and every term is quoted.
"""

from __future__ import annotations

import sqlite3
import threading
from bisect import bisect_left
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from nmi_desk.guidance.library import Article, Library
from nmi_desk.guidance.text import STOPWORDS, fold, fts_string, query_tokens, tokens
from nmi_desk.refdata import Reference

INDEX_FORMAT = "1"  # bump when the layout or what goes into a column changes
HASH_KEY = "guidance_index_hash"
FTS = "guidance_fts"
COLUMNS = ("slug", "topic_codes", "title", "topics", "keywords", "body")
# bm25 weights per column (unindexed columns get 0): title > topics > keywords > body.
WEIGHTS = (0.0, 0.0, 10.0, 6.0, 4.0, 1.0)
KEY_COLUMNS = ("title", "topics", "keywords")  # the words typos are matched against

DDL = (
    f"CREATE VIRTUAL TABLE {FTS} USING fts5("
    "slug UNINDEXED, topic_codes UNINDEXED, title, topics, keywords, body, "
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
)


@dataclass(frozen=True)
class Hit:
    slug: str
    title: str
    topics: tuple[str, ...]
    score: float


def _row(article: Article, ref: Reference) -> tuple[str, ...]:
    topics = ref.by_code("topics")
    orgs = ref.by_code("organisations")
    countries = ref.by_code("countries")
    topic_words: list[str] = []
    for code in article.topics:
        entry = topics.get(code)
        if entry is not None:
            topic_words += [entry.nl, entry.en, *entry.synonyms, code]
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
        article.slug,
        " ".join(article.topics),
        f"{article.title} {article.title_en}".strip(),
        " | ".join(topic_words),
        " | ".join(keyword_words),
        body,
    )


def reference_digest(ref_root) -> bytes:
    """The reference files whose labels and synonyms go into the index, plus the layout."""
    parts = [INDEX_FORMAT.encode()]
    for name in ("topics.toml", "organisations.toml", "countries.toml"):
        parts.append((ref_root / name).read_bytes())
    return b"\0".join(parts)


def _stored_hash(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM app_meta WHERE key = ?", (HASH_KEY,)).fetchone()
    return row[0] if row else None


def _has_table(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (FTS,)).fetchone()
    return row is not None


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
        conn.execute(
            "INSERT INTO app_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (HASH_KEY, library.digest),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


def build_index(conn: sqlite3.Connection, library: Library, ref: Reference) -> None:
    """Drop and fill the FTS table (inside the caller's transaction)."""
    conn.execute(f"DROP TABLE IF EXISTS {FTS}")
    conn.execute(DDL)
    conn.executemany(
        f"INSERT INTO {FTS} ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
        (_row(a, ref) for a in library.articles.values()),
    )
    conn.execute(f"INSERT INTO {FTS} ({FTS}) VALUES ('optimize')")


class Vocabulary:
    """The index's words, for deciding how to match each query word."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        # fts5vocab in the temp schema: per connection, never part of the database's schema.
        conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.guidance_vocab USING fts5vocab(main, {FTS}, col)"
        )
        rows = conn.execute("SELECT term, col FROM temp.guidance_vocab").fetchall()
        conn.execute("DROP TABLE temp.guidance_vocab")
        self.all = {term for term, _ in rows}
        self.sorted = sorted(self.all)
        self.key = sorted(
            {
                term
                for term, col in rows
                if col in KEY_COLUMNS and len(term) > 2 and term not in STOPWORDS
            }
        )

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

    def split(self, word: str) -> list[str]:
        """A compound written as one word that the articles write as two ('aowleeftijd')."""
        for i in range(3, len(word) - 2):
            if word[:i] in self.all and word[i:] in self.all:
                return [word[:i], word[i:]]
        return []


def match_expression(query: str, vocab: Vocabulary) -> str | None:
    """The FTS5 MATCH string for user text, or None when nothing in it can match."""
    words = query_tokens(query)
    groups: list[str] = []
    for n, word in enumerate(words):
        last = n == len(words) - 1
        terms: list[str] = []
        if word in vocab.all:
            # Exact, and as a prefix for compounds ('pensioen' -> 'pensioenfonds').
            terms.append(fts_string(word, prefix=len(word) >= 4 or (last and len(word) >= 2)))
        elif len(word) >= 2 and (last or len(word) >= 4) and vocab.has_prefix(word):
            terms.append(fts_string(word, prefix=True))  # still typing, or a stem
        else:
            for cut in ("en", "s", "e"):  # plural or inflected: 'uitkeringen' -> 'uitkering'
                stem = word[: -len(cut)]
                if word.endswith(cut) and len(stem) >= 4 and vocab.has_prefix(stem):
                    terms.append(fts_string(stem, prefix=True))
                    break
            parts = vocab.split(word)
            if parts:
                terms.append(" + ".join(fts_string(p) for p in parts))  # the two words in a row
            terms += [fts_string(t) for t in vocab.near(word)]
        if terms:
            groups.append("(" + " OR ".join(terms) + ")")
    return " OR ".join(groups) if groups else None


class GuidanceIndex:
    """Search over a built index. Thread-safe: TUI workers may overlap (one per keystroke)."""

    def __init__(self, conn: sqlite3.Connection, library: Library) -> None:
        self.conn = conn
        self.library = library
        self._lock = threading.Lock()
        self.closed = False
        with self._lock:
            self.vocab = Vocabulary(conn)
        self._folded_titles = {slug: fold(a.title) for slug, a in library.articles.items()}
        self._sql = (
            f"SELECT slug, title, topic_codes, bm25({FTS}, {', '.join(map(str, WEIGHTS))}) AS r "
            f"FROM {FTS} WHERE {FTS} MATCH ? ORDER BY r LIMIT ?"
        )

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """Best matches first; [] for text with nothing to match. Never raises on user text."""
        limit = max(1, min(int(limit), 200))
        expression = match_expression(query, self.vocab)
        hits: list[Hit] = []
        if expression is not None:
            with self._lock:
                if self.closed:
                    return []
                try:
                    rows = self.conn.execute(self._sql, (expression, limit)).fetchall()
                except sqlite3.OperationalError:
                    rows = []  # defensive: quoting makes this unreachable for any input we know
            hits = [
                Hit(slug, self.library.articles[slug].title, tuple(codes.split()), round(-r, 4))
                for slug, _title, codes, r in rows
                if slug in self.library.articles
            ]
        if not hits:
            hits = self._fuzzy_titles(query, limit)
        return hits

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
