"""Settings of this counter laptop, kept in config.toml in the data dir.

Credentials never go here (docs/sync.md): a sync target is stored without its password.
"""

from __future__ import annotations

import os
import sys
import tomllib
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from nmi_desk.errors import UserError
from nmi_desk.paths import data_dir, ensure_private_dir

CONFIG_NAME = "config.toml"
DB_NAME = "nmi-desk.db"
GUIDANCE_INDEX_NAME = "guidance-index.sqlite"
LANGS = ("nl", "en")


@dataclass
class Settings:
    consultant: str = ""  # initials, e.g. "AB"
    location: str = ""  # location code from data/locations.toml
    lang: str = "nl"
    device_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    sync_target: str = ""  # URL without password
    lock_minutes: int = 5
    retention_days: int = 30

    @property
    def is_set_up(self) -> bool:
        return bool(self.consultant and self.location)


@dataclass
class Paths:
    home: Path

    @property
    def config(self) -> Path:
        return self.home / CONFIG_NAME

    @property
    def database(self) -> Path:
        return self.home / DB_NAME

    @property
    def guidance_index(self) -> Path:
        """The guidance search index: a plain cache of published articles, no personal data."""
        return self.home / GUIDANCE_INDEX_NAME

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def logs(self) -> Path:
        return self.home / "logs"


def resolve_paths(override: str | os.PathLike[str] | None = None) -> Paths:
    return Paths(data_dir(override))


def load_settings(paths: Paths) -> Settings:
    """Read config.toml; a missing file gives defaults (and a fresh device id, saved on first save)."""
    try:
        raw = paths.config.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise UserError(f"cannot read {paths.config}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{paths.config} is not valid TOML: {exc}") from exc
    known = {f.name for f in fields(Settings)}
    settings = Settings(**{k: v for k, v in data.items() if k in known})
    if settings.lang not in LANGS:
        settings.lang = "nl"
    return settings


def save_settings(paths: Paths, settings: Settings) -> None:
    import tomli_w

    ensure_private_dir(paths.home)
    text = tomli_w.dumps(asdict(settings))
    tmp = paths.config.with_suffix(".tmp")
    # Write-then-rename: a kill mid-write never leaves a half config behind.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, paths.config)
    if sys.platform != "win32":
        os.chmod(paths.config, 0o600)
