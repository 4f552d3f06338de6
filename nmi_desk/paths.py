"""Where things live: the user's data dir (or NMI_DESK_HOME / --data-dir) and the shipped data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "nmi-desk"
HOME_ENV = "NMI_DESK_HOME"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    # Absolute from here on: a relative --data-dir is ordinary use, and SQLite URLs, file URIs
    # and saved paths must not change meaning with the working directory.
    if override:
        return Path(override).expanduser().absolute()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser().absolute()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def shown(path: Path | str, limit: int = 80) -> str:
    """A path for a one-line message: a very long one is cut in the middle."""
    text = str(path)
    return text if len(text) <= limit else f"{text[: limit // 2 - 2]}...{text[-(limit // 2 - 1) :]}"


def path_problem(path: Path, exc: OSError) -> str:
    """One line for an OSError about `path` (the data dir or a file in it)."""
    import errno

    if exc.errno == errno.ENAMETOOLONG:
        return f"the path {shown(path)} is too long for the file system: choose a shorter one"
    if exc.errno == errno.ENOTDIR:
        return f"{shown(path)}: a part of this path is a file, not a folder"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{shown(path)}: no permission (check the owner and mode of the folder)"
    if exc.errno == errno.EROFS:
        return f"{shown(path)}: the disk is read-only"
    if exc.errno == errno.ENOSPC:
        return f"{shown(path)}: the disk is full"
    return f"{shown(path)}: {exc.strerror or exc}"


def ensure_private_dir(path: Path) -> Path:
    """Create the dir readable by the owner only (POSIX; on Windows the profile ACL applies).
    A folder that cannot be made or is not ours is one line (UserError), not a traceback."""
    from nmi_desk.errors import UserError

    try:
        path.mkdir(parents=True, exist_ok=True)
        if sys.platform != "win32" and (path.stat().st_mode & 0o777) != 0o700:
            os.chmod(path, 0o700)
    except FileExistsError:
        raise UserError(f"the data dir {shown(path)} is a file, not a folder") from None
    except OSError as exc:
        raise UserError(f"cannot use the data dir: {path_problem(path, exc)}") from None
    return path


def shipped_data_dir() -> Path:
    """The reference data and guidance: nmi_desk/data in a wheel, data/ in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "data", here.parent / "data"):
        if (candidate / "topics.toml").is_file():
            return candidate
    raise FileNotFoundError("nmi-desk reference data not found (data/topics.toml)")
