"""`visit_daily`: visit counts per (Amsterdam day, location, dimension, key), kept by triggers.

SQLite only (the counter laptop). Statistics for a year then sum a table of summary rows
instead of walking ~2.4 million index entries and joining 400,000 topic links
(docs/statistics.md, "How the figures are counted"). PostgreSQL has the table too, so the
schema is one, but leaves it empty: the central side counts with plain GROUP BY queries.

The triggers keep one rule: the table holds exactly the counts of the rows as they are now.
- a visit counts while it is not deleted (tombstoned); its topics count while it counts; its
  referrals count while it counts and they are not deleted themselves;
- every change to a counted column, to a visit's day or location, or to `deleted` takes the
  old row's counts off and puts the new row's on (topics and referrals move with their visit);
- a visit is taken off BEFORE its delete: SQLite runs the ON DELETE CASCADE of its topics and
  referrals before the visit's AFTER DELETE triggers, and their own triggers then find no
  visit and change nothing;
- sync bookkeeping (`synced_revision`, `synced_at`) and purging personal fields are not
  counted columns, so they never fire these triggers.
Counts of zero may stay behind after edits; readers skip them (HAVING sum(n) <> 0).

Standard library only: the demo bulk load (nmi_desk.demo) uses `fill_sql` after dropping the
triggers, and migration 52 creates and fills the table.
"""

from __future__ import annotations

TABLE = "visit_daily"


def create_table(dialect: str) -> str:
    # WITHOUT ROWID on SQLite: the rows live in their key order, one b-tree, no rowid index.
    return (
        "CREATE TABLE visit_daily ("
        "local_date VARCHAR(10) NOT NULL, location_code VARCHAR(64) NOT NULL, "
        "dimension VARCHAR(32) NOT NULL, key VARCHAR(64) NOT NULL, n INTEGER NOT NULL, "
        "PRIMARY KEY (local_date, location_code, dimension, key))"
        + (" WITHOUT ROWID" if dialect == "sqlite" else "")
    )


# dimension -> the SQL of its key on a visit row `{r}` (NULL counts as 'unknown', as in stats).
VISIT_KEYS: dict[str, str] = {
    "by_location": "{r}.location_code",
    "by_hour": "printf('%02d', {r}.local_hour)",
    "by_channel": "coalesce({r}.channel, 'unknown')",
    "by_came_via": "coalesce({r}.came_via, 'unknown')",
    "by_origin_country": "coalesce({r}.origin_country, 'unknown')",
    "by_destination_country": "coalesce({r}.destination_country, 'unknown')",
    "by_outcome": "coalesce({r}.outcome, 'unknown')",
}
# The visit columns whose change moves counts (UPDATE OF: never the sync bookkeeping).
VISIT_COUNTED = (
    "deleted",
    "local_date",
    "local_hour",
    "location_code",
    "channel",
    "came_via",
    "origin_country",
    "destination_country",
    "outcome",
)
# dimension -> its raw column in a GROUP BY (by_location groups by location_code alone).
_COLUMN = {
    name: "" if name == "by_location" else f"v.{column}, "
    for name, column in (
        ("by_location", "location_code"),
        ("by_hour", "local_hour"),
        ("by_channel", "channel"),
        ("by_came_via", "came_via"),
        ("by_origin_country", "origin_country"),
        ("by_destination_country", "destination_country"),
        ("by_outcome", "outcome"),
    )
}
REFERRAL_COUNTED = ("deleted", "organisation_code", "visit_id")

_COLUMNS = "INSERT INTO visit_daily (local_date, location_code, dimension, key, n) "
_UPSERT = (
    " ON CONFLICT (local_date, location_code, dimension, key) DO UPDATE SET n = n + excluded.n"
)


def _visit_rows(r: str, sign: str) -> str:
    """The seven visit dimensions of visit row `r` (NEW/OLD), each counted `sign` once."""
    values = ", ".join(
        f"({r}.local_date, {r}.location_code, '{name}', {key.format(r=r)}, {sign})"
        for name, key in VISIT_KEYS.items()
    )
    return f"{_COLUMNS}VALUES {values}{_UPSERT};"


def _visit_links(r: str, sign: str) -> str:
    """The topics and live referrals of visit row `r`, moved to (or off) its day and location."""
    return (
        f"{_COLUMNS}SELECT {r}.local_date, {r}.location_code, 'by_topic', t.topic_code, {sign} "
        f"FROM visit_topic t WHERE t.visit_id = {r}.id{_UPSERT}; "
        f"{_COLUMNS}SELECT {r}.local_date, {r}.location_code, 'by_referral', "
        f"x.organisation_code, {sign} FROM referral x "
        f"WHERE x.visit_id = {r}.id AND x.deleted = FALSE{_UPSERT};"
    )


def _via_visit(dimension: str, key: str, visit_id: str, sign: str, extra: str = "") -> str:
    """One link row counted `sign` on its visit's day and location, if that visit counts."""
    return (
        f"{_COLUMNS}SELECT v.local_date, v.location_code, '{dimension}', {key}, {sign} "
        f"FROM visit v WHERE v.id = {visit_id} AND v.deleted = FALSE{extra}{_UPSERT};"
    )


def _changed(columns: tuple[str, ...]) -> str:
    return "(" + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns) + ")"


