"""What a domain function needs to know about who, when and where, in one object.

A Context is made by the Desk (`desk.context()`) for each piece of work and passed as the
first argument: `create_visit(ctx, inp)`. It holds the opened engine, the actor (consultant
and device; a desk without a consultant cannot make one), the clock, the reference data in
use (the shipped files merged with what was published centrally), the desk's keyring and its
cache of the client search index. Nothing of this lives in a module global, so two desks in
one process (tests, a sync between two files) never see each other's state.

Scripts and tests that hold an engine of their own build one with `Context.of(engine, actor,
now)`.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nmi_desk.core.clock import AMS, Clock, local_today, system_clock
from nmi_desk.domain.reference.files import Reference, shipped_reference
from nmi_desk.store.keyring import Keyring

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class Actor:
    """Who writes: the consultant's initials and this laptop's device id."""

    consultant: str
    device_id: str


class EngineCache:
    """Values derived from one engine's rows (the client search index), kept per engine object
    and dropped with it: an id() could be reused by the next engine and hand it these."""

    def __init__(self) -> None:
        self._values: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self.lock = threading.Lock()

    def get(self, engine: Any) -> Any:
        with self.lock:
            return self._values.get(engine)

    def put(self, engine: Any, value: Any) -> None:
        with self.lock:
            self._values[engine] = value

    # with `lock` already held (a read, a rebuild and a store as one step)
    def peek(self, engine: Any) -> Any:
        return self._values.get(engine)

    def store(self, engine: Any, value: Any) -> None:
        self._values[engine] = value


@dataclass(frozen=True)
class Context:
    engine: Engine
    actor_or_none: Actor | None  # None: no consultant set on this desk (reading still works)
    clock: Clock
    reference: Reference
    keyring: Keyring = field(default_factory=Keyring, repr=False)
    client_indexes: EngineCache = field(default_factory=EngineCache, repr=False)
    # The desk's data folder: files beside the database that erasure and retention go over
    # (nmi_desk.domain.copies); None for an engine a script opened itself.
    data_dir: Path | None = field(default=None, repr=False)

    @property
    def actor(self) -> Actor:
        """Who writes; a missing consultant is an error here, never a placeholder."""
        if self.actor_or_none is None:
            from nmi_desk.core.errors import UserError

            raise UserError.of("errors.desk.no_consultant")
        return self.actor_or_none

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return local_today(self.clock)

    @classmethod
    def of(
        cls,
        engine: Engine,
        actor: Actor | None,
        now: datetime | date | Clock | None = None,
        reference: Reference | None = None,
    ) -> Context:
        """A context around an engine the caller opened; `now` a fixed moment, a day (its
        noon in Amsterdam) or a clock (default: the system clock)."""
        clock: Clock
        if now is None:
            clock = system_clock
        elif isinstance(now, date) and not isinstance(now, datetime):
            noon = datetime.combine(now, time(12), AMS)
            clock = lambda: noon  # noqa: E731
        elif isinstance(now, datetime):
            moment = now
            clock = lambda: moment  # noqa: E731
        else:
            clock = now
        return cls(
            engine=engine,
            actor_or_none=actor,
            clock=clock,
            reference=reference or shipped_reference(),
        )
