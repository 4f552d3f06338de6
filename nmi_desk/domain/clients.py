"""Returning clients: find one as you type, read their history, continue it, honour their rights.

Called by the CLI (cli_clients.py) and the TUI alike; plain Python and SQL, no Textual.

- `search`: by name in any spelling (nmi_desk.core.names: folding, variants, Arabic script) and
  typos (rapidfuzz), narrowed by birth year; best first. An in-memory index of the clients'
  stored search keys is rebuilt only when a client row changed (a counter kept by triggers,
  migration 150), so a keystroke costs a few dictionary look-ups, not 20,000 comparisons.
- `history`, `new_visit_input`: every visit and referral, open follow-ups first; a new visit
  with the stable fields filled in.
- `correct_client`, `merge_clients`, `erase_client`, `inzage`: the AVG rights (correctie,
  verwijdering, inzage) and a consultant's merge; every read and change is audited with the
  real actor and without personal data in the detail.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from datetime import datetime

from nmi_desk.core.clock import local, to_utc_naive
from nmi_desk.core.names import PARTICLES, name_words, search_key, skeletons
from nmi_desk.core.validation import FieldError, ValidationError, check_birth_year, check_children
from nmi_desk.domain import audit

DEFAULT_LIMIT = 10
STABLE_FIELDS = (
    "origin_country",
    "destination_country",
    "language",
    "partner_coremigrating",
    "children_coremigrating",
)
PERSONAL_CLIENT_FIELDS = ("name", "birth_year", "language", "partner_coremigrating",
                          "children_coremigrating", "search_key")  # fmt: skip


class ClientNotFound(LookupError):
    pass


@dataclass
class ClientInput:
    name: str | None = None
    birth_year: int | None = None
    origin_country: str | None = None
    destination_country: str | None = None
    language: str | None = None
    partner_coremigrating: bool | None = None
    children_coremigrating: int | None = None


@dataclass(frozen=True)
class ClientHit:
    uuid: str
    name: str
    birth_year: int | None
    score: float
    last_visit: str | None = None  # YYYY-MM-DD
    last_location: str | None = None
    last_topics: tuple[str, ...] = ()
    visits: int = 0
    open_follow_ups: int = 0
    central: bool = False  # found in the central database, not (yet) on this laptop

    def as_json(self) -> dict:
        out = asdict(self)
        out["last_topics"] = list(self.last_topics)
        return out


# ---- the search index ----


@dataclass
class _Row:
    uuid: str
    name: str
    birth_year: int | None
    last: str  # last visit day, "" if none: a tie-break, more recent first


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
                skels.append(s)
        return terms, skels

    def update(self, changed: list[tuple[_Row, str | None]]) -> None:
        """Clients written since the build: new ones added, changed ones re-posted, erased,
        merged or purged ones (key None) dropped. The changed rank first among equals: their
        last visit is the newest."""
        with self.lock:
            self._update(changed)

    def _update(self, changed: list[tuple[_Row, str | None]]) -> None:
        from bisect import insort

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
                    exact = self.skels[j] == s
                    if exact or len(s) >= 3:  # typing on: "moham" meets محمد ("mhmd")
                        groups.append((85.0 if exact else 62.0, self._skels[self.skels[j]]))
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
        years = [int(w) for w in words if w.isdigit() and len(w) == 4]
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
                year = self.rows[pos].birth_year
                if year == birth_year:
                    narrowed[pos] = score + 5.0
                elif year is None:
                    narrowed[pos] = score - 10.0  # unknown: may still be them
                elif abs(year - birth_year) == 1:
                    narrowed[pos] = score - 15.0  # a year guessed one off
            scores = narrowed
        import heapq

        rank = self.rank
        best = heapq.nsmallest(limit, scores.items(), key=lambda kv: (-kv[1], rank[kv[0]]))
        return [(self.rows[pos], round(score, 1)) for pos, score in best]  # type: ignore[misc]


# Per engine object, dropped with it: an id() could be reused by the next engine (another
# laptop's file in the same process) and hand it this one's clients.
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()
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


def index_for(engine) -> ClientIndex:
    """This laptop's index: built once, then patched with the clients changed since (from
    any process: the change log is in the database)."""
    with engine.connect() as conn:
        with _cache_lock:
            newest = _last_change(conn)
            cached = _cache.get(engine)
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
                    _cache[engine] = (newest, cached[1])
                    return cached[1]
            index = build_index(conn)
            _cache[engine] = (newest, index)
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
    import uuid as uuid_mod

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
    engine, query: str, birth_year: int | None = None, limit: int = DEFAULT_LIMIT
) -> list[ClientHit]:
    """Clients on this laptop matching what was typed, best first (no audit: names only)."""
    index = index_for(engine)
    found = index.search(query, birth_year, limit)
    with engine.connect() as conn:
        return _hits(conn, found, central=False)


# The central index is rebuilt at most once a minute: a search there runs in the background.
CENTRAL_INDEX_SECONDS = 60.0
# Per central engine (its URL no longer tells targets apart: the connection parameters are
# built by store.engine and passed beside an empty URL).
_central_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def search_central(
    central, query: str, birth_year: int | None = None, limit: int = DEFAULT_LIMIT,
    skip: frozenset[str] | set[str] = frozenset(),
) -> list[ClientHit]:  # fmt: skip
    """The same search over the central database's clients (other locations' clients);
    `skip`: uuids already found locally."""
    import time

    with central.connect() as conn:
        with _cache_lock:
            cached = _central_cache.get(central)
        if cached is None or time.monotonic() - cached[0] > CENTRAL_INDEX_SECONDS:
            cached = (time.monotonic(), build_index(conn))
            with _cache_lock:
                _central_cache[central] = cached
        found = [
            (row, score)
            for row, score in cached[1].search(query, birth_year, limit + len(skip))
            if row.uuid not in skip
        ][:limit]
        return _hits(conn, found, central=True)


def forget_central_index() -> None:
    with _cache_lock:
        _central_cache.clear()


# ---- reading one client ----


def _get(session, uuid: str, *, allow_deleted: bool = False):
    from sqlmodel import select

    from nmi_desk.store.models import Client

    client = session.exec(select(Client).where(Client.uuid == uuid)).first()
    if client is None or (client.deleted and not allow_deleted):
        if client is not None and client.merged_into:
            raise ClientNotFound(f"client {uuid} was merged into {client.merged_into}")
        if client is not None and client.erased_at is not None:
            raise ClientNotFound(f"client {uuid} was erased on {client.erased_at:%Y-%m-%d}")
        raise ClientNotFound(f"no client {uuid} on this laptop")
    return client


@dataclass
class HistoryReferral:
    uuid: str
    visit_uuid: str
    organisation_code: str
    reason: str | None
    note: str | None
    follow_up_on: str | None
    status: str
    outcome_note: str | None


@dataclass
class HistoryVisit:
    uuid: str
    day: str  # YYYY-MM-DD
    time: str  # HH:MM
    location_code: str
    consultant: str
    channel: str
    topics: list[str]
    outcome: str | None
    notes: str | None
    came_via: str | None
    referrals: list[HistoryReferral] = field(default_factory=list)


@dataclass
class ClientRecord:
    uuid: str
    revision: int
    name: str | None
    birth_year: int | None
    origin_country: str | None
    destination_country: str | None
    language: str | None
    partner_coremigrating: bool | None
    children_coremigrating: int | None
    purged: bool
    updated_at: str


@dataclass
class History:
    client: ClientRecord
    visits: list[HistoryVisit]  # newest first
    open_follow_ups: list[HistoryReferral]  # soonest first: shown on top


def _record(c) -> ClientRecord:
    return ClientRecord(
        uuid=c.uuid,
        revision=c.revision,
        name=c.name,
        birth_year=c.birth_year,
        origin_country=c.origin_country,
        destination_country=c.destination_country,
        language=c.language,
        partner_coremigrating=c.partner_coremigrating,
        children_coremigrating=c.children_coremigrating,
        purged=c.purged_at is not None,
        updated_at=c.updated_at.isoformat(sep=" ", timespec="seconds"),
    )


def _history(session, client) -> History:
    from sqlmodel import select

    from nmi_desk.store.models import Referral, Visit, VisitTopic

    visits = session.exec(
        select(Visit)
        .where(Visit.client_uuid == client.uuid, Visit.deleted.is_(False))
        .order_by(Visit.started_at.desc(), Visit.id.desc())
    ).all()
    ids = [v.id for v in visits]
    topics: dict[int, list[str]] = {}
    referrals: dict[int, list] = {}
    if ids:
        for vid, code in session.exec(
            select(VisitTopic.visit_id, VisitTopic.topic_code).where(VisitTopic.visit_id.in_(ids))
        ):
            topics.setdefault(vid, []).append(code)
        for r in session.exec(
            select(Referral)
            .where(Referral.visit_id.in_(ids), Referral.deleted.is_(False))
            .order_by(Referral.id)
        ):
            referrals.setdefault(r.visit_id, []).append(r)
    out = []
    for v in visits:
        started = local(v.started_at)
        out.append(
            HistoryVisit(
                uuid=v.uuid,
                day=v.local_date,
                time=started.strftime("%H:%M"),
                location_code=v.location_code,
                consultant=v.consultant,
                channel=v.channel,
                topics=sorted(topics.get(v.id, [])),
                outcome=v.outcome,
                notes=v.notes,
                came_via=v.came_via,
                referrals=[
                    HistoryReferral(
                        uuid=r.uuid,
                        visit_uuid=v.uuid,
                        organisation_code=r.organisation_code,
                        reason=r.reason,
                        note=r.note,
                        follow_up_on=r.follow_up_on.isoformat() if r.follow_up_on else None,
                        status=r.status,
                        outcome_note=r.outcome_note,
                    )
                    for r in referrals.get(v.id, [])
                ],
            )
        )
    open_ = sorted(
        (r for v in out for r in v.referrals if r.status == "open"),
        key=lambda r: r.follow_up_on or "9999",
    )
    return History(_record(client), out, open_)


def history(engine, uuid: str, actor, now: datetime) -> History:
    """Everything of one client for the consultant's screen; the view is audited."""
    from sqlmodel import Session

    with Session(engine) as session:
        client = _get(session, uuid)
        result = _history(session, client)
        audit.record(session, actor, "view", "client", client.uuid, now)
        session.commit()
        return result


