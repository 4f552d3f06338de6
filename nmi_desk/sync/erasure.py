"""An erasure dominates: once the central side knows a client is erased, no push puts their
personal data back (docs/sync.md, "Erasure and merge dominate"; docs/decisions.md).

Within a push's central transaction (push._central_transaction):
  - client rows: an incoming row of a client that is erased centrally is taken blanked and
    erased, whatever its version; an incoming erasure that loses on version (another laptop
    wrote the client later) is applied anyway. A merge and an erasure of one client both stay
    (`merged_into` and `erased_at`).
  - one person: clients joined by merges are one person. When any of them is erased, all are
    (the central side cannot tell which visits came from which record once a merge moved them).
  - visit and referral rows: an incoming row of an erased client (by its own client or the
    central row's) is taken with its personal fields blanked; statistics fields stay. Central
    rows of erased clients that still carry personal fields (a version that won earlier) are
    blanked with their revision raised, so every laptop's pull takes the blank.
  - the sync-conflict log keeps no personal field of an erased client's records.
The pushing laptop is told which clients are erased (PushResult.erased) and blanks its own
copies at once (clients_pull.apply_erasures).

Rare by nature: the checks cost one indexed look-up per batch; the rest runs only when an
erased client is involved.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from sqlalchemy import bindparam, text

from nmi_desk.domain.clients.fields import (
    PERSONAL_CLIENT_FIELDS,
    REFERRAL_ERASED,
    STABLE_FIELDS,
    VISIT_ERASED,
)
from nmi_desk.store.pg_array import KeyArray
from nmi_desk.sync import changes
from nmi_desk.sync.tables import RecordKind

CLIENT_ERASED = tuple(dict.fromkeys((*PERSONAL_CLIENT_FIELDS, *STABLE_FIELDS)))
ERASED_FIELDS = {"client": CLIENT_ERASED, "visit": VISIT_ERASED, "referral": REFERRAL_ERASED}
CHUNK = 1000


def _in(conn, sql: str, **lists):
    """`sql` with `IN :name` lists of uuids. On PostgreSQL one array parameter each, unnested
    (`IN (SELECT unnest(...))`: one index probe per uuid, the form push.py `_keyed` measured
    faster than `= ANY(array)`), bound as one array literal (store/pg_array.py): a list of
    1,000 bound values cost more to bind and parse than the look-up itself. The client
    look-ups probe partial indexes (migration 176)."""
    if conn.dialect.name == "postgresql":
        for name in lists:
            sql = sql.replace(f"IN :{name}", f"IN (SELECT unnest(CAST(:{name} AS varchar[])))")
        return text(sql).bindparams(*(bindparam(name, type_=KeyArray()) for name in lists))
    stmt = text(sql)
    for name in lists:
        stmt = stmt.bindparams(bindparam(name, expanding=True))
    return stmt


def _chunks(items: list):
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def erased_among(conn, uuids: Iterable[str]) -> dict[str, datetime]:
    """uuid -> erased_at of the given clients that are erased centrally."""
    wanted = sorted({u for u in uuids if u})
    out: dict[str, datetime] = {}
    for chunk in _chunks(wanted):
        out.update(
            conn.execute(
                _in(
                    conn,
                    "SELECT uuid, erased_at FROM client WHERE uuid IN :u AND erased_at IS NOT NULL",
                    u=1,
                ),  # fmt: skip
                {"u": chunk},
            ).all()
        )
    return out


def bump(rec: RecordKind, row: tuple) -> tuple:
    """A row the central side takes otherwise than sent goes in one revision higher, so the
    sender's next pull brings it the row as taken."""
    i = rec.rev_index
    return (*row[:i], row[i] + 1, *row[i + 1 :])


def blank_row(rec: RecordKind, row: tuple) -> tuple:
    """A sent row (columns first, anything after kept) with the personal fields blanked."""
    fields = ERASED_FIELDS[rec.table]
    out = list(row)
    for name in fields:
        out[rec.columns.index(name)] = None
    return tuple(out)


def erase_row(rec: RecordKind, row: tuple, erased_at: datetime, merged_into: str | None) -> tuple:
    """A sent client row made an erased tombstone, keeping a merge it knows of."""
    out = list(blank_row(rec, row))
    cols = rec.columns
    out[cols.index("deleted")] = True
    out[cols.index("erased_at")] = out[cols.index("erased_at")] or erased_at
    out[cols.index("merged_into")] = out[cols.index("merged_into")] or merged_into
    return tuple(out)


