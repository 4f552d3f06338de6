"""Reference data: required codes, labels in both languages, idempotent loading."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from nmi_desk.domain.reference.db import load_reference_into
from nmi_desk.domain.reference.files import shipped_reference
from nmi_desk.store.models import Country, Location, Organisation, Topic

REQUIRED_TOPICS = {
    "remigratiewet",
    "verblijf",
    "uitkeringen",
    "pensioen",
    "zorg",
    "verzekeringen",
    "voogdij",
    "schulden",
    "wmo",
    "onderwijs",
    "belastingen",
    "inschrijving",
    "verhuizing",
    "wonen",
    "aow",
    "aanvullend-pensioen",
    "buitenlands-pensioen",
    "kinderbijslag",
    "ww",
    "wia",
    "bijstand",
}
REQUIRED_ORGS = {
    "svb",
    "uwv",
    "ind",
    "belastingdienst",
    "cak",
    "duo",
    "zorgverzekeraar",
    "gemeente-sociaal-loket",
    "gemeente-wmo",
    "gemeente-schuldhulp",
    "gemeente-brp",
    "consulaat-tr",
    "consulaat-sr",
    "min-justitie-sr",
    "sociaal-attache-tr",
}
REQUIRED_LOCATIONS = {"eindhoven-stadskantoor", "amersfoort", "roermond", "amsterdam", "rotterdam"}
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def test_required_codes_are_there_with_dutch_and_english_labels():
    ref = shipped_reference()
    assert REQUIRED_TOPICS <= ref.topic_codes()
    assert REQUIRED_ORGS <= ref.organisation_codes()
    assert REQUIRED_LOCATIONS <= ref.location_codes()
    for entry in (*ref.topics, *ref.organisations, *ref.locations):
        assert SLUG.match(entry.code), entry.code
        assert entry.nl and entry.en, entry.code
    assert all(o.handles for o in ref.organisations)


def test_sub_topics_point_at_existing_parents_and_synonyms_cover_abbreviations():
    ref = shipped_reference()
    codes = ref.topic_codes()
    for t in ref.topics:
        assert t.parent is None or t.parent in codes
    by = ref.by_code("topics")
    assert by["aow"].parent == "pensioen"
    assert by["kinderbijslag"].parent == "uitkeringen"
    synonyms = {s.upper() for t in ref.topics for s in t.synonyms}
    assert {"AOW", "WW", "BRP", "RNI", "IND", "WIA"} <= synonyms


def test_countries_are_iso_alpha2_with_dutch_names():
    ref = shipped_reference()
    by = ref.by_code("countries")
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c in by)
    assert len(by) > 240
    assert by["TR"].nl == "Turkije"
    assert by["MA"].nl == "Marokko"
    assert by["SR"].nl == "Suriname"
    assert by["CV"].nl == "Kaapverdië"
    assert by["NL"].nl == "Nederland"


def test_codes_are_unique_in_every_list():
    ref = shipped_reference()
    for kind in ("topics", "organisations", "locations", "countries"):
        codes = [e.code for e in getattr(ref, kind)]
        assert len(codes) == len(set(codes)), kind


def test_loading_twice_changes_nothing(desk):
    engine = desk.engine()  # the first load happened here

    def snapshot():
        with Session(engine) as s:
            return [
                sorted(tuple(sorted(r.model_dump().items())) for r in s.exec(select(m)).all())
                for m in (Topic, Organisation, Location, Country)
            ]

    before = snapshot()
    assert load_reference_into(engine) == 0  # unchanged files: skipped by hash
    assert load_reference_into(engine, force=True) == 0  # and even when forced: no row changes
    assert snapshot() == before
    assert len(before[0]) == len(shipped_reference().topics)


def test_a_centrally_published_newer_row_is_not_overwritten(desk):
    engine = desk.engine()
    with Session(engine) as s:
        row = s.get(Topic, "wmo")
        row.label_nl = "WMO (centraal bijgewerkt)"
        row.revision = 5
        s.commit()
    load_reference_into(engine, force=True)
    with Session(engine) as s:
        assert s.get(Topic, "wmo").label_nl == "WMO (centraal bijgewerkt)"
        # an older row that drifted is put back to the shipped text
        row = s.get(Topic, "zorg")
        row.label_nl = "verkeerd"
        s.commit()
    assert load_reference_into(engine, force=True) == 1
    with Session(engine) as s:
        assert s.get(Topic, "zorg").label_nl == shipped_reference().by_code("topics")["zorg"].nl


def test_centrally_published_rows_are_used_in_shipped_order(desk):
    engine = desk.engine()
    with Session(engine) as s:
        s.add(
            Topic(
                code="pensioen-nieuw",
                label_nl="Nieuw pensioenonderwerp",
                label_en="New",
                parent="pensioen",
                synonyms="xyz|abc",
                revision=1,
            )
        )
        row = s.get(Topic, "wmo")
        row.label_nl, row.revision = "WMO (centraal herzien)", 3
        s.add(Organisation(code="nieuwe-org", label_nl="Nieuwe organisatie", handles="iets"))
        s.commit()
    desk.refresh_reference()
    ref = desk.reference
    codes = [t.code for t in ref.topics]
    assert codes.index("pensioen-nieuw") == codes.index("buitenlands-pensioen") + 1
    new = ref.by_code("topics")["pensioen-nieuw"]
    assert (new.parent, new.synonyms) == ("pensioen", ("xyz", "abc"))
    assert ref.by_code("topics")["wmo"].nl == "WMO (centraal herzien)"
    assert ref.by_code("topics")["zorg"].nl == "Zorg in het buitenland"  # shipped stays
    assert "nieuwe-org" in ref.organisation_codes()
    assert len(ref.countries) == len(shipped_reference().countries)


def test_a_central_revision_of_the_closed_remigration_topic_keeps_it_closed(desk):
    from nmi_desk.domain.matching import matcher_for

    engine = desk.engine()
    with Session(engine) as s:
        row = s.get(Topic, "remigratiewet")
        row.synonyms, row.revision = row.synonyms + "|remigratieregeling oud", 4
        s.commit()
    desk.refresh_reference()
    merged = desk.reference.by_code("topics")["remigratiewet"]
    assert "remigratieregeling oud" in merged.synonyms  # the central revision is in use
    assert merged.extra.get("closed_to_new")  # and the route is still closed
    assert matcher_for("topic", desk.reference).search("remigratie")[0].code != "remigratiewet"


def test_countries_and_organisations_are_read_on_first_use_once(monkeypatch):
    """Today's first frame needs topics, locations and lists; the 250 countries wait."""
    import nmi_desk.domain.reference.files as refdata

    shipped = list(shipped_reference().countries)  # read before counting: a cache per process
    read: list[str] = []
    real = refdata._read

    def counting(path, key):
        read.append(path.name)
        return real(path, key)

    monkeypatch.setattr(refdata, "_read", counting)
    ref = refdata.load_reference()
    assert read == ["topics.toml", "locations.toml"]
    codes = ref.country_codes()
    assert "NL" in codes and "TR" in codes and len(ref.countries) == len(codes)
    assert ref.by_code("organisations")["svb"].nl
    assert list(ref.countries) == shipped
    assert read.count("countries.toml") == 1 and read.count("organisations.toml") == 1
