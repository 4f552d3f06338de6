"""Pull: what changed centrally for the clients this laptop holds (and any it asks for).

A client found in the central database (another location's) is fetched with its history when
the consultant opens it; at every sync the laptop brings the newer central versions of the
clients it holds: a visit added elsewhere, a correction, and the tombstones of a merge or an
erasure. It reads the changes after the position it pulled last (sync/changes.py); only the
first pull from a target reads every held client whole. An erasure that arrives blanks the local copies too (also visits still pending here)
and the file is compacted, so the name is gone from the raw bytes as well.

Pulled rows are stored as synced (`synced_revision = revision`, `synced_at` now), so they are
never pushed back and the retention clock (nmi_desk.domain.retention) runs for them as for any other.
A local row with changes of its own that are not pushed yet is left alone: push decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from sqlalchemy import bindparam, select, text

from nmi_desk.domain.clients.fields import REFERRAL_ERASED, VISIT_ERASED
from nmi_desk.sync import changes
from nmi_desk.sync.crashpoints import crash_point
from nmi_desk.sync.erasure import CLIENT_ERASED
from nmi_desk.sync.tables import unit_kinds

CHUNK = 500
WHOLE = 20_000  # more uuids than this: the local table is read whole (_revisions)
# What _newer_clients and the survivors read of a central client row: a pull reads this for
# every client it looks at, and whole rows (_taken) only for those it takes.
_DECIDES = "uuid, revision, erased_at, merged_into"


def _tables():
    # The ORM and its model classes only when rows come in (~0.25 s of every sync).
    from nmi_desk.store.models import SQLModel

    return SQLModel.metadata.tables


def _columns(name: str) -> tuple[str, ...]:
    for unit in unit_kinds():
        for rec in (unit.root, *unit.children):
            if rec.table == name:
                return rec.columns
    raise KeyError(name)


def _chunks(items: list[str]):
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _naive(row: dict) -> dict:
    for k, v in row.items():
        if getattr(v, "tzinfo", None) is not None:
            row[k] = v.replace(tzinfo=None)
    return row


def _fetch(conn, table: str, column: str, values: list[str], extra=None) -> list[dict]:
    if not values:
        return []  # the everyday pull: nothing changed, no model classes built for nothing
    tbl = _tables()[table]
    cols = [tbl.c[c] for c in _columns(table)] + list(extra or ())
    out = []
    for chunk in _chunks(values):
        query = select(*cols).where(tbl.c[column].in_(chunk))
        out += [_naive(dict(r)) for r in conn.execute(query).mappings()]
    return out


def _revisions(conn, table: str, column: str, values: list[str]) -> dict[str, tuple[int, int]]:
    """uuid -> (revision, synced_revision) of the local rows whose `column` is in values."""
    out = {}
    if len(values) > WHOLE:  # one pass over the table beats hundreds of IN lists
        wanted = set(values)
        for uuid, key, rev, synced in conn.exec_driver_sql(
            f"SELECT uuid, {column}, revision, synced_revision FROM {table}"  # noqa: S608
        ):
            if key in wanted:
                out[uuid] = (rev, synced)
        return out
    stmt = text(
        f"SELECT uuid, revision, synced_revision FROM {table} WHERE {column} IN :v"  # noqa: S608
    ).bindparams(bindparam("v", expanding=True))
    for chunk in _chunks(values):
        for uuid, rev, synced in conn.execute(stmt, {"v": chunk}):
            out[uuid] = (rev, synced)
    return out


def pull_clients(
    local,
    central,
    now: datetime,
    wanted: Iterable[str] = (),
    held_too: bool = True,
    target_id: str | None = None,
    own_tx: Iterable[int] = (),
    held: Iterable[str] = (),
) -> dict[str, int]:
    """Bring newer central versions of the clients held here (plus `wanted`; only those when
    not `held_too`) and their visits. Returns rows changed per table.

    With `target_id` and a position pulled before from that target, only what changed since
    is read (sync/changes.py); otherwise (the first pull from a target, a fetch) every held
    or wanted client is read whole, and the central side notes that this laptop holds them.
    `own_tx`: the push's fast-lane transactions just before (their change_tx). The rows they
    wrote are this laptop's records as it sent them, and any later change gives a row another
    change_tx, so the first pull after a first push leaves them out instead of reading back
    everything it has just sent. `held`: clients those transactions already noted as held.
    """
    from nmi_desk.sync import state

    holder = state.laptop_id(local)
    since = None
    if held_too and target_id is not None:
        since = state.pulled_position(local, target_id)
    if since is not None and holder:
        return _pull_changes(local, central, now, holder, target_id, since)
    held = []
    if held_too:
        with local.connect() as lconn:
            held = [
                r[0] for r in lconn.exec_driver_sql("SELECT uuid FROM client WHERE deleted = 0")
            ]
    uuids = sorted(set(held) | set(wanted))
    with central.begin() as cconn:
        upto = changes.latest(cconn)  # first: what commits from now on comes next time
    mark = (target_id, upto) if held_too and target_id is not None else None
    if not uuids:
        return _apply(local, now, [], [], {}, [], mark)
    # Noted (and committed) before the rows are read: a change committed after that read has
    # a later position and this laptop's next pull finds it (sync/changes.py).
    noted = set(held)
    if to_hold := [u for u in uuids if u not in noted]:
        with central.begin() as cconn:
            changes.hold(cconn, holder, to_hold)
    with central.begin() as cconn:
        if cconn.dialect.name == "postgresql":
            cconn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        if held_too and holder:
            # Every client this laptop holds, by a join on the central side rather than a
            # list of uuids sent in pieces (the first pull after a first push reads them all).
            own = sorted(set(own_tx))
            clients, known = _held_rows(cconn, holder, own)
            central_visits = _held_visits(cconn, holder, own)
        else:
            clients, known, central_visits = {}, set(), {}
        missing = [u for u in uuids if u not in known]
        clients.update(_versions(cconn, missing))
        central_visits.update(_visits_of(cconn, [u for u in missing if u in clients]))
        newer_clients = _taken(local, cconn, clients)
        visits, topics, referrals = _visit_rows(local, cconn, central_visits)
    out = _apply(local, now, newer_clients, visits, topics, referrals, mark)
    return _with_survivors(local, central, now, clients, out)


def _with_survivors(local, central, now, clients: dict[str, dict], out: dict) -> dict:
    """A survivor of a merge this laptop does not hold comes whole, as a fetch brings it."""
    survivors = sorted({c["merged_into"] for c in clients.values() if c["merged_into"]})
    for _ in range(5):  # a survivor merged on in turn: followed a few steps, as before
        if not survivors:
            break
        with local.connect() as lconn:
            have = set(_revisions(lconn, "client", "uuid", survivors))
        missing = [u for u in survivors if u not in have]
        if not missing:
            break
        more = pull_clients(local, central, now, wanted=missing, held_too=False)
        for table, n in more.items():
            out[table] = out.get(table, 0) + n
        with central.connect() as cconn:
            rows = _fetch(cconn, "client", "uuid", missing)
        survivors = sorted({r["merged_into"] for r in rows if r["merged_into"]})
    return out


def _not_own(table: str, own: list[int]) -> str:
    """SQL: the row was not written by one of the transactions `own` (:own; none: TRUE)."""
    return f"coalesce({table}.change_tx, 0) NOT IN :own" if own else "TRUE"


def _held_rows(cconn, holder: str, own: list[int]) -> tuple[dict[str, dict], set[str]]:
    """uuid -> _DECIDES of every client `holder` holds but those the transactions `own`
    wrote, and the uuids of all of them."""
    stmt = text(
        f"SELECT {_DECIDES}, NOT ({_not_own('client', own)}) AS own FROM client"  # noqa: S608
        " JOIN sync_holder h ON h.client_uuid = client.uuid WHERE h.holder = :h"
    )
    if own:
        stmt = stmt.bindparams(bindparam("own", expanding=True))
    clients, known = {}, set()
    names = _DECIDES.split(", ")
    for *row, mine in cconn.execute(stmt, {"h": holder, "own": own}):
        known.add(row[0])
        if not mine:
            clients[row[0]] = dict(zip(names, row, strict=True))
    return clients, known


def _held_visits(cconn, holder: str, own: list[int]) -> dict[str, int]:
    """uuid -> revision of the central visits of the clients `holder` holds, but those the
    transactions `own` wrote."""
    stmt = text(
        "SELECT visit.uuid, visit.revision FROM visit JOIN sync_holder h"
        " ON h.client_uuid = visit.client_uuid WHERE h.holder = :h"
        f" AND {_not_own('visit', own)}"
    )
    if own:
        stmt = stmt.bindparams(bindparam("own", expanding=True))
    return dict(cconn.execute(stmt, {"h": holder, "own": own}).all())


def _visits_of(cconn, client_uuids: list[str]) -> dict[str, int]:
    """uuid -> revision of the central visits of these clients."""
    if not client_uuids:
        return {}  # no model classes built for nothing (~0.45 s after a first push)
    visit_tbl = _tables()["visit"]
    out = {}
    for chunk in _chunks(sorted(client_uuids)):
        for uuid, rev in cconn.execute(
            select(visit_tbl.c.uuid, visit_tbl.c.revision).where(visit_tbl.c.client_uuid.in_(chunk))
        ):
            out[uuid] = rev
    return out


def _pull_changes(local, central, now, holder: str, target_id: str, since: int) -> dict[str, int]:
    """What changed centrally after position `since` for the clients this laptop holds: reads
    in proportion to the changes, not to the clients held."""
    with central.begin() as cconn:
        if cconn.dialect.name == "postgresql":
            cconn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        upto = changes.latest(cconn)
        if upto <= since:
            return {}
        changed_clients, central_visits = changes.changed(cconn, holder, since, upto)
        clients = _versions(cconn, changed_clients)
        newer_clients = _taken(local, cconn, clients)
        visits, topics, referrals = _visit_rows(local, cconn, central_visits)
    out = _apply(local, now, newer_clients, visits, topics, referrals, (target_id, upto))
    return _with_survivors(local, central, now, clients, out)


def _versions(conn, uuids: list[str]) -> dict[str, dict]:
    """uuid -> _DECIDES of these central clients."""
    stmt = text(f"SELECT {_DECIDES} FROM client WHERE uuid IN :v").bindparams(  # noqa: S608
        bindparam("v", expanding=True)
    )
    out = {}
    for chunk in _chunks(uuids):
        out.update((r["uuid"], dict(r)) for r in conn.execute(stmt, {"v": chunk}).mappings())
    return out


def _taken(local, cconn, clients: dict[str, dict]) -> list[dict]:
    """The whole central rows of the clients this laptop takes. Most clients a pull looks at
    are this laptop's own push coming back, taken by nobody; the whole rows need the model
    classes' column types (~0.25 s of an everyday `nmi-desk sync` to build)."""
    taken = [r["uuid"] for r in _newer_clients(local, clients)]
    whole = {r["uuid"]: r for r in _fetch(cconn, "client", "uuid", taken)}
    return [whole[u] for u in taken if u in whole]


