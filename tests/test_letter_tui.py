"""The client's letter from the counter (Pilot): print, open and save from a visit and from the
referral dialog, through fake `lp` and `xdg-open` commands earlier on PATH that only copy the
file (never a real printer); no letter stays in the data or temporary folder after the app
closes. And the old Markdown notes: `doctor` reports them, `purge` removes them."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import tempfile

import pytest
from pypdf import PdfReader
from textual.widgets import Button, Input
from tui_helpers import wait_screen, wait_today, wait_until, workers_done

from nmi_desk.domain.audit import events
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.letter import LetterScreen
from nmi_desk.tui.screens.referral import ReferralScreen
from nmi_desk.tui.screens.today import TodayScreen
from nmi_desk.tui.screens.visit_form import VisitFormScreen
from nmi_desk.tui.widgets.choice_field import ChoiceField

SIZE = (100, 30)
FAKE = """#!/bin/sh
# A stand-in for {name}: copies the file it was given, as the real one would read it.
for last in "$@"; do :; done
cp "$last" "{out}/{name}-$(date +%s%N).pdf"
"""

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake lp/xdg-open are sh scripts")


@pytest.fixture
def system(tmp_path, monkeypatch):
    """Fake printer and viewer on PATH, and a temporary folder of the test's own."""
    bin_dir, out, tmp = tmp_path / "bin", tmp_path / "out", tmp_path / "tmp"
    for folder in (bin_dir, out, tmp):
        folder.mkdir()
    for name in ("lp", "xdg-open", "open"):
        script = bin_dir / name
        script.write_text(FAKE.format(name=name, out=out))
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return out, tmp


def _seed(desk) -> str:
    return create_visit(
        desk.context(),
        VisitInput(
            location_code="eindhoven-stadskantoor",
            client_name="Emre Testpersoon",
            language="tr",
            topics=["aow"],
            referrals=[
                ReferralInput("ind", reason="Verblijfsvergunning inleveren"),
                ReferralInput("juridisch-loket", reason="Bezwaar tegen besluit"),
            ],
        ),
    )


def _text(path) -> str:
    return PdfReader(io.BytesIO(path.read_bytes())).pages[0].extract_text()


def _letters_in(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix == ".pdf"]


async def _open_visit(pilot) -> None:
    """From Today with the seeded visit: open it and wait until the form holds it."""
    await wait_today(pilot, rows=1)
    await pilot.press("o")
    await wait_screen(pilot, VisitFormScreen)
    await wait_until(pilot, lambda: pilot.app.screen.baseline is not None, "visit loaded")


async def _letter_dialog(pilot) -> LetterScreen:
    await pilot.press("ctrl+n")
    await wait_screen(pilot, LetterScreen)
    return pilot.app.screen


async def test_print_open_and_save_from_a_visit_leave_nothing_behind(desk, system, tmp_path):
    out, tmp = system
    uuid = _seed(desk)
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await _open_visit(pilot)

        dialog = await _letter_dialog(pilot)
        assert dialog.query_one("#letter-lang").value == "tr"  # the visit's language
        await pilot.press("enter")  # Print has the focus
        await wait_screen(pilot, VisitFormScreen)
        [printed] = _letters_in(out)
        assert printed.name.startswith("lp-")
        text = _text(printed)
        assert "Yanınıza alın" in text and "Het Juridisch Loket" in text and "0900-8020" in text
        assert _letters_in(tmp) == []  # removed right after printing

        dialog = await _letter_dialog(pilot)
        dialog.query_one("#open", Button).press()
        await wait_screen(pilot, VisitFormScreen)
        [opened] = [p for p in _letters_in(out) if p.name.startswith("xdg-open-")]
        [temp] = _letters_in(tmp)  # the viewer may still read it: kept until the app closes
        assert stat.S_IMODE(temp.stat().st_mode) == 0o600
        assert stat.S_IMODE(temp.parent.stat().st_mode) == 0o700

        dialog = await _letter_dialog(pilot)
        target = tmp_path / "saved" / "brief.pdf"
        target.parent.mkdir()
        path_input = dialog.query_one("#letter-path", Input)
        path_input.value = str(target)
        path_input.focus()
        await pilot.press("enter")
        await wait_screen(pilot, VisitFormScreen)
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert "Verblijfsvergunning inleveren" in _text(target)
        await workers_done(pilot)
        await pilot.press("escape")
        await wait_screen(pilot, TodayScreen)
    trail = [(e.action, e.detail) for e in events(desk.engine(), uuid) if e.action == "letter"]
    assert trail == [("letter", "printed"), ("letter", "opened"), ("letter", "saved")]
    assert _letters_in(tmp) == [] and list(tmp.iterdir()) == []  # the app closed: all gone
    assert _letters_in(desk.paths.home) == []
    assert not (desk.paths.home / "notes").exists()


