"""Where to sync to, and how to log in without the password ever landing in config.toml.

Order: --target, then NMI_DESK_SYNC_URL, then the saved target (stored without password).
A PostgreSQL password comes from the URL given for this run, libpq's own mechanisms (PGPASSWORD,
~/.pgpass, a service file) or the OS keyring when the `keyring` package is installed. A
password anywhere in the URL (user:pw@, ?password=, ?sslpassword=) is used for this run only:
`saved` and `shown` never carry it, and `scrub` takes it out of any message. TLS with the
server's certificate and host name checked is required for hosts other than this machine
(store/engine.pg_connect_params).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nmi_desk.core.errors import UserError
from nmi_desk.core.i18n import Text

ENV_URL = "NMI_DESK_SYNC_URL"
KEYRING_SERVICE = "nmi-desk"
SECRET_PARAMS = ("password", "sslpassword")  # libpq parameters that hold a secret


@dataclass(frozen=True)
class Target:
    url: str  # with password, for this run only
    shown: str  # password masked, for messages
    saved: str  # without password, for config.toml
    source: str  # "option", "env", "settings"

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite:")

    def scrub(self, message: str) -> str:
        """A message with every secret of this URL replaced by ***."""
        for secret in _secrets(self.url):
            message = message.replace(secret, "***")
        return message

    def check_not_local(self, local) -> None:
        """Syncing the laptop's database into itself would mark everything synced."""
        from nmi_desk.store.connect import sqlite_path_from_url

        path = sqlite_path_from_url(self.url)
        if path is None:
            return
        with local.connect() as conn:
            files = [row[2] for row in conn.exec_driver_sql("PRAGMA database_list") if row[2]]
        if any(Path(f).resolve() == path.resolve() for f in files):
            raise UserError.of("errors.sync.target_is_local", target=self.shown)


def check_url(url: str) -> None:
    if url.startswith("sqlite:///"):
        return
    if url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        return
    raise UserError.of("errors.sync.unsupported", target=_mask(url))


def _parse(url: str):
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018  (a port that is not a number raises here, not later)
    except Exception:  # ValueError, ArgumentError: show only the scheme, never a secret
        raise UserError.of("errors.sync.invalid_url", scheme=url.split("://", 1)[0]) from None
    return parsed


def _secrets(url: str) -> list[str]:
    if url.startswith("sqlite:"):
        return []
    u = _parse(url)
    found = [u.password] if u.password else []
    for key, value in u.query.items():
        if key.lower() in SECRET_PARAMS:
            found += [value] if isinstance(value, str) else list(value)
    return [s for s in found if s]


def _strip(url: str, mask: bool) -> str:
    """The URL without its secrets: user-info password masked (***) or dropped; query
    secrets (?password=, ?sslpassword=) always dropped."""
    if url.startswith("sqlite:"):
        return url
    from sqlalchemy.engine import URL

    u = _parse(url)
    query = {k: v for k, v in u.query.items() if k.lower() not in SECRET_PARAMS}
    # URL.set(password=None) would keep it: None means "unchanged" there
    password = u.password if mask else None
    bare = URL.create(u.drivername, u.username, password, u.host, u.port, u.database, query)
    return bare.render_as_string(hide_password=True)


def _mask(url: str) -> str:
    return _strip(url, mask=True)


def without_password(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return _strip(url, mask=False)


def _absolute_sqlite(url: str) -> str:
    """A relative SQLite target means the same file from wherever sync runs next."""
    from nmi_desk.store.connect import sqlite_path_from_url

    path = sqlite_path_from_url(url)
    if path is None:
        return url
    absolute = f"sqlite:///{Path(path).resolve()}"
    return url if absolute == url else absolute


def _with_keyring_password(url: str) -> str:
    """Add a password from the OS keyring, if the keyring package exists and knows one."""
    parsed = _parse(url)
    if _secrets(url) or not parsed.username:
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
        raise UserError.of("errors.sync.no_target", env=ENV_URL)
    if not isinstance(url, str):
        raise UserError.of("errors.sync.target_not_url")
    check_url(url)
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("sqlite:"):
        url = _absolute_sqlite(url)
    else:
        _parse(url)
        url = _with_keyring_password(url)
    return Target(url=url, shown=_mask(url), saved=without_password(url), source=source)


def open_central(target: Target):
    """The central engine, its schema created or migrated; one clear line when it fails."""
    from nmi_desk.store.engine import open_engine

    if target.is_sqlite:
        from nmi_desk.store.connect import sqlite_path_from_url

        path = sqlite_path_from_url(target.url)
        if path is not None and not path.parent.is_dir():
            raise UserError.of("errors.sync.no_folder", target=target.shown, folder=path.parent)
    try:
        return open_engine(target.url)
    except UserError as exc:
        said = exc.text
        if isinstance(said, Text) and said.key == "errors.db.cannot_open":
            said = said.params["reason"]  # the driver's words: "cannot open" is said below
        reason = said.map_params(target.scrub) if isinstance(said, Text) else target.scrub(said)
        raise UserError.of("errors.sync.unreachable", target=target.shown, reason=reason) from None