def _newer_clients(local, clients: dict[str, dict]) -> list[dict]:
    """The central client rows this laptop takes."""
    if not clients:
        return []
    with local.connect() as lconn:
        mine = _revisions(lconn, "client", "uuid", sorted(clients))
        erased_here, merged_here = set(), set()
        for u, erased, into in lconn.exec_driver_sql(
            "SELECT uuid, erased_at, merged_into FROM client WHERE deleted = 1"
        ):
            if erased is not None:
                erased_here.add(u)
            if into:
                merged_here.add(u)
    # An erasure or a merge is taken whatever the revisions say: this laptop's own change
    # to the client may have lost to it with the same revision (sync/erasure.py).
    return [
        row for u, row in clients.items()
        if (row["revision"] > mine.get(u, (0, 0))[0] and _not_pending(mine.get(u)))
        or (row["erased_at"] is not None and u in mine and u not in erased_here)
        or (row["merged_into"] and u in mine and u not in merged_here | erased_here)
    ]  # fmt: skip


def _visit_rows(local, cconn, central_visits: dict[str, int]):
    """The central visits newer than this laptop's copies (uuid -> central revision given),
    with their topics and referrals."""
    if not central_visits:
        return [], {}, []
    with local.connect() as lconn:
        mine_v = _revisions(lconn, "visit", "uuid", sorted(central_visits))
    newer = sorted(
        u for u, rev in central_visits.items()
        if rev > mine_v.get(u, (0, 0))[0] and _not_pending(mine_v.get(u))
    )  # fmt: skip
    visits = _fetch(cconn, "visit", "uuid", newer)
    topics: dict[str, list[str]] = {}
    referrals: list[dict] = []
    if newer:
        visit_tbl = _tables()["visit"]
        ref_tbl = _tables()["referral"]
        topic_tbl = _tables()["visit_topic"]
        for chunk in _chunks(newer):
            for uuid, code in cconn.execute(
                select(visit_tbl.c.uuid, topic_tbl.c.topic_code)
                .join(visit_tbl, visit_tbl.c.id == topic_tbl.c.visit_id)
                .where(visit_tbl.c.uuid.in_(chunk))
            ):
                topics.setdefault(uuid, []).append(code)
            cols = [ref_tbl.c[c] for c in _columns("referral")]
            query = (
                select(*cols, visit_tbl.c.uuid.label("visit_uuid"))
                .join(visit_tbl, visit_tbl.c.id == ref_tbl.c.visit_id)
                .where(visit_tbl.c.uuid.in_(chunk))
            )
            referrals += [_naive(dict(r)) for r in cconn.execute(query).mappings()]
    return visits, topics, referrals