def before_clients(conn, rec: RecordKind, roots: dict[str, tuple]) -> dict[str, tuple]:
    """Incoming client rows of clients erased centrally become erased tombstones; an erased
    row (incoming or central) keeps the merge the other side knows of."""
    central: dict[str, tuple] = {}
    for chunk in _chunks(sorted(roots)):
        for uuid, at, into in conn.execute(
            _in(
                conn,
                "SELECT uuid, erased_at, merged_into FROM client WHERE uuid IN :u"
                " AND (erased_at IS NOT NULL OR merged_into IS NOT NULL)",
                u=1,
            ),  # fmt: skip
            {"u": chunk},
        ):
            central[uuid] = (at, into)
    if not central:
        return roots
    i_erased, i_into = rec.columns.index("erased_at"), rec.columns.index("merged_into")
    out = {}
    for u, row in roots.items():
        at, into = central.get(u, (None, None))
        if at is not None or (row[i_erased] is not None and into):
            row = bump(rec, erase_row(rec, row, at or row[i_erased], into))
        elif into and not row[i_into]:  # merged away centrally: a later edit does not revive it
            row = list(blank_row(rec, row))
            row[rec.columns.index("deleted")], row[i_into] = True, into
            row = bump(rec, tuple(row))
        out[u] = row
    return out


def _person(conn, seeds: set[str]) -> list[set[str]]:
    """The clients joined to the seeds by merges (either direction), as components."""
    parent: dict[str, str] = {}

    def find(u):
        while parent.setdefault(u, u) != u:
            u = parent[u]
        return u

    seen: set[str] = set()
    frontier = set(seeds)
    while frontier:
        seen |= frontier
        found = set()
        for chunk in _chunks(sorted(frontier)):
            for uuid, into in conn.execute(
                _in(
                    conn,
                    "SELECT uuid, merged_into FROM client WHERE (uuid IN :f OR merged_into IN :f)"
                    " AND merged_into IS NOT NULL",
                    f=1,
                ),  # fmt: skip
                {"f": chunk},
            ):
                parent[find(uuid)] = find(into)
                found |= {uuid, into}
        frontier = found - seen
    groups: dict[str, set[str]] = {}
    for u in seen:
        groups.setdefault(find(u), set()).add(u)
    return list(groups.values())


def after_clients(conn, rec: RecordKind, incoming: dict[str, tuple]) -> set[str]:
    """After the client rows were merged: an incoming erasure holds even where it lost on
    version, and an erasure covers every client merged with it. Returns the erased clients
    this batch touched (the pushing laptop is told)."""
    cols = rec.columns
    i_erased, i_into = cols.index("erased_at"), cols.index("merged_into")
    said = {u: row[i_erased] for u, row in incoming.items() if row[i_erased] is not None}
    merges = {u for u, row in incoming.items() if row[i_into]}
    if not said and not merges:
        return set(erased_among(conn, incoming))
    for uuid, at in said.items():  # an erasure that lost on version is applied anyway
        _force_erase(conn, [uuid], at)
    seeds = set(said) | merges | {incoming[u][i_into] for u in merges}
    for u in merges:  # a merge that lost on version to an erasure is kept beside it
        conn.execute(
            text(
                "UPDATE client SET merged_into = :m, revision = revision + 1, change_tx = :tx"
                " WHERE uuid = :u AND merged_into IS NULL AND erased_at IS NOT NULL"
            ),
            {"m": incoming[u][i_into], "u": u, "tx": changes.marker(conn)},
        )
    for u in sorted(merges):  # visits another laptop added to it meanwhile follow the merge
        conn.execute(
            text(
                "UPDATE visit SET client_uuid = :m, revision = revision + 1, change_tx = :tx"
                " WHERE client_uuid = :u"
            ),
            {"m": incoming[u][i_into], "u": u, "tx": changes.marker(conn)},
        )
    told = set()
    for group in _person(conn, seeds):
        erased = erased_among(conn, group)
        if not erased:
            continue
        _force_erase(conn, sorted(group - erased.keys()), min(erased.values()))
        sweep(conn, group)
        told |= group
    return told | set(erased_among(conn, incoming))


def _force_erase(conn, uuids: list[str], at: datetime) -> None:
    if not uuids:
        return
    blank = ", ".join(f"{c} = NULL" for c in CLIENT_ERASED)
    conn.execute(
        _in(
            conn,
            f"UPDATE client SET {blank}, deleted = :t, erased_at = coalesce(erased_at, :at),"  # noqa: S608
            " revision = revision + 1, change_tx = :tx WHERE uuid IN :u AND (erased_at IS NULL OR "
            + " OR ".join(f"{c} IS NOT NULL" for c in CLIENT_ERASED)
            + ")",
            u=1,
        ),
        {"u": uuids, "at": at, "t": True, "tx": changes.marker(conn)},
    )


