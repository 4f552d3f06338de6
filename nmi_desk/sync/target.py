"""Where to sync to, and how to log in without the password ever landing in config.toml.

Order: --target, then NMI_DESK_SYNC_URL, then the saved target (stored without password).
A PostgreSQL password comes from the URL given for this run, libpq's own mechanisms (PGPASSWORD,
~/.pgpass, a service file) or the OS keyring when the `keyring` package is installed; TLS is
required for hosts other than this machine (store/engine.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from nmi_desk.errors import UserError

ENV_URL = "NMI_DESK_SYNC_URL"
KEYRING_SERVICE = "nmi-desk"


@dataclass(frozen=True)
class Target:
    url: str  # with password, for this run only
    shown: str  # password masked, for messages
    saved: str  # without password, for config.toml
    source: str  # "option", "env", "settings"

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite:")


def check_url(url: str) -> None:
    if url.startswith("sqlite:///"):
        return
    if url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        return
    raise UserError(
        f"sync target {_mask(url)!r} is not supported: use postgresql+psycopg://user@host/db"
        " or sqlite:///path.db"
    )


def _mask(url: str) -> str:
    if url.startswith("sqlite:"):
        return url
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: show only its scheme, never a secret
        return url.split("://", 1)[0] + "://..."


def without_password(url: str) -> str:
    if url.startswith("sqlite:"):
        return url
    from sqlalchemy.engine import make_url

    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    from sqlalchemy.engine import URL

    u = make_url(url)  # URL.set(password=None) would keep it: None means "unchanged" there
    bare = URL.create(u.drivername, u.username, None, u.host, u.port, u.database, u.query)
    return bare.render_as_string(hide_password=False)


def _with_keyring_password(url: str) -> str:
    """Add a password from the OS keyring, if the keyring package exists and knows one."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.password or not parsed.username:
        return url
    try:
        import keyring
    except ImportError:
        return url
    account = f"{parsed.username}@{parsed.host or 'localhost'}:{parsed.port or 5432}"
    try:
        secret = keyring.get_password(KEYRING_SERVICE, account)
    except Exception:  # no usable backend on this machine: fall back to libpq's mechanisms
        return url
    if not secret:
        return url
    return parsed.set(password=secret).render_as_string(hide_password=False)


def resolve_target(option: str | None, saved: str) -> Target:
    if option:
        url, source = option.strip(), "option"
    elif os.environ.get(ENV_URL):
        url, source = os.environ[ENV_URL].strip(), "env"
    elif saved:
        url, source = saved, "settings"
    else:
        raise UserError(f"no sync target: give --target URL or set {ENV_URL}")
    check_url(url)
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if not url.startswith("sqlite:"):
        url = _with_keyring_password(url)
    return Target(url=url, shown=_mask(url), saved=without_password(url), source=source)


def open_central(target: Target):
    """The central engine, its schema created or migrated; one clear line when it fails."""
    from nmi_desk.store.engine import open_engine

    if target.is_sqlite:
        from nmi_desk.store.connect import sqlite_path_from_url

        path = sqlite_path_from_url(target.url)
        if path is not None and not path.parent.is_dir():
            raise UserError(f"cannot sync to {target.shown}: folder {path.parent} does not exist")
    try:
        return open_engine(target.url)
    except UserError as exc:
        reason = str(exc).removeprefix("cannot open database: ")
        raise UserError(f"cannot reach sync target {target.shown}: {reason}") from None