def _not_pending(local: tuple[int, int] | None) -> bool:
    return local is None or local[0] == local[1]


def _upsert(conn, table: str, rows: list[dict], now: datetime) -> None:
    from sqlalchemy import and_, or_
    from sqlalchemy.dialects.sqlite import insert

    if not rows:
        return
    tbl = _tables()[table]
    stamp = now.replace(tzinfo=None)
    for row in rows:
        row["synced_revision"] = row["revision"]
        if "synced_at" in tbl.c:
            row["synced_at"] = stamp
        if "purged_at" in tbl.c:  # a newer version from elsewhere: its retention clock restarts
            row["purged_at"] = None
    stmt = insert(tbl)
    names = [c for c in rows[0] if c != "uuid"]
    stmt = stmt.on_conflict_do_update(
        index_elements=["uuid"],
        set_={c: stmt.excluded[c] for c in names},
        where=tbl.c.revision < stmt.excluded.revision
        if table != "client"
        else or_(
            tbl.c.revision < stmt.excluded.revision,
            and_(stmt.excluded.erased_at.isnot(None), tbl.c.erased_at.is_(None)),
            and_(stmt.excluded.merged_into.isnot(None), tbl.c.deleted.is_(False)),
        ),
    )
    conn.execute(stmt, rows)