def new_visit_input(engine, uuid: str, location_code: str):
    """A new visit for this client: name, birth year and the stable fields filled in."""
    from sqlmodel import Session

    from nmi_desk.domain.visits import VisitInput

    with Session(engine) as session:
        client = _get(session, uuid)
        return VisitInput(
            location_code=location_code,
            client_uuid=client.uuid,
            client_name=client.name,
            birth_year=client.birth_year,
            **{f: getattr(client, f) for f in STABLE_FIELDS},
        )


# ---- writing: from visits, correctie, merge ----


def _stamp(record, actor, now: datetime) -> None:
    record.revision += 1
    record.updated_at = to_utc_naive(now)
    record.device_id = actor.device_id


def link_visit(session, visit, client_uuid: str | None, actor, now: datetime) -> None:
    """Called by visits.create_visit in its transaction: link to the chosen client (whose
    stable fields take the visit's newer values), or register a new client for a named visit."""
    from nmi_desk.store.models import Client

    if visit.count_only or (client_uuid is None and not visit.client_name):
        return
    if client_uuid is not None:
        client = _get(session, client_uuid)
        before = _fields_of(client)
        if visit.client_name:
            client.name = visit.client_name
        for name in ("birth_year", *STABLE_FIELDS):
            value = getattr(visit, name)
            if value is not None:
                setattr(client, name, value)
        client.search_key = search_key(client.name)
        if _fields_of(client) != before:
            _stamp(client, actor, now)
            audit.record(session, actor, "update", "client", client.uuid, now)
    else:
        client = Client(
            name=visit.client_name,
            birth_year=visit.birth_year,
            search_key=search_key(visit.client_name),
            updated_at=to_utc_naive(now),
            device_id=actor.device_id,
            **{f: getattr(visit, f) for f in STABLE_FIELDS},
        )
        session.add(client)
        audit.record(session, actor, "create", "client", client.uuid, now)
    visit.client_uuid = client.uuid


