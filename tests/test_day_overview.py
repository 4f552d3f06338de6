"""The Day overview screen (Pilot, SVG snapshots) and the end-of-day close (domain)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from textual.widgets import Static
from tui_helpers import workers_done

from nmi_desk.core.clock import AMS
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.stats.end_of_day import close_day
from nmi_desk.domain.stats.period import Period
from nmi_desk.domain.visits import create_visit


def _fill(desk) -> None:
    visits = [
        ("09:10", ["aow", "zorg"], "TR", "svb"),
        ("09:40", ["remigratie-uitkering"], "MA", "svb"),
        ("10:05", ["aow"], "TR", "ind"),
        ("10:20", ["verblijf"], "SR", None),
        ("13:30", ["aow", "belastingen"], "TR", "belastingdienst"),
    ]
    for hhmm, topics, origin, org in visits:
        h, m = map(int, hhmm.split(":"))
        create_visit(
            desk.context(),
            VisitInput(
                location_code="eindhoven-stadskantoor",
                started_at=datetime(2026, 3, 10, h, m, tzinfo=AMS),
                origin_country=origin,
                destination_country=origin,
                came_via="gemeente-sociaal-loket",
                outcome="informed",
                topics=topics,
                referrals=[ReferralInput(org)] if org else [],
            ),
        )
    # Another day and another location: not in today's figures.
    create_visit(
        desk.context(),
        VisitInput(
            location_code="roermond",
            started_at=datetime(2026, 3, 9, 11, 0, tzinfo=AMS),
            topics=["wmo"],
        ),
    )


async def _settle(pilot) -> None:
    await workers_done(pilot)
    await pilot.pause()
    await workers_done(pilot)
    await pilot.pause()


def _text(app, selector: str) -> str:
    """What a Static shows, as plain text (Rich tables rendered too)."""
    from rich.console import Console

    widget = app.screen.query_one(selector)
    content = widget.content if isinstance(widget, Static) else widget.render()
    if isinstance(content, str):
        return content
    console = Console(width=60, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(content)
    return console.export_text()


async def test_overview_shows_the_day_and_keys_change_period_and_location(desk):
    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.day_overview import DayOverviewScreen

    _fill(desk)
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        app.push_screen(DayOverviewScreen())
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, DayOverviewScreen)
        assert "Bezoeken: 5" in _text(app, "#dov-summary")
        assert "10-03-2026" in _text(app, "#dov-period")
        assert screen.overview.stats["by_topic"]["aow"] == 3
        assert "AOW" in _text(app, "#chart-by_topic")
        await pilot.press("left")  # the previous day: Roermond's visit is elsewhere
        await _settle(pilot)
        assert "09-03-2026" in _text(app, "#dov-period")
        assert "Bezoeken: 0" in _text(app, "#dov-summary")
        for _ in range(6):  # l cycles through the locations and "all locations"
            await pilot.press("l")
            await _settle(pilot)
            if "alle locaties" in _text(app, "#dov-period"):
                break
        assert screen.location is None
        assert "Bezoeken: 1" in _text(app, "#dov-summary")
        await pilot.press("w")
        await _settle(pilot)
        assert screen.period == Period("week", date(2026, 3, 9), date(2026, 3, 15))
        assert "Bezoeken: 6" in _text(app, "#dov-summary")
        await pilot.press("m")
        await _settle(pilot)
        assert screen.period.first == date(2026, 3, 1) and screen.period.last == date(2026, 3, 31)
        await pilot.press("c")
        await pilot.pause()
        app.screen.query_one("#dov-from").value = "2026-03-10"
        app.screen.query_one("#dov-to").value = "2026-03-10"
        app.screen.query_one("#dov-to").focus()
        await pilot.press("enter")
        await _settle(pilot)
        assert screen.period == Period("custom", date(2026, 3, 10), date(2026, 3, 10))
        assert "Bezoeken: 5" in _text(app, "#dov-summary")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DayOverviewScreen)


async def test_figures_show_before_the_attention_counts_arrive(desk, monkeypatch):
    """The charts and visit count are on screen while follow-ups and unsynced are still counted."""
    import asyncio
    import threading

    from nmi_desk.domain.stats import end_of_day
    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.day_overview import DayOverviewScreen

    _fill(desk)
    release = threading.Event()
    counted = end_of_day.attention

    def slow_attention(source, today):
        release.wait(10)
        return counted(source, today)

    monkeypatch.setattr(end_of_day, "attention", slow_attention)
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        app.push_screen(DayOverviewScreen())
        for _ in range(500):
            await asyncio.sleep(0.01)
            if "Bezoeken: 5" in _text(app, "#dov-summary"):
                break
        summary = _text(app, "#dov-summary")
        assert "Bezoeken: 5" in summary and "…" in summary
        assert "Opvolging nodig" not in summary
        assert "AOW" in _text(app, "#chart-by_topic")
        release.set()
        await _settle(pilot)
        summary = _text(app, "#dov-summary")
        assert "Opvolging nodig: 0" in summary and "…" not in summary
        assert app.screen.overview.due_follow_ups == 0  # the default date is weeks ahead


async def test_custom_period_rejects_a_bad_date(desk):
    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.day_overview import CustomPeriodScreen, DayOverviewScreen

    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        app.push_screen(DayOverviewScreen())
        await _settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        app.screen.query_one("#dov-from").value = "2026-02-30"
        app.screen.query_one("#dov-from").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CustomPeriodScreen)
        assert "geen datum" in _text(app, "#dov-custom-error")


async def test_close_day_from_the_screen_writes_files_and_reports(desk, tmp_path):
    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.day_overview import CloseDayScreen, DayOverviewScreen

    _fill(desk)
    folder = tmp_path / "export"
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        app.push_screen(DayOverviewScreen())
        await _settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, CloseDayScreen)
        app.screen.query_one("#dov-folder").value = str(folder)
        await pilot.click("#dov-go")
        await _settle(pilot)
        result = _text(app, "#dov-close-result")
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "nmi-statistics-eindhoven-stadskantoor-2026-03-10.csv",
        "nmi-statistics-eindhoven-stadskantoor-2026-03-10.json",
        "nmi-statistics-eindhoven-stadskantoor-2026-03-10.xlsx",
    ]
    assert "Synchronisatie: niet ingesteld" in result
    assert "Nog niet gesynchroniseerd" in result
    assert json.loads((folder / names[1]).read_text())["visits"] == 5


def test_close_day_reports_what_did_not_sync(desk, tmp_path):
    _fill(desk)
    report = close_day(
        desk,
        Period.around("day", date(2026, 3, 10)),
        None,
        tmp_path / "out",
        ("json",),
        suppress=True,
    )
    assert [p.name for p in report.written] == ["nmi-statistics-all-2026-03-10.json"]
    data = json.loads(report.written[0].read_text())
    assert data["visits"] == 5 and data["by_topic"]["aow"] is None  # 3 visits: "<5"
    assert report.sync == "not_configured"
    assert report.unsynced_after == {"client": 0, "visit": 6, "referral": 4, "info_session": 0}


def test_close_day_syncs_to_a_configured_target(desk, tmp_path):
    _fill(desk)
    desk.settings.sync_target = f"sqlite:///{tmp_path / 'central.db'}"
    report = close_day(
        desk, Period.around("day", date(2026, 3, 10)), None, tmp_path / "out", ("csv",)
    )
    assert report.sync == "done", report.sync_message
    assert not any(report.unsynced_after.values())


def test_close_day_into_an_impossible_folder_is_one_clear_error(desk, tmp_path):
    from nmi_desk.core.errors import UserError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot create folder"):
        close_day(desk, Period.around("day", date(2026, 3, 10)), None, blocker / "sub", ("csv",))


def test_periods_shift_by_their_own_length():
    day = Period.around("day", date(2026, 3, 29))
    assert day.shift(1) == Period("day", date(2026, 3, 30), date(2026, 3, 30))
    month = Period.around("month", date(2026, 12, 15))
    assert month.shift(1) == Period("month", date(2027, 1, 1), date(2027, 1, 31))
    assert month.shift(-1) == Period("month", date(2026, 11, 1), date(2026, 11, 30))
    week = Period.around("week", date(2026, 3, 11))
    assert (week.first, week.last) == (date(2026, 3, 9), date(2026, 3, 15))


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
def test_day_overview_snapshot(desk, snap_compare, size):
    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.day_overview import DayOverviewScreen

    _fill(desk)

    async def open_overview(pilot):
        await _settle(pilot)
        pilot.app.push_screen(DayOverviewScreen())
        await _settle(pilot)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=open_overview)


def test_default_folder_falls_back_to_one_that_exists(monkeypatch, tmp_path):
    from nmi_desk.domain.stats import end_of_day

    missing = tmp_path / "Documenten"  # never created
    monkeypatch.setattr("platformdirs.user_documents_dir", lambda: str(missing))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert end_of_day.default_folder() == tmp_path
    missing.mkdir()
    assert end_of_day.default_folder() == missing


async def test_close_day_dialog_starts_in_the_folder_field(desk):
    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.day_overview import CloseDayScreen, DayOverviewScreen

    app = NmiDeskApp(desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        app.push_screen(DayOverviewScreen())
        await _settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, CloseDayScreen)
        assert app.focused is app.screen.query_one("#dov-folder")


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
def test_close_day_dialog_snapshot(desk, snap_compare, size, monkeypatch):
    from pathlib import Path

    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.day_overview import DayOverviewScreen

    _fill(desk)
    # the same path on screen everywhere
    monkeypatch.setattr(
        "nmi_desk.domain.stats.end_of_day.default_folder",
        lambda: Path("/home/consulent/Documenten"),
    )

    async def open_dialog(pilot):
        await _settle(pilot)
        pilot.app.push_screen(DayOverviewScreen())
        await _settle(pilot)
        await pilot.press("e")
        await _settle(pilot)
        for widget in pilot.app.screen.query("Input"):
            widget.cursor_blink = False
        await pilot.pause(0.1)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=open_dialog)
