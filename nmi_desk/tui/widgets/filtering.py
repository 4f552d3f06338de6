"""Filter-as-you-type over reference entries (Dutch and English labels, code, synonyms).

Plain Python so it is cheap to test; accents and case are ignored ("sukru" finds "Şükrü",
"aow" finds the AOW topic under pensions).
"""

from __future__ import annotations

import unicodedata

from nmi_desk.refdata import Entry

_FOLD = str.maketrans({"ı": "i", "İ": "i", "ß": "ss", "ø": "o", "æ": "ae", "đ": "d", "ł": "l"})


def fold(text: str) -> str:
    text = text.translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _haystacks(entry: Entry) -> tuple[list[str], list[str]]:
    primary = [fold(entry.code), fold(entry.nl), fold(entry.en)]
    secondary = [fold(s) for s in entry.synonyms] + ([fold(entry.handles)] if entry.handles else [])
    return primary, secondary


def rank(entry: Entry, query: str) -> int | None:
    """Lower is better; None when the entry does not match every word of the query."""
    words = fold(query).split()
    if not words:
        return 5
    primary, secondary = _haystacks(entry)
    best = 0
    for word in words:
        if any(h.startswith(word) for h in primary):
            score = 0
        elif any(w.startswith(word) for h in primary for w in h.replace("-", " ").split()):
            score = 1
        elif any(h.startswith(word) for h in secondary):
            score = 2
        elif any(word in h for h in primary):
            score = 3
        elif any(word in h for h in secondary):
            score = 4
        else:
            return None
        best = max(best, score)
    return best


def filter_entries(entries, query: str) -> list[Entry]:
    scored = [(rank(e, query), i, e) for i, e in enumerate(entries)]
    return [e for score, _, e in sorted(s for s in scored if s[0] is not None)]
