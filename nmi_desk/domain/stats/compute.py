"""Visit statistics: aggregated in SQL (SQLite or PostgreSQL alike), written as JSON, CSV or XLSX.

Statistics never hold names, contact details, free text or record ids: only codes and counts.
The period is a range of Europe/Amsterdam days; each visit carries its Amsterdam day and hour
(written with the visit), so the same SQL gives the same figures on both databases.

The dimensions come from one registry (store.dimensions). Speed (docs/performance.md,
Statistics): on both databases the figures are sums over `visit_daily`, per-day counts kept by
triggers (store.daily_counts); `from_rows=True` computes the same figures from the visit,
topic and referral rows (the tests' and the benchmark's cross-check, and the fallback for a
database whose triggers are older than the registry). A local SQLite file is read through the
standard library (`open_source`), so `nmi-desk export` does not pay for importing SQLAlchemy.

A read never writes: `open_source` opens a file read-only (`mode=ro`) and PostgreSQL in
read-only transactions, refuses a database that is not an nmi-desk database, and never
migrates one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from nmi_desk.core.errors import UserError
from nmi_desk.core.outputs import write_output
from nmi_desk.store.connect import connect_sqlite, sqlite_path_from_url
from nmi_desk.store.daily_counts import (
    DEFERRED_SINCE,
    MONTHLY_SINCE,
    REBUILDS,
    UNCOUNTED_SINCE,
    counts_source,
    period_sql,
)
from nmi_desk.store.dimensions import (  # BY_CODE, CHARTS: also for the Day overview screen
    BY_CODE,
    CODES,
    REFERRAL,
    TOPIC,
    TOPIC_GROUP,
    VISIT,
    topic_group_sql,
)
from nmi_desk.store.dimensions import (
    CHARTS as CHARTS,
)

FORMATS = ("csv", "json", "xlsx")

SMALL = 5  # with suppression, counts 1..SMALL-1 are shown as "<5"
SMALL_LABEL = f"<{SMALL}"

# Every dimension, in the order of the exports (store.dimensions.DIMENSIONS).
DIMENSIONS: tuple[str, ...] = CODES

# The tables an nmi-desk database has: anything without them is refused as a source.
OUR_TABLES = ("schema_migrations", "visit", "visit_topic", "referral", "info_session")

# Bound parameters: :f, :t (ISO days), :loc ('' = every location).
_VISIT_FILTER = (
    "v.deleted = FALSE AND v.local_date BETWEEN :f AND :t AND (:loc = '' OR v.location_code = :loc)"
)

# SQLite: a short period is a range of the (day, ...) primary key and a small sort; a long one
# reads the (dimension, key, day, ...) index of migration 53 in order and never sorts ~180,000
# rows (a year: ~60 ms instead of ~230 ms). PostgreSQL plans (and hashes) for itself.
LONG_PERIOD_DAYS = 45
_DAILY_SQL = (
    "SELECT dimension, key, sum(n) FROM {source} "
    "WHERE local_date BETWEEN :f AND :t AND (:loc = '' OR location_code = :loc) "
    "GROUP BY dimension, key HAVING sum(n) <> 0"
)


def raw_sql(code: str, dialect: str, group: str = "") -> str:
    """The GROUP BY over the rows that gives one dimension's figures: (key, count), or
    (group, key, count) with `group` an SQL expression over the visit `v`."""
    d = BY_CODE[code]
    g = f"{group}, " if group else ""
    by = "1, 2" if group else "1"
    if d.counts == VISIT:
        return (
            f"SELECT {g}{d.key_sql('v', dialect)}, count(*) FROM visit v "
            f"WHERE {_VISIT_FILTER} GROUP BY {by}"
        )
    if d.counts == TOPIC:
        return (
            f"SELECT {g}x.topic_code, count(*) FROM visit v JOIN visit_topic x "
            f"ON x.visit_id = v.id WHERE {_VISIT_FILTER} GROUP BY {by}"
        )
    if d.counts == TOPIC_GROUP:
        key = topic_group_sql("x.topic_code", "tp.parent")
        inner = f"{group} AS grp, " if group else ""
        return (
            f"SELECT {'g.grp, ' if group else ''}g.g, count(*) FROM (SELECT DISTINCT v.id, "
            f"{inner}{key} AS g FROM visit v JOIN visit_topic x ON x.visit_id = v.id "
            f"LEFT JOIN topic tp ON tp.code = x.topic_code WHERE {_VISIT_FILTER}) g "
            f"GROUP BY {by}"
        )
    assert d.counts == REFERRAL
    return (
        f"SELECT {g}x.organisation_code, count(*) FROM visit v JOIN referral x "
        f"ON x.visit_id = v.id WHERE x.deleted = FALSE AND {_VISIT_FILTER} GROUP BY {by}"
    )


# A breakdown's groups: an SQL expression over a visit_daily row, and the same over a visit.
BREAKDOWNS = {
    "location": ("location_code", "v.location_code"),
    "month": ("substr(local_date, 1, 7)", "substr(v.local_date, 1, 7)"),
}


_SESSION_FILTER = (
    "s.deleted = FALSE AND s.held_on BETWEEN :sf AND :st AND (:loc = '' OR s.location_code = :loc)"
)
_SESSION_SQL = (
    f"SELECT count(*), coalesce(sum(s.attendees), 0) FROM info_session s WHERE {_SESSION_FILTER}"
)
_SESSION_TOPIC_SQL = (
    "SELECT st.topic_code, count(*) FROM info_session s "
    "JOIN info_session_topic st ON st.session_id = s.id "
    f"WHERE {_SESSION_FILTER} GROUP BY 1"
)


class _Runner:
    """Runs the same :named SQL on a DB-API sqlite3 connection or a SQLAlchemy engine/connection."""

    def __init__(self, source) -> None:
        self.source = source
        self.sqlalchemy = hasattr(source, "dialect")
        self.dialect = source.dialect.name if self.sqlalchemy else "sqlite"

    @contextmanager
    def connection(self):
        if not self.sqlalchemy:
            yield self.source
            return
        if hasattr(self.source, "connect") and not hasattr(self.source, "in_transaction"):
            with self.source.connect() as conn:  # an Engine
                yield conn
        else:
            yield self.source  # already a Connection

    def rows(self, conn, sql: str, params: dict) -> list[tuple]:
        if self.sqlalchemy:
            from sqlalchemy import text

            return [tuple(r) for r in conn.execute(text(sql), params)]
        return conn.execute(sql, params).fetchall()


def _sorted_map(rows) -> dict[str, int]:
    return {str(k): int(n) for k, n in sorted(rows, key=lambda r: str(r[0]))}


def daily_counts_ready(run: _Runner, conn) -> bool:
    """Does this database keep every dimension of the registry in visit_daily?"""
    return _daily_source(run, conn) is not None


def _daily_source(run: _Runner, conn) -> str | None:
    """FROM clause of the per-day counts, or None where they do not cover the registry."""
    setup = _counts_setup(run, conn)
    return None if setup is None else setup[0]


def _counts_setup(run: _Runner, conn) -> tuple[str, str | None] | None:
    """(FROM clause of the per-day counts, the SQL that reads whole months from visit_monthly
    or None), or None where the counts do not cover the registry. On PostgreSQL the deferred
    deltas (migration 112) and the visits of a big push not yet folded, counted from their
    rows (174), count too: visit_daily plus them are the counts at every moment
    (store.daily_counts); visit_monthly is there from 175."""
    names = (*REBUILDS, DEFERRED_SINCE, UNCOUNTED_SINCE, MONTHLY_SINCE)
    marks = ", ".join(f":m{i}" for i in range(len(names)))
    found = {
        r[0]
        for r in run.rows(
            conn,
            f"SELECT name FROM schema_migrations WHERE name IN ({marks})",  # noqa: S608
            {f"m{i}": name for i, name in enumerate(names)},
        )
    }
    if not set(REBUILDS) <= found:
        return None
    pg = run.dialect == "postgresql"
    deferred, uncounted = pg and DEFERRED_SINCE in found, pg and UNCOUNTED_SINCE in found
    monthly = period_sql(deferred, uncounted) if pg and MONTHLY_SINCE in found else None
    return counts_source(deferred, uncounted), monthly


def _month_params(first: date, last: date) -> dict[str, str]:
    """period_sql's bounds: the whole months inside first..last (:m1 <= month < :m2) and the
    days outside them (:f <= day < :d1, :d2 <= day <= :t). No whole month: every day."""
    start = first if first.day == 1 else (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    end = (last + timedelta(days=1)).replace(day=1)  # the first day after the last whole month
    if end <= start:
        start = end = last + timedelta(days=1)
    return {
        "m1": start.isoformat()[:7],
        "m2": end.isoformat()[:7],
        "d1": start.isoformat(),
        "d2": end.isoformat(),
    }


def compute_stats(
    source, first: date, last: date, location: str | None = None, *, from_rows: bool = False
) -> dict:
    """The figures for Amsterdam days first..last (inclusive), optionally for one location.

    `source` is a SQLAlchemy engine (SQLite or PostgreSQL) or a sqlite3 connection from
    store.connect.connect_sqlite (see `open_source`). `from_rows`: count the visit, topic and
    referral rows instead of summing visit_daily (the same figures, slower).
    """
    if last < first:
        raise UserError.of("errors.stats.to_before_from", first=first, last=last)
    run = _Runner(source)
    dialect = "postgresql" if run.dialect == "postgresql" else "sqlite"
    params = {"f": first.isoformat(), "t": last.isoformat(), "loc": location or ""}
    # held_on is a DATE: PostgreSQL wants dates, SQLite stores ISO text.
    session_params: dict[str, object] = dict(params)
    if dialect == "postgresql":
        session_params.update(sf=first, st=last)
    else:
        session_params.update(sf=first.isoformat(), st=last.isoformat())
    out: dict = {"period": {"from": first.isoformat(), "to": last.isoformat()}}
    if location:
        out["location"] = location
    figures: dict[str, dict[str, int]] = {}
    with run.connection() as conn:
        setup = None if from_rows else _counts_setup(run, conn)
        if setup is not None:
            source, monthly = setup
            grouped: dict[str, list[tuple]] = {name: [] for name in DIMENSIONS}
            long = dialect == "sqlite" and (last - first).days >= LONG_PERIOD_DAYS
            sql = _DAILY_SQL.format(
                source=source + (" INDEXED BY ix_visit_daily_key" if long else "")
            )
            daily_params: dict[str, object] = dict(params)
            if monthly is not None and (last - first).days >= LONG_PERIOD_DAYS:
                sql = monthly
                daily_params.update(_month_params(first, last))
            for name, key, n in run.rows(conn, sql, daily_params):
                if name in grouped:  # a dimension the registry no longer has is left out
                    grouped[name].append((key, n))
        else:
            grouped = {name: run.rows(conn, raw_sql(name, dialect), params) for name in DIMENSIONS}
        for name in DIMENSIONS:
            if name == "by_hour":
                figures[name] = {f"{int(k):02d}": int(n) for k, n in sorted(grouped[name])}
            else:
                figures[name] = _sorted_map(grouped[name])
        sessions, attendees = run.rows(conn, _SESSION_SQL, session_params)[0]
        topics = run.rows(conn, _SESSION_TOPIC_SQL, session_params)
    # Every visit has exactly one location, so the total is the sum of that dimension.
    out["visits"] = sum(figures["by_location"].values())
    for name in DIMENSIONS:
        out[name] = figures[name]
    out["info_sessions"] = {
        "sessions": int(sessions),
        "attendees": int(attendees),
        "by_topic": _sorted_map(topics),
    }
    return out


def breakdown(source, first: date, last: date, by: str) -> dict[str, dict[str, dict[str, int]]]:
    """The figures of every dimension per location or per month ("2026-03"):
    {group: {dimension: {key: count}}}, each group's figures as compute_stats would give them."""
    run = _Runner(source)
    dialect = "postgresql" if run.dialect == "postgresql" else "sqlite"
    daily_group, row_group = BREAKDOWNS[by]
    params = {"f": first.isoformat(), "t": last.isoformat(), "loc": ""}
    out: dict[str, dict[str, dict[str, int]]] = {}

    def add(group, name, key, n) -> None:
        if name in BY_CODE and int(n):
            key = f"{int(key):02d}" if name == "by_hour" else str(key)
            out.setdefault(str(group), {d: {} for d in DIMENSIONS})[name][key] = int(n)

    with run.connection() as conn:
        source = _daily_source(run, conn)
        if source is not None:
            sql = (
                f"SELECT {daily_group}, dimension, key, sum(n) FROM {source} "
                "WHERE local_date BETWEEN :f AND :t GROUP BY 1, 2, 3 HAVING sum(n) <> 0"
            )
            for group, name, key, n in run.rows(conn, sql, params):
                add(group, name, key, n)
        else:
            for name in DIMENSIONS:
                for group, key, n in run.rows(conn, raw_sql(name, dialect, row_group), params):
                    add(group, name, key, n)
    return {
        group: {name: dict(sorted(figures[name].items())) for name in DIMENSIONS}
        for group, figures in sorted(out.items())
    }


