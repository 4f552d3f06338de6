"""Every pair of create, edit, correct, merge, erase, purge on two laptops, in both orders
(docs/sync.md, "Interleavings"): two data dirs and a real central PostgreSQL schema.

Per case: laptop A registers client X (and Y) and syncs; laptop B fetches both from the central
database (as the TUI's central search does). Then, both offline, A does the first operation
and B the second (a minute later); A syncs, B syncs, A and B sync once more. After that:
  - with an erasure in the pair, X's name is in no central row and in no byte of either
    laptop's data folder (database, WAL, every other file); with a merge too, the survivor Y is
    erased as well (one person), so Y's name is gone too;
  - without one, the laptops and the central side agree on every record's version.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from nmi_desk.core.errors import UserError
from nmi_desk.domain import retention
from nmi_desk.domain.clients.base import ClientInput
from nmi_desk.domain.clients.central import CentralClients
from nmi_desk.domain.clients.index import search
from nmi_desk.domain.clients.read import history, new_visit_input
from nmi_desk.domain.clients.rights import erase_client
from nmi_desk.domain.clients.writes import correct_client, merge_clients
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit, load_visit, update_visit
from nmi_desk.store.engine import open_engine
from nmi_desk.sync import push as push_module
from nmi_desk.sync import resolve_target, run_sync

X_NAME, X_TOKEN = "Quirinus Vandermolt-Testpersoon", "Vandermolt"
Y_NAME, Y_TOKEN = "Yolanda Brakspeer-Testpersoon", "Brakspeer"
X_NOTE = "Xnotitie-Vandermolt"  # the token is in the notes and the referral too
OPS = ("create", "edit", "correct", "merge", "erase", "purge")


class Laptops:
    """Two laptops holding X and Y, synced through one central schema."""

    def __init__(self, root: Path, clock, url: str) -> None:
        self.clock, self.url = clock, url
        self.a = _desk(root / "a", clock, "laptop-a", "eindhoven-stadskantoor")
        self.b = _desk(root / "b", clock, "laptop-b", "roermond")
        self.x = self._register(X_NAME, f"{X_NOTE} eerste gesprek")
        self.y = self._register(Y_NAME, "Ynotitie-Brakspeer")
        self.sync(self.a)
        remote = CentralClients(resolve_target(url, ""))
        try:
            for uuid in (self.x, self.y):
                remote.fetch(self.b.engine(), uuid, self.b.now())
        finally:
            remote.close()

    def _register(self, name: str, notes: str) -> str:
        inp = VisitInput(
            location_code=self.a.settings.location, client_name=name, birth_year=1961,
            origin_country="MA", destination_country="MA", language="ar", topics=["aow"],
            referrals=[ReferralInput("svb", reason=f"AOW {name.split()[1]}")], notes=notes,
        )  # fmt: skip
        create_visit(self.a.context(), inp)
        return search(self.a.context(), name)[0].uuid

    def sync(self, desk: Desk):
        return run_sync(desk.engine(), resolve_target(self.url, ""), desk.now)

    def do(self, op: str, desk: Desk) -> None:
        ctx = desk.context()
        if op == "create":
            inp = new_visit_input(ctx, self.x, desk.settings.location)
            inp.topics, inp.notes = ["zorg"], f"{X_NOTE} vervolg"
            inp.referrals = [ReferralInput("cak", reason=f"Zorg {X_TOKEN}")]
            create_visit(ctx, inp)
        elif op == "edit":
            for v in history(ctx, self.x).visits:
                view = load_visit(ctx, v.uuid)
                view.input.notes = f"{view.input.notes} {X_NOTE} bewerkt"
                update_visit(ctx, v.uuid, view.input)
        elif op == "correct":
            correct_client(ctx, self.x, ClientInput(name=f"{X_NAME} Gecorrigeerd",
                                                     birth_year=1962, origin_country="MA"))  # fmt: skip
        elif op == "merge":
            merge_clients(ctx, self.y, self.x)
        elif op == "erase":
            erase_client(ctx, self.x)
        elif op == "purge":
            retention.purge(ctx, 0)

    def close(self) -> None:
        self.a.close()
        self.b.close()


def _desk(root: Path, clock, device_id: str, location: str) -> Desk:
    desk = Desk.open(root, clock=clock)
    desk.settings.consultant = "TS" if device_id.endswith("a") else "MB"
    desk.settings.location = location
    desk.settings.device_id = device_id
    desk.save_settings()
    return desk


def folder_bytes(desk: Desk) -> bytes:
    """Every file of the laptop's data folder: database, WAL, backups, logs, settings."""
    return b"".join(p.read_bytes() for p in sorted(desk.database_path.parent.rglob("*"))
                    if p.is_file())  # fmt: skip


