"""Writing a file the user named: exports, reports, letters, client documents.

One rule for every output: the content goes to a temporary file beside the target and is
renamed over it, so a full disk or a kill leaves the old file (or nothing), never half a file.
Only a regular file is ever replaced: a folder, a device, a pipe or a symbolic link is refused
with one line (writing "through" a link would put data where the user did not look). `-` means
standard output.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from nmi_desk.core.errors import UserError, os_reason

STDOUT = "-"


def check_output(output: str) -> Path | None:
    """Refuse a target we would not write, before any work is done. None means stdout."""
    if output == STDOUT:
        return None
    if not output or "\x00" in output:
        raise UserError.of("errors.output.no_name")
    path = Path(output).expanduser()
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UserError.of(
            "errors.output.cannot_write", output=output, reason=os_reason(exc)
        ) from exc
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise UserError.of("errors.output.link", output=output)
        if stat.S_ISDIR(info.st_mode):
            raise UserError.of("errors.output.folder", output=output)
        if not stat.S_ISREG(info.st_mode):
            raise UserError.of("errors.output.not_regular", output=output)
    parent = path.parent
    if not parent.is_dir():
        raise UserError.of("errors.output.no_folder", output=output, folder=parent)
    if len(path.name.encode("utf-8", "surrogateescape")) > 255:
        raise UserError.of("errors.output.name_too_long", output=output[:60])
    return path


def write_output(output: str, payload: str | bytes, *, private: bool = False) -> str:
    """Write `payload` to `output` (a path or '-'); returns where it went, for the message.

    `private`: the file holds personal data and is made readable by the owner only.
    """
    path = check_output(output)
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    if path is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return "stdout"
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".nmi-", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if not private:  # mkstemp makes 0600; an ordinary output gets the usual mode
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise UserError.of(
            "errors.output.cannot_write", output=output, reason=os_reason(exc)
        ) from exc
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return str(path)
