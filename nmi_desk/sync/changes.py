"""The central change sequence: what a pull reads instead of everything a laptop holds.

Every central push transaction is given one position in `sync_change`, in commit order; the
client, visit and referral rows it wrote carry its marker in `change_tx`. A laptop keeps, per
target, the last position it pulled (`sync_target.pulled_position`) and asks for the rows of
the transactions after it, filtered on the central side to the clients it holds
(`sync_holder`, keyed by the laptop's own database id). So a pull reads what changed, not what
the laptop holds (docs/sync.md, "Pull of held clients").

Positions in commit order (the pitfall of sequences: values taken by concurrent transactions
commit out of order, and a reader that saw N would miss a smaller one committed later):
  - PostgreSQL: the marker is the transaction's own id (known from the start, no lock); the
    position is taken last, under a transaction-level advisory lock held until the commit has
    become visible. Two pushes run side by side until then and take turns only for one
    INSERT and their commit, so a position is never visible before a smaller one.
  - SQLite (a file target): one writer at a time anyway; the position is taken by the first
    write of the transaction and serves as its marker too.
"""

from __future__ import annotations

from collections.abc import Iterable

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from sqlalchemy import bindparam, text

from nmi_desk.store.pg_array import KeyArray

# The tables whose rows a laptop pulls (the rows of the clients it holds).
TRACKED = ("client", "visit", "referral")
_LOCK = 7_426_172  # advisory lock: positions in commit order (migrations 7_426_001, fold _111)
_KEY = "nmi_desk.change_tx"  # conn.info: the open transaction's marker
CHUNK = 1000


def _pg(conn) -> bool:
    return conn.dialect.name == "postgresql"


def begin(conn) -> int:
    """The marker for the rows this central transaction writes (call once, first)."""
    if _pg(conn):
        tx = conn.exec_driver_sql("SELECT pg_current_xact_id()::text::bigint").scalar_one()
    else:
        tx = conn.exec_driver_sql(
            "INSERT INTO sync_change (position, tx) SELECT coalesce(max(position), 0) + 1,"
            " coalesce(max(position), 0) + 1 FROM sync_change RETURNING position"
        ).scalar_one()
    conn.info[_KEY] = int(tx)
    return int(tx)


def marker(conn) -> int:
    """The open transaction's marker (begin() was called): `SET change_tx = <marker>`."""
    return conn.info[_KEY]


def finish(conn) -> None:
    """Just before the commit: the position, in commit order (see the module's docstring)."""
    tx = conn.info.pop(_KEY)
    if _pg(conn):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK})")
        conn.exec_driver_sql(
            "INSERT INTO sync_change (position, tx) VALUES (nextval('sync_position'), %s)", (tx,)
        )


def forget(conn) -> None:
    """A transaction rolled back: its marker goes with it."""
    conn.info.pop(_KEY, None)


def latest(conn) -> int:
    """The highest committed position (0 when none): everything at or below it is final."""
    return int(conn.exec_driver_sql("SELECT coalesce(max(position), 0) FROM sync_change").scalar())


def hold(conn, holder: str | None, uuids: Iterable[str]) -> None:
    """`holder` (a laptop's database id) holds these clients: its pulls bring their changes."""
    import json

    rows = sorted(set(uuids))
    if not holder or not rows:
        return
    if _pg(conn):
        source = "SELECT :h, unnest(CAST(:u AS varchar[]))"
    else:
        source = "SELECT :h, value FROM json_each(:u) WHERE true"  # parses before ON CONFLICT
    for i in range(0, len(rows), 10 * CHUNK):
        chunk = rows[i : i + 10 * CHUNK]
        stmt = text(
            f"INSERT INTO sync_holder (holder, client_uuid) {source}"
            " ON CONFLICT (holder, client_uuid) DO NOTHING"
        )
        conn.execute(
            stmt.bindparams(bindparam("u", type_=KeyArray())) if _pg(conn) else stmt,
            {"h": holder, "u": chunk if _pg(conn) else json.dumps(chunk)},
        )


def hold_staged(conn, holder: str | None, stage: str) -> None:
    """The clients of a push's staging table are held by the pushing laptop."""
    if holder:
        conn.execute(
            text(
                f"INSERT INTO sync_holder (holder, client_uuid) SELECT :h, uuid FROM {stage}"  # noqa: S608
                " ORDER BY uuid ON CONFLICT (holder, client_uuid) DO NOTHING"
            ),
            {"h": holder},
        )


_WINDOW = "s.position > :since AND s.position <= :upto"


def _rows_of(table: str, cols: str, pg: bool) -> str:
    """`table`'s rows written by the window's transaction `s`, through its change_tx index.
    On PostgreSQL as LATERAL ... OFFSET 0, so they stay index probes whatever the planner's
    statistics say (right after a big push, before autovacuum analysed the tables, it chose a
    scan of every referral); SQLite's nested loops probe the index anyway."""
    t = table[0]
    if pg:
        return (
            f"CROSS JOIN LATERAL (SELECT {cols} FROM {table} {t}"
            f" WHERE {t}.change_tx = s.tx AND {t}.change_tx IS NOT NULL OFFSET 0) {t}"
        )
    return f"JOIN {table} {t} ON {t}.change_tx = s.tx AND {t}.change_tx IS NOT NULL"


def _held(column: str) -> str:
    """The holder holds the client `column`: one probe of sync_holder's key per row (a
    correlated scalar subquery is never turned into a join; as a join, with statistics that
    guessed two holder rows, PostgreSQL once hashed every visit of the held clients)."""
    return f"(SELECT 1 FROM sync_holder h WHERE h.holder = :h AND h.client_uuid = {column}) = 1"


def clients_sql(pg: bool) -> str:
    """Held clients whose row changed in the window."""
    return (
        f"SELECT c.uuid FROM sync_change s {_rows_of('client', 'c.uuid', pg)}"
        f" WHERE {_WINDOW} AND {_held('c.uuid')}"
    )


def visits_sql(pg: bool) -> str:
    """Visits of held clients that changed in the window, or whose referral did."""
    if pg:
        visit_of_referral = (
            "CROSS JOIN LATERAL (SELECT v.uuid, v.revision, v.client_uuid FROM visit v"
            " WHERE v.id = r.visit_id OFFSET 0) v"
        )
    else:
        visit_of_referral = "JOIN visit v ON v.id = r.visit_id"
    return (
        "SELECT v.uuid, v.revision FROM sync_change s"
        f" {_rows_of('visit', 'v.uuid, v.revision, v.client_uuid', pg)}"
        f" WHERE {_WINDOW} AND {_held('v.client_uuid')}"
        " UNION SELECT v.uuid, v.revision FROM sync_change s"
        f" {_rows_of('referral', 'r.visit_id', pg)} {visit_of_referral}"
        f" WHERE {_WINDOW} AND {_held('v.client_uuid')}"
    )


def changed(conn, holder: str, since: int, upto: int) -> tuple[list[str], dict[str, int]]:
    """Clients held by `holder` whose row changed in (since, upto], and visits of held clients
    that changed (the visit itself or one of its referrals): uuid -> central revision."""
    p = {"h": holder, "since": since, "upto": upto}
    pg = _pg(conn)
    clients = [r[0] for r in conn.execute(text(clients_sql(pg)), p)]
    visits = dict(conn.execute(text(visits_sql(pg)), p).all())
    return clients, visits
