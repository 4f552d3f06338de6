"""Synthetic visits for demos, tests and benchmarks: fake people only, deterministic per seed.

Names come from Faker (Dutch, Turkish, Arabic and Portuguese locales) drawn into a pool once,
so 200,000 visits stay fast. Rows are written with executemany in one transaction straight
through the SQLite driver: this is bulk generation, not the consultant's path.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from nmi_desk.core.clock import AMS, to_utc_naive
from nmi_desk.core.errors import UserError
from nmi_desk.core.names import search_key
from nmi_desk.domain.reference.files import shipped_reference

MAX_VISITS = 5_000_000

# (origin country, weight, Faker locale for names, likely conversation language)
ORIGINS = [
    ("TR", 30, "tr_TR", "tr"),
    ("MA", 24, "ar_AA", "ar"),
    ("SR", 14, "nl_NL", "nl"),
    ("CV", 4, "pt_PT", "pt"),
    ("TN", 3, "ar_AA", "ar"),
    ("BA", 3, "nl_NL", "nl"),
    ("RS", 2, "nl_NL", "nl"),
    ("CW", 3, "nl_NL", "pap"),
    ("AW", 1, "nl_NL", "pap"),
    ("ES", 2, "nl_NL", "nl"),
    ("PT", 2, "pt_PT", "pt"),
    ("IT", 1, "nl_NL", "nl"),
    ("GR", 1, "nl_NL", "nl"),
    ("ID", 2, "nl_NL", "nl"),
    ("XK", 1, "nl_NL", "nl"),
]
TOPIC_WEIGHTS = {
    "remigratiewet": 10,
    "remigratie-uitkering": 14,
    "terugkeeroptie": 4,
    "verblijf": 9,
    "nationaliteit": 3,
    "uitkeringen": 8,
    "kinderbijslag": 4,
    "ww": 3,
    "wia": 4,
    "wajong": 1,
    "bijstand": 4,
    "anw": 2,
    "aio": 3,
    "pensioen": 8,
    "aow": 12,
    "aanvullend-pensioen": 5,
    "buitenlands-pensioen": 4,
    "zorg": 9,
    "verzekeringen": 6,
    "voogdij": 2,
    "schulden": 5,
    "wmo": 3,
    "onderwijs": 2,
    "belastingen": 6,
    "inschrijving": 6,
    "verhuizing": 4,
    "wonen": 4,
}
REFERRAL_WEIGHTS = {
    "svb": 30,
    "uwv": 10,
    "ind": 9,
    "belastingdienst": 8,
    "cak": 6,
    "duo": 1,
    "zorgverzekeraar": 4,
    "pensioenfonds": 3,
    "gemeente-sociaal-loket": 4,
    "gemeente-wmo": 3,
    "gemeente-schuldhulp": 4,
    "gemeente-brp": 6,
    "consulaat-tr": 4,
    "consulaat-sr": 2,
    "min-justitie-sr": 1,
    "sociaal-attache-tr": 3,
}
CAME_VIA = {
    "self": 30,
    "gemeente-sociaal-loket": 25,
    "svb": 10,
    "consulaat": 8,
    "voorlichting": 8,
    "familie-bekenden": 12,
    "website-app": 5,
    "other": 2,
}
OUTCOMES = {
    "informed": 45,
    "referred": 30,
    "follow-up": 12,
    "decided-return": 6,
    "decided-stay": 4,
    "other": 3,
}
CHANNELS = {"walk-in": 75, "appointment": 12, "phone": 10, "email": 2, "home-visit": 1}
CONSULTANTS = ["AB", "HK", "MY", "SR", "TD"]
REASONS = {
    "svb": "Vragen over lopende uitkering",
    "uwv": "Uitkering meenemen naar het buitenland",
    "ind": "Vertrek melden en verblijfsrecht",
    "belastingdienst": "M-aangifte en toeslagen",
    "cak": "Inschrijven voor zorg in verdragsland",
    "gemeente-brp": "Uitschrijven uit de BRP",
}


CHILDREN = (0, 0, 0, 0, 1, 1, 2, 3)


def _uuid4(bits: int) -> str:
    """str(uuid.UUID(int=bits, version=4)) without building UUID objects (bulk speed)."""
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)
    bits = (bits & ~(0xF000 << 64)) | (4 << 76)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


BULK_REBUILD = 20_000
BULK_TABLES = ("visit", "visit_topic", "referral")


def _drop_indexes(cur) -> list[str]:
    """Drop the secondary indexes and the triggers of the bulk tables; returns the SQL that
    recreates them (indexes first, then triggers)."""
    marks = ",".join("?" * len(BULK_TABLES))
    rows = cur.execute(
        f"SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
        f" AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY type = 'trigger', name",
        BULK_TABLES,
    ).fetchall()
    for kind, name, _ in rows:
        cur.execute(f'DROP {kind.upper()} "{name}"')
    return [sql for _, _, sql in rows]


def sqlite_ts(moment: datetime) -> str:
    """The text form SQLAlchemy uses for DATETIME on SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _weighted(rng: random.Random, table: dict):
    """A fast weighted picker: the keys repeated by weight, indexed by one random()."""
    pool = [k for k, w in table.items() for _ in range(w)]
    size = len(pool)
    rnd = rng.random
    return lambda: pool[int(rnd() * size)]