def _read_pragmas(conn) -> None:
    # A year of statistics walks ~30 MB of index: map it rather than copy it page by page.
    conn.execute("PRAGMA mmap_size = 268435456")
    conn.execute("PRAGMA cache_size = -65536")


def _not_ours(where: str) -> UserError:
    return UserError.of("errors.stats.not_ours", where=where, tables=", ".join(OUR_TABLES))


@contextmanager
def open_source(url: str, key=None) -> Iterator[object]:
    """A read-only source for compute_stats on an nmi-desk database URL.

    A SQLite file is read through the standard library with `mode=ro`; PostgreSQL through an
    engine whose every transaction is read-only (`default_transaction_read_only`). A database
    without our tables is refused with one line; none is ever migrated (compute_stats counts
    the rows of a database older than the registry).
    """

    path = sqlite_path_from_url(url)
    if path is None:
        from sqlalchemy.exc import DBAPIError

        from nmi_desk.store.engine import describe, make_engine

        engine = make_engine(url, readonly=True)
        try:
            try:
                with engine.connect() as conn:
                    have = _Runner(engine).rows(
                        conn,
                        "SELECT count(*) FROM unnest(CAST(:names AS text[])) AS n "
                        "WHERE to_regclass(n) IS NOT NULL",
                        {"names": list(OUR_TABLES)},
                    )[0][0]
            except DBAPIError as exc:
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                raise UserError.of("errors.db.cannot_open", reason=reason) from exc
            if have < len(OUR_TABLES):
                raise _not_ours(describe(url))
            yield engine
        finally:
            engine.dispose()
        return
    if not path.is_file():
        raise UserError.of("errors.db.none_at", path=path)
    raw = connect_sqlite(path, readonly=True, key=key)  # key: the desk's, when encrypted
    try:
        _read_pragmas(raw)
        marks = ", ".join("?" * len(OUR_TABLES))
        have = raw.execute(
            f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({marks})",  # noqa: S608
            OUR_TABLES,
        ).fetchone()[0]
        if have < len(OUR_TABLES):
            raise _not_ours(str(path))
        yield raw
    finally:
        raw.close()


