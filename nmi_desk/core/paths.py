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
    """One line for an OSError about `path` (the data dir or a file in it), as a catalog
    text (English as a string; nmi_desk.core.errors.user_text says it in the UI's language)."""
    import errno

    from nmi_desk.core.errors import os_reason
    from nmi_desk.core.i18n import Text

    where = shown(path)
    if exc.errno == errno.ENAMETOOLONG:
        return Text("errors.paths.too_long", path=where)
    if exc.errno == errno.ENOTDIR:
        return Text("errors.paths.part_is_file", path=where)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return Text("errors.paths.no_permission", path=where)
    if exc.errno == errno.EROFS:
        return Text("errors.paths.read_only", path=where)
    if exc.errno == errno.ENOSPC:
        return Text("errors.paths.disk_full", path=where)
    return Text("errors.paths.other", path=where, reason=os_reason(exc))


def ensure_private_dir(path: Path, tighten_existing: bool = True) -> Path:
    """Create the dir readable by the owner only (POSIX; on Windows the profile ACL applies).
    A folder that cannot be made or is not ours is one line (UserError), not a traceback.

    `tighten_existing=False` leaves a folder that is already there as it is: a database the
    office names (a central SQLite file in a shared folder, or in /tmp) must not make that
    folder private for everyone else."""
    from nmi_desk.core.errors import UserError

    try:
        existed = path.is_dir()
        path.mkdir(parents=True, exist_ok=True)
        if existed and not tighten_existing:
            return path
        if sys.platform != "win32" and (path.stat().st_mode & 0o777) != 0o700:
            os.chmod(path, 0o700)
    except FileExistsError:
        raise UserError.of("errors.paths.data_dir_is_file", path=shown(path)) from None
    except OSError as exc:
        raise UserError.of("errors.paths.data_dir", reason=path_problem(path, exc)) from None
    return path


def shipped_data_dir() -> Path:
    """The reference data and guidance: nmi_desk/data in a wheel, data/ in a source checkout."""
    here = Path(__file__).resolve().parent.parent  # nmi_desk/
    for candidate in (here / "data", here.parent / "data"):
        if (candidate / "topics.toml").is_file():
            return candidate
    raise FileNotFoundError("nmi-desk reference data not found (data/topics.toml)")
