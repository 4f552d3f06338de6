"""Returning clients across laptops: two data dirs and a real central PostgreSQL schema.

A client registered on laptop A is found on laptop B through the central database, B adds a
visit, A sees it after a sync; an erasure on A leaves no name of that client in the central
tables or on B (rows and raw file bytes) after their next sync. A merge travels too.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from nmi_desk.domain import clients
from nmi_desk.domain.clients.read import history
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.store.engine import open_engine
from nmi_desk.sync import resolve_target, run_sync

NAME = "Şükrü Öztürk-Testpersoon"
OTHER = "Ayşe Yıldız-Testpersoon"


def make_desk(root: Path, clock, device_id: str, location: str) -> Desk:
    desk = Desk.open(root, clock=clock)
    desk.settings.consultant = "TS" if device_id.endswith("a") else "MB"
    desk.settings.location = location
    desk.settings.device_id = device_id
    desk.save_settings()
    return desk


def sync(desk: Desk, url: str):
    return run_sync(desk.engine(), resolve_target(url, ""), desk.now)


def visit(desk: Desk, name: str | None = None, client_uuid: str | None = None, **over) -> str:
    inp = VisitInput(
        location_code=desk.settings.location,
        client_name=name,
        birth_year=1958 if name else None,
        origin_country="TR",
        destination_country="TR",
        language="tr",
        topics=["aow"],
        referrals=[ReferralInput("svb", reason="AOW naar Turkije")],
        client_uuid=client_uuid,
        **over,
    )
    if client_uuid and name is None:
        inp = clients.new_visit_input(desk.context(), client_uuid, desk.settings.location)
        inp.topics, inp.referrals = ["zorg"], [ReferralInput("cak", reason="Zorg in Turkije")]
    return create_visit(desk.context(), inp)


def file_bytes(desk: Desk) -> bytes:
    path = desk.database_path
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def central(url: str, sql: str, **params) -> list:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def test_a_client_travels_between_laptops_and_an_erasure_reaches_everywhere(
    tmp_path, clock, pg_url
):
    a = make_desk(tmp_path / "a", clock, "laptop-a", "eindhoven-stadskantoor")
    b = make_desk(tmp_path / "b", clock, "laptop-b", "roermond")
    try:
        visit(a, NAME)
        visit(a, OTHER)
        sync(a, pg_url)

        # B has never seen the client: locally nothing, centrally found by a typed variant.
        assert clients.search(b.context(), "sukru ozturk") == []
        remote = clients.CentralClients(resolve_target(pg_url, ""))
        try:
            hits = remote.search("sukru ozturk", 1958)
            assert [h.name for h in hits][:1] == [NAME]
            assert hits[0].central and hits[0].visits == 1
            remote.fetch(b.engine(), hits[0].uuid, b.now())
        finally:
            remote.close()
        uuid = hits[0].uuid
        assert [h.uuid for h in clients.search(b.context(), "ozturk")] == [uuid]
        on_b = history(b.context(), uuid)
        assert len(on_b.visits) == 1 and on_b.visits[0].referrals[0].organisation_code == "svb"

        # B continues the story; A sees the new visit after both synced.
        clock.advance(days=1)
        new_visit = visit(b, client_uuid=uuid)
        sync(b, pg_url)
        sync(a, pg_url)
        on_a = history(a.context(), uuid)
        assert [v.uuid for v in on_a.visits][0] == new_visit
        assert [v.location_code for v in on_a.visits] == ["roermond", "eindhoven-stadskantoor"]
        assert on_a.open_follow_ups[0].organisation_code in {"svb", "cak"}

        # Verwijdering on A: the central side at A's sync, B at its next pull.
        erased = clients.erase_client(a.context(), uuid)
        assert erased.visits == 2 and erased.referrals == 2
        sync(a, pg_url)
        sync(b, pg_url)
        clients.compact(b.engine())  # the next purge/VACUUM (pull already compacted)

        for word in ("Öztürk", "Şükrü", "ozturk", "Zorg in Turkije"):
            assert word.encode() not in file_bytes(a)
        b_bytes = file_bytes(b)
        for word in ("Öztürk", "Şükrü", "ozturk", "AOW naar Turkije", "Zorg in Turkije"):
            assert word.encode() not in b_bytes, word
        rows = central(
            pg_url,
            "SELECT count(*) FROM visit WHERE client_name LIKE :n OR notes LIKE :n",
            n="%Öztürk%",
        )
        assert rows[0][0] == 0
        assert central(pg_url, "SELECT count(*) FROM client WHERE name LIKE :n OR "
                       "search_key LIKE :k", n="%Öztürk%", k="%ozturk%")[0][0] == 0  # fmt: skip
        assert (
            central(pg_url, "SELECT count(*) FROM referral WHERE reason LIKE 'AOW naar%'")[0][0]
            == 1
        )  # the other client's referral stays
        # Statistics by code stay: both visits still count, with their topics and countries.
        assert (
            central(
                pg_url,
                "SELECT count(*) FROM visit WHERE client_uuid = :u AND deleted = false "
                "AND origin_country = 'TR'",
                u=uuid,
            )[0][0]
            == 2
        )
        assert clients.search(b.context(), "ozturk") == []
        assert clients.search(a.context(), "yildiz")[0].name == OTHER  # the other one stays
    finally:
        a.close()
        b.close()


def test_a_merge_on_one_laptop_is_followed_by_the_other(tmp_path, clock, pg_url):
    a = make_desk(tmp_path / "a", clock, "laptop-a", "eindhoven-stadskantoor")
    b = make_desk(tmp_path / "b", clock, "laptop-b", "roermond")
    try:
        first = visit(a, NAME)
        visit(a, "Sukru Ozturk-Testpersoon")  # the same man, typed without diacritics
        sync(a, pg_url)
        remote = clients.CentralClients(resolve_target(pg_url, ""))
        try:
            for hit in remote.search("ozturk"):
                remote.fetch(b.engine(), hit.uuid, b.now())
        finally:
            remote.close()
        assert len(clients.search(b.context(), "ozturk")) == 2
        keep, gone = (h.uuid for h in clients.search(a.context(), "Şükrü Öztürk"))
        assert clients.merge_clients(a.context(), keep, gone) == 1
        sync(a, pg_url)
        sync(b, pg_url)
        hits = clients.search(b.context(), "ozturk")
        assert [h.uuid for h in hits] == [keep] and hits[0].visits == 2
        assert first in {v.uuid for v in history(b.context(), keep).visits}
    finally:
        a.close()
        b.close()


def test_the_first_pull_after_a_first_push_reads_back_only_what_changed_elsewhere(
    tmp_path, clock, pg_url, monkeypatch
):
    """A's first sync: the fast lane sends its clients and visits, and the first pull right
    after leaves those rows out (they are A's own as sent, sync/clients_pull.py) but takes a
    visit laptop B added to one of them in between."""
    from nmi_desk.sync import clients_pull

    a = make_desk(tmp_path / "a", clock, "laptop-a", "eindhoven-stadskantoor")
    b = make_desk(tmp_path / "b", clock, "laptop-b", "roermond")
    try:
        visit(a, NAME)
        visit(a, OTHER)
        x = clients.search(a.context(), NAME)[0].uuid
        central_clients = clients.CentralClients  # imported before the patch below
        real_pull, real_held = clients_pull.pull_clients, clients_pull._held_visits
        read_back: list[dict[str, int]] = []
        added: list[str] = []

        def between(local, *args, **kwargs):  # A pushed, A has not pulled yet
            if local is a.engine() and not added:
                remote = central_clients(resolve_target(pg_url, ""))
                try:
                    remote.fetch(b.engine(), x, b.now())
                finally:
                    remote.close()
                added.append(visit(b, client_uuid=x))
                sync(b, pg_url)
                read_back.clear()  # B's own first pull: A's visit comes back to B, rightly
            return real_pull(local, *args, **kwargs)

        def held(*args, **kwargs):
            read_back.append(real_held(*args, **kwargs))
            return read_back[-1]

        monkeypatch.setattr(clients_pull, "pull_clients", between)
        monkeypatch.setattr(clients_pull, "_held_visits", held)
        report = sync(a, pg_url)
        assert report.pushed["visit"] == 2
        assert [set(r) for r in read_back] == [set(added)]  # not A's own two visits
        assert added[0] in {v.uuid for v in history(a.context(), x).visits}
    finally:
        a.close()
        b.close()
