"""Returning clients: find one as you type, read their history, continue it, honour their rights.

Called by the CLI (nmi_desk/cli/clients.py) and the TUI alike; plain Python and SQL, no Textual.
This module is the package's public face (names load on first use); the domain's own
modules import the concern they need (`clients.writes`, `clients.rights`).

- `index`: `search` by name in any spelling and with typos, narrowed by birth year; best first.
- `read`: `history`, every visit and referral, open follow-ups first; `new_visit_input` continues one.
- `writes`: `link_visit`, `correct_client` (correctie), `merge_clients`.
- `rights`: `erase_client` (verwijdering) and retention; `access`: `inzage`, the right of access.
- `central`: the central database, searched and fetched from in the background.
"""

from importlib import import_module

# Loaded on first use (PEP 562): importing one concern (visits imports clients.writes) must not
# import every other, or clients.read (which imports visits) would meet a half-made visits.
_WHERE = {
    "ClientHit": "base",
    "ClientInput": "base",
    "ClientNotFound": "base",
    "CentralClients": "central",
    "History": "read",
    "history": "read",
    "new_visit_input": "read",
    "index_for": "index",
    "search": "index",
    "inzage": "access",
    "inzage_text": "access",
    "compact": "rights",
    "erase_client": "rights",
    "correct_client": "writes",
    "merge_clients": "writes",
    "validate_client": "writes",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"nmi_desk.domain.clients.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'nmi_desk.domain.clients' has no attribute {name!r}")
