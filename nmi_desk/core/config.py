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
from typing import Any

from nmi_desk.core.errors import UserError
from nmi_desk.core.i18n import Text
from nmi_desk.core.paths import data_dir, ensure_private_dir, path_problem

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
    # Where the TUI writes inzage documents (the consultant's choice); "" = the Documents
    # folder. Never the data folder by default: the document is for the client, not a copy
    # to keep (nmi_desk.domain.copies).
    inzage_dir: str = ""

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


def _read_config(paths: Paths) -> bytes | None:
    """config.toml's bytes; None when there is none. Never opens a FIFO or a device (a read
    of one blocks): stat before open."""
    import stat

    try:
        mode = os.stat(paths.config).st_mode
        if not stat.S_ISREG(mode):
            raise UserError.of("errors.config.not_regular", path=paths.config)
        return paths.config.read_bytes()
    except FileNotFoundError:
        return None


def has_device_id(paths: Paths) -> bool:
    """Whether config.toml holds a device id (a missing or empty file does not)."""
    try:
        raw = _read_config(paths)
        data = tomllib.loads(raw.decode("utf-8")) if raw else {}
    except (UserError, OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return True  # unreadable: load_settings says why; nothing is rewritten over it
    return bool(str(data.get("device_id") or "").strip())


def load_settings(paths: Paths) -> Settings:
    """Read config.toml; a missing or empty file gives defaults and a fresh device id (the
    desk keeps the one in the database, nmi_desk.domain.desk)."""
    try:
        raw = _read_config(paths)
        if raw is None:
            return Settings()
    except OSError as exc:
        raise UserError.of(
            "errors.config.cannot_read", reason=path_problem(paths.config, exc)
        ) from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError.of("errors.config.not_toml", path=paths.config, reason=str(exc)) from exc
    data = check_settings(data, paths.config)
    if not str(data.get("device_id", "x")).strip():
        data.pop("device_id")  # device_id = "": as if missing (a fresh one, kept by the desk)
    return Settings(**data)


_TYPE_NAMES: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "str": ("text in quotes", str),
    "int": ("a whole number", int),
    "bool": ("true or false", bool),
    "float": ("a number", (int, float)),
}


def _type_label(declared: str) -> Text:
    """What a setting of this declared type must be, for the message."""
    if declared == "str":
        return Text("errors.config.type_text")
    if declared == "int":
        return Text("errors.config.type_int")
    if declared == "bool":
        return Text("errors.config.type_bool")
    return Text("errors.config.type_float")


MAX_RETENTION_DAYS = 36_500  # a hundred years: anything longer is a typo
_LIMITS = {"lock_minutes": (0, 24 * 60), "retention_days": (0, MAX_RETENTION_DAYS)}


def check_settings(data: dict[str, Any], where: Path) -> dict[str, Any]:
    """The settings in `data`, each of the type Settings declares; one line naming the first
    key that is unknown or of the wrong type (a hand-edited config.toml)."""
    known = {f.name: f.type for f in fields(Settings)}
    for key, value in data.items():
        if key not in known:
            raise UserError.of(
                "errors.config.unknown", where=where, key=key, known=", ".join(sorted(known))
            )
        declared = str(known[key])
        if declared in _TYPE_NAMES:  # other declared types are checked where they are used
            label, wanted = _TYPE_NAMES[declared]
            if not isinstance(value, wanted) or (isinstance(value, bool) and declared != "bool"):
                label = _type_label(declared)
                room = max(0, 300 - len(f"{where}: {key} must be {label}, not "))
                raise UserError.of(
                    "errors.config.wrong_type",
                    where=where,
                    key=key,
                    label=label,
                    value=repr(value)[:room],
                )
        if key in _LIMITS:
            low, high = _LIMITS[key]
            if not low <= value <= high:
                raise UserError.of(
                    "errors.config.out_of_range",
                    where=where,
                    key=key,
                    low=low,
                    high=high,
                    value=value,
                )
        if key == "lang" and value not in LANGS:
            raise UserError.of(
                "errors.config.lang", where=where, known=", ".join(LANGS), value=value
            )
    return data


def save_settings(paths: Paths, settings: Settings) -> None:
    import tomli_w

    ensure_private_dir(paths.home)
    text = tomli_w.dumps(asdict(settings))
    tmp = paths.config.with_suffix(".tmp")
    # Write-then-rename: a kill mid-write (or a full disk) never leaves a half config behind.
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, paths.config)
        if sys.platform != "win32":
            os.chmod(paths.config, 0o600)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError.of(
            "errors.config.cannot_save", reason=path_problem(paths.config, exc)
        ) from exc