def files_holding(desk: Desk, token: str) -> list[str]:
    return [p.name for p in sorted(desk.database_path.parent.rglob("*"))
            if p.is_file() and token.encode() in p.read_bytes()]  # fmt: skip


CENTRAL_TEXT = {
    "client": "coalesce(name, '') || coalesce(search_key, '')",
    "visit": "coalesce(client_name, '') || coalesce(notes, '')",
    "referral": "coalesce(reason, '') || coalesce(note, '') || coalesce(outcome_note, '')",
    "sync_conflict": "loser_payload",
    "audit_event": "coalesce(detail, '')",
}


def central_hits(url: str, token: str) -> dict[str, int]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE lower({expr}) LIKE :t"),  # noqa: S608
                    {"t": f"%{token.lower()}%"},
                ).scalar_one()
                for table, expr in CENTRAL_TEXT.items()
            }
    finally:
        engine.dispose()


def central_versions(url: str) -> dict[str, int]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return {
                u: r
                for t in ("visit", "referral")  # clients: by content (a tombstone stays put)
                for u, r in conn.execute(text(f"SELECT uuid, revision FROM {t}"))  # noqa: S608
            }
    finally:
        engine.dispose()


def local_versions(desk: Desk) -> dict[str, tuple[int, int]]:
    with desk.engine().connect() as conn:
        return {
            u: (r, s)
            for t in ("visit", "referral")
            for u, r, s in conn.execute(
                text(f"SELECT uuid, revision, synced_revision FROM {t}")  # noqa: S608
            )
        }


def contents(engine, personal: bool) -> dict:
    """What a record says: clients (name, deleted, merged_into, erased), visits (client, name,
    notes); the names and notes left out when `personal` is False."""
    try:
        with engine.connect() as conn:
            clients = {
                u: (n if personal else None, bool(d), m, e is not None)
                for u, n, d, m, e in conn.execute(
                    text("SELECT uuid, name, deleted, merged_into, erased_at FROM client")
                )
            }
            visits = {
                u: (c, n if personal else None, t if personal else None)
                for u, c, n, t in conn.execute(
                    text("SELECT uuid, client_uuid, client_name, notes FROM visit")
                )
            }
        return {"client": clients, "visit": visits}
    finally:
        if engine.dialect.name != "sqlite":
            engine.dispose()


@pytest.fixture
def laptops(tmp_path, clock, pg_url):
    pair = Laptops(tmp_path, clock, pg_url)
    yield pair
    pair.close()