def _fields_of(client) -> tuple:
    return tuple(getattr(client, f) for f in ("name", "birth_year", *STABLE_FIELDS))


def validate_client(inp: ClientInput, today, ref=None) -> list[FieldError]:
    from nmi_desk.core.validation import check_code
    from nmi_desk.domain.reference.files import reference

    ref = ref or reference()
    checks = [
        check_code("origin_country", inp.origin_country, ref.country_codes()),
        check_code("destination_country", inp.destination_country, ref.country_codes()),
        check_code("language", inp.language, ref.list_codes("language")),
        check_birth_year(inp.birth_year, today),
        check_children(inp.children_coremigrating),
    ]
    errors = [e for e in checks if e]
    if not (inp.name or "").strip():
        errors.append(FieldError("name", "error.required"))
    return errors


def correct_client(engine, uuid: str, inp: ClientInput, actor, now: datetime) -> int:
    """Correctie: the client record as given; its revision goes up and it syncs."""
    from sqlmodel import Session

    from nmi_desk.core.clock import AMS

    errors = validate_client(inp, now.astimezone(AMS).date())
    if errors:
        raise ValidationError(errors)
    with Session(engine) as session:
        client = _get(session, uuid)
        if client.purged_at is not None:  # saving would send blanks over the central copy
            raise ValidationError([FieldError("name", "retention.purged")])
        client.name = " ".join(inp.name.replace("\x00", "").split())
        client.birth_year = inp.birth_year
        for name in STABLE_FIELDS:
            setattr(client, name, getattr(inp, name) or None)
        client.search_key = search_key(client.name)
        _stamp(client, actor, now)
        audit.record(session, actor, "update", "client", client.uuid, now)
        session.commit()
        return client.revision


