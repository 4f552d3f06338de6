"""The TUI side of data protection: the unlock screen at start (wrong passphrase shows and
changes nothing), and the screen lock after idle time on the desk's clock, hiding every client
detail (snapshot) until the passphrase is given again."""

from __future__ import annotations

from nmi_desk.domain.desk import Desk
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.today import TodayScreen
from nmi_desk.tui.screens.unlock import UnlockScreen
from tests.tui_helpers import steady_cursor, wait_screen, wait_today, wait_until

PASS = "lange zin voor de balie 42"
NAME = "Wobbeltje Quastmeijer"


def _encrypted_with_a_visit(desk):
    desk.set_passphrase(PASS)
    create_visit(
        desk.context(),
        VisitInput(location_code="eindhoven-stadskantoor", client_name=NAME, topics=["aow"]),
    )


def _shows(app, text: str) -> bool:
    return text in app.export_screenshot().replace("&#160;", " ")


async def _type(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def test_wrong_passphrase_at_start_shows_nothing_then_the_right_one_opens(
    desk, isolated_home, clock
):
    _encrypted_with_a_visit(desk)
    desk.close()
    fresh = Desk.open(isolated_home, clock=clock)
    waits: list[float] = []
    fresh.sleep = waits.append
    fresh.wall = lambda: 1000.0  # the next try comes at once (how long typing takes aside)
    app = NmiDeskApp(fresh)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_screen(pilot, UnlockScreen)
        await _type(pilot, "dit is fout zeker")
        await pilot.press("enter")
        await wait_until(pilot, lambda: _shows(app, "Onjuiste wachtzin"), "the message")
        assert isinstance(app.screen, UnlockScreen)
        assert not _shows(app, "Wobbeltje")
        assert fresh.locked
        await _type(pilot, "nog steeds fout!")
        await pilot.press("enter")
        await wait_until(pilot, lambda: waits == [1.0], "the back-off")
        await wait_until(
            pilot, lambda: not app.screen.query_one("#passphrase").disabled, "the field again"
        )
        await _type(pilot, PASS)
        await pilot.press("enter")
        await wait_today(pilot, rows=1)
        assert _shows(app, "Wobbeltje")
    fresh.close()


async def test_idle_lock_hides_client_data_until_the_passphrase(desk, clock):
    _encrypted_with_a_visit(desk)
    desk.settings.lock_minutes = 5
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_today(pilot, rows=1)
        assert _shows(app, "Wobbeltje")
        clock.advance(minutes=4)
        await pilot.pause(0.7)
        assert isinstance(app.screen, TodayScreen)  # not yet
        clock.advance(minutes=1, seconds=1)
        await wait_screen(pilot, UnlockScreen)
        steady_cursor(app)  # a blinking cursor made the picture depend on timing
        assert not _shows(app, "Wobbeltje")
        await pilot.press("f2")  # app keys do nothing while locked
        assert isinstance(app.screen, UnlockScreen)
        await _type(pilot, PASS)
        await pilot.press("enter")
        await wait_screen(pilot, TodayScreen)
        assert _shows(app, "Wobbeltje")
        await pilot.press("ctrl+l")  # lock at once, e.g. when leaving the counter
        await wait_screen(pilot, UnlockScreen)
        steady_cursor(app)  # a blinking cursor made the picture depend on timing
        assert not _shows(app, "Wobbeltje")


def test_lock_screen_snapshot_shows_no_client_data(desk, clock, snap_compare):
    _encrypted_with_a_visit(desk)
    app = NmiDeskApp(desk)

    async def run_before(pilot) -> None:
        await wait_today(pilot, rows=1)
        clock.advance(minutes=6)
        await wait_screen(pilot, UnlockScreen)
        steady_cursor(app)  # a blinking cursor made the picture depend on timing
        assert not _shows(app, "Wobbeltje")

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_lock_screen_snapshot_80x24(desk, clock, snap_compare):
    _encrypted_with_a_visit(desk)
    app = NmiDeskApp(desk)

    async def run_before(pilot) -> None:
        await wait_today(pilot, rows=1)
        await pilot.press("ctrl+l")
        await wait_screen(pilot, UnlockScreen)
        steady_cursor(app)  # a blinking cursor made the picture depend on timing

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
