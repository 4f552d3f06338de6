"""How long a text field may be, defined once: the SQLModel tables (the laptop's SQLite and the
central PostgreSQL, whose VARCHARs refuse more) and the checks at entry (domain/inputs.py, the
client record) read these, so a value the central side would refuse is refused on the form
and in every command, never accepted here and then quarantined at the next sync."""

from __future__ import annotations

NAME_MAX = 200  # a client's name (visit.client_name, client.name)
PLACE_MAX = 200  # where an information session was held
