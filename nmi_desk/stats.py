"""Visit statistics: aggregated in SQL (SQLite or PostgreSQL alike), written as JSON, CSV or XLSX.

Statistics never hold names, contact details, free text or record ids: only codes and counts.
The period is a range of Europe/Amsterdam days; each visit carries its Amsterdam day and hour
(written with the visit), so the same SQL gives the same figures on both databases.

Speed (docs/performance.md, Statistics): on SQLite the figures are sums over `visit_daily`,
per-day counts kept by triggers (store.daily_counts, migration 52); on PostgreSQL they are plain
GROUP BY queries over the rows (both give the same figures: tests/test_stats.py). On a local
SQLite file the figures are read through the standard library (`open_source`), so
`nmi-desk export` does not pay for importing SQLAlchemy.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from nmi_desk.errors import UserError

FORMATS = ("csv", "json", "xlsx")
SMALL = 5  # with suppression, counts 1..SMALL-1 are shown as "<5"
SMALL_LABEL = f"<{SMALL}"

# Bound parameters: :f, :t (ISO days), :loc ('' = every location).
_VISIT_FILTER = (
    "v.deleted = FALSE AND v.local_date BETWEEN :f AND :t AND (:loc = '' OR v.location_code = :loc)"
)

# dimension -> the visit column it counts (NULL counts as 'unknown').
VISIT_COLUMNS: dict[str, str] = {
    "by_location": "location_code",
    "by_hour": "local_hour",
    "by_channel": "channel",
    "by_came_via": "came_via",
    "by_origin_country": "origin_country",
    "by_destination_country": "destination_country",
    "by_outcome": "outcome",
}

# Every dimension, in the order of the exports (design.md's four first).
DIMENSIONS: tuple[str, ...] = (
    "by_location",
    "by_topic",
    "by_referral",
    "by_hour",
    "by_channel",
    "by_came_via",
    "by_origin_country",
    "by_destination_country",
    "by_outcome",
)


NULLABLE = {"came_via", "origin_country", "destination_country", "outcome"}


# SQLite (the laptop): every dimension is one range of visit_daily, the per-day counts kept by
# triggers (store.daily_counts, migration 52): a year is ~200,000 summary rows summed in one
# pass instead of seven index scans and two joins over every visit and topic link.
# A short period is a range of the (day, ...) primary key and a small sort; a long one reads
# the (dimension, key, day, ...) index of migration 53 in order and never sorts ~180,000 rows
# (a year: ~60 ms instead of ~230 ms). The index is read whole, so its cost grows with the
# years the laptop holds (retention keeps that short).
LONG_PERIOD_DAYS = 45
_DAILY_SQL = (
    "SELECT dimension, key, sum(n) FROM visit_daily{hint} "
    "WHERE local_date BETWEEN :f AND :t AND (:loc = '' OR location_code = :loc) "
    "GROUP BY dimension, key HAVING sum(n) <> 0"
)


# PostgreSQL (the central side): plain GROUP BY over the rows; it plans (and hashes) for itself.
def _pg_visit_sql(column: str) -> str:
    key = f"coalesce(v.{column}, 'unknown')" if column in NULLABLE else f"v.{column}"
    return f"SELECT {key}, count(*) FROM visit v WHERE {_VISIT_FILTER} GROUP BY 1"


_PG_LINK_SQL = {
    "by_topic": "SELECT x.topic_code, count(*) FROM visit v JOIN visit_topic x "
    f"ON x.visit_id = v.id WHERE {_VISIT_FILTER} GROUP BY 1",
    "by_referral": "SELECT x.organisation_code, count(*) FROM visit v JOIN referral x "
    f"ON x.visit_id = v.id WHERE x.deleted = FALSE AND {_VISIT_FILTER} GROUP BY 1",
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

# Markers of migrations 51-53: without them the file is migrated first (store.engine).
_STATS_MARKERS = ("ix_referral_open", "visit_daily_visit_insert", "ix_visit_daily_key")


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


def compute_stats(source, first: date, last: date, location: str | None = None) -> dict:
    """The figures for Amsterdam days first..last (inclusive), optionally for one location.

    `source` is a SQLAlchemy engine (SQLite or PostgreSQL) or a sqlite3 connection from
    store.connect.connect_sqlite (see `open_source`).
    """
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    run = _Runner(source)
    dialect = "postgresql" if run.dialect == "postgresql" else "sqlite"
    params = {"f": first.isoformat(), "t": last.isoformat(), "loc": location or ""}
    # held_on is a DATE: PostgreSQL wants dates, SQLite stores ISO text.
    session_params = dict(params)
    if dialect == "postgresql":
        session_params.update(sf=first, st=last)
    else:
        session_params.update(sf=first.isoformat(), st=last.isoformat())
    out: dict = {"period": {"from": first.isoformat(), "to": last.isoformat()}}
    if location:
        out["location"] = location
    figures: dict[str, dict[str, int]] = {}
    with run.connection() as conn:
        if dialect == "sqlite":
            grouped: dict[str, list[tuple]] = {name: [] for name in DIMENSIONS}
            long = (last - first).days >= LONG_PERIOD_DAYS
            sql = _DAILY_SQL.format(hint=" INDEXED BY ix_visit_daily_key" if long else "")
            for name, key, n in run.rows(conn, sql, params):
                grouped[name].append((key, n))
        else:
            grouped = {
                name: run.rows(conn, _pg_visit_sql(column), params)
                for name, column in VISIT_COLUMNS.items()
            }
            for name, sql in _PG_LINK_SQL.items():
                grouped[name] = run.rows(conn, sql, params)
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


def _read_pragmas(conn) -> None:
    # A year of statistics walks ~30 MB of index: map it rather than copy it page by page.
    conn.execute("PRAGMA mmap_size = 268435456")
    conn.execute("PRAGMA cache_size = -65536")


@contextmanager
def open_source(url: str) -> Iterator[object]:
    """A source for compute_stats on any nmi-desk database URL.

    A SQLite file is read through the standard library, read-only (it is migrated through
    store.engine first if it lacks the statistics indexes); PostgreSQL through an engine.
    """
    from nmi_desk.store.connect import connect_sqlite, sqlite_path_from_url

    path = sqlite_path_from_url(url)
    if path is None:
        from nmi_desk.store.engine import open_engine

        engine = open_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    if not path.is_file():
        raise UserError(f"no database at {path}")
    conn = connect_sqlite(path, readonly=True)
    try:
        _read_pragmas(conn)
        ready = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name IN (?, ?, ?)", _STATS_MARKERS
        ).fetchone()[0]
        if ready < len(_STATS_MARKERS):
            conn.close()
            from nmi_desk.store.engine import open_engine

            open_engine(url).dispose()  # migrates (with its backup copy), then read as usual
            conn = connect_sqlite(path, readonly=True)
            _read_pragmas(conn)
        yield conn
    finally:
        conn.close()


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


RENDERERS = {"json": render_json, "csv": render_csv, "xlsx": render_xlsx}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


def write_export(stats: dict, fmt: str, output: str) -> str:
    """Write to a file (atomically, see nmi_desk.outputs) or '-' for stdout; returns where."""
    from nmi_desk.outputs import write_output

    return write_output(output, RENDERERS[check_format(fmt)](stats))
