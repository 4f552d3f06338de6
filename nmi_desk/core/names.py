"""How a client's name is compared: one normalised form per word, and a consonant skeleton.

A consultant types a name the way they heard it: without diacritics ("ozturk" for Öztürk),
in another common spelling (Mohamed, Mohammed, Muhammad; Dutch "oe" for "u": Soeleiman),
or from a name written in Arabic script, whose transliteration (anyascii, through
nmi_desk.core.folding.fold: one fold for the whole app) carries no short vowels ("mhmd").

- `name_words`: the folded words, doubled letters collapsed and "oe" read as "u";
- `skeletons`: the consonants of a word (vowels, w/y inside a word and a final h dropped),
  so all Mohamed spellings and محمد meet at "mhmd"; a leading Arabic article ("al", "el",
  transliterated "l") is also dropped, so "Hassan" meets "El Hassan" and الحسن. The
  French, English and Dutch spellings of one Arabic sound meet too: "sh" and French "ch"
  (Chamran, Shamran, شمران), "kh" and Dutch "ch" (Khalid, Chalid, خالد); a word beginning
  with "ou"/"u" is also read with "w" (Ouled, Oulad, Ulad, أولاد); "q" is read as "k";
- `vowel_distance`: where two words with one skeleton disagree on an "u/o" against an
  "a/e/i" vowel (Muhammad and Mahmoud are both "mhmd"; محمود writes its long "u"), so a
  search ranks the nearer spelling first.

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


# One letter for the sound of "sh" and for the sound of "kh" (capitals: folded text has none).
_SH, _KH = "S", "K"


def _spellings(word: str) -> tuple[str, ...]:
    """The word with "sh"/"kh" as one letter each, "ch" read both ways (French "sh", Dutch
    "kh"), and a leading "u" (from "ou") also as "w"."""
    word = word.replace("sh", _SH).replace("kh", _KH)
    out = [word.replace("ch", _SH), word.replace("ch", _KH)] if "ch" in word else [word]
    if word.startswith("u") and len(word) > 2:
        out += ["w" + w[1:] for w in out]
    return tuple(dict.fromkeys(out))


def _skeleton(word: str) -> str:
    word = word.replace("q", "k")  # ق: "Sharqawi", "Cherkaoui"
    head, rest = word[0], word[1:]
    body = rest.translate(_VOWELS).replace("w", "").replace("y", "")
    skel = _DOUBLE.sub(r"\1", (head if head not in "aeiou" else "") + body)
    if skel.endswith("h") and len(skel) > 2:
        skel = skel[:-1]
    return skel


@lru_cache(maxsize=65536)
def skeletons(word: str) -> frozenset[str]:
    """The word's consonant skeleton(s); empty for words too short to compare this way."""
    if word.isdigit() or len(word) < 2:
        return frozenset()
    out = set()
    for spelling in _spellings(word):
        skel = _skeleton(spelling)
        out.add(skel)
        if skel.startswith("l") and len(skel) >= 4:
            out.add(skel[1:])  # al-/el-/l- article
    return frozenset(s for s in out if s)


@lru_cache(maxsize=65536)
def _vowel_slots(word: str) -> tuple[str, ...]:
    """After each consonant of the word: "U" (u, o, or w inside a word), "V" (a, e, i, or y
    inside), "" (none written, as in Arabic script's short vowels)."""
    word = _DOUBLE.sub(r"\1", word.replace("sh", _SH).replace("kh", _KH).replace("ch", _SH))
    slots: list[str] = []
    for i, ch in enumerate(word):
        vowel = ch in "aeiou" or (i > 0 and ch in "wy")
        if not vowel:
            slots.append("")
        elif slots and ch in "uow":
            slots[-1] = "U"
        elif slots and not slots[-1]:
            slots[-1] = "V"
    if len(slots) > 1 and word.endswith("h"):
        slots.pop()  # a final h is dropped from the skeleton as well
    return tuple(slots)


def vowel_distance(a: str, b: str) -> float:
    """How far apart the vowels of two same-skeleton words are: 1 for each consonant followed
    by an "u/o" in one and an "a/e/i" in the other, less 0.2 for each "u/o" both write
    ("mahmud" is nearer محمود than محمد). Counted from the end: a leading article may add a
    consonant."""
    distance = 0.0
    for x, y in zip(reversed(_vowel_slots(a)), reversed(_vowel_slots(b)), strict=False):
        if x and y:
            distance += 1.0 if x != y else (-0.2 if x == "U" else 0.0)
    return distance