def sweep(conn, clients: Iterable[str]) -> None:
    """Central visits and referrals of erased clients that still carry personal fields are
    blanked (revision raised: every laptop's pull takes the blank); the conflict log keeps
    none of their versions."""
    clients = sorted(clients)
    v_blank = ", ".join(f"{c} = NULL" for c in VISIT_ERASED)
    v_holds = " OR ".join(f"{c} IS NOT NULL" for c in VISIT_ERASED)
    r_blank = ", ".join(f"{c} = NULL" for c in REFERRAL_ERASED)
    r_holds = " OR ".join(f"{c} IS NOT NULL" for c in REFERRAL_ERASED)
    for chunk in _chunks(clients):
        p = {"c": chunk, "tx": changes.marker(conn)}
        conn.execute(
            _in(conn, f"UPDATE visit SET {v_blank}, revision = revision + 1, change_tx = :tx"  # noqa: S608
                f" WHERE client_uuid IN :c AND ({v_holds})", c=1), p)  # fmt: skip
        conn.execute(
            _in(conn, f"UPDATE referral SET {r_blank}, revision = revision + 1, change_tx = :tx"  # noqa: S608
                f" WHERE ({r_holds})"
                " AND visit_id IN (SELECT id FROM visit WHERE client_uuid IN :c)", c=1), p)  # fmt: skip
        conn.execute(
            _in(conn, "DELETE FROM sync_conflict WHERE record_uuid IN :c OR record_uuid IN"
                " (SELECT uuid FROM visit WHERE client_uuid IN :c) OR record_uuid IN"
                " (SELECT r.uuid FROM referral r JOIN visit v ON v.id = r.visit_id"
                " WHERE v.client_uuid IN :c)", c=1), p)  # fmt: skip


def before_visits(
    conn, rec: RecordKind, roots: dict[str, tuple], existing_clients: dict[str, str | None]
) -> tuple[dict[str, tuple], set[str], set[str]]:
    """Incoming visit rows of erased clients (their own client, or the central row's) are
    blanked. `existing_clients`: visit uuid -> its central client. Returns the rows, the
    blanked visit uuids and the erased clients involved."""
    i_client = rec.columns.index("client_uuid")
    survivors = survivors_of(conn, {row[i_client] for row in roots.values()})
    if survivors:  # a visit of a merged-away client goes to the survivor
        roots = {
            u: (bump(rec, row[:i_client] + (survivors[row[i_client]],) + row[i_client + 1 :])
                if row[i_client] in survivors else row)
            for u, row in roots.items()
        }  # fmt: skip
    candidates = {row[i_client] for row in roots.values()} | set(existing_clients.values())
    erased = erased_among(conn, candidates)
    if not erased:
        return roots, set(), set()
    blanked = {
        u for u, row in roots.items()
        if row[i_client] in erased or existing_clients.get(u) in erased
    }  # fmt: skip
    rows = {
        u: (bump(rec, blank_row(rec, row)) if u in blanked else row) for u, row in roots.items()
    }
    return rows, blanked, set(erased)


def survivors_of(conn, clients: set[str]) -> dict[str, str]:
    """Merged-away client -> the client that holds its visits now (merges followed)."""
    out: dict[str, str] = {}
    todo = sorted(c for c in clients if c)
    for _ in range(8):
        step = {}
        for chunk in _chunks(todo):
            step.update(
                conn.execute(
                    _in(
                        conn,
                        "SELECT uuid, merged_into FROM client WHERE uuid IN :u"
                        " AND merged_into IS NOT NULL",
                        u=1,
                    ),  # fmt: skip
                    {"u": chunk},
                ).all()
            )
        if not step:
            break
        for gone, into in step.items():
            for k, v in list(out.items()):
                if v == gone:
                    out[k] = into
            out.setdefault(gone, into)
        todo = sorted(set(step.values()))
    return out


def central_clients_of(conn, visit_uuids: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for chunk in _chunks(sorted(visit_uuids)):
        out.update(
            conn.execute(
                _in(conn, "SELECT uuid, client_uuid FROM visit WHERE uuid IN :u", u=1), {"u": chunk}
            ).all()
        )
    return out


def blank_payload(table: str, payload: str) -> str:
    """A conflict's losing version without the personal fields."""
    data = json.loads(payload)
    for name in ERASED_FIELDS.get(table, ()):
        if name in data:
            data[name] = None
    return json.dumps(data, default=str)
