"""SVG snapshots of every counter screen at 100x30 and 80x24 (pytest-textual-snapshot).

Update after a deliberate change with `pytest tests/test_tui_snapshots.py --snapshot-update`,
then look at the pictures in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from tui_helpers import steady_cursor, wait_screen, wait_today, wait_until, workers_done

from nmi_desk.core.clock import AMS
from nmi_desk.core.config import Paths, Settings
from nmi_desk.domain.context import Context
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.tui.app import NmiDeskApp

SIZES = [pytest.param((100, 30), id="100x30"), pytest.param((80, 24), id="80x24")]


def _fill(desk) -> None:
    engine = desk.engine()
    visits = [
        dict(
            hour=9,
            minute=12,
            client_name="Şükrü İşık",
            origin_country="TR",
            topics=["aow", "remigratiewet"],
            referrals=[ReferralInput("svb", reason="AOW", follow_up_on=date(2026, 3, 2))],
            outcome="referred",
        ),
        dict(hour=9, minute=40, count_only=True, topics=["schulden"]),
        dict(
            hour=10,
            minute=5,
            client_name="فاطمة الزهراء",
            topics=["verblijf"],
            referrals=[ReferralInput("ind", reason="Terugkeeroptie")],
            outcome="referred",
        ),
        dict(hour=10, minute=20, topics=["zorg"], outcome="informed"),
    ]
    for v in visits:
        hour, minute = v.pop("hour"), v.pop("minute")
        create_visit(
            Context.of(engine, desk.actor, desk.now()),
            VisitInput(
                location_code="eindhoven-stadskantoor",
                started_at=datetime(2026, 3, 10, hour, minute, tzinfo=AMS),
                **v,
            ),
        )


async def _today(pilot) -> None:
    await wait_today(pilot)
    await workers_done(pilot)
    await pilot.pause(0.2)


async def _still(pilot) -> None:
    """Workers done, the cursor steady: the same picture every run."""
    await workers_done(pilot)
    await pilot.pause(0.2)
    steady_cursor(pilot.app)
    await pilot.pause(0.1)


async def _open(pilot, key: str, screen_name: str, ready=None) -> None:
    await _today(pilot)
    await pilot.press(key)
    await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == screen_name, screen_name)
    if ready is not None:
        await wait_until(pilot, lambda: ready(pilot.app), f"{screen_name} ready")
    await workers_done(pilot)
    await pilot.pause(0.2)
    steady_cursor(pilot.app)
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", SIZES)
def test_setup_first_run(snap_compare, tmp_path, clock, size):
    desk = Desk(
        paths=Paths(Path("/srv/nmi-desk")),  # a fixed path on screen: the same picture everywhere
        settings=Settings(device_id="snapshot"),
        clock=clock,
        database_url=f"sqlite:///{tmp_path / 'snap.db'}",
    )

    async def run_before(pilot):
        from nmi_desk.tui.screens.setup import SetupScreen

        await wait_screen(pilot, SetupScreen)
        await workers_done(pilot)
        steady_cursor(pilot.app)
        await pilot.pause(0.1)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_today_empty(snap_compare, desk, size):
    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=_today)


@pytest.mark.parametrize("size", SIZES)
def test_today_with_visits(snap_compare, desk, size):
    _fill(desk)
    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=_today)


@pytest.mark.parametrize("size", SIZES)
def test_walk_in_form(snap_compare, desk, size):
    async def run_before(pilot):
        await _open(pilot, "n", "VisitFormScreen", lambda app: app.screen.baseline is not None)
        await pilot.press(*"Ayşe Yılmaz", "enter", *"1850")
        # The birth-year error (three lines at 80x24) must be laid out before Ctrl+T scrolls
        # the topics into view: otherwise the form's scroll offset depends on which came first.
        error = pilot.app.screen.query_one("#err-birth_year")
        await wait_until(pilot, lambda: error.display and error.size.height > 0, "error shown")
        await pilot.pause(0.1)
        await pilot.press("ctrl+t", *"aow", "enter")
        await workers_done(pilot)
        await pilot.pause(0.2)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_referral_dialog(snap_compare, desk, size):
    async def run_before(pilot):
        await _open(pilot, "n", "VisitFormScreen", lambda app: app.screen.baseline is not None)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ReferralScreen")
        await pilot.press(*"sv")
        await pilot.pause(0.2)
        steady_cursor(pilot.app)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_count_only_dialog(snap_compare, desk, size):
    async def run_before(pilot):
        await _open(pilot, "t", "CountOnlyScreen")
        await pilot.press("2", "enter", *"1655", "ctrl+t", *"aow", "enter", *"pens")
        await pilot.pause(0.2)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_edit_form(snap_compare, desk, size):
    _fill(desk)

    async def run_before(pilot):
        await _open(pilot, "o", "VisitFormScreen", lambda app: app.screen.baseline is not None)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_follow_ups(snap_compare, desk, size):
    _fill(desk)
    _long_referrals(desk)  # organisations with long names, shown by their short names

    async def run_before(pilot):
        await _open(pilot, "f", "FollowUpsScreen", lambda app: app.screen.items)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_follow_up_outcome_dialog(snap_compare, desk, size):
    _fill(desk)

    async def run_before(pilot):
        await _open(pilot, "f", "FollowUpsScreen", lambda app: app.screen.items)
        await pilot.press("d")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "OutcomeNoteScreen")
        await pilot.pause(0.1)
        steady_cursor(pilot.app)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_info_session_form(snap_compare, desk, size):
    async def run_before(pilot):
        await _open(pilot, "i", "InfoSessionScreen")

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, desk, size):
    async def run_before(pilot):
        await _open(pilot, "f1", "HelpScreen")

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_delete_confirmation(snap_compare, desk, size):
    _fill(desk)

    async def run_before(pilot):
        await _open(pilot, "x", "ConfirmScreen")

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_draft_offer(snap_compare, desk, size):
    from nmi_desk.domain.drafts import save_draft

    save_draft(desk.context(), "visit", {"client_name": "Hatice Doğan"})

    async def run_before(pilot):
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ConfirmScreen")
        await workers_done(pilot)
        await pilot.pause(0.2)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_settings(snap_compare, desk, size):
    async def run_before(pilot):
        await _open(pilot, "f9", "SetupScreen")

    desk.database_url = desk.url  # the database stays in tmp ...
    desk.paths = Paths(Path("/srv/nmi-desk"))  # ... while the path on screen is the same everywhere
    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


def _long_referrals(desk) -> None:
    create_visit(
        desk.context(),
        VisitInput(
            location_code="eindhoven-stadskantoor",
            started_at=datetime(2026, 3, 10, 10, 45, tzinfo=AMS),
            client_name="Maria do Céu Tavares-Fonseca",
            origin_country="CV",
            destination_country="PT",
            language="kea",
            topics=["aow", "zorg", "verblijf"],
            referrals=[
                ReferralInput("gemeente-wmo", reason="Huishoudelijke hulp stopt bij vertrek"),
                ReferralInput("consulaat-sr", reason="Visum en legalisatie"),
                ReferralInput("raad-voor-rechtsbijstand", reason="Bezwaar tegen terugvordering"),
            ],
            outcome="referred",
        ),
    )


@pytest.mark.parametrize("size", SIZES)
def test_today_with_long_organisation_names(snap_compare, desk, size):
    _fill(desk)
    _long_referrals(desk)
    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=_today)


@pytest.mark.parametrize("size", SIZES)
def test_walk_in_form_with_three_referrals_notes_in_view(snap_compare, desk, size):
    """At 80x24 the third referral and the notes are reachable: Ctrl+O brings the notes
    into view with the referrals above them."""
    _long_referrals(desk)

    async def run_before(pilot):
        await _open(pilot, "o", "VisitFormScreen", lambda app: app.screen.baseline is not None)
        await pilot.press("ctrl+o", *"Spreekt Kriolu")
        await pilot.pause(0.2)
        steady_cursor(pilot.app)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_walk_in_form_choice_list_while_typing(snap_compare, desk, size):
    async def run_before(pilot):
        await _open(pilot, "n", "VisitFormScreen", lambda app: app.screen.baseline is not None)
        await pilot.press(*"Ayşe Yılmaz", "tab", *"1958", "tab", *"marok")
        await pilot.pause(0.2)
        steady_cursor(pilot.app)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("on", [pytest.param(False, id="off"), pytest.param(True, id="on")])
def test_walk_in_form_partner_checkbox(snap_compare, desk, size, on):
    """Off is an empty box (▐ ▌), on is ticked (▐X▌): not only a colour apart."""

    async def run_before(pilot):
        await _open(pilot, "n", "VisitFormScreen", lambda app: app.screen.baseline is not None)
        box = pilot.app.screen.query_one("#partner")
        box.focus()
        if on:
            await pilot.press("space")
        await wait_until(pilot, lambda: box.value is on, "checkbox set")
        box.scroll_visible(animate=False)
        await _still(pilot)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_command_palette_in_dutch(snap_compare, desk, size):
    """Ctrl+P on Today: the app's commands in Dutch, none of Textual's English ones."""

    async def run_before(pilot):
        from textual.command import CommandPalette

        await _today(pilot)
        await pilot.press("ctrl+p")
        await wait_screen(pilot, CommandPalette)
        await pilot.pause(0.5)  # the commands are gathered in a worker of the palette
        await workers_done(pilot)
        steady_cursor(pilot.app)
        await pilot.pause(0.1)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_walk_in_form_prefilled_from_the_origin(snap_compare, desk, size):
    """Origin typed, then Ctrl+T: destination and language proposed (in italics until the
    consultant passes them), the language's long name cut with an ellipsis."""

    async def run_before(pilot):
        await _open(pilot, "n", "VisitFormScreen", lambda app: app.screen.baseline is not None)
        await pilot.press(*"Amilcar Testlopes", "tab", *"1955", "tab", *"kaapv", "ctrl+t")
        await _still(pilot)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_client_search(snap_compare, desk, clock, size):
    """Returning clients found by a spelling: every column in view, long text cut with …"""
    clock.advance(days=-14)
    for name, year, topics in (
        ("Mohammed El Testaouti-Benali", 1958, ["aow", "zorg", "buitenlands-pensioen"]),
        ("Muhammad Testrahman", 1971, ["schulden"]),
        ("Mohamed Testidrissi", 1964, ["verblijf", "wonen", "belastingen"]),
    ):
        create_visit(
            desk.context(),
            VisitInput(
                location_code="eindhoven-stadskantoor",
                client_name=name,
                birth_year=year,
                origin_country="MA",
                topics=topics,
                referrals=[ReferralInput("svb", follow_up_on=clock().date())],
            ),
        )
    clock.advance(days=14)

    async def run_before(pilot):
        await _open(pilot, "c", "ClientSearchScreen")
        await pilot.press(*"mohamed")
        await wait_until(pilot, lambda: pilot.app.screen.query_one("DataTable").row_count == 3)
        await _still(pilot)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


def _svg_lines(path: Path) -> list[str]:
    """The text rows of a Textual SVG snapshot (each <text> element placed at its column)."""
    import html
    import re
    from collections import defaultdict

    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    svg = path.read_text(encoding="utf-8")
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        text = html.unescape(re.sub("<[^>]+>", "", m.group(3))).replace("\xa0", " ")
        rows[float(m.group(2))].append((float(m.group(1)), text))
    lines = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            line = line.ljust(int(round(x / 12.2))) + text
        lines.append(line.rstrip())
    return lines


def test_every_footer_keeps_f1_hulp_at_80_columns():
    """The footer is the last row; whatever else it holds, F1 Hulp must not fall off."""
    folder = Path(__file__).parent / "__snapshots__" / "test_tui_snapshots"
    checked = 0
    for path in sorted(folder.glob("*80x24*.svg")):
        footer = [line for line in _svg_lines(path) if line.strip()][-1]
        if " Hulp" in footer or "^" in footer or "esc " in footer:
            assert footer.endswith("f1 Hulp"), (path.name, footer)
            checked += 1
    assert checked >= 15