def merge_clients(engine, survivor: str, merged: str, actor, now: datetime) -> int:
    """Two records of one person (the consultant decided): `merged`'s visits move to `survivor`,
    `merged` becomes a tombstone pointing at it. Returns how many visits moved."""
    from sqlmodel import Session, select

    from nmi_desk.store.models import Visit

    if survivor == merged:
        raise ValidationError([FieldError("merge", "clients.merge_same")])
    with Session(engine) as session:
        keep = _get(session, survivor)
        gone = _get(session, merged)
        visits = session.exec(select(Visit).where(Visit.client_uuid == gone.uuid)).all()
        for v in visits:
            v.client_uuid = keep.uuid
            _stamp(v, actor, now)
        for name in ("birth_year", *STABLE_FIELDS):  # fill what the survivor lacks
            if getattr(keep, name) is None and getattr(gone, name) is not None:
                setattr(keep, name, getattr(gone, name))
        _stamp(keep, actor, now)
        _blank_client(gone)
        gone.deleted = True
        gone.merged_into = keep.uuid
        _stamp(gone, actor, now)
        audit.record(session, actor, "merge", "client", gone.uuid, now, f"into {keep.uuid}")
        audit.record(session, actor, "update", "client", keep.uuid, now, f"{len(visits)} visits")
        session.commit()
        return len(visits)


def _blank_client(client) -> None:
    for name in PERSONAL_CLIENT_FIELDS:
        setattr(client, name, None)


# ---- verwijdering ----

VISIT_ERASED = ("client_name", "birth_year", "language", "partner_coremigrating",
                "children_coremigrating", "notes")  # fmt: skip
REFERRAL_ERASED = ("reason", "note", "outcome_note")


@dataclass
class Erasure:
    visits: int
    referrals: int


def erase_client(engine, uuid: str, actor, now: datetime) -> Erasure:
    """Verwijdering: the client's personal fields go, here now, centrally at the next sync
    (the blanked records carry a higher revision), on other laptops at their next pull.
    Counts by code stay (day, location, topics, organisations, countries, outcome)."""
    from sqlmodel import Session, select

    from nmi_desk.store.models import Referral, Visit

    with Session(engine) as session:
        if _sqlite(engine):  # freed cells are zeroed, not left readable in the file
            session.connection().exec_driver_sql("PRAGMA secure_delete = ON")
        client = _get(session, uuid)
        visits = session.exec(select(Visit).where(Visit.client_uuid == client.uuid)).all()
        n_ref = 0
        for v in visits:
            for name in VISIT_ERASED:
                setattr(v, name, None)
            _stamp(v, actor, now)
            for r in session.exec(select(Referral).where(Referral.visit_id == v.id)).all():
                for name in REFERRAL_ERASED:
                    setattr(r, name, None)
                _stamp(r, actor, now)
                n_ref += 1
        # Records merged into this one earlier are tombstones already; they hold no fields.
        _blank_client(client)
        for name in STABLE_FIELDS:
            setattr(client, name, None)
        client.deleted = True
        client.erased_at = to_utc_naive(now)
        _stamp(client, actor, now)
        _scrub_local(session, client.uuid, [v.uuid for v in visits])
        audit.record(session, actor, "erase", "client", client.uuid, now,
                     f"{len(visits)} visits, {n_ref} referrals")  # fmt: skip
        session.commit()
    compact(engine)
    return Erasure(len(visits), n_ref)