async def test_a_bad_save_path_is_one_line_and_keeps_the_dialog(desk, system, tmp_path):
    _seed(desk)
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await _open_visit(pilot)
        dialog = await _letter_dialog(pilot)
        path_input = dialog.query_one("#letter-path", Input)
        path_input.value = str(tmp_path / "no-such-folder" / "brief.pdf")
        path_input.focus()
        await pilot.press("enter")
        error = dialog.query_one("#err-letter")
        await wait_until(
            pilot,
            lambda: (
                "bestaat niet" in str(error.render()) or "does not exist" in str(error.render())
            ),
            "error line",
        )
        assert isinstance(app.screen, LetterScreen)


async def test_the_referral_dialog_makes_the_letter_and_an_empty_visit_says_why_not(desk, system):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("n")
        await wait_screen(pilot, VisitFormScreen)
        await wait_until(pilot, lambda: app.screen.baseline is not None, "form ready")
        await pilot.press("ctrl+n")  # no referral yet: a notification, no dialog
        await wait_until(pilot, lambda: app._notifications, "notification")
        assert isinstance(app.screen, VisitFormScreen)
        await pilot.press("ctrl+r")
        await wait_screen(pilot, ReferralScreen)
        await pilot.press(*"juridisch", "enter", *"Huurcontract")
        await pilot.press("ctrl+n")
        await wait_screen(pilot, LetterScreen)
        assert [r.organisation_code for r in app.screen.visit_input.referrals] == [
            "juridisch-loket"
        ]
        assert app.screen.visit_input.referrals[0].reason == "Huurcontract"
        await pilot.press("escape")
        await wait_screen(pilot, ReferralScreen)  # back in the referral, nothing lost
        assert app.screen.query_one("#reason", ChoiceField).value == "Huurcontract"


def _cli(*args, home):
    env = dict(os.environ, NMI_DESK_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_doctor_reports_old_markdown_notes_and_purge_removes_them(desk):
    home = desk.paths.home
    notes = home / "notes"
    notes.mkdir()
    for n in range(2):
        (notes / f"verwijzing-2025-01-0{n + 1}-svb.md").write_text("# Doorverwijzing naar SVB\n")
    desk.close()
    proc = _cli("doctor", home=home)
    assert "old client notes: 2 Markdown notes" in proc.stdout
    proc = _cli("purge", "--dry-run", home=home)
    assert "would remove 2 old client notes" in proc.stdout
    assert len(list(notes.glob("*.md"))) == 2
    proc = _cli("purge", home=home)
    assert proc.returncode == 0, proc.stderr
    assert "removed 2 old client notes" in proc.stdout
    assert not notes.exists()
    assert "old client notes" not in _cli("doctor", home=home).stdout


SIZES = [pytest.param((100, 30), id="100x30"), pytest.param((80, 24), id="80x24")]


@pytest.mark.parametrize("size", SIZES)
def test_letter_dialog_snapshot(snap_compare, desk, monkeypatch, size):
    from tui_helpers import steady_cursor

    monkeypatch.setenv("XDG_DOCUMENTS_DIR", "/tmp")  # exists everywhere this test runs
    create_visit(
        desk.context(),
        VisitInput(
            location_code="eindhoven-stadskantoor",
            language="pap",  # no reviewed catalog: the dialog says Dutch + English
            referrals=[ReferralInput("svb", reason="AOW")],
        ),
    )

    async def run_before(pilot):
        await _open_visit(pilot)
        await pilot.press("ctrl+n")
        await wait_screen(pilot, LetterScreen)
        await pilot.pause(0.2)
        steady_cursor(pilot.app)

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "nl",
            "Geen brief: lp is niet geïnstalleerd, dus afdrukken kan niet; kies Opslaan of Openen",
        ),
        ("en", "No letter: cannot print the letter: lp is not installed"),
    ],
)
async def test_no_lp_is_said_wholly_in_the_ui_language(desk, tmp_path, monkeypatch, lang, expected):
    """A laptop without `lp`: the failure line is one language, the UI's (the error is raised
    in English for the CLI and rendered from the catalog for the TUI)."""
    empty = tmp_path / "no-commands"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no lp anywhere
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    desk.settings.lang = lang
    _seed(desk)
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await _open_visit(pilot)
        dialog = await _letter_dialog(pilot)
        await pilot.press("enter")  # Print has the focus
        error = dialog.query_one("#err-letter")
        await wait_until(pilot, lambda: "lp" in str(error.render()), "error line")
        shown = str(error.render())
        assert shown == expected
        if lang == "nl":
            for word in ("cannot", "print", "letter", "installed"):
                assert word not in shown
        assert isinstance(app.screen, LetterScreen)
        await workers_done(pilot)
