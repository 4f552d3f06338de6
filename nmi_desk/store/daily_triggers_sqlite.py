"""SQLite (the laptop, one writer): the row triggers that keep visit_daily, upserting it
directly (the rule: store.daily_counts)."""

from __future__ import annotations

from nmi_desk.store.daily_sql import (
    GROUP_CODE,
    INSERT_COUNTS,
    REFERRAL_CODE,
    REFERRAL_COUNTED,
    TOPIC_CODE,
    UPSERT_COUNTS,
    VISIT_COUNTED,
    group_of,
)
from nmi_desk.store.dimensions import VISIT_DIMENSIONS


def _visit_rows(r: str, sign: str) -> str:
    """The visit dimensions of visit row `r` (NEW/OLD), each counted `sign` once."""
    values = ", ".join(
        f"({r}.local_date, {r}.location_code, '{d.code}', {d.key_sql(r, 'sqlite')}, {sign})"
        for d in VISIT_DIMENSIONS
    )
    return f"{INSERT_COUNTS}VALUES {values}{UPSERT_COUNTS};"


def _visit_links(r: str, sign: str) -> str:
    """The topics, topic groups and live referrals of visit row `r`, on (or off) its day."""
    return (
        f"{INSERT_COUNTS}SELECT {r}.local_date, {r}.location_code, '{TOPIC_CODE}', t.topic_code, {sign} "
        f"FROM visit_topic t WHERE t.visit_id = {r}.id{UPSERT_COUNTS}; "
        f"{INSERT_COUNTS}SELECT {r}.local_date, {r}.location_code, '{GROUP_CODE}', g.g, {sign} "
        f"FROM (SELECT DISTINCT {group_of('t', 'tp')} AS g FROM visit_topic t "
        f"LEFT JOIN topic tp ON tp.code = t.topic_code WHERE t.visit_id = {r}.id) g "
        f"WHERE true{UPSERT_COUNTS}; "
        f"{INSERT_COUNTS}SELECT {r}.local_date, {r}.location_code, '{REFERRAL_CODE}', "
        f"x.organisation_code, {sign} FROM referral x "
        f"WHERE x.visit_id = {r}.id AND x.deleted = FALSE{UPSERT_COUNTS};"
    )


def _via_visit(dimension: str, key: str, visit_id: str, sign: str, extra: str = "") -> str:
    """One link row counted `sign` on its visit's day and location, if that visit counts."""
    return (
        f"{INSERT_COUNTS}SELECT v.local_date, v.location_code, '{dimension}', {key}, {sign} "
        f"FROM visit v WHERE v.id = {visit_id} AND v.deleted = FALSE{extra}{UPSERT_COUNTS};"
    )


def _group_delta(changes: str) -> str:
    """Topic-group counts moved by changed topic links (SQLite; `_pg_topic_delta` is the
    set-based form of the same rule).

    `changes` yields (visit_id, topic_code, sign): +1 a link now there, -1 one gone. Per
    visit and group, `cur` links of that group are there now and `cur - net` were before; the
    group counts once while there is at least one.
    """
    return (
        f"{INSERT_COUNTS}SELECT v.local_date, v.location_code, '{GROUP_CODE}', c.g, "
        "(CASE WHEN c.cur > 0 THEN 1 ELSE 0 END) - (CASE WHEN c.cur - c.net > 0 THEN 1 ELSE 0 END) "
        "FROM (SELECT ch.visit_id, ch.g, sum(ch.sign) AS net, "
        "(SELECT count(*) FROM visit_topic t LEFT JOIN topic tq ON tq.code = t.topic_code "
        f"WHERE t.visit_id = ch.visit_id AND {group_of('t', 'tq')} = ch.g) AS cur "
        f"FROM (SELECT x.visit_id, {group_of('x', 'tp')} AS g, x.sign FROM ({changes}) x "
        "LEFT JOIN topic tp ON tp.code = x.topic_code) ch GROUP BY ch.visit_id, ch.g) c "
        "JOIN visit v ON v.id = c.visit_id WHERE v.deleted = FALSE "
        f"AND (CASE WHEN c.cur > 0 THEN 1 ELSE 0 END) <> (CASE WHEN c.cur - c.net > 0 THEN 1 ELSE 0 END)"
        f"{UPSERT_COUNTS};"
    )


def _changed(columns: tuple[str, ...]) -> str:
    return "(" + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns) + ")"


def _link(r: str, sign: int) -> str:
    return f"SELECT {r}.visit_id AS visit_id, {r}.topic_code AS topic_code, {sign} AS sign"


def triggers() -> dict[str, str]:
    """SQLite: trigger name -> CREATE TRIGGER statement."""
    visit_cols = ", ".join(VISIT_COUNTED)
    visit_changed = _changed(VISIT_COUNTED)
    ref_cols = ", ".join(REFERRAL_COUNTED)
    ref_changed = _changed(REFERRAL_COUNTED)
    topic = TOPIC_CODE
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
            f"{_via_visit(topic, 'NEW.topic_code', 'NEW.visit_id', '1')} "
            f"{_group_delta(_link('NEW', 1))} END"
        ),
        "visit_daily_topic_delete": (
            "CREATE TRIGGER visit_daily_topic_delete AFTER DELETE ON visit_topic BEGIN "
            f"{_via_visit(topic, 'OLD.topic_code', 'OLD.visit_id', '-1')} "
            f"{_group_delta(_link('OLD', -1))} END"
        ),
        "visit_daily_topic_update": (
            "CREATE TRIGGER visit_daily_topic_update AFTER UPDATE ON visit_topic BEGIN "
            f"{_via_visit(topic, 'OLD.topic_code', 'OLD.visit_id', '-1')} "
            f"{_via_visit(topic, 'NEW.topic_code', 'NEW.visit_id', '1')} "
            f"{_group_delta(_link('OLD', -1) + ' UNION ALL ' + _link('NEW', 1))}"
            " END"
        ),
        "visit_daily_referral_insert": (
            "CREATE TRIGGER visit_daily_referral_insert AFTER INSERT ON referral "
            "WHEN NEW.deleted = FALSE BEGIN "
            f"{_via_visit(REFERRAL_CODE, 'NEW.organisation_code', 'NEW.visit_id', '1')} END"
        ),
        "visit_daily_referral_delete": (
            "CREATE TRIGGER visit_daily_referral_delete AFTER DELETE ON referral "
            "WHEN OLD.deleted = FALSE BEGIN "
            f"{_via_visit(REFERRAL_CODE, 'OLD.organisation_code', 'OLD.visit_id', '-1')} END"
        ),
        "visit_daily_referral_update": (
            f"CREATE TRIGGER visit_daily_referral_update AFTER UPDATE OF {ref_cols} ON referral "
            f"WHEN {ref_changed} BEGIN "
            + _via_visit(
                REFERRAL_CODE, "OLD.organisation_code", "OLD.visit_id", "-1",
                " AND OLD.deleted = FALSE",
            )
            + " "
            + _via_visit(
                REFERRAL_CODE, "NEW.organisation_code", "NEW.visit_id", "1",
                " AND NEW.deleted = FALSE",
            )
            + " END"
        ),
    }  # fmt: skip