def _sqlite(engine) -> bool:
    return engine.dialect.name == "sqlite"


def _scrub_local(session, client_uuid: str, visit_uuids: list[str]) -> None:
    """Copies of the personal fields elsewhere on this laptop: drafts naming the client's
    visits, and the losing versions kept by sync conflicts."""
    from sqlmodel import delete

    from nmi_desk.store.models import Draft, SyncConflict

    uuids = [client_uuid, *visit_uuids]
    session.exec(delete(SyncConflict).where(SyncConflict.record_uuid.in_(uuids)))
    session.exec(delete(Draft).where(Draft.form.in_([f"visit:{u}" for u in visit_uuids])))
    for draft in session.exec(_drafts_mentioning(client_uuid)).all():
        session.delete(draft)


def _drafts_mentioning(client_uuid: str):
    from sqlmodel import select

    from nmi_desk.store.models import Draft

    return select(Draft).where(Draft.payload.contains(client_uuid))


def compact(engine) -> None:
    """Freed pages out of the file: VACUUM rewrites it, the WAL is truncated (SQLite only)."""
    if not _sqlite(engine):
        return
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if driver.in_transaction:
            driver.commit()
        driver.execute("VACUUM")
        driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


# ---- inzage ----


def inzage(engine, uuid: str, actor, now: datetime) -> dict:
    """Everything held on one client: the record, every visit and referral, and who viewed or
    changed any of them when. The export itself is audited."""
    from sqlmodel import Session, select

    from nmi_desk.store.models import AuditEvent, Referral, Visit

    with Session(engine) as session:
        client = _get(session, uuid)
        hist = _history(session, client)
        visit_uuids = [v.uuid for v in hist.visits]
        ref_uuids = [r.uuid for v in hist.visits for r in v.referrals]
        # Tombstoned visits of the client are held too (as tombstones): say so.
        deleted = session.exec(
            select(Visit.uuid).where(Visit.client_uuid == client.uuid, Visit.deleted.is_(True))
        ).all()
        deleted_refs = session.exec(
            select(Referral.uuid)
            .join(Visit, Visit.id == Referral.visit_id)
            .where(Visit.client_uuid == client.uuid, Referral.deleted.is_(True))
        ).all()
        events = session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.record_uuid.in_(
                    [client.uuid, *visit_uuids, *ref_uuids, *deleted, *deleted_refs]
                )
            )
            .order_by(AuditEvent.at, AuditEvent.id)
        ).all()
        trail = [
            {
                "at": e.at.isoformat(sep=" ", timespec="seconds"),
                "consultant": e.consultant,
                "action": e.action,
                "record": e.table_name,
                "record_uuid": e.record_uuid,
                "device": e.device_id,
            }
            for e in events
        ]
        audit.record(session, actor, "export", "client", client.uuid, now, "inzage")
        session.commit()
    return {
        "client": asdict(hist.client),
        "visits": [asdict(v) for v in hist.visits],
        "deleted_visits": list(deleted),
        "deleted_referrals": list(deleted_refs),
        "audit": trail,
        "made_at": to_utc_naive(now).isoformat(sep=" ", timespec="seconds") + " UTC",
    }


