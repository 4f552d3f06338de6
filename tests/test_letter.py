"""The client's letter: built for a visit, rendered as PDF, read back with pypdf.

pypdf returns the text fpdf2 wrote for each shaped run (its ToUnicode map / ActualText), so the
Arabic comes back as the characters the catalog holds, in logical order. We still normalise
with NFKC, which folds any Arabic presentation forms (U+FB50-U+FEFF) back into the letters of
the catalog; whitespace is collapsed because the layout wraps lines.
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date, datetime

import pytest
from pypdf import PdfReader

from nmi_desk.core.clock import AMS
from nmi_desk.core.errors import UserError
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.reference.files import Entry, shipped_reference
from nmi_desk.letter import (
    build_letter,
    check_organisations,
    render_pdf,
    resolve_language,
    supported_languages,
)
from nmi_desk.letter.catalog import KEYS, phrases

THREE = [
    ReferralInput(
        "ind",
        reason="Verblijfsvergunning inleveren bij vertrek",
        note="Neem de brief van 3 november mee",
        follow_up_on=date(2026, 12, 15),
    ),
    ReferralInput(
        "juridisch-loket", reason="Bezwaar tegen besluit", follow_up_on=date(2026, 12, 20)
    ),
    ReferralInput("cak", reason="Zorg in een verdragsland (S1)", follow_up_on=date(2027, 1, 5)),
]


def visit(referrals=THREE, language=None) -> VisitInput:
    return VisitInput(
        location_code="amersfoort",
        started_at=datetime(2026, 12, 1, 10, 0, tzinfo=AMS),
        language=language,
        referrals=list(referrals),
    )


def flat(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def read(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), flat("\n".join(page.extract_text() for page in reader.pages))


def contact(code: str) -> dict:
    return shipped_reference().by_code("organisations")[code].extra


def test_every_reviewed_language_is_there():
    assert set(supported_languages()) >= {"nl", "en", "tr", "ar", "fr", "pt", "bs", "hr", "sr"}
    for lang in supported_languages():
        missing = [k for k in KEYS if not phrases(lang).get(k)]
        assert not missing, (lang, missing)


@pytest.mark.parametrize("lang", ["nl", "en", "tr", "ar", "fr", "pt", "bs", "hr", "sr"])
def test_three_referrals_on_one_page_in_every_language(lang):
    letter = build_letter(visit(), "TS", lang)
    pages, text = read(render_pdf(letter))
    assert pages == 1
    for code in ("ind", "juridisch-loket", "cak"):
        org = shipped_reference().by_code("organisations")[code]
        assert flat(org.nl) in text
        assert flat(contact(code)["phone"]) in text
        assert contact(code)["website"] in text
    for r in THREE:  # every referral's lines, as typed: nothing cut off
        assert flat(r.reason) in text
        assert r.follow_up_on.strftime("%d-%m-%Y") in text
    assert flat(THREE[0].note) in text
    assert "01-12-2026" in text and "Amersfoort" in text and "TS" in text
    for key in ("title", "intro", "ask", "bring", "follow_up", "phone", "website"):
        assert flat(phrases("nl")[key]) in text, key
        assert flat(phrases(lang)[key]) in text, key
    assert flat(phrases(lang)["by_appointment"]) in text  # the IND takes appointments only


def test_arabic_comes_back_as_the_same_characters_in_logical_order():
    pages, text = read(render_pdf(build_letter(visit(), "TS", "ar")))
    bring = flat(phrases("ar")["bring"])
    assert bring in text
    assert bring[::-1] not in text  # not the visual (reversed) order
    assert re.search(r"[\u0600-\u06ff]", text)
    assert not re.search(r"[\ufb50-\ufdff\ufe70-\ufeff]", text)  # no presentation forms left


def test_the_visit_language_is_the_default_and_arabic_is_right_to_left():
    letter = build_letter(visit(language="ar"), "TS")
    assert letter.language.client == "ar" and letter.language.rtl
    assert build_letter(visit(language="tr"), "TS").language.client == "tr"
    assert build_letter(visit(), "TS").language.client == "en"  # none given: English


def test_a_language_without_a_catalog_falls_back_to_english_and_says_so():
    letter = build_letter(visit(language="pap"), "TS")
    assert letter.language.fallback and letter.language.client == "en"
    _, text = read(render_pdf(letter))
    assert "Papiaments" in text and "Papiamento" in text
    assert flat(phrases("en")["bring"]) in text


def test_an_unknown_language_is_one_clear_error():
    with pytest.raises(UserError, match="unknown language 'xx': one of nl, .*tr"):
        resolve_language("xx")


def test_cancelled_referrals_stay_off_and_own_organisations_point_to_their_letters():
    refs = [
        ReferralInput("svb", reason="AOW", status="cancelled"),
        ReferralInput("zorgverzekeraar", reason="Verzekering beëindigen"),
    ]
    letter = build_letter(visit(refs), "TS", "tr")
    assert [r.organisation for r in letter.referrals] == ["Zorgverzekeraar"]
    _, text = read(render_pdf(letter))
    assert "Sociale Verzekeringsbank" not in text
    assert flat(phrases("tr")["own_contact"]) in text


def test_long_text_still_fits_one_page_and_four_referrals_take_two():
    long = "Vragen over de uitkering, het pensioen en de verzekering na vertrek. " * 6
    refs = [ReferralInput(r.organisation_code, reason=long, note=long) for r in THREE]
    pages, text = read(render_pdf(build_letter(visit(refs), "TS", "ar")))
    assert pages == 1
    for code in ("ind", "juridisch-loket", "cak"):
        assert contact(code)["website"] in text
    pages, _ = read(render_pdf(build_letter(visit([*THREE, ReferralInput("duo")]), "TS", "fr")))
    assert pages == 2


def test_a_website_only_organisation_shows_no_phone():
    letter = build_letter(visit([ReferralInput("svb", reason="AOW")]), "TS", "nl")
    assert letter.referrals[0].contact.phone is None  # the SVB's source gives no number
    _, text = read(render_pdf(letter))
    assert "https://www.svb.nl" in text and phrases("nl")["phone"] not in text


def test_every_organisation_has_contact_details_with_a_source_and_a_checked_date():
    orgs = shipped_reference().organisations
    assert check_organisations(orgs, date(2026, 12, 7)) == []  # the day they were reviewed
    for org in orgs:
        assert org.extra.get("website") or org.extra.get("own"), org.code
        secure = ("https://", "http://") if org.extra.get("http_only") else ("https://",)
        assert str(org.extra["source"]).startswith(secure), org.code
        assert isinstance(org.extra["checked"], date), org.code
    codes = {o.code for o in orgs}
    assert {"juridisch-loket", "raad-voor-rechtsbijstand", "gemeente-sociaal-loket"} <= codes


def test_the_check_refuses_an_organisation_without_details():
    bare = Entry(code="nieuw", nl="Nieuw", en="New")
    problems = check_organisations([bare], date(2026, 12, 1))
    assert any("no website" in p for p in problems)
    assert any("no source" in p for p in problems)
    assert any("no checked date" in p for p in problems)
    late = Entry(
        code="x",
        nl="X",
        en="X",
        extra={"website": "http://x.nl", "source": "https://x.nl", "checked": date(2030, 1, 1)},
    )
    problems = check_organisations([late], date(2026, 12, 1))
    assert any("https://" in p for p in problems) and any("future" in p for p in problems)


def test_dated_contact_details_hold_on_their_days_and_expire_with_a_warning_first():
    from nmi_desk.letter.contacts import contact_of, organisation_warnings

    source = {"source": "https://x.nl/contact", "checked": date(2026, 12, 1)}
    org = Entry(
        code="x",
        nl="X",
        en="X",
        extra={
            "website": "https://x.nl",
            "phone": "020 111 1111",
            "valid_until": date(2027, 2, 28),  # the old number stops then
            **source,
            "contacts": [
                {"website": "https://x.nl", "phone": "020 222 2222",
                 "valid_from": date(2027, 3, 1), **source},
            ],
        },
    )  # fmt: skip
    assert contact_of(org, date(2027, 2, 28)).phone == "020 111 1111"
    assert contact_of(org, date(2027, 3, 1)).phone == "020 222 2222"
    assert check_organisations([org], date(2027, 3, 1)) == []
    assert organisation_warnings([org], date(2026, 11, 1)) == []
    (warning,) = organisation_warnings([org], date(2027, 1, 15))
    assert "contact details expire on 2027-02-28 (in 44 days)" in warning
    gone = Entry(code="y", nl="Y", en="Y", extra={**org.extra, "contacts": []})
    assert contact_of(gone, date(2027, 3, 1)) is None
    (problem,) = check_organisations([gone], date(2027, 3, 1))
    assert "no contact details hold on 2027-03-01 (they expired)" in problem
    undated = {**org.extra["contacts"][0]}
    del undated["valid_from"], undated["source"]
    odd = Entry(code="z", nl="Z", en="Z", extra={**org.extra, "contacts": [undated]})
    problems = check_organisations([odd], date(2027, 1, 1))
    assert any("contacts #1: no source" in p for p in problems)
    assert any("contacts #1: give valid_from and/or valid_until" in p for p in problems)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("wijkteam", "gemeente-sociaal-loket"),
        ("advocaat", "raad-voor-rechtsbijstand"),
        ("legal aid", "juridisch-loket"),
        ("lawyer", "raad-voor-rechtsbijstand"),
    ],
)
def test_the_new_organisations_are_found_by_their_synonyms(query, code):
    from nmi_desk.domain.matching import matcher_for

    assert matcher_for("organisation").search(query)[0].entry.code == code
