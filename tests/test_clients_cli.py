"""`nmi-desk clients ...` as scripts use it: search JSON, show, the inzage export (every visit
and referral of the client, nothing of other clients, audited without personal data), erasure,
one-line errors; and the migration that links earlier visits to clients."""

from __future__ import annotations

import json

import pytest

from nmi_desk.cli.app import main
from nmi_desk.domain import audit, clients
from nmi_desk.domain.context import Context
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit, delete_visit


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def walk_in(desk, clock, name, year, topics, referrals, days_ago=0, **over) -> str:
    clock.advance(days=-days_ago)
    uuid = create_visit(
        desk.context(),
        VisitInput(
            location_code="roermond",
            client_name=name,
            birth_year=year,
            topics=topics,
            referrals=referrals,
            **over,
        ),
    )
    clock.advance(days=days_ago)
    return uuid


@pytest.fixture
def two_clients(desk, clock):
    """Fatima with three visits (one later deleted) and two referrals; Khadija with one."""
    a1 = walk_in(desk, clock, "Fatima El Amrani", 1958, ["aow"],
                 [ReferralInput("svb", reason="Synthetische reden één")], days_ago=40,
                 notes="Synthetische notitie Fatima")  # fmt: skip
    fatima = clients.search(desk.context(), "fatima amrani")[0].uuid
    inp = clients.new_visit_input(desk.context(), fatima, "roermond")
    inp.topics, inp.referrals = ["zorg"], [ReferralInput("cak", reason="Synthetische reden twee")]
    clock.advance(days=-10)
    a2 = create_visit(desk.context(), inp)
    gone = create_visit(desk.context(), clients.new_visit_input(desk.context(), fatima, "roermond"))  # fmt: skip
    delete_visit(desk.context(), gone)
    clock.advance(days=10)
    walk_in(desk, clock, "Khadija Bennani", 1960, ["verhuizing"],
            [ReferralInput("ind", reason="Reden van Khadija")], notes="Notitie van Khadija")  # fmt: skip
    return fatima, (a1, a2)


def test_search_json_contract(desk, capsys, two_clients):
    fatima, _ = two_clients
    code, out, err = run(capsys, "clients", "search", "fatma amrani", "--json")
    assert code == 0, err
    hits = json.loads(out)
    assert hits[0]["uuid"] == fatima
    assert {"uuid", "name", "birth_year", "last_visit", "visits", "score"} <= set(hits[0])
    assert hits[0]["name"] == "Fatima El Amrani" and hits[0]["birth_year"] == 1958
    assert hits[0]["visits"] == 2 and hits[0]["last_visit"] == "2026-02-28"
    code, out, _ = run(capsys, "clients", "search", "fatima", "--birth-year", "1990", "--json")
    assert json.loads(out) == []


def test_inzage_holds_every_visit_and_referral_of_the_client_and_nothing_else(
    desk, capsys, two_clients, tmp_path
):
    fatima, visit_uuids = two_clients
    md, js = tmp_path / "inzage.md", tmp_path / "inzage.json"
    assert run(capsys, "clients", "export", fatima, "--output", str(md))[0] == 0
    assert run(capsys, "clients", "--help")[0] == 0
    code, _, err = run(capsys, "--lang", "en", "clients", "export", fatima, "--output", str(js))
    assert code == 0, err
    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["client"]["name"] == "Fatima El Amrani"
    assert [v["uuid"] for v in data["visits"]] == list(reversed(visit_uuids))  # newest first
    reasons = {r["reason"] for v in data["visits"] for r in v["referrals"]}
    assert reasons == {"Synthetische reden één", "Synthetische reden twee"}
    assert len(data["deleted_visits"]) == 1
    actions = {(e["action"], e["record"]) for e in data["audit"]}
    assert {("create", "client"), ("create", "visit"), ("delete", "visit")} <= actions
    text = md.read_text(encoding="utf-8")
    for expected in ("Fatima El Amrani", "Synthetische reden één", "Synthetische reden twee",
                     "Synthetische notitie Fatima", "SVB", "CAK"):  # fmt: skip
        assert expected in text
    for other in ("Khadija", "Bennani", "Reden van Khadija", "IND"):
        assert other not in text and other not in js.read_text(encoding="utf-8")
    assert oct(md.stat().st_mode & 0o777) == "0o600"
    # The export is audited: who, when, which record; never the name.
    trail = audit.events(desk.engine(), fatima)
    assert [e.detail for e in trail if e.action == "export"] == ["inzage", "inzage"]
    for event in audit.events(desk.engine()):
        assert "Fatima" not in (event.detail or "") and "Amrani" not in (event.detail or "")


