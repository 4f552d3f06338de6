"""What a push carries and what it meets: a unit (a root record with its links and children,
read from the laptop) and a conflict (a version one side never saw). Apart from push.py so the
laptop's writer (marks_writer.py) uses them without importing the push."""

from __future__ import annotations

from dataclasses import dataclass, field

from nmi_desk.sync.tables import UnitKind


@dataclass(slots=True)
class Unit:
    kind: UnitKind
    uuid: str  # the root record's uuid
    root: tuple | None = None  # (columns..., base_revision) when the root itself is pending
    links: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[tuple]] = field(default_factory=dict)  # (cols..., base, parent_uuid)
    local_ids: dict[str, int] = field(default_factory=dict)  # record uuid -> laptop's id

    def records(self):
        """(table, uuid, revision) of every record this unit carries."""
        if self.root is not None:
            yield self.kind.root.table, self.root[0], self.root[self.kind.root.rev_index]
        for child in self.kind.children:
            at = child.rev_index
            for row in self.children.get(child.table, ()):
                yield child.table, row[0], row[at]


@dataclass(frozen=True)
class Conflict:
    table: str
    uuid: str
    winner_revision: int
    loser_revision: int
    loser_device: str
    loser_payload: str
