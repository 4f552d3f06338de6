"""What the walk-in form's fields rest on, without the TUI: municipalities, dates and times as
typed, plurals and numbers, short organisation names, columns that fit, the choices offered
first at a location, and count-only visits for several people."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlmodel import Session, select

from nmi_desk.core.clock import AMS
from nmi_desk.core.dates import format_date, parse_date, parse_time
from nmi_desk.core.i18n import t
from nmi_desk.core.validation import ValidationError
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.matching import matcher_for
from nmi_desk.domain.reference.files import shipped_reference
from nmi_desk.domain.visits import create_count_only_visits, create_visit, preferred_choices
from nmi_desk.store.models import Visit, VisitTopic
from nmi_desk.tui.widgets.columns import content_widths, fit

LOC = "eindhoven-stadskantoor"


def test_municipalities_are_the_cbs_list_with_unique_codes():
    municipalities = list(shipped_reference().municipalities)
    codes = [m.code for m in municipalities]
    assert len(codes) == 342 and len(set(codes)) == 342
    assert all(c.startswith("GM") and len(c) == 6 for c in codes)
    names = {m.nl for m in municipalities}
    assert {"Deventer", "Maastricht", "Súdwest-Fryslân", "Voorne aan Zee"} <= names


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("deventer", "GM0150"),
        ("Sneek", "GM1900"),  # the town, in Súdwest-Fryslân
        ("sudwest", "GM1900"),
        ("Den Haag", "GM0518"),
        ("den bosch", "GM0796"),
        ("maastrcht", "GM0935"),  # a typo
    ],
)
def test_a_municipality_is_found_as_consultants_type_it(typed, code):
    assert matcher_for("municipality").best(typed).code == code


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("24-03-2026", date(2026, 3, 24)),
        ("2026-03-24", date(2026, 3, 24)),
        ("4-3-2026", date(2026, 3, 4)),
        ("24/03/2026", date(2026, 3, 24)),
        ("31-02-2026", None),
        ("24-03-26", None),
        ("", None),
    ],
)
def test_dates_are_read_as_typed_and_shown_one_way(typed, day):
    assert parse_date(typed) == day
    if day:
        assert format_date(day) == day.strftime("%d-%m-%Y")


@pytest.mark.parametrize(
    ("typed", "at"),
    [
        ("16:55", time(16, 55)),
        ("1655", time(16, 55)),
        ("9:05", time(9, 5)),
        ("16.55", time(16, 55)),
        ("905", time(9, 5)),
        ("25:00", None),
        ("16:75", None),
        ("kwart", None),
    ],
)
def test_times_are_read_as_typed(typed, at):
    assert parse_time(typed) == at


def test_plurals_and_numbers_in_both_languages():
    assert t("walkin.sessions", "nl", n=1) == "1 voorlichting"
    assert t("walkin.sessions", "nl", n=2) == "2 voorlichtingen"
    assert t("walkin.sessions", "en", n=1) == "1 information session"
    assert t("walkin.sessions", "en", n=1234) == "1,234 information sessions"
    assert t("walkin.sessions", "nl", n=1234) == "1.234 voorlichtingen"


def test_organisations_have_short_names_for_tables():
    orgs = shipped_reference().by_code("organisations")
    assert orgs["svb"].short_label("nl") == "SVB"
    assert orgs["gemeente-wmo"].short_label("nl") == "Gemeente (WMO)"
    assert orgs["gemeente-wmo"].short_label("en") == "Municipality (WMO)"
    assert all(len(o.short_label(lang)) <= 26 for o in orgs.values() for lang in ("nl", "en"))


def test_cut_text_ends_in_an_ellipsis_and_never_overflows():
    assert fit("Gemeente (schuldhulp)", 10) == "Gemeente…"
    assert fit("SVB", 10) == "SVB"
    assert fit("فاطمة الزهراء", 6).endswith("…")


def test_columns_are_as_wide_as_their_content_and_give_way_on_a_narrow_screen():
    labels = {"due": "Opvolgen op", "org": "Organisatie", "reason": "Reden", "visit": "Bezoek"}
    rows = [("24-03-2026", "SVB", "AOW buitenland", "10-03-2026")]
    wide = content_widths(labels, rows, {}, "reason", 12, 100, exact=("due", "visit"))
    assert wide["due"] == len("Opvolgen op") and wide["org"] == len("Organisatie")
    rows = [("24-03-2026", "Consulaat Suriname en nog wat", "x", "10-03-2026")]
    narrow = content_widths(labels, rows, {"org": 26}, "reason", 12, 60, exact=("due", "visit"))
    assert narrow["due"] >= 10 and narrow["visit"] >= 10  # a date is never cut
    assert sum(narrow.values()) + 2 * len(labels) + 4 <= 60


def _visit(desk, hour, **fields):
    inp = VisitInput(
        location_code=fields.pop("location_code", LOC),
        started_at=datetime(2026, 3, 9, hour, 0, tzinfo=AMS),
        **fields,
    )
    return create_visit(desk.context(), inp)


def test_countries_and_languages_most_chosen_here_come_first_then_the_last_used(desk):
    for hour in (9, 10, 11):
        _visit(desk, hour, origin_country="MA", language="ary")
    _visit(desk, 12, origin_country="TR", language="tr")
    _visit(desk, 13, origin_country="TR", language="tr")
    _visit(desk, 14, origin_country="SR", language="srn")  # the last one
    _visit(desk, 15, origin_country="CV", location_code="rotterdam")  # elsewhere
    preferred = preferred_choices(desk.context(), LOC, most=2, recent=1)
    assert preferred["origin_country"] == ["MA", "TR", "SR"]
    assert preferred["language"] == ["ary", "tr", "srn"]
    assert preferred["destination_country"] == []


def test_a_count_only_visit_for_two_people_counts_as_two_visits(desk):
    inp = VisitInput(
        location_code=LOC, started_at=datetime(2026, 3, 10, 16, 55, tzinfo=AMS), topics=["aow"]
    )
    uuids = create_count_only_visits(desk.context(), 2, inp)
    assert len(set(uuids)) == 2
    with Session(desk.engine()) as s:
        visits = s.exec(select(Visit)).all()
        topics = s.exec(select(VisitTopic)).all()
    assert [(v.count_only, v.local_hour, v.client_name) for v in visits] == [(True, 16, None)] * 2
    assert len(topics) == 2


def test_a_count_only_visit_refuses_zero_people_and_personal_data(desk):
    inp = VisitInput(location_code=LOC)
    with pytest.raises(ValidationError) as err:
        create_count_only_visits(desk.context(), 0, inp)
    assert [e.field for e in err.value.errors] == ["people"]
    with pytest.raises(ValidationError) as err:
        create_count_only_visits(desk.context(), 2, VisitInput(location_code=LOC, client_name="X"))
    assert [e.field for e in err.value.errors] == ["count_only"]


def test_a_summary_line_uses_singular_and_plural_per_count():
    one = t("walkin.sessions_summary", "nl", n=1, attendees=t("walkin.attendees", "nl", n=1))
    many = t("walkin.sessions_summary", "en", n=2, attendees=t("walkin.attendees", "en", n=35))
    assert one == "1 voorlichting (1 aanwezige)"
    assert many == "2 information sessions (35 attendees)"


def test_no_list_offers_a_code_twice():
    ref = shipped_reference()
    for name, entries in {**ref.lists, "municipality": ref.municipalities}.items():
        codes = [e.code for e in entries]
        assert len(codes) == len(set(codes)), name


def test_a_municipality_that_ended_is_refused_for_a_session_after_its_last_day(desk):
    """Wijdemeren was added to Hilversum on 1 January 2027: a session held there in 2026 keeps
    Wijdemeren; one on a 2027 date is refused with the successor named."""
    from nmi_desk.domain.inputs import InfoSessionInput
    from nmi_desk.domain.sessions import create_info_session

    ref = shipped_reference()
    wijdemeren = ref.by_code("municipalities")["GM1696"]
    assert wijdemeren.valid_on(date(2026, 12, 31)) and not wijdemeren.valid_on(date(2027, 1, 1))
    assert "GM1696" in ref.municipality_codes(date(2026, 6, 1))
    assert "GM1696" not in ref.municipality_codes(date(2027, 1, 1))
    before = InfoSessionInput(held_on=date(2026, 11, 20), attendees=12, municipality_code="GM1696")
    assert create_info_session(desk.context(), before)
    after = InfoSessionInput(held_on=date(2027, 1, 14), attendees=12, municipality_code="GM1696")
    with pytest.raises(ValidationError) as refused:
        create_info_session(desk.context(), after)
    (error,) = refused.value.errors
    assert error.field == "municipality_code"
    assert (
        t(error.key, "nl", **error.params) == "Wijdemeren bestond tot 31-12-2026; kies Hilversum."
    )
    assert t(error.key, "en", **error.params) == (
        "Wijdemeren existed until 31-12-2026; choose Hilversum."
    )
    after.municipality_code = "GM0402"  # Hilversum, as the message says
    assert create_info_session(desk.context(), after)
