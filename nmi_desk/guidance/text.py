"""Text folding and tokenising for guidance search, matched to SQLite's FTS5 tokenizer.

The index uses `unicode61 remove_diacritics 2`: lower case, diacritics removed, letters and
digits form tokens, everything else separates. Query text is cut up the same way here, so a
query never reaches FTS5's own query syntax: every token is quoted before MATCH.
"""

from __future__ import annotations

import re
import unicodedata

TOKEN_RE = re.compile(r"[^\W_]+")
MAX_QUERY_CHARS = 200  # a pasted letter is not a query; the first words decide
MAX_TOKENS = 8
MAX_TOKEN_CHARS = 40

# Words that say nothing about a topic; dropped from queries (not from the index).
STOPWORDS = frozenset(
    """
    de het een en of van in op te naar voor met is zijn was wat hoe als bij er die dat aan om
    kan ik je jij u hij zij ze we wij mijn zijn haar hun niet nog ook wel wordt worden moet mag
    gaat ga gaan over tot dan maar door dit deze welke waar wanneer wie heb heeft hebben
    the a an and or of to for with is are what how
    """.split()
)


def fold(text: str) -> str:
    """Lower case without diacritics: 'Kaapverdië' -> 'kaapverdie', 'Borçlanma' -> 'borclanma'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(fold(text))


def query_tokens(query: str) -> list[str]:
    """The search words of user text: folded, stop words dropped (unless nothing else is left),
    bounded in number and length so no input can make a query slow."""
    words = [w[:MAX_TOKEN_CHARS] for w in tokens(query[:MAX_QUERY_CHARS])]
    meaningful = [w for w in words if w not in STOPWORDS]
    return (meaningful or words)[:MAX_TOKENS]


def fts_string(term: str, prefix: bool = False) -> str:
    """One FTS5 string literal: quotes doubled, so it is always a plain term, never syntax."""
    return '"' + term.replace('"', '""') + '"' + ("*" if prefix else "")
