"""Visit statistics: aggregated in SQL (SQLite or PostgreSQL alike), written as JSON, CSV or XLSX.

Statistics never hold names, contact details, free text or record ids: only codes and counts.
The period is a range of Europe/Amsterdam days; each visit carries its Amsterdam day and hour
(written with the visit), so the same SQL gives the same figures on both databases.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from pathlib import Path

from nmi_desk.errors import UserError

FORMATS = ("csv", "json", "xlsx")

# dimension -> SQL selecting (key, count) for visits in the period. :f, :t, :loc are bound.
_VISIT_FILTER = (
    "v.deleted = FALSE AND v.local_date BETWEEN :f AND :t AND (:loc = '' OR v.location_code = :loc)"
)

DIMENSIONS: dict[str, str] = {
    "by_location": f"SELECT v.location_code, count(*) FROM visit v WHERE {_VISIT_FILTER} GROUP BY 1",
    "by_topic": (
        "SELECT vt.topic_code, count(*) FROM visit v JOIN visit_topic vt ON vt.visit_id = v.id "
        f"WHERE {_VISIT_FILTER} GROUP BY 1"
    ),
    "by_referral": (
        "SELECT r.organisation_code, count(*) FROM visit v JOIN referral r ON r.visit_id = v.id "
        f"WHERE r.deleted = FALSE AND {_VISIT_FILTER} GROUP BY 1"
    ),
    "by_hour": f"SELECT v.local_hour, count(*) FROM visit v WHERE {_VISIT_FILTER} GROUP BY 1",
    "by_channel": f"SELECT v.channel, count(*) FROM visit v WHERE {_VISIT_FILTER} GROUP BY 1",
    "by_came_via": (
        f"SELECT coalesce(v.came_via, 'unknown'), count(*) FROM visit v WHERE {_VISIT_FILTER} GROUP BY 1"
    ),
    "by_origin_country": (
        "SELECT coalesce(v.origin_country, 'unknown'), count(*) FROM visit v "
        f"WHERE {_VISIT_FILTER} GROUP BY 1"
    ),
    "by_destination_country": (
        "SELECT coalesce(v.destination_country, 'unknown'), count(*) FROM visit v "
        f"WHERE {_VISIT_FILTER} GROUP BY 1"
    ),
    "by_outcome": (
        f"SELECT coalesce(v.outcome, 'unknown'), count(*) FROM visit v WHERE {_VISIT_FILTER} GROUP BY 1"
    ),
}

_SESSION_FILTER = (
    "s.deleted = FALSE AND s.held_on BETWEEN :f AND :t AND (:loc = '' OR s.location_code = :loc)"
)


def compute_stats(engine, first: date, last: date, location: str | None = None) -> dict:
    from sqlalchemy import text

    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    params = {"f": first.isoformat(), "t": last.isoformat(), "loc": location or ""}
    out: dict = {"period": {"from": first.isoformat(), "to": last.isoformat()}}
    if location:
        out["location"] = location
    with engine.connect() as conn:
        out["visits"] = conn.execute(
            text(f"SELECT count(*) FROM visit v WHERE {_VISIT_FILTER}"), params
        ).scalar_one()
        for name, sql in DIMENSIONS.items():
            rows = conn.execute(text(sql), params).all()
            if name == "by_hour":
                out[name] = {f"{int(k):02d}": n for k, n in sorted(rows)}
            else:
                out[name] = {str(k): n for k, n in sorted(rows, key=lambda r: str(r[0]))}
        sessions, attendees = conn.execute(
            text(
                f"SELECT count(*), coalesce(sum(s.attendees), 0) FROM info_session s WHERE {_SESSION_FILTER}"
            ),
            params,
        ).one()
        topics = conn.execute(
            text(
                "SELECT st.topic_code, count(*) FROM info_session s "
                "JOIN info_session_topic st ON st.session_id = s.id "
                f"WHERE {_SESSION_FILTER} GROUP BY 1"
            ),
            params,
        ).all()
    out["info_sessions"] = {
        "sessions": sessions,
        "attendees": int(attendees),
        "by_topic": {k: n for k, n in sorted(topics)},
    }
    return out


def to_long_rows(stats: dict) -> list[tuple[str, str, int | None]]:
    """The figures in long form: (dimension, key, count)."""
    rows: list[tuple[str, str, int | None]] = [("visits", "total", stats["visits"])]
    for name in DIMENSIONS:
        rows += [(name, k, n) for k, n in stats[name].items()]
    info = stats["info_sessions"]
    rows.append(("info_sessions", "sessions", info["sessions"]))
    rows.append(("info_sessions", "attendees", info["attendees"]))
    rows += [("info_sessions_by_topic", k, n) for k, n in info["by_topic"].items()]
    return rows


def render_json(stats: dict) -> str:
    return json.dumps(stats, indent=2, ensure_ascii=False) + "\n"


def render_csv(stats: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["dimension", "key", "count"])
    writer.writerows(to_long_rows(stats))
    return buffer.getvalue()


def render_xlsx(stats: dict) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "summary"
    sheet.append(["from", stats["period"]["from"]])
    sheet.append(["to", stats["period"]["to"]])
    sheet.append(["visits", stats["visits"]])
    info = stats["info_sessions"]
    sheet.append(["info_sessions", info["sessions"]])
    sheet.append(["info_session_attendees", info["attendees"]])
    for name in DIMENSIONS:
        ws = book.create_sheet(name)
        ws.append(["key", "count"])
        for k, n in stats[name].items():
            ws.append([k, n])
    ws = book.create_sheet("info_sessions_by_topic")
    ws.append(["key", "count"])
    for k, n in info["by_topic"].items():
        ws.append([k, n])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_export(stats: dict, fmt: str, output: str) -> str:
    """Write to a file (atomically) or '-' for stdout; returns where it went."""
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    payload: str | bytes = {"json": render_json, "csv": render_csv, "xlsx": render_xlsx}[fmt](stats)
    if output == "-":
        if isinstance(payload, bytes):
            sys.stdout.buffer.write(payload)
        else:
            sys.stdout.write(payload)
        sys.stdout.flush()
        return "stdout"
    path = Path(output).expanduser()
    if path.is_dir():
        raise UserError(f"{path} is a folder: give a file name")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if isinstance(payload, bytes):
            tmp.write_bytes(payload)
        else:
            tmp.write_text(payload, encoding="utf-8", newline="")
        tmp.replace(path)
    except OSError as exc:
        if tmp.parent.exists():
            tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return str(path)
