"""The one registry of statistics dimensions: what each export key counts and how.

Everything else is derived from `DIMENSIONS`: the queries over the raw rows and over the
per-day counts (nmi_desk.domain.stats.compute), the `visit_daily` triggers and fill on SQLite and PostgreSQL
(store.daily_counts), the export formats, the report's sheets, the Day overview's charts and
the independent counts of the tests.

A new statistic of a visit column is one `Dimension(...)` here plus one migration
`Migration(N, "...", daily_counts.rebuild)` (recreates the triggers, refills the counts from the
rows); docs/statistics.md, "Adding a statistic", has the checklist.

Standard library only: the store, the domain and the TUI all read it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from nmi_desk.core.paths import shipped_data_dir

# What a dimension counts:
VISIT = "visit"  # one count per visit, keyed by a visit column
TOPIC = "topic"  # one count per topic link of a visit
TOPIC_GROUP = "topic_group"  # one count per visit and top-level topic (a sub-topic's parent)
REFERRAL = "referral"  # one count per live referral of a visit

UNKNOWN = "unknown"  # the key of a NULL value


@dataclass(frozen=True)
class Dimension:
    code: str  # the export's key, e.g. "by_hour"
    counts: str  # VISIT, TOPIC, TOPIC_GROUP or REFERRAL
    column: str = ""  # VISIT: the visit column
    nullable: bool = False  # VISIT: NULL counts as "unknown"
    # VISIT: the key's SQL over a visit row `{r}` per dialect, when not the plain column.
    sqlite_key: str = ""
    pg_key: str = ""
    key_format: str = "{}"  # VISIT: the same key in Python (the tests' independent counts)
    chart: int | None = None  # position among the Day overview's charts; None: not charted
    title_key: str = ""  # catalog key of its chart / report title
    labels: str = ""  # where key labels come from: a refdata kind, "list:<name>", or "" (the key)

    def key_sql(self, r: str, dialect: str) -> str:
        """The key of visit row `r` in SQL (VISIT dimensions)."""
        custom = self.pg_key if dialect == "postgresql" else self.sqlite_key
        if custom:
            return custom.format(r=r)
        plain = f"{r}.{self.column}"
        return f"coalesce({plain}, '{UNKNOWN}')" if self.nullable else plain

    def key_of(self, value: object) -> str:
        """The key of a column value in Python: the same rule as key_sql."""
        if value is None:
            return UNKNOWN
        return self.key_format.format(value)


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "by_location", VISIT, "location_code",
        chart=7, title_key="day_overview.chart_location", labels="locations",
    ),
    Dimension(
        "by_topic", TOPIC, chart=0, title_key="day_overview.chart_topic", labels="topics",
    ),
    Dimension(
        "by_referral", REFERRAL,
        chart=1, title_key="day_overview.chart_referral", labels="organisations",
    ),
    Dimension(
        "by_hour", VISIT, "local_hour",
        sqlite_key="printf('%02d', {r}.local_hour)",
        pg_key="lpad({r}.local_hour::text, 2, '0')",
        key_format="{:02d}", chart=2, title_key="day_overview.chart_hour",
    ),
    Dimension("by_channel", VISIT, "channel", title_key="stats_report.channel"),
    Dimension(
        "by_came_via", VISIT, "came_via", nullable=True,
        chart=3, title_key="day_overview.chart_came_via", labels="list:came_via",
    ),
    Dimension(
        "by_origin_country", VISIT, "origin_country", nullable=True,
        chart=4, title_key="day_overview.chart_origin", labels="countries",
    ),
    Dimension(
        "by_destination_country", VISIT, "destination_country", nullable=True,
        chart=5, title_key="day_overview.chart_destination", labels="countries",
    ),
    Dimension(
        "by_outcome", VISIT, "outcome", nullable=True,
        chart=6, title_key="day_overview.chart_outcome", labels="list:outcome",
    ),
    # Visits per top-level topic: a visit tagged AOW (a sub-topic of Pensions) counts under
    # "pensioen" here, once however many pension topics it has. Not to be added to by_topic.
    Dimension(
        "by_topic_group", TOPIC_GROUP, title_key="stats_report.topic_group", labels="topics",
    ),
)  # fmt: skip

BY_CODE: dict[str, Dimension] = {d.code: d for d in DIMENSIONS}
CODES: tuple[str, ...] = tuple(d.code for d in DIMENSIONS)
VISIT_DIMENSIONS: tuple[Dimension, ...] = tuple(d for d in DIMENSIONS if d.counts == VISIT)
CHARTS: tuple[Dimension, ...] = tuple(
    sorted((d for d in DIMENSIONS if d.chart is not None), key=lambda d: d.chart or 0)
)


def of(counts: str) -> Dimension:
    """The dimension that counts links of one kind (TOPIC, TOPIC_GROUP, REFERRAL)."""
    return next(d for d in DIMENSIONS if d.counts == counts)


def shipped_topic_parents() -> dict[str, str]:
    """Sub-topic code -> parent code, from the shipped data/topics.toml."""

    with (shipped_data_dir() / "topics.toml").open("rb") as handle:
        rows = tomllib.load(handle).get("topic", [])
    return {row["code"]: row["parent"] for row in rows if row.get("parent")}


def topic_group_sql(code: str, parent: str, parents: dict[str, str] | None = None) -> str:
    """SQL for the group of topic `code`: its parent, else the code itself.

    `parent` is the parent column of the database's `topic` row joined for `code` (reference
    data published centrally included); without one the shipped topics.toml decides, written
    into the SQL when the triggers are made, so a central database without reference rows
    groups the same way. One level, as topics.toml has. A changed parent applies to links
    counted after the triggers were remade: a release that moves a topic adds a
    `daily_counts.rebuild` migration (docs/statistics.md).
    """
    parents = shipped_topic_parents() if parents is None else parents
    shipped = (
        f"CASE {code} "
        + " ".join(f"WHEN '{c}' THEN '{p}'" for c, p in sorted(parents.items()))
        + " END"
        if parents
        else "NULL"
    )
    return f"coalesce({parent}, {shipped}, {code})"


def topic_group_of(code: str, parents: dict[str, str]) -> str:
    """The same rule in Python (the tests' independent counts, given the topic table's map)."""
    return parents.get(code) or code