def _name_pools(seed: int, size: int = 400) -> dict[str, list[str]]:
    """First and last names drawn apart (no titles such as "Prof." or "الدكتور"): a pool of
    `size` full names per locale; ar_AA names are in Arabic script."""
    from faker import Faker

    pools = {}
    for locale in sorted({o[2] for o in ORIGINS}):
        fake = Faker(locale)
        fake.seed_instance(seed)
        pools[locale] = [f"{fake.first_name()} {fake.last_name()}" for _ in range(size)]
    return pools


# A named visit continues an earlier client of the same origin this often (returning clients).
RETURNING = 0.4


@dataclass
class DemoResult:
    visits: int
    referrals: int
    first_day: date
    last_day: date
    clients: int = 0


def generate(
    engine,
    visits: int,
    days: int,
    seed: int,
    device_id: str,
    now: datetime,
    location: str | None = None,
    returning: float = RETURNING,
) -> DemoResult:
    if visits < 0 or visits > MAX_VISITS:
        raise UserError(f"--visits must be between 0 and {MAX_VISITS:,}")
    if days < 1 or days > 3660:
        raise UserError("--days must be between 1 and 3660")
    ref = shipped_reference()
    locations = [loc for loc in ref.locations if location in (None, loc.code)]
    if not locations:
        raise UserError(f"unknown location code {location!r}")
    rng = random.Random(seed)
    id_rng = random.Random(f"{seed}:{device_id}")  # UUIDs differ per device, content does not
    names = _name_pools(seed)
    pick_topic = _weighted(rng, TOPIC_WEIGHTS)
    pick_org = _weighted(rng, REFERRAL_WEIGHTS)
    pick_came = _weighted(rng, CAME_VIA)
    pick_outcome = _weighted(rng, OUTCOMES)
    pick_channel = _weighted(rng, CHANNELS)
    pick_origin = _weighted(rng, {o: o[1] for o in ORIGINS})
    last_day = now.astimezone(AMS).date()
    first_day = last_day - timedelta(days=days - 1)
    this_year = last_day.year
    # Per day once: its ISO form, the UTC date and offset (opening hours never straddle the
    # 02:00-03:00 DST switch), and the follow-up date 14 days on.
    day_info = []
    for d in range(days):
        day = first_day + timedelta(days=d)
        noon = datetime.combine(day, time(12), tzinfo=AMS)
        follow = day + timedelta(days=14)
        closed_at = sqlite_ts(to_utc_naive(datetime.combine(follow, time(12), tzinfo=AMS)))
        day_info.append(
            (
                day.isoformat(),
                noon.astimezone(UTC).date().isoformat(),
                int(noon.utcoffset().total_seconds() // 60),  # type: ignore[union-attr]  # aware
                follow.isoformat(),
                follow < last_day,
                closed_at,
            )
        )
    spans: list[tuple[str, int, int]] = []
    for place in locations:
        opens = time.fromisoformat(place.opens or "09:00")
        closes = time.fromisoformat(place.closes or "17:00")
        start = opens.hour * 60 + opens.minute
        spans.append((place.code, start, max(closes.hour * 60 + closes.minute - start, 1)))
    rnd = rng.random
    new_id = id_rng.getrandbits
    # Clients come from their own generators, so the visits' other fields stay as they were.
    client_rng = random.Random(f"{seed}:clients")
    client_ids = random.Random(f"{seed}:{device_id}:clients").getrandbits
    crnd = client_rng.random
    earlier_clients: dict[str, list[tuple]] = {}  # origin -> clients so far: (uuid, fields)
    client_rows: list[tuple] = []
    keys: dict[str | None, str | None] = {}
    n_loc, n_cons = len(spans), len(CONSULTANTS)

    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA cache_size = -262144")  # 256 MiB for this bulk load: random UUID keys
        # The write lock first, then the next ids: two demos at once (or the counter app saving)
        # can no longer read the same max(id) and collide; the second waits its turn.
        cur.execute("BEGIN IMMEDIATE")
        next_id = (cur.execute("SELECT coalesce(max(id), 0) FROM visit").fetchone()[0]) + 1
        next_ref = (cur.execute("SELECT coalesce(max(id), 0) FROM referral").fetchone()[0]) + 1
        first_ref = next_ref
        visit_rows, topic_rows, referral_rows = [], [], []
        for i in range(visits):
            vid = next_id + i
            loc, start, span = spans[int(rnd() * n_loc)]
            day_iso, utc_date, offset, follow_iso, follow_past, closed_ts = day_info[
                int(rnd() * days)
            ]
            minute = start + int(rnd() * span)
            utc_minute = minute - offset
            ts = f"{utc_date} {utc_minute // 60:02d}:{utc_minute % 60:02d}:00.000000"
            count_only = rnd() < 0.15
            origin = pick_origin()
            chosen = dict.fromkeys(pick_topic() for _ in range(1 + int(rnd() * 3.2)))
            client: tuple = (None,) * 8
            client_uuid = None
            came_via = outcome = None
            channel = "walk-in"
            if not count_only:
                channel = pick_channel()
                came_via = pick_came()
                outcome = pick_outcome()
                pool = names[origin[2]]
                client = (
                    pool[int(rnd() * len(pool))] if rnd() < 0.7 else None,
                    this_year - 40 - int(rnd() * 46) if rnd() < 0.8 else None,
                    origin[0],
                    origin[0] if rnd() < 0.85 else None,
                    origin[3] if rnd() < 0.9 else "nl",
                    (rnd() < 0.35) if rnd() < 0.9 else None,
                    CHILDREN[int(rnd() * len(CHILDREN))] if rnd() < 0.6 else None,
                    None,
                )
                if client[0] is not None:
                    earlier = earlier_clients.setdefault(origin[0], [])
                    if earlier and crnd() < returning:
                        known = earlier[int(crnd() * len(earlier))]
                        client_uuid, client = known[0], (*known[1:], None)
                    else:
                        client_uuid = _uuid4(client_ids(128))
                        earlier.append((client_uuid, *client[:7]))
                        name = client[0]
                        if name not in keys:
                            keys[name] = search_key(name)
                        client_rows.append((client_uuid, ts, device_id, *client[:7], keys[name]))
            visit_rows.append(
                (
                    vid,
                    _uuid4(new_id(128)),
                    1,
                    ts,
                    device_id,
                    False,
                    0,
                    ts,
                    day_iso,
                    minute // 60,
                    loc,
                    CONSULTANTS[int(rnd() * n_cons)],
                    channel,
                    count_only,
                    came_via,
                    None,
                    *client,
                    outcome,
                    client_uuid,
                )
            )
            topic_rows += [(vid, code) for code in chosen]
            if not count_only and rnd() < 0.5:
                for _ in range(1 if rnd() < 0.8 else 2):
                    org = pick_org()
                    status: str = "open"
                    closed: str | None = None
                    if follow_past and rnd() < 0.8:
                        status = "done" if rnd() < 0.9 else "cancelled"
                        closed = closed_ts
                    referral_rows.append(
                        (
                            next_ref,
                            _uuid4(new_id(128)),
                            1,
                            ts,
                            device_id,
                            False,
                            0,
                            vid,
                            org,
                            REASONS.get(org),
                            None,
                            follow_iso,
                            status,
                            None,
                            closed,
                        )
                    )
                    next_ref += 1
        # Secondary indexes and triggers are dropped and rebuilt around a large load: building an
        # index over sorted data is far cheaper than 200,000 random inserts into it, and the
        # per-day counts (visit_daily) are added in bulk by GROUP BY instead of by a trigger per
        # row. All in this one transaction: a failed load leaves the database as it was.
        if not raw.driver_connection.in_transaction:
            # The driver opens a transaction only at the first INSERT: without this BEGIN the
            # DROPs below would commit on their own and survive a failed load.
            cur.execute("BEGIN")
        rebuild = _drop_indexes(cur) if len(visit_rows) >= BULK_REBUILD else []
        try:
            cur.executemany(
                "INSERT INTO visit (id, uuid, revision, updated_at, device_id, deleted, synced_revision,"
                " started_at, local_date, local_hour, location_code, consultant, channel, count_only,"
                " came_via, referred_by, client_name, birth_year, origin_country, destination_country,"
                " language, partner_coremigrating, children_coremigrating, notes, outcome,"
                " client_uuid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                visit_rows,
            )
        except Exception as exc:
            if "visit.uuid" not in str(exc):
                raise
            raw.rollback()
            raise UserError(
                f"the synthetic visits of --seed {seed} are already in this database: "
                "give another --seed"
            ) from None
        cur.executemany(
            "INSERT INTO client (uuid, revision, updated_at, device_id, deleted, synced_revision,"
            " name, birth_year, origin_country, destination_country, language,"
            " partner_coremigrating, children_coremigrating, search_key)"
            " VALUES (?, 1, ?, ?, 0, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
            client_rows,
        )
        cur.executemany("INSERT INTO visit_topic (visit_id, topic_code) VALUES (?, ?)", topic_rows)
        cur.executemany(
            "INSERT INTO referral (id, uuid, revision, updated_at, device_id, deleted,"
            " synced_revision, visit_id, organisation_code, reason, note, follow_up_on, status,"
            " outcome_note, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            referral_rows,
        )
        for sql in rebuild:
            cur.execute(sql)
        if rebuild:
            from nmi_desk.store.daily_counts import fill_sql

            for sql in fill_sql(visit_from=next_id, referral_from=first_ref):
                cur.execute(sql)
        raw.commit()
        cur.execute("PRAGMA cache_size = -2000")
    finally:
        raw.close()
    return DemoResult(visits, len(referral_rows), first_day, last_day, len(client_rows))