def triggers() -> dict[str, str]:
    """Trigger name -> CREATE TRIGGER statement."""
    visit_cols = ", ".join(VISIT_COUNTED)
    visit_changed = _changed(VISIT_COUNTED)
    ref_cols = ", ".join(REFERRAL_COUNTED)
    ref_changed = _changed(REFERRAL_COUNTED)
    return {
        "visit_daily_visit_insert": (
            "CREATE TRIGGER visit_daily_visit_insert AFTER INSERT ON visit "
            f"WHEN NEW.deleted = FALSE BEGIN {_visit_rows('NEW', '1')} "
            f"{_visit_links('NEW', '1')} END"
        ),
        "visit_daily_visit_delete": (
            "CREATE TRIGGER visit_daily_visit_delete BEFORE DELETE ON visit "
            f"WHEN OLD.deleted = FALSE BEGIN {_visit_rows('OLD', '-1')} "
            f"{_visit_links('OLD', '-1')} END"
        ),
        "visit_daily_visit_update_old": (
            f"CREATE TRIGGER visit_daily_visit_update_old AFTER UPDATE OF {visit_cols} ON visit "
            f"WHEN OLD.deleted = FALSE AND {visit_changed} BEGIN {_visit_rows('OLD', '-1')} "
            f"{_visit_links('OLD', '-1')} END"
        ),
        "visit_daily_visit_update_new": (
            f"CREATE TRIGGER visit_daily_visit_update_new AFTER UPDATE OF {visit_cols} ON visit "
            f"WHEN NEW.deleted = FALSE AND {visit_changed} BEGIN {_visit_rows('NEW', '1')} "
            f"{_visit_links('NEW', '1')} END"
        ),
        "visit_daily_topic_insert": (
            "CREATE TRIGGER visit_daily_topic_insert AFTER INSERT ON visit_topic BEGIN "
            f"{_via_visit('by_topic', 'NEW.topic_code', 'NEW.visit_id', '1')} END"
        ),
        "visit_daily_topic_delete": (
            "CREATE TRIGGER visit_daily_topic_delete AFTER DELETE ON visit_topic BEGIN "
            f"{_via_visit('by_topic', 'OLD.topic_code', 'OLD.visit_id', '-1')} END"
        ),
        "visit_daily_topic_update": (
            "CREATE TRIGGER visit_daily_topic_update AFTER UPDATE ON visit_topic BEGIN "
            f"{_via_visit('by_topic', 'OLD.topic_code', 'OLD.visit_id', '-1')} "
            f"{_via_visit('by_topic', 'NEW.topic_code', 'NEW.visit_id', '1')} END"
        ),
        "visit_daily_referral_insert": (
            "CREATE TRIGGER visit_daily_referral_insert AFTER INSERT ON referral "
            "WHEN NEW.deleted = FALSE BEGIN "
            f"{_via_visit('by_referral', 'NEW.organisation_code', 'NEW.visit_id', '1')} END"
        ),
        "visit_daily_referral_delete": (
            "CREATE TRIGGER visit_daily_referral_delete AFTER DELETE ON referral "
            "WHEN OLD.deleted = FALSE BEGIN "
            f"{_via_visit('by_referral', 'OLD.organisation_code', 'OLD.visit_id', '-1')} END"
        ),
        "visit_daily_referral_update": (
            f"CREATE TRIGGER visit_daily_referral_update AFTER UPDATE OF {ref_cols} ON referral "
            f"WHEN {ref_changed} BEGIN "
            + _via_visit(
                "by_referral",
                "OLD.organisation_code",
                "OLD.visit_id",
                "-1",
                " AND OLD.deleted = FALSE",
            )  # fmt: skip
            + " "
            + _via_visit(
                "by_referral",
                "NEW.organisation_code",
                "NEW.visit_id",
                "1",
                " AND NEW.deleted = FALSE",
            )  # fmt: skip
            + " END"
        ),
    }


def fill_sql(visit_from: int = 0, referral_from: int = 0) -> list[str]:
    """Statements that add the counts of visits with id >= visit_from (their topics) and of
    referrals with id >= referral_from, in bulk (GROUP BY), onto what the table holds."""
    # Grouped by the raw column in the order of its (local_date, column, location_code)
    # index (migrations 2 and 50), so SQLite reads it in order instead of sorting every visit;
    # NULL and a literal 'unknown' may then come as two rows, which the upsert adds up.
    out = [
        f"{_COLUMNS}SELECT v.local_date, v.location_code, '{name}', {key.format(r='v')}, "
        f"count(*) FROM visit v WHERE v.deleted = FALSE AND v.id >= {int(visit_from)} "
        f"GROUP BY v.local_date, {_COLUMN[name]}v.location_code{_UPSERT}"
        for name, key in VISIT_KEYS.items()
    ]
    out.append(
        f"{_COLUMNS}SELECT v.local_date, v.location_code, 'by_topic', t.topic_code, count(*) "
        "FROM visit_topic t JOIN visit v ON v.id = t.visit_id "
        f"WHERE v.deleted = FALSE AND t.visit_id >= {int(visit_from)} GROUP BY 1, 2, 4{_UPSERT}"
    )
    out.append(
        f"{_COLUMNS}SELECT v.local_date, v.location_code, 'by_referral', x.organisation_code, "
        "count(*) FROM referral x JOIN visit v ON v.id = x.visit_id "
        f"WHERE v.deleted = FALSE AND x.deleted = FALSE AND x.id >= {int(referral_from)} "
        f"GROUP BY 1, 2, 4{_UPSERT}"
    )
    return out
