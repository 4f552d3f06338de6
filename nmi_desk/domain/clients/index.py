"""Finding a returning client as you type: an in-memory index of the clients' stored search
keys (nmi_desk.core.names: folding, variants, Arabic script) with typo tolerance (rapidfuzz),
rebuilt only when a client row changed (a counter kept by triggers, migration 150); the same
search over the central database."""

from __future__ import annotations

import heapq
import re
import threading
import time
import uuid as uuid_mod
from bisect import bisect_left, insort
from dataclasses import dataclass

from nmi_desk.core.names import PARTICLES, name_words, skeletons, vowel_distance
from nmi_desk.domain.clients.base import DEFAULT_LIMIT, ClientHit
from nmi_desk.domain.context import Context, EngineCache


@dataclass
class _Row:
    uuid: str
    name: str
    birth_year: int | None
    last: str  # last visit day, "" if none: a tie-break, more recent first


_YEAR = re.compile(r"(?<![0-9])[0-9]{4}(?![0-9])")
# Points off an exact skeleton hit per unit of vowel distance (core.names.vowel_distance).
VOWEL_CONFLICT = 10.0


class ClientIndex:
    """Postings from normalised words (and adjacent word pairs: "Abd Allah" is "Abdallah"),
    consonant skeletons and their prefixes to client positions. Built once; a changed client
    is patched in (`update`), so saving a visit does not cost a rebuild of 20,000 names."""

    def __init__(self, rows: list[_Row], keys: list[str]) -> None:
        # A search still running in an older worker thread must not see a patch half done.
        self.lock = threading.Lock()
        self.rows: list[_Row | None] = list(rows)
        self.pos_of = {row.uuid: pos for pos, row in enumerate(rows)}
        # Among equal scores: the most recent last visit first, then by name (once, here).
        order = sorted(range(len(rows)), key=lambda p: rows[p].name)
        order.sort(key=lambda p: rows[p].last, reverse=True)  # stable: names stay in order
        self.rank = [0] * len(rows)
        for r, p in enumerate(order):
            self.rank[p] = r
        self._terms: dict[str, set[int]] = {}
        self._skels: dict[str, set[int]] = {}
        # skeleton -> the terms that have it: an exact skeleton hit is scored term by term
        # (Mohamed before Mahmoud for "muhammad"); a term patched away keeps an empty posting.
        self._skel_terms: dict[str, set[str]] = {}
        self._keys_of: list[tuple[list[str], list[str]]] = []
        for pos, key in enumerate(keys):
            self._keys_of.append(self._post(pos, key))
        self.terms = sorted(self._terms)
        self.skels = sorted(self._skels)
        self._truncated: dict[int, list[str]] = {}

    def _post(self, pos: int, key: str) -> tuple[list[str], list[str]]:
        words = key.split()
        terms = words + [a + b for a, b in zip(words, words[1:], strict=False)]
        skels = []
        for term in terms:
            self._terms.setdefault(term, set()).add(pos)
            for s in skeletons(term):
                self._skels.setdefault(s, set()).add(pos)
                self._skel_terms.setdefault(s, set()).add(term)
                skels.append(s)
        return terms, skels

    def update(self, changed: list[tuple[_Row, str | None]]) -> None:
        """Clients written since the build: new ones added, changed ones re-posted, erased,
        merged or purged ones (key None) dropped. The changed rank first among equals: their
        last visit is the newest."""
        with self.lock:
            self._update(changed)

    def _update(self, changed: list[tuple[_Row, str | None]]) -> None:

        top = min(self.rank, default=0)
        for row, key in changed:
            pos = self.pos_of.get(row.uuid)
            if pos is not None:
                terms, skels = self._keys_of[pos]
                for t in terms:
                    self._terms[t].discard(pos)
                for s in skels:
                    self._skels[s].discard(pos)
                self._keys_of[pos] = ([], [])
            if key is None:
                if pos is not None:
                    self.rows[pos] = None
                continue
            if pos is None:
                pos = len(self.rows)
                self.rows.append(row)
                self.rank.append(0)
                self._keys_of.append(([], []))
                self.pos_of[row.uuid] = pos
            self.rows[pos] = row
            top -= 1
            self.rank[pos] = top
            known_terms, known_skels = set(self._terms), set(self._skels)
            self._keys_of[pos] = self._post(pos, key)
            for t in set(self._keys_of[pos][0]) - known_terms:
                insort(self.terms, t)
                self._truncated.clear()
            for s in set(self._keys_of[pos][1]) - known_skels:
                insort(self.skels, s)

    def _choices(self, size: int) -> list[str]:
        got = self._truncated.get(size)
        if got is None:
            got = self._truncated[size] = [t[:size] for t in self.terms]
        return got

    def _word_hits(self, q: str) -> dict[int, float]:
        """Client position -> best score of one typed word."""
        groups: list[tuple[float, set[int]]] = []
        terms, postings = self.terms, self._terms
        i = bisect_left(terms, q)
        while i < len(terms) and terms[i].startswith(q):
            t = terms[i]
            groups.append((100.0 if t == q else 70.0 + 20.0 * len(q) / len(t), postings[t]))
            i += 1
        if len(q) >= 3:
            for s in skeletons(q):
                j = bisect_left(self.skels, s)
                while j < len(self.skels) and self.skels[j].startswith(s):
                    if self.skels[j] == s:
                        # Same consonants: less where the vowels written disagree (u/o
                        # against a/e/i), so "muhammad" is Mohamed and محمد before Mahmoud.
                        for term in self._skel_terms[s]:
                            penalty = VOWEL_CONFLICT * vowel_distance(q, term)
                            groups.append((85.0 - penalty, postings[term]))
                    elif len(s) >= 3:  # typing on: "moham" meets محمد ("mhmd")
                        groups.append((62.0, self._skels[self.skels[j]]))
                    j += 1
        if len(q) >= 4:
            from rapidfuzz import process
            from rapidfuzz.distance import OSA

            allowed = 1 if len(q) < 7 else 2
            for _, dist, idx in process.extract(
                q, self._choices(len(q) + 1), scorer=OSA.distance, score_cutoff=allowed,
                limit=None,
            ):  # fmt: skip
                groups.append((60.0 - 10.0 * dist, postings[terms[idx]]))
        # Best score first; each position keeps the first (best) one. Set operations, so a
        # two-letter prefix over thousands of clients stays cheap.
        groups.sort(key=lambda g: -g[0])
        hits: dict[int, float] = {}
        for score, positions in groups:
            new = positions - hits.keys()
            if new:
                hits.update(dict.fromkeys(new, score))
        return hits

    def search(
        self, query: str, birth_year: int | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[tuple[_Row, float]]:
        with self.lock:
            return self._search(query, birth_year, limit)

    def _search(self, query: str, birth_year: int | None, limit: int) -> list[tuple[_Row, float]]:
        words = name_words(query)
        # From the query as typed: a name's words have doubled letters collapsed, which
        # made "1966" "196" and dropped the year.
        years = [int(y) for y in _YEAR.findall(query)]
        words = [w for w in words if not w.isdigit()]
        if birth_year is None and years:
            birth_year = years[0]
        if not words and birth_year is None:
            return []
        if words:
            # A particle or a stray letter ("van den" for "van der", "al" before a name
            # written without it) adds to a client's score but never rules one out.
            required = [w for w in words if not (w in PARTICLES or len(w) <= 2)] or words
            optional = [self._word_hits(w) for w in words if w not in required]
            per_word = sorted((self._word_hits(w) for w in required), key=len)
            first, rest = per_word[0], per_word[1:]
            scores: dict[int, float] = {}
            for pos, score in first.items():
                total = score
                for other in rest:
                    s = other.get(pos)
                    if s is None:
                        break
                    total += s
                else:
                    total += sum(o.get(pos, 0.0) for o in optional)
                    scores[pos] = total / len(words)
        else:
            scores = {pos: 50.0 for pos, row in enumerate(self.rows) if row is not None}
        if birth_year is not None:
            narrowed = {}
            for pos, score in scores.items():
                row = self.rows[pos]
                year = row.birth_year if row is not None else None
                if year == birth_year:
                    narrowed[pos] = score + 5.0
                elif year is None:
                    narrowed[pos] = score - 10.0  # unknown: may still be them
                elif abs(year - birth_year) == 1:
                    narrowed[pos] = score - 15.0  # a year guessed one off
            scores = narrowed

        rank = self.rank
        best = heapq.nsmallest(limit, scores.items(), key=lambda kv: (-kv[1], rank[kv[0]]))
        return [(self.rows[pos], round(score, 1)) for pos, score in best]  # type: ignore[misc]


PATCH_AT_MOST = 2000  # more changed clients than this (a sync, the demo): build afresh


def _last_change(conn) -> int:
    """The newest entry of the laptop's client change log (kept by triggers, migration 150)."""
    return conn.exec_driver_sql("SELECT coalesce(max(seq), 0) FROM client_change").scalar_one()


def _rows(conn, where: str, params=()) -> tuple[list[_Row], list[str | None]]:
    false = "false" if conn.dialect.name == "postgresql" else "0"
    found = conn.exec_driver_sql(
        "SELECT uuid, name, birth_year, CASE WHEN deleted = " + false + " THEN search_key END "
        f"FROM client WHERE {where}",  # noqa: S608
        params,
    ).all()
    uuids = [r[0] for r in found]
    last: dict[str, str] = {}
    if where == "true" or not found:
        last = dict(
            conn.exec_driver_sql(
                "SELECT client_uuid, max(local_date) FROM visit "
                f"WHERE client_uuid IS NOT NULL AND deleted = {false} GROUP BY client_uuid"
            ).all()
        )
    else:
        marks = ", ".join(f"'{u}'" for u in uuids if _is_uuid(u))
        last = dict(
            conn.exec_driver_sql(
                "SELECT client_uuid, max(local_date) FROM visit "
                f"WHERE client_uuid IN ({marks}) AND deleted = {false} GROUP BY client_uuid"
            ).all()
        )
    rows = [_Row(u, name or "", year, last.get(u) or "") for u, name, year, _ in found]
    return rows, [r[3] for r in found]


def build_index(conn) -> ClientIndex:
    rows, keys = _rows(conn, "true")
    kept = [(r, k) for r, k in zip(rows, keys, strict=True) if k]
    return ClientIndex([r for r, _ in kept], [k for _, k in kept])


def index_for(engine, cache: EngineCache) -> ClientIndex:
    """This laptop's index: built once per engine (kept in `cache`, the desk's), then patched
    with the clients changed since (from any process: the change log is in the database)."""
    with engine.connect() as conn:
        with cache.lock:
            newest = _last_change(conn)
            cached = cache.peek(engine)
            if cached is not None and cached[0] == newest:
                return cached[1]
            if cached is not None:
                changed = (
                    conn.exec_driver_sql(
                        "SELECT DISTINCT client_id FROM client_change WHERE seq > ? "
                        f"LIMIT {PATCH_AT_MOST + 1}",
                        (cached[0],),
                    )
                    .scalars()
                    .all()
                )
                oldest = conn.exec_driver_sql("SELECT min(seq) FROM client_change").scalar()
                if len(changed) <= PATCH_AT_MOST and (oldest or 0) <= cached[0] + 1:
                    ids = ", ".join(str(int(i)) for i in changed)
                    rows, keys = _rows(conn, f"id IN ({ids})") if ids else ([], [])
                    cached[1].update(list(zip(rows, keys, strict=True)))
                    cache.store(engine, (newest, cached[1]))
                    return cached[1]
            index = build_index(conn)
            cache.store(engine, (newest, index))
            if conn.dialect.name == "sqlite":  # the log only needs what a patch may ask for
                conn.exec_driver_sql(
                    "DELETE FROM client_change WHERE seq < ?", (newest - 10 * PATCH_AT_MOST,)
                )
                conn.commit()
            return index


def _details(conn, uuids: list[str]) -> dict[str, dict]:
    """Visit count, last visit (day, location, topics), open follow-ups of these clients:
    four queries for the whole result list."""
    uuids = [u for u in uuids if _is_uuid(u)]  # they are inlined below: never anything else
    if not uuids:
        return {}
    false = "false" if conn.dialect.name == "postgresql" else "0"
    marks = ", ".join(f"'{u}'" for u in uuids)
    out: dict[str, dict] = {u: {"visits": 0} for u in uuids}
    last_ids: dict[int, str] = {}
    for uuid, vid, day, location, n in conn.exec_driver_sql(
        "SELECT client_uuid, id, local_date, location_code, n FROM ("
        "SELECT client_uuid, id, local_date, location_code, count(*) OVER w AS n, "
        "row_number() OVER (w ORDER BY started_at DESC, id DESC) AS k FROM visit "
        f"WHERE client_uuid IN ({marks}) AND deleted = {false} "
        "WINDOW w AS (PARTITION BY client_uuid)) AS last WHERE k = 1"
    ):
        out[uuid].update(visits=n, last=day, location=location, topics=[])
        last_ids[vid] = uuid
    for uuid, n in conn.exec_driver_sql(
        f"SELECT v.client_uuid, count(*) FROM referral r JOIN visit v ON v.id = r.visit_id "
        f"WHERE v.client_uuid IN ({marks}) AND v.deleted = {false} AND r.deleted = {false} "
        "AND r.status = 'open' GROUP BY v.client_uuid"
    ):
        out[uuid]["open"] = n
    if last_ids:
        ids = ", ".join(str(int(i)) for i in last_ids)
        for vid, code in conn.exec_driver_sql(
            # No ORDER BY: SQLite would walk the (topic_code, visit_id) index for it.
            f"SELECT visit_id, topic_code FROM visit_topic WHERE visit_id IN ({ids})"
        ):
            out[last_ids[vid]]["topics"].append(code)
    for d in out.values():
        d["topics"] = tuple(sorted(d.get("topics", ())))
    return out


def _is_uuid(value: str) -> bool:

    try:
        return str(uuid_mod.UUID(value)) == value
    except ValueError:
        return False


def _hits(conn, found, central: bool) -> list[ClientHit]:
    details = _details(conn, [row.uuid for row, _ in found])
    out = []
    for row, score in found:
        d = details.get(row.uuid, {})
        out.append(
            ClientHit(
                uuid=row.uuid,
                name=row.name,
                birth_year=row.birth_year,
                score=score,
                last_visit=d.get("last"),
                last_location=d.get("location"),
                last_topics=d.get("topics", ()),
                visits=d.get("visits", 0),
                open_follow_ups=d.get("open", 0),
                central=central,
            )
        )
    return out


def search(
    ctx: Context, query: str, birth_year: int | None = None, limit: int = DEFAULT_LIMIT
) -> list[ClientHit]:
    """Clients on this laptop matching what was typed, best first (no audit: names only)."""
    engine = ctx.engine
    index = index_for(engine, ctx.client_indexes)
    found = index.search(query, birth_year, limit)
    with engine.connect() as conn:
        return _hits(conn, found, central=False)


# The central index is rebuilt at most once a minute: a search there runs in the background.
CENTRAL_INDEX_SECONDS = 60.0


def search_central(
    central, cache: EngineCache, query: str, birth_year: int | None = None,
    limit: int = DEFAULT_LIMIT, skip: frozenset[str] | set[str] = frozenset(),
) -> list[ClientHit]:  # fmt: skip
    """The same search over the central database's clients (other locations' clients);
    `cache`: the caller's (CentralClients keeps one per central engine); `skip`: uuids
    already found locally."""

    with central.connect() as conn:
        cached = cache.get(central)
        if cached is None or time.monotonic() - cached[0] > CENTRAL_INDEX_SECONDS:
            cached = (time.monotonic(), build_index(conn))
            cache.put(central, cached)
        found = [
            (row, score)
            for row, score in cached[1].search(query, birth_year, limit + len(skip))
            if row.uuid not in skip
        ][:limit]
        return _hits(conn, found, central=True)
