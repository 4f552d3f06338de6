"""Returning clients: find one as you type, read their history, continue it, honour their rights.

Called by the CLI (nmi_desk/cli/clients.py) and the TUI alike; plain Python and SQL, no Textual.
This module is the package's public face; the domain's own modules import the concern they
need (`clients.writes`, `clients.rights`), so no import runs through here in a circle.

- `index`: `search` by name in any spelling and with typos, narrowed by birth year; best first.
- `history`: every visit and referral, open follow-ups first; `new_visit_input` continues one.
- `writes`: `link_visit`, `correct_client` (correctie), `merge_clients`.
- `rights`: `erase_client` (verwijdering) and retention; `inzage`: the right of access.
- `central`: the central database, searched and fetched from in the background.
"""

from nmi_desk.domain.clients.base import ClientHit, ClientInput, ClientNotFound
from nmi_desk.domain.clients.central import CentralClients
from nmi_desk.domain.clients.history import History, history, new_visit_input
from nmi_desk.domain.clients.index import index_for, search
from nmi_desk.domain.clients.inzage import inzage, inzage_text
from nmi_desk.domain.clients.rights import compact, erase_client
from nmi_desk.domain.clients.writes import correct_client, merge_clients, validate_client

__all__ = [
    "CentralClients",
    "ClientHit",
    "ClientInput",
    "ClientNotFound",
    "History",
    "compact",
    "correct_client",
    "erase_client",
    "history",
    "index_for",
    "inzage",
    "inzage_text",
    "merge_clients",
    "new_visit_input",
    "search",
    "validate_client",
]
