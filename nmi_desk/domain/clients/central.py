"""The central database seen from the counter: search there, fetch a client onto this laptop."""

from __future__ import annotations

import threading
from datetime import datetime

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from nmi_desk.core.errors import UserError
from nmi_desk.domain.clients.base import DEFAULT_LIMIT, ClientHit, get_client
from nmi_desk.domain.clients.index import search_central
from nmi_desk.domain.context import EngineCache
from nmi_desk.sync.clients_pull import pull_clients


class CentralClients:
    """The central database, for finding a client seen at another location and fetching
    their record and history onto this laptop. Opened on first use and kept; every call may
    raise UserError (unreachable, no target) with one line."""

    def __init__(self, target) -> None:
        self.target = target
        self._engine = None
        self._lock = threading.Lock()
        self._indexes = EngineCache()  # the central index, rebuilt at most once a minute

    def engine(self):
        with self._lock:
            if self._engine is None:
                from nmi_desk.sync.target import open_central

                self._engine = open_central(self.target)
            return self._engine

    def search(self, query: str, birth_year: int | None = None, limit: int = DEFAULT_LIMIT,
               skip=frozenset()) -> list[ClientHit]:  # fmt: skip
        return _central_call(
            lambda: search_central(self.engine(), self._indexes, query, birth_year, limit, skip)
        )

    def fetch(self, local, uuid: str, now: datetime) -> dict[str, int]:
        """The client's record and every visit of them, stored here as synced."""

        return _central_call(
            lambda: pull_clients(local, self.engine(), now, wanted=[uuid], held_too=False)
        )

    def fetch_known(self, local, uuid: str, now: datetime) -> dict[str, int]:
        """`fetch`, and ClientNotFound when the client is neither central nor on this laptop
        (`nmi-desk clients fetch`)."""
        got = self.fetch(local, uuid, now)
        if not got.get("client"):
            with Session(local) as session:
                get_client(session, uuid, allow_deleted=True)  # raises ClientNotFound
        return got

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def _central_call(call):

    try:
        return call()
    except DBAPIError as exc:
        orig = getattr(exc, "orig", None) or exc
        line = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        raise UserError.of("errors.clients.central", reason=line) from None