def _apply(local, now, clients, visits, topics, referrals, mark=None) -> dict[str, int]:
    """Store what was pulled; `mark` (target id, position) is noted in the same transaction,
    so a kill before the commit pulls the same changes again (the upserts are idempotent)."""
    from nmi_desk.sync.state import set_pulled_position

    if not (clients or visits):
        if mark is not None:
            with local.begin() as conn:
                set_pulled_position(conn, *mark)
        return {}
    erased = [c["uuid"] for c in clients if c.get("erased_at") is not None]
    merged = [(c["uuid"], c["merged_into"]) for c in clients if c.get("merged_into")]
    with local.begin() as conn:
        if erased:
            conn.exec_driver_sql("PRAGMA secure_delete = ON")
        _upsert(conn, "client", clients, now)
        _upsert(conn, "visit", visits, now)
        ids = {}
        if visits:
            ids = dict(
                conn.execute(
                    text("SELECT uuid, id FROM visit WHERE uuid IN :v").bindparams(
                        bindparam("v", expanding=True)
                    ),
                    {"v": [v["uuid"] for v in visits]},
                ).all()
            )
            conn.execute(
                text("DELETE FROM visit_topic WHERE visit_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": list(ids.values())},
            )
            rows = [
                {"visit_id": ids[u], "topic_code": code}
                for u, codes in topics.items()
                for code in codes
                if u in ids
            ]
            if rows:
                conn.execute(_tables()["visit_topic"].insert(), rows)
        for r in referrals:
            r["visit_id"] = ids[r.pop("visit_uuid")]
        _upsert(conn, "referral", referrals, now)
        for gone, survivor in merged:  # local visits of a merged-away record follow it
            conn.execute(
                text("UPDATE visit SET client_uuid = :s WHERE client_uuid = :g"),
                {"s": survivor, "g": gone},
            )
        for uuid in erased:  # also what this laptop holds but has not pushed yet
            _blank_client_data(conn, uuid)
        if mark is not None:
            set_pulled_position(conn, *mark)
        crash_point("during-client-pull")
    if erased:
        from nmi_desk.domain.clients.rights import compact

        compact(local)
    return {"client": len(clients), "visit": len(visits)}


