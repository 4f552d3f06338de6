"""What the clients package shares: the record's input, a search hit and finding one client
row (the fields kept across visits are in fields.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlmodel import select

from nmi_desk.store.models import Client

DEFAULT_LIMIT = 10


class ClientNotFound(LookupError):
    pass


@dataclass
class ClientInput:
    name: str | None = None
    birth_year: int | None = None
    origin_country: str | None = None
    destination_country: str | None = None
    language: str | None = None
    partner_coremigrating: bool | None = None
    children_coremigrating: int | None = None


@dataclass(frozen=True)
class ClientHit:
    uuid: str
    name: str
    birth_year: int | None
    score: float
    last_visit: str | None = None  # YYYY-MM-DD
    last_location: str | None = None
    last_topics: tuple[str, ...] = ()
    visits: int = 0
    open_follow_ups: int = 0
    central: bool = False  # found in the central database, not (yet) on this laptop

    def as_json(self) -> dict:
        out = asdict(self)
        out["last_topics"] = list(self.last_topics)
        return out


def get_client(session, uuid: str, *, allow_deleted: bool = False):

    client = session.exec(select(Client).where(Client.uuid == uuid)).first()
    if client is None or (client.deleted and not allow_deleted):
        if client is not None and client.merged_into:
            raise ClientNotFound(f"client {uuid} was merged into {client.merged_into}")
        if client is not None and client.erased_at is not None:
            raise ClientNotFound(f"client {uuid} was erased on {client.erased_at:%Y-%m-%d}")
        raise ClientNotFound(f"no client {uuid} on this laptop")
    return client
