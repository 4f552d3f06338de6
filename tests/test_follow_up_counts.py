"""One definition of "follow-up due" and "overdue" (domain.follow_up_rule): Today, Follow-ups
and the Day overview show the same numbers for the same data."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

from textual.widgets import Static
from tui_helpers import settle, wait_screen

from nmi_desk.core.clock import AMS
from nmi_desk.domain import follow_up_rule
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit, delete_visit

TODAY = date(2026, 3, 10)  # the conftest clock


def _visit(desk, day: date, referrals: list[ReferralInput]) -> str:
    return create_visit(
        desk.context(),
        VisitInput(
            location_code="eindhoven-stadskantoor",
            started_at=datetime(day.year, day.month, day.day, 9, 30, tzinfo=AMS),
            topics=["aow"],
            referrals=referrals,
        ),
    )


def _fill(desk) -> None:
    """Open but not yet due (2), due today (1), overdue (2), done though overdue (1), a visit
    deleted the usual way (its referrals tombstoned) and a visit whose tombstone reached this
    laptop without its referral's (the join with visit must leave it out)."""
    week_ago = TODAY - timedelta(days=7)
    _visit(
        desk,
        week_ago,
        [
            ReferralInput("svb", follow_up_on=TODAY + timedelta(days=3)),
            ReferralInput("ind", follow_up_on=TODAY - timedelta(days=1)),
        ],
    )
    _visit(desk, week_ago, [ReferralInput("belastingdienst", follow_up_on=TODAY)])
    _visit(desk, week_ago, [ReferralInput("svb", follow_up_on=TODAY - timedelta(days=5))])
    _visit(desk, TODAY, [ReferralInput("svb")])  # the default date: weeks ahead
    _visit(
        desk,
        week_ago,
        [
            ReferralInput("ind", follow_up_on=TODAY - timedelta(days=2), status="done"),
        ],
    )
    gone = _visit(desk, week_ago, [ReferralInput("svb", follow_up_on=TODAY - timedelta(days=3))])
    delete_visit(desk.context(), gone)
    half = _visit(desk, week_ago, [ReferralInput("ind", follow_up_on=TODAY - timedelta(days=4))])
    conn = sqlite3.connect(desk.database_path)
    with conn:
        conn.execute("UPDATE visit SET deleted = 1 WHERE uuid = ?", (half,))
    conn.close()


EXPECTED = "Opvolging nodig: 3 (2 te laat)"


def test_the_sql_condition_and_the_python_predicates_agree(desk):
    from nmi_desk.domain.referrals import open_follow_ups

    _fill(desk)
    conn = sqlite3.connect(desk.database_path)
    counts = follow_up_rule.counts_from_row(
        conn.execute(follow_up_rule.COUNTS_SQL, follow_up_rule.today_param(TODAY)).fetchone()
    )
    conn.close()
    assert counts == follow_up_rule.FollowUpCounts(due=3, overdue=2)
    items = open_follow_ups(desk.context())
    assert len(items) == 5  # every open one, due or not
    assert sum(f.due for f in items) == 3 and sum(f.overdue for f in items) == 2
    assert follow_up_rule.is_due(TODAY, TODAY) and not follow_up_rule.is_overdue(TODAY, TODAY)
    assert not follow_up_rule.is_due(None, TODAY)


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_today_follow_ups_and_day_overview_show_the_same_counts(desk):
    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.day_overview import DayOverviewScreen
    from nmi_desk.tui.screens.follow_ups import FollowUpsScreen
    from nmi_desk.tui.screens.today import TodayScreen

    _fill(desk)
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_screen(pilot, TodayScreen)
        await settle(pilot)
        assert _text(app, "#count-due") == EXPECTED

        await pilot.press("f")
        await wait_screen(pilot, FollowUpsScreen)
        await settle(pilot)
        assert _text(app, "#follow-title").endswith(" · " + EXPECTED)
        await pilot.press("escape")
        await wait_screen(pilot, TodayScreen)

        await pilot.press("d")
        await wait_screen(pilot, DayOverviewScreen)
        await settle(pilot)
        assert EXPECTED in _text(app, "#dov-summary")