def _blank_client_data(conn, uuid: str) -> None:
    """The personal fields of a client's visits and referrals here, and the conflict copies
    and drafts that hold them."""
    blank = ", ".join(f"{c} = NULL" for c in VISIT_ERASED)
    conn.execute(text(f"UPDATE visit SET {blank} WHERE client_uuid = :u"), {"u": uuid})  # noqa: S608
    blank = ", ".join(f"{c} = NULL" for c in REFERRAL_ERASED)
    conn.execute(
        text(
            f"UPDATE referral SET {blank} WHERE visit_id IN "  # noqa: S608
            "(SELECT id FROM visit WHERE client_uuid = :u)"
        ),
        {"u": uuid},
    )
    conn.execute(
        text(
            "DELETE FROM sync_conflict WHERE record_uuid = :u OR record_uuid IN "
            "(SELECT uuid FROM visit WHERE client_uuid = :u) OR record_uuid IN "
            "(SELECT r.uuid FROM referral r JOIN visit v ON v.id = r.visit_id "
            "WHERE v.client_uuid = :u)"
        ),
        {"u": uuid},
    )
    conn.execute(text("DELETE FROM draft WHERE payload LIKE :p"), {"p": f"%{uuid}%"})


def apply_erasures(local, clients: Iterable[str], visits: Iterable[str], now: datetime) -> int:
    """What a push was told (push.PushResult.erased): the central side holds these clients
    erased and took these visits blanked. Blank this laptop's copies at once (revisions kept:
    the central side has the blank already) and compact the file. Returns the clients blanked."""
    clients, visits = sorted(set(clients)), sorted(set(visits))
    if not (clients or visits):
        return 0
    stamp = now.replace(tzinfo=None)
    client_blank = ", ".join(f"{c} = NULL" for c in CLIENT_ERASED)
    with local.begin() as conn:
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
        for uuid in clients:
            conn.execute(
                text(
                    f"UPDATE client SET {client_blank}, deleted = 1,"  # noqa: S608
                    " erased_at = coalesce(erased_at, :at) WHERE uuid = :u"
                ),
                {"u": uuid, "at": stamp},
            )
            _blank_client_data(conn, uuid)
        for chunk in _chunks(visits):
            ids = [
                r[0]
                for r in conn.execute(
                    text("SELECT id FROM visit WHERE uuid IN :v").bindparams(
                        bindparam("v", expanding=True)
                    ),
                    {"v": chunk},
                )
            ]
            for vid in ids:
                blank = ", ".join(f"{c} = NULL" for c in VISIT_ERASED)
                conn.execute(text(f"UPDATE visit SET {blank} WHERE id = :i"), {"i": vid})  # noqa: S608
                blank = ", ".join(f"{c} = NULL" for c in REFERRAL_ERASED)
                conn.execute(
                    text(f"UPDATE referral SET {blank} WHERE visit_id = :i"),
                    {"i": vid},  # noqa: S608
                )
            conn.execute(
                text("DELETE FROM sync_conflict WHERE record_uuid IN :v").bindparams(
                    bindparam("v", expanding=True)
                ),
                {"v": chunk},
            )
    from nmi_desk.domain.clients.rights import compact

    compact(local)
    return len(clients)
