"""One way to fold text for comparing what a consultant types with what is stored.

Lower case ASCII: diacritics dropped ("Öztürk" -> "ozturk", "Çakır" -> "cakir") and other
scripts transliterated by anyascii (Arabic "محمد" -> "mhmd"). The pickers (nmi_desk.domain.matching)
and the client name search (nmi_desk.core.names) both use it. A base module like clock and paths:
no database, no domain, so the store's migrations may use it too.
"""

from __future__ import annotations

from functools import lru_cache

from anyascii import anyascii


@lru_cache(maxsize=4096)
def fold(text: str) -> str:

    return anyascii(text).casefold()