# ---- privacy: small counts ----


def suppress_small(stats: dict) -> dict:
    """A copy in which every count from 1 to 4 is None, listed under `suppressed`.

    For figures that leave the NMI: a count that small could point at one person. Zero is not
    suppressed (it identifies nobody); the period and codes stay as they are.
    """
    suppressed: list[dict[str, str]] = []

    def hide(dimension: str, key: str, n):
        if isinstance(n, int) and 0 < n < SMALL:
            suppressed.append({"dimension": dimension, "key": key})
            return None
        return n

    out = {k: v for k, v in stats.items() if k not in DIMENSIONS and k != "info_sessions"}
    out["visits"] = hide("visits", "total", stats["visits"])
    for name in DIMENSIONS:
        out[name] = {k: hide(name, k, n) for k, n in stats[name].items()}
    info = stats["info_sessions"]
    out["info_sessions"] = {
        "sessions": hide("info_sessions", "sessions", info["sessions"]),
        "attendees": hide("info_sessions", "attendees", info["attendees"]),
        "by_topic": {k: hide("info_sessions_by_topic", k, n) for k, n in info["by_topic"].items()},
    }
    out["suppressed"] = suppressed
    return out


# ---- writers ----


def to_long_rows(stats: dict) -> list[tuple[str, str, int | None]]:
    """The figures in long form: (dimension, key, count); None is a suppressed count."""
    rows: list[tuple[str, str, int | None]] = [("visits", "total", stats["visits"])]
    for name in DIMENSIONS:
        rows += [(name, k, n) for k, n in stats[name].items()]
    info = stats["info_sessions"]
    rows.append(("info_sessions", "sessions", info["sessions"]))
    rows.append(("info_sessions", "attendees", info["attendees"]))
    rows += [("info_sessions_by_topic", k, n) for k, n in info["by_topic"].items()]
    return rows


