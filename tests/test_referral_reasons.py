"""Standard referral reasons: in data/ with their text in every letter language, chosen by typing
in the referral dialog, printed on the client's letter in the client's language beside the
Dutch; free text still possible and printed as typed. A walk-in with two referrals with standard
reasons costs at most 15 keys beyond the text."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import Session, select
from test_letter import flat, read, visit
from tui_helpers import Keys, wait_screen, wait_today, wait_until

from nmi_desk.domain.inputs import ReferralInput
from nmi_desk.domain.reference.files import (
    referral_reasons,
    shipped_reference,
    standard_reason,
)
from nmi_desk.letter import build_letter, render_pdf, supported_languages
from nmi_desk.store.models import Referral, Visit, VisitTopic
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.referral import ReferralScreen
from nmi_desk.tui.screens.today import TodayScreen
from nmi_desk.tui.screens.visit_form import VisitFormScreen

LETTER_LANGUAGES = ("nl", "en", "tr", "ar", "fr", "pt", "bs", "hr", "sr")


def test_every_reason_has_an_organisation_a_source_a_date_and_every_letter_language():
    reasons = referral_reasons()
    assert len(reasons) >= 15
    assert len({r.code for r in reasons}) == len(reasons)
    assert len({r.nl for r in reasons}) == len(reasons)  # the Dutch text identifies it
    organisations = shipped_reference().by_code("organisations")
    assert set(LETTER_LANGUAGES) <= set(supported_languages())
    for reason in reasons:
        assert reason.organisation in organisations, reason.code
        assert reason.source and isinstance(reason.checked, date), reason.code
        missing = [lang for lang in LETTER_LANGUAGES if not (reason.text(lang) or "").strip()]
        assert not missing, (reason.code, missing)
    # The ones the counter asks for most are there.
    dutch = {r.nl for r in reasons}
    assert {"AOW meenemen naar het buitenland", "S1 / zorg in het woonland",
            "Bewijs van uitschrijving"} <= dutch  # fmt: skip


def test_a_standard_reason_is_its_dutch_text_exactly():
    assert standard_reason("AOW meenemen naar het buitenland").code == "svb-aow-abroad"
    assert standard_reason(" Bewijs van uitschrijving ").code == "brp-proof"
    assert standard_reason("AOW meenemen naar Turkije") is None  # edited: the consultant's own
    assert standard_reason("") is None and standard_reason(None) is None


@pytest.mark.parametrize("lang", ["tr", "ar", "fr", "pt", "bs", "hr", "sr", "en"])
def test_the_letter_prints_a_standard_reason_in_the_clients_language_beside_the_dutch(lang):
    referrals = [
        ReferralInput("svb", reason="AOW meenemen naar het buitenland"),
        ReferralInput("cak", reason="Zorg in een verdragsland (S1)"),  # typed by hand
    ]
    letter = build_letter(visit(referrals), "TS", lang)
    standard, typed = letter.referrals
    assert standard.ask_client == standard_reason(standard.ask).text(lang)
    assert typed.ask_client is None  # free text is printed as typed, not translated
    _, text = read(render_pdf(letter))
    assert flat("AOW meenemen naar het buitenland") in text
    # pypdf reads runs in the order they stand on the page: right to left, Arabic's runs
    # come back last to first, each in its own (logical) order.
    for run in re.findall(
        r"[\u0600-\u06ff][\u0600-\u06ff ]*|[^\u0600-\u06ff]+", standard.ask_client
    ):
        assert flat(run) in text, run
    assert flat("Zorg in een verdragsland (S1)") in text


def test_a_dutch_letter_prints_the_reason_once():
    letter = build_letter(visit([ReferralInput("svb", reason="Levensbewijs")]), "TS", "nl")
    assert letter.referrals[0].ask_client is None


def _rows(desk):
    with Session(desk.engine()) as s:
        visits = s.exec(select(Visit)).all()
        refs = s.exec(select(Referral).order_by(Referral.id)).all()
        topics = set(s.exec(select(VisitTopic.topic_code)))
        return visits, [(r.organisation_code, r.reason) for r in refs], topics


async def _referral(pilot, keys: Keys, org: str, code: str, reason: str) -> None:
    await keys.press("ctrl+r")
    await wait_screen(pilot, ReferralScreen)
    dialog = pilot.app.screen
    await keys.type(org)
    await keys.pick(
        lambda: getattr(dialog.query_one("#org-options").highlighted_option, "id", None), code
    )
    await keys.press("enter")  # the organisation chosen, on to the reason
    await keys.type(reason)
    await keys.press("ctrl+s")  # the referral done
    await wait_screen(pilot, VisitFormScreen)


async def _new_walk_in(pilot) -> tuple[Keys, VisitFormScreen]:
    """From Today to an empty walk-in form, its key ("n") counted."""
    await wait_today(pilot, rows=0)
    keys = Keys(pilot)
    await keys.press("n")
    await wait_screen(pilot, VisitFormScreen)
    form = pilot.app.screen
    await wait_until(pilot, lambda: form.baseline is not None, "form ready")
    return keys, form


async def test_a_walk_in_with_two_standard_referrals_takes_at_most_15_keys(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        keys, form = await _new_walk_in(pilot)
        await keys.type("Hatice Testyurt")
        await keys.press("tab")
        await keys.type("1957")
        await keys.press("tab")
        await keys.type("turk")  # destination and language follow from the origin
        await keys.press("ctrl+t")
        for topic in ("aow", "zorg"):
            await keys.type(topic)
            await keys.press("enter")
        await _referral(pilot, keys, "svb", "svb", "aow")
        await _referral(pilot, keys, "cak", "cak", "s1")
        await keys.press("ctrl+s")
        await wait_screen(pilot, TodayScreen)
    print(f"two referrals: {keys.count} keys beyond the text: {keys.log}")
    assert keys.count <= 15, keys.log
    [v], referrals, topics = _rows(desk)
    assert (v.client_name, v.birth_year) == ("Hatice Testyurt", 1957)
    assert (v.origin_country, v.destination_country, v.language) == ("TR", "TR", "tr")
    assert topics == {"aow", "zorg"}
    assert referrals == [
        ("svb", "AOW meenemen naar het buitenland"),
        ("cak", "S1 / zorg in het woonland"),
    ]


async def test_a_reason_that_names_no_standard_one_is_kept_as_typed(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        keys, form = await _new_walk_in(pilot)
        await keys.type("Omar Testhadi")
        await _referral(pilot, keys, "svb", "svb", "AOW partnertoeslag vragen")
        assert form.referrals[0]["reason"] == "AOW partnertoeslag vragen"
        # Editing it again shows the text; a standard one shows its name.
        await _referral(pilot, keys, "brp", "gemeente-brp", "bewijs")
        assert form.referrals[1]["reason"] == "Bewijs van uitschrijving"