def inzage_text(data: dict, tr) -> str:
    """The inzage as a readable document (Markdown) in the consultant's language."""
    from nmi_desk.domain.reference.files import reference

    ref = reference()
    lang = tr.lang
    topics, orgs = ref.by_code("topics"), ref.by_code("organisations")
    locations, countries = ref.by_code("locations"), ref.by_code("countries")
    languages = {e.code: e for e in ref.lists["language"]}
    outcomes = {e.code: e for e in ref.lists["outcome"]}
    statuses = {e.code: e for e in ref.lists["referral_status"]}

    def label(table, code):
        if not code:
            return "—"
        entry = table.get(code)
        return entry.label(lang) if entry else code

    c = data["client"]
    yes, no = tr("clients.yes"), tr("clients.no")
    lines = [
        f"# {tr('clients.inzage_title')}",
        "",
        tr("clients.inzage_intro", made=data["made_at"]),
        "",
        f"## {tr('clients.section_client')}",
        "",
        f"- {tr('clients.name')}: {c['name'] or '—'}",
        f"- {tr('clients.birth_year')}: {c['birth_year'] or '—'}",
        f"- {tr('clients.origin_country')}: {label(countries, c['origin_country'])}",
        f"- {tr('clients.destination_country')}: {label(countries, c['destination_country'])}",
        f"- {tr('clients.language')}: {label(languages, c['language'])}",
        f"- {tr('clients.partner')}: {yes if c['partner_coremigrating'] else no}",
        f"- {tr('clients.children')}: {c['children_coremigrating'] or 0}",
        f"- {tr('clients.record_id')}: {c['uuid']} (rev. {c['revision']})",
        "",
        f"## {tr('clients.section_visits', n=len(data['visits']))}",
    ]
    for v in data["visits"]:
        lines += [
            "",
            f"### {v['day']} {v['time']} · {label(locations, v['location_code'])}",
            "",
            f"- {tr('clients.consultant')}: {v['consultant']}",
            f"- {tr('clients.topics')}: "
            + (", ".join(label(topics, t) for t in v["topics"]) or "—"),
            f"- {tr('clients.outcome')}: {label(outcomes, v['outcome'])}",
        ]
        if v["notes"]:
            lines.append(f"- {tr('clients.notes')}: {v['notes']}")
        for r in v["referrals"]:
            extra = " · ".join(x for x in (r["reason"], r["note"], r["outcome_note"]) if x)
            lines.append(
                f"- {tr('clients.referral')}: {label(orgs, r['organisation_code'])} · "
                + label(statuses, r["status"])
                + (
                    f" · {tr('clients.follow_up_on', date=r['follow_up_on'])}"
                    if r["follow_up_on"]
                    else ""
                )
                + (f" · {extra}" if extra else "")
            )
    lines += ["", f"## {tr('clients.section_audit')}", ""]
    for e in data["audit"]:
        lines.append(f"- {e['at']} UTC · {e['consultant']} · {e['action']} · {e['record']}")
    return "\n".join(lines) + "\n"


# ---- retention ----


def purge_clients(conn, now: datetime) -> int:
    """Clients whose every visit lost its personal fields (nmi_desk.domain.retention) lose theirs too;
    local only, like the visits' purge. Runs inside retention.purge's transaction."""
    from sqlalchemy import text

    stamp = to_utc_naive(now).strftime("%Y-%m-%d %H:%M:%S")
    blank = ", ".join(f"{name} = NULL" for name in PERSONAL_CLIENT_FIELDS)
    due = (
        "c.purged_at IS NULL AND c.deleted = 0 AND c.revision = c.synced_revision "
        "AND EXISTS (SELECT 1 FROM visit v WHERE v.client_uuid = c.uuid) "
        "AND NOT EXISTS (SELECT 1 FROM visit v WHERE v.client_uuid = c.uuid "
        "AND v.deleted = 0 AND v.purged_at IS NULL)"
    )
    return conn.execute(
        text(
            f"UPDATE client SET {blank}, purged_at = :now WHERE id IN "  # noqa: S608
            f"(SELECT c.id FROM client c WHERE {due})"
        ),  # fmt: skip
        {"now": stamp},
    ).rowcount


# ---- across laptops: the central database ----


class CentralClients:
    """The central database, for finding a client seen at another location and fetching
    their record and history onto this laptop. Opened on first use and kept; every call may
    raise UserError (unreachable, no target) with one line."""

    def __init__(self, target) -> None:
        self.target = target
        self._engine = None
        self._lock = threading.Lock()

    def engine(self):
        with self._lock:
            if self._engine is None:
                from nmi_desk.sync.target import open_central

                self._engine = open_central(self.target)
            return self._engine

    def search(self, query: str, birth_year: int | None = None, limit: int = DEFAULT_LIMIT,
               skip=frozenset()) -> list[ClientHit]:  # fmt: skip
        return _central_call(lambda: search_central(self.engine(), query, birth_year, limit, skip))

    def fetch(self, local, uuid: str, now: datetime) -> dict[str, int]:
        """The client's record and every visit of them, stored here as synced."""
        from nmi_desk.sync.clients_pull import pull_clients

        return _central_call(
            lambda: pull_clients(local, self.engine(), now, wanted=[uuid], held_too=False)
        )

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def _central_call(call):
    from sqlalchemy.exc import DBAPIError

    from nmi_desk.core.errors import UserError

    try:
        return call()
    except DBAPIError as exc:
        orig = getattr(exc, "orig", None) or exc
        line = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        raise UserError.of("errors.clients.central", reason=line) from None
