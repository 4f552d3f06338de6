"""The forms' payload <-> domain mapping, without Textual, and the one date parser."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from nmi_desk.core.clock import AMS
from nmi_desk.core.validation import parse_iso_date
from nmi_desk.domain.form_payloads import payload_to_input, session_input, visit_payload


@pytest.mark.parametrize("text", ["2026-03-10", " 2026-03-10 "])
def test_a_typed_date_is_exactly_year_month_day(text):
    assert parse_iso_date(text) == date(2026, 3, 10)


@pytest.mark.parametrize("text", ["20260310", "2026-W11-2", "10-03-2026", "2026-3-10", ""])
def test_other_date_spellings_are_refused(text):
    with pytest.raises(ValueError):
        parse_iso_date(text)


def test_a_visit_payload_maps_to_the_domain_and_back():
    payload = {
        "uuid": None,
        "date": "2026-03-10",
        "time": "09:15",
        "client_name": "Ayşe Testpersoon",
        "birth_year": "1958",
        "origin_country": "TR",
        "destination_country": "TR",
        "language": "tr",
        "partner": True,
        "children": "",
        "came_via": "",
        "channel": "home-visit",
        "topics": ["aow"],
        "referrals": [
            {
                "organisation_code": "svb",
                "reason": "AOW",
                "note": "",
                "follow_up_on": "2026-03-24",
                "status": "open",
                "outcome_note": "",
                "uuid": None,
            }
        ],
        "notes": "",
        "outcome": "referred",
        "client_uuid": "5f0c3b1e-0000-4000-8000-000000000001",  # a returning client
    }
    inp, errors = payload_to_input(payload, "eindhoven-stadskantoor")
    assert errors == []
    assert inp.started_at == datetime(2026, 3, 10, 9, 15, tzinfo=AMS)
    assert inp.birth_year == 1958 and inp.children_coremigrating is None
    assert inp.referrals[0].follow_up_on == date(2026, 3, 24)
    assert inp.channel == "home-visit"
    assert visit_payload(None, inp) == payload


def test_what_cannot_be_parsed_is_a_field_error():
    inp, errors = payload_to_input(
        {"date": "2026-03-10", "time": "9 uur", "birth_year": "oud", "referrals": []}, "x"
    )
    assert {(e.field, e.key) for e in errors} == {
        ("time", "form.time_invalid"),
        ("birth_year", "form.not_a_number"),
    }
    session, errors = session_input({"held_on": "31-02-2026", "attendees": "veel"})
    assert session is None
    assert {e.field for e in errors} == {"held_on", "attendees"}


def test_the_screen_date_and_a_typed_time_are_read_too():
    inp, errors = payload_to_input({"date": "10-03-2026", "time": "1655", "referrals": []}, "x")
    assert errors == [] and inp.started_at == datetime(2026, 3, 10, 16, 55, tzinfo=AMS)
    session, errors = session_input({"held_on": "10-03-2026", "municipality_code": "GM0150"})
    assert errors == [] and session.held_on == date(2026, 3, 10)
    assert session.municipality_code == "GM0150"
