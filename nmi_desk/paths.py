"""Where things live: the user's data dir (or NMI_DESK_HOME / --data-dir) and the shipped data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "nmi-desk"
HOME_ENV = "NMI_DESK_HOME"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def ensure_private_dir(path: Path) -> Path:
    """Create the dir readable by the owner only (POSIX; on Windows the profile ACL applies)."""
    path.mkdir(parents=True, exist_ok=True)
    if sys.platform != "win32":
        os.chmod(path, 0o700)
    return path


def shipped_data_dir() -> Path:
    """The reference data and guidance: nmi_desk/data in a wheel, data/ in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "data", here.parent / "data"):
        if (candidate / "topics.toml").is_file():
            return candidate
    raise FileNotFoundError("nmi-desk reference data not found (data/topics.toml)")
