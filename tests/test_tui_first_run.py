"""The very first start of the real app: no config, no database. The consultant sets a
passphrase, then initials and location, and lands on Today (which once crashed here: its
first read met an encrypted database without tables yet)."""

from __future__ import annotations

from nmi_desk.domain.desk import Desk
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.setup import SetupScreen
from nmi_desk.tui.screens.today import TodayScreen
from nmi_desk.tui.screens.unlock import SetPassphraseScreen
from tests.tui_helpers import wait_screen, wait_until

PASS = "een lange wachtzin voor de test"


async def _type(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def test_first_run_sets_passphrase_then_setup_then_today(isolated_home, clock):
    desk = Desk.open(isolated_home, clock=clock)
    desk.require_encryption = True  # as run_tui does for the real app
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_screen(pilot, SetPassphraseScreen)
        await _type(pilot, PASS)
        await pilot.press("tab")
        await _type(pilot, PASS)
        await pilot.press("enter")
        await wait_screen(pilot, SetupScreen)
        await wait_until(pilot, lambda: app.focused is not None and app.focused.id == "initials")
        await _type(pilot, "ab")
        await pilot.press("enter")  # to the location
        await _type(pilot, "eindh")  # typed at once, no list to open first
        await pilot.press("ctrl+s")  # save
        await wait_screen(pilot, TodayScreen)
        await wait_until(pilot, lambda: app.screen.loaded, "Today's first read")
        assert desk.settings.consultant == "AB"
        assert desk.settings.location == "eindhoven-stadskantoor"
    assert desk.encryption_state() == "encrypted"
    header = (isolated_home / "nmi-desk.db").read_bytes()[:16]
    assert header != b"SQLite format 3\x00"
    desk.close()


async def test_a_setup_error_clears_once_the_location_is_valid(isolated_home, clock):
    from textual.widgets import Label

    desk = Desk.open(isolated_home, clock=clock)
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_screen(pilot, SetupScreen)
        screen = app.screen
        await wait_until(pilot, lambda: app.focused is not None and app.focused.id == "initials")
        await _type(pilot, "ab")
        await pilot.press("ctrl+s")  # no location yet
        error = screen.query_one("#location-error", Label)
        assert str(error.render()) != ""
        await pilot.press("tab")
        await _type(pilot, "roerm")
        await pilot.press("tab")  # a valid location taken: the line under it goes
        assert str(error.render()) == ""
        assert isinstance(app.screen, SetupScreen)  # not saved yet: only Ctrl+S saves
    desk.close()
