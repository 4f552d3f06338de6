"""How a client's name is compared: one normalised form per word, and a consonant skeleton.

A consultant types a name the way they heard it: without diacritics ("ozturk" for Öztürk),
in another common spelling (Mohamed, Mohammed, Muhammad; Dutch "oe" for "u": Soeleiman),
or from a name written in Arabic script, whose transliteration (anyascii, through
nmi_desk.core.folding.fold: one fold for the whole app) carries no short vowels ("mhmd").

- `name_words`: the folded words, doubled letters collapsed and "oe" read as "u";
- `skeletons`: the consonants of a word (vowels, w/y inside a word and a final h dropped),
  so all Mohamed spellings and محمد meet at "mhmd"; a leading Arabic article ("al", "el",
  transliterated "l") is also dropped, so "Hassan" meets "El Hassan" and الحسن.

`PARTICLES`: words a consultant may add or leave out ("van den", "el", "ben", "da").

Plain functions, used when a client is written (the stored search key) and when searching.
"""

from __future__ import annotations

import re
from functools import lru_cache

from nmi_desk.core.folding import fold

_WORD = re.compile(r"[a-z0-9]+")
_DOUBLE = re.compile(r"(.)\1+")
_VOWELS = str.maketrans("", "", "aeiou")


PARTICLES = frozenset(
    "van de der den ten ter het op in t d al el ben bin bint ibn ait da de do dos das e".split()
)


def normalise_word(word: str) -> str:
    # "dj" is how Đ (Đorđe) and the Maghreb's j (Khadidja) are often written: anyascii gives "d".
    word = word.replace("oe", "u").replace("ou", "u").replace("ph", "f").replace("dj", "d")
    return _DOUBLE.sub(r"\1", word)


# Characters a name may carry without showing them: a zero-width space separates words (it is
# a space, Unicode says); joiners, the soft hyphen, the byte-order mark and bidi controls are
# dropped. A name is stored as typed; only its search key and a query are read without them.
ZERO_WIDTH_SPACE = "\u200b"
INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200c-\u200f\u202a-\u202e\u2060-\u2064"
                       "\u2066-\u2069\ufeff]")  # fmt: skip


def visible(text: str) -> str:
    """The text as it shows: zero-width spaces as spaces, other invisible characters gone."""
    return INVISIBLE.sub("", text.replace(ZERO_WIDTH_SPACE, " "))


def name_words(name: str | None) -> list[str]:
    """The normalised words of a name ("Şükrü Öztürk-Çakır" -> ["sukru", "ozturk", "cakir"])."""
    if not name:
        return []
    # Apostrophes and backticks of a transliteration (hamza, ain) join the word they are in.
    folded = fold(visible(name)).replace("'", "").replace("`", "")
    return [normalise_word(w) for w in _WORD.findall(folded)]


def search_key(name: str | None) -> str | None:
    """What is stored with a client and indexed for search: its normalised words."""
    words = name_words(name)
    return " ".join(words) if words else None


@lru_cache(maxsize=65536)
def skeletons(word: str) -> frozenset[str]:
    """The word's consonant skeleton(s); empty for words too short to compare this way."""
    if word.isdigit() or len(word) < 2:
        return frozenset()
    head, rest = word[0], word[1:]
    body = rest.translate(_VOWELS).replace("w", "").replace("y", "")
    skel = _DOUBLE.sub(r"\1", (head if head not in "aeiou" else "") + body)
    if skel.endswith("h") and len(skel) > 2:
        skel = skel[:-1]
    out = {skel}
    if skel.startswith("l") and len(skel) >= 4:
        out.add(skel[1:])  # al-/el-/l- article
    return frozenset(s for s in out if s)
