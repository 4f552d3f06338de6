"""Sync from the counter TUI (Pilot): F5 pushes in the background and the status line tells the
consultant what is pending, when sync last worked and what went wrong; typing never waits."""

from __future__ import annotations

from sqlalchemy import text
from textual.widgets import Static
from tui_helpers import wait_today, wait_until

from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.store.engine import open_engine
from nmi_desk.sync import read_status
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.today import TodayScreen
from nmi_desk.tui.widgets.sync_status import SyncStatusLine

SIZE = (100, 30)


def _seed(desk, n: int) -> None:
    for i in range(n):
        create_visit(
            desk.context(),
            VisitInput(
                location_code="eindhoven-stadskantoor",
                client_name=f"Testpersoon {i}",
                topics=["aow"],
                referrals=[ReferralInput("svb")],
            ),
        )


def _line_text(app) -> str:
    screen = next(s for s in app.screen_stack if isinstance(s, TodayScreen))
    return str(screen.query_one("#sync-text", Static).render())


async def test_f5_syncs_in_the_background_and_the_line_shows_the_outcome(desk, tmp_path):
    central = tmp_path / "usb" / "central.db"
    central.parent.mkdir()
    desk.settings.sync_target = f"sqlite:///{central}"
    _seed(desk, 3)
    pending = read_status(desk.engine()).pending  # visits and referrals
    assert pending >= 6
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot)
        await wait_until(pilot, lambda: f"{pending} wachtend" in _line_text(app), "pending count")
        assert "nog nooit" in _line_text(app)
        await pilot.press("f5")
        await wait_until(pilot, lambda: "0 wachtend" in _line_text(app), "sync done")
        assert "laatst gelukt 10:30" in _line_text(app) and "fout" not in _line_text(app)
        counts = app.screen.query_one("#count-unsynced", Static)
        await wait_until(pilot, lambda: str(counts.render()).endswith(": 0"), "Today's count")
    engine = open_engine(f"sqlite:///{central}")
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM visit")).scalar_one() == 3
    engine.dispose()


async def test_an_unreachable_target_shows_one_line_keeps_records_and_backs_off(desk, tmp_path):
    desk.settings.sync_target = "postgresql+psycopg://nmi@127.0.0.1:1/central"  # nothing listens
    _seed(desk, 1)
    pending = read_status(desk.engine()).pending
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot)
        await wait_until(pilot, lambda: app.screen.query(SyncStatusLine), "the sync line")
        line = app.screen.query_one(SyncStatusLine)
        await pilot.press("f5")
        await pilot.press("n")  # the consultant starts a visit while sync fails in the back
        await wait_until(pilot, lambda: "fout:" in _line_text(app), "error shown")
        text_now = _line_text(app)
        assert "is niet bereikbaar" in text_now and f"{pending} wachtend" in text_now
        assert "cannot reach" not in text_now  # the Dutch UI says the error in Dutch too
        assert "\n" not in text_now
        first_retry = line._retry
        line._next_at = 0  # the next background attempt is due now
        line._tick()
        await wait_until(pilot, lambda: not line.running, "second attempt done")
        assert line._retry == first_retry * 2  # waits longer after each failure


async def test_a_saved_visit_shows_in_both_pending_counts_alike(desk):
    """Today's count and the sync line count the same records, and both follow a save."""
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await wait_until(pilot, lambda: "0 wachtend" in _line_text(app), "the sync line")
        await pilot.press("t")  # a count-only visit for one person: one record
        await wait_until(pilot, lambda: app.focused and app.focused.id == "people")
        await pilot.press("ctrl+t", *"aow", "enter", "ctrl+s")
        await wait_today(pilot, rows=1)
        await wait_until(pilot, lambda: "1 wachtend" in _line_text(app), "the line follows")
        counts = str(app.screen.query_one("#count-unsynced", Static).render())
        assert counts.endswith(": 1")