@pytest.mark.parametrize(("first", "second"), list(product(OPS, OPS)))
def test_interleaving(laptops, first, second):
    """`first` on laptop A, `second` on laptop B a minute later, both offline; A syncs first."""
    pair = laptops
    pair.clock.advance(minutes=1)
    pair.do(first, pair.a)
    pair.clock.advance(minutes=1)
    pair.do(second, pair.b)
    ops = {first, second}
    gone = ([X_TOKEN, Y_TOKEN] if "merge" in ops else [X_TOKEN]) if "erase" in ops else []
    for turn, desk in enumerate((pair.a, pair.b, pair.a, pair.b)):
        pair.clock.advance(seconds=5)
        pair.sync(desk)
        if turn:  # both laptops pushed: the erasure is central, and no push brings a name back
            for token in gone:
                assert central_hits(pair.url, token) == dict.fromkeys(CENTRAL_TEXT, 0), turn

    if "erase" in ops:
        for token in gone:
            assert central_hits(pair.url, token) == dict.fromkeys(CENTRAL_TEXT, 0), token
            for desk in (pair.a, pair.b):
                assert files_holding(desk, token) == [], desk.settings.device_id
        if "merge" not in ops:  # the other client is untouched
            assert central_hits(pair.url, Y_TOKEN)["client"] == 1
        return
    central = central_versions(pair.url)
    for desk, op in ((pair.a, first), (pair.b, second)):
        mine = local_versions(desk)
        differ = {u: (mine.get(u), r) for u, r in central.items() if mine.get(u, (r, r)) != (r, r)}
        assert differ == {}, desk.settings.device_id
        # The same content too; a purge blanked the purging laptop's own copy only.
        personal = op != "purge"
        here = contents(desk.engine(), personal)
        assert here == contents(open_engine(pair.url), personal), desk.settings.device_id
    if "merge" in ops:
        engine = open_engine(pair.url)
        with engine.connect() as conn:
            into = conn.execute(
                text("SELECT merged_into FROM client WHERE uuid = :u"), {"u": pair.x}
            ).scalar_one()
            moved = conn.execute(
                text("SELECT count(*) FROM visit WHERE client_uuid = :u"), {"u": pair.x}
            ).scalar_one()
        engine.dispose()
        assert into == pair.y
        assert moved == 0  # every visit of X, also one made elsewhere meanwhile, is Y's


def test_an_erasure_outlives_more_offline_edits_elsewhere(laptops):
    """D1: B edits X's visit three times offline (a higher revision than the erasure); A
    erases X and syncs; B's push is taken blanked, B is told and blanks its copy at once."""
    pair = laptops
    for _ in range(3):
        pair.clock.advance(minutes=1)
        pair.do("edit", pair.b)
    pair.do("erase", pair.a)
    pair.sync(pair.a)
    report = pair.sync(pair.b)
    assert report.erased == 1
    assert central_hits(pair.url, X_TOKEN) == dict.fromkeys(CENTRAL_TEXT, 0)
    for desk in (pair.a, pair.b):
        assert files_holding(desk, X_TOKEN) == [], desk.settings.device_id
    engine = open_engine(pair.url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT revision, origin_country, local_date FROM visit WHERE client_uuid = :u"),
            {"u": pair.x},
        ).all()
    engine.dispose()
    # B's revision taken blanked goes in one higher (B's pull would take it); statistics kept
    assert [(r[0], r[1]) for r in rows] == [(5, "MA")]


def test_a_new_visit_of_a_client_erased_centrally_never_lands_with_the_name(laptops, monkeypatch):
    """B makes a visit for X, which A erased and synced. The fast lane leaves that visit to the
    per-batch path (sync/fast_lane.py), which takes it blanked: no central row holds the name
    even when the connection is lost between the two."""
    pair = laptops
    pair.do("erase", pair.a)
    pair.sync(pair.a)
    pair.do("create", pair.b)

    def lost(*args, **kwargs):
        raise OperationalError("push", {}, Exception("connection lost"))

    monkeypatch.setattr(push_module, "push_central", lost)
    with pytest.raises(UserError):
        pair.sync(pair.b)
    assert central_hits(pair.url, X_TOKEN) == dict.fromkeys(CENTRAL_TEXT, 0)
    monkeypatch.undo()
    pair.sync(pair.b)
    assert central_hits(pair.url, X_TOKEN) == dict.fromkeys(CENTRAL_TEXT, 0)
    assert files_holding(pair.b, X_TOKEN) == []