def test_show_erase_and_one_line_errors(desk, capsys, two_clients):
    fatima, _ = two_clients
    code, out, _ = run(capsys, "clients", "show", fatima, "--json")
    shown = json.loads(out)
    assert code == 0 and len(shown["visits"]) == 2
    assert shown["open_follow_ups"][0]["organisation_code"] in {"svb", "cak"}
    code, _, err = run(capsys, "clients", "show", "no-such-client")
    assert code == 1 and err.count("\n") == 1 and "no client" in err
    code, _, err = run(capsys, "clients", "erase", fatima)  # no terminal, no --yes
    assert code == 1 and "--yes" in err
    code, _, err = run(capsys, "clients", "erase", fatima, "--yes")
    assert code == 0, err
    code, _, err = run(capsys, "clients", "show", fatima)
    assert code == 1 and "erased" in err and "Fatima" not in err
    raw = desk.database_path.read_bytes()
    assert b"Fatima" not in raw and b"Amrani" not in raw and b"reden twee" not in raw
    assert b"Khadija" in raw  # the other client stays
    code, out, _ = run(capsys, "clients", "search", "bennani", "--json")
    assert json.loads(out)[0]["name"] == "Khadija Bennani"


def test_migration_links_named_visits_one_client_per_name_and_birth_year(tmp_path):
    from sqlalchemy import text

    from nmi_desk.store import migrations
    from nmi_desk.store.engine import make_engine, open_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    for step in migrations.MIGRATIONS:  # the schema as it was before clients
        if step.version >= 150:
            break
        with engine.begin() as conn:
            migrations.applied_versions(conn)
            step.apply(conn)
            conn.execute(
                text("INSERT INTO schema_migrations VALUES (:v, :n, '2026-01-01')"),
                {"v": step.version, "n": step.name},
            )
    rows = [  # name, birth year, count only, language
        ("Ayşe Yılmaz", 1970, 0, "tr"),
        ("Ayşe Yılmaz", 1970, 0, "nl"),  # the same client came back
        ("Ayşe Yılmaz", 1988, 0, None),  # same name, another year: another client
        ("Ayse Yilmaz", 1970, 0, None),  # spelled otherwise: not merged on a guess
        (None, None, 0, None),  # anonymous
        (None, None, 1, None),  # count only
    ]
    with engine.begin() as conn:
        for i, (name, year, count_only, lang) in enumerate(rows, start=1):
            conn.exec_driver_sql(
                "INSERT INTO visit (uuid, revision, updated_at, device_id, deleted,"
                " synced_revision, started_at, local_date, local_hour, location_code,"
                " consultant, channel, count_only, client_name, birth_year, language)"
                f" VALUES ('00000000-0000-4000-8000-00000000000{i}', 1,"
                f" '2026-01-0{i} 10:00:00', 'old', 0, 1, '2026-01-0{i} 10:00:00', '2026-01-0{i}',"
                " 11, 'roermond', 'TS', 'walk-in', ?, ?, ?, ?)",
                (count_only, name, year, lang),
            )
    engine.dispose()
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT name, birth_year, language, revision, synced_revision FROM client"
                " ORDER BY name, birth_year"
            ).all()
            links = conn.exec_driver_sql(
                "SELECT v.id, c.name, c.birth_year, v.revision FROM visit v"
                " LEFT JOIN client c ON c.uuid = v.client_uuid ORDER BY v.id"
            ).all()
        assert [tuple(r) for r in found] == [
            ("Ayse Yilmaz", 1970, None, 1, 0),
            ("Ayşe Yılmaz", 1970, "nl", 1, 0),  # the latest visit's language
            ("Ayşe Yılmaz", 1988, None, 1, 0),
        ]
        assert [tuple(r[1:]) for r in links] == [
            ("Ayşe Yılmaz", 1970, 2),
            ("Ayşe Yılmaz", 1970, 2),
            ("Ayşe Yılmaz", 1988, 2),
            ("Ayse Yilmaz", 1970, 2),
            (None, None, 1),  # anonymous and count-only visits stay unlinked
            (None, None, 1),
        ]
        # Both spellings are found by a search; the consultant may merge them.
        assert len(clients.search(Context.of(engine, None), "ayse yilmaz 1970")) == 2
    finally:
        engine.dispose()


def test_retention_purges_a_client_with_its_last_visit(desk, clock):
    from datetime import UTC, datetime, timedelta

    from nmi_desk.domain.retention import purge

    walk_in(desk, clock, "Samira Testpersoon", 1966, ["aow"], [])
    keep = walk_in(desk, clock, "Nora Testpersoon", 1970, ["aow"], [])
    engine = desk.engine()
    with engine.begin() as conn:  # both synced; Nora came back since (unsynced visit)
        conn.exec_driver_sql("UPDATE visit SET synced_revision = revision")
        conn.exec_driver_sql("UPDATE client SET synced_revision = revision")
    nora = clients.search(Context.of(engine, None), "nora")[0].uuid
    create_visit(
        Context.of(engine, desk.actor, desk.now()),
        clients.new_visit_input(Context.of(engine, None), nora, "roermond"),
    )
    report = purge(Context.of(engine, desk.actor, datetime.now(UTC) + timedelta(days=31)), 30)
    assert report.visits == 2 and report.clients == 1
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name, birth_year, origin_country, purged_at IS NOT NULL FROM client ORDER BY id"
        ).all()
    # Samira's only visit is purged: so is she (the origin country stays, a statistics code).
    # Nora came back since: her record stays whole.
    assert [tuple(r) for r in rows] == [(None, None, None, 1), ("Nora Testpersoon", 1970, None, 0)]
    assert clients.search(Context.of(engine, None), "samira") == []
    assert [h.name for h in clients.search(Context.of(engine, None), "nora")] == [
        "Nora Testpersoon"
    ]
    assert keep