def _cell(n: int | None):
    return SMALL_LABEL if n is None else n


def render_json(stats: dict) -> str:
    return json.dumps(stats, indent=2, ensure_ascii=False) + "\n"


def render_csv(stats: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["dimension", "key", "count"])
    writer.writerows((d, k, _cell(n)) for d, k, n in to_long_rows(stats))
    return buffer.getvalue()


def render_xlsx(stats: dict) -> bytes:
    """One sheet per dimension (key, count), numbers as numbers, "<5" for a suppressed count."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    book = Workbook()
    sheet = book.active
    sheet.title = "summary"
    info = stats["info_sessions"]
    sheet.append(["what", "value"])
    sheet.append(["from", stats["period"]["from"]])
    sheet.append(["to", stats["period"]["to"]])
    if stats.get("location"):
        sheet.append(["location", stats["location"]])
    sheet.append(["visits", _cell(stats["visits"])])
    sheet.append(["info_sessions", _cell(info["sessions"])])
    sheet.append(["info_session_attendees", _cell(info["attendees"])])
    sheets = [(name, stats[name]) for name in DIMENSIONS]
    sheets.append(("info_sessions_by_topic", info["by_topic"]))
    for ws_name, figures in sheets:
        ws = book.create_sheet(ws_name)
        ws.append(["key", "count"])
        for k, n in figures.items():
            ws.append([k, _cell(n)])
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = bold
        ws.column_dimensions["A"].width = 28
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


RENDERERS: dict[str, Callable[[dict], str | bytes]] = {
    "json": render_json,
    "csv": render_csv,
    "xlsx": render_xlsx,
}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UserError.of("errors.stats.unknown_format", format=fmt, known=", ".join(FORMATS))
    return fmt


def write_export(stats: dict, fmt: str, output: str) -> str:
    """Write to a file (atomically, see nmi_desk.core.outputs) or '-' for stdout; returns where."""

    rendered: str | bytes = RENDERERS[check_format(fmt)](stats)
    return write_output(output, rendered)
