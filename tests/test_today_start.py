"""The start path: today's rows read in a thread before Textual loads, and Today as the app's
first screen with those rows in its first frame (docs/performance.md, Start-up)."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable
from tui_helpers import table_rows, wait_today

from nmi_desk.domain.desk import Desk
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.stats.today import TodayPrefetch, can_prefetch
from nmi_desk.domain.visits import create_visit
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.today import TodayScreen

SIZE = (100, 30)


def _seed(desk, name: str) -> None:
    create_visit(
        desk.context(),
        VisitInput(location_code="eindhoven-stadskantoor", client_name=name, topics=["aow"]),
    )


def test_the_prefetch_reads_today_and_hands_it_over_once(desk):
    _seed(desk, "Ayşe Testpersoon")
    prefetch = TodayPrefetch(desk)
    view = prefetch.take()
    assert [row.client_name for row in view.rows] == ["Ayşe Testpersoon"]
    assert view.counts.visits == 1
    assert prefetch.take() is None  # later refreshes read afresh


def test_the_prefetch_of_a_first_run_finds_nothing(desk):
    assert not desk.database_path.exists()
    assert TodayPrefetch(desk).take() is None


def test_prefetch_only_when_today_is_the_first_screen(isolated_home, desk):
    assert not can_prefetch(desk)  # no database yet
    desk.engine()
    assert can_prefetch(desk)
    desk.require_encryption = True
    assert not can_prefetch(desk)  # asks for a passphrase first
    desk.set_passphrase("wachtzin-voor-de-test")
    assert can_prefetch(desk)  # unlocked in this process
    desk.close()
    locked = Desk.open(isolated_home)
    locked.require_encryption = True
    assert locked.locked and not can_prefetch(locked)
    fresh = Desk.open(isolated_home.parent / "elsewhere")
    assert not can_prefetch(fresh)  # not set up


async def test_today_is_the_first_screen_with_the_prefetched_rows(desk):
    _seed(desk, "Mehmet Testpersoon")
    prefetch = TodayPrefetch(desk)
    while not prefetch.done():  # read before the app mounts, as when Textual imports
        time.sleep(0.01)
    app = NmiDeskApp(desk, today=prefetch)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=1)
        assert len(app.screen_stack) == 1 and isinstance(app.screen, TodayScreen)
        assert table_rows(app)[0][1] == "Mehmet Testpersoon"
        assert "1" in str(app.screen.query_one("#count-visits").render())
    assert prefetch.take() is None  # Today took it


async def test_client_text_with_brackets_is_shown_as_typed(desk):
    name = "Kaya[b]Test[/b]"  # a str cell would be read as markup: bold "Test", tags gone
    _seed(desk, name)
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=1)
        table = app.screen.query_one(DataTable)
        shown = table.get_row_at(0)[1]
        assert isinstance(shown, Text) and shown.plain == name and not shown.spans
        assert name in app.export_screenshot()


async def test_a_file_that_is_not_a_database_is_one_line_not_a_crash(desk):
    desk.database_path.parent.mkdir(parents=True, exist_ok=True)
    desk.database_path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4096)  # damaged
    app = NmiDeskApp(desk, today=TodayPrefetch(desk))
    async with app.run_test(size=SIZE) as pilot:

        def told() -> list[str]:
            # what the consultant sees as a toast (Textual keeps them on the app)
            return [n.message for n in app._notifications]

        for _ in range(200):
            await pilot.pause(0.05)
            if any("is beschadigd (onmogelijke paginagrootte" in text for text in told()):
                break
        [message] = [text for text in told() if "is beschadigd (onmogelijke paginagrootte" in text]
        assert "\n" not in message and app.is_running
        # Where the rows would be, Today says what happened instead of "Loading…".
        shown = str(app.screen.query_one("#today-empty").render())
        assert shown.startswith("Vandaag kan niet getoond worden: de database")
