"""Unexpected errors (bugs, not a consultant's mistake): where they happened, in a log file.

What the consultant typed can sit in an exception's message ("invalid literal for int():
'Jansen'") and in every frame's local variables, so neither is written anywhere: the log holds
the exception's type, the types of its causes and the chain of frames (file, line, function).
That is enough to find the bug and holds no personal data. The log is logs/nmi-desk.log in the
data dir, readable by the owner only.
"""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path

from nmi_desk.core.paths import ensure_private_dir

LOG_NAME = "nmi-desk.log"
logger = logging.getLogger("nmi_desk")


def _short(filename: str) -> str:
    """A frame's file without the machine's own folders: 'nmi_desk/domain/visits.py'."""
    parts = Path(filename).parts
    for anchor in ("nmi_desk", "site-packages"):
        if anchor in parts:
            index = len(parts) - 1 - parts[::-1].index(anchor)
            return "/".join(parts[index + (anchor == "site-packages") :])
    return Path(filename).name


def where(error: BaseException) -> str:
    """The innermost frame of nmi-desk's own code (else the innermost at all): 'file:line'."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    own = [f for f in frames if "nmi_desk" in Path(f.filename).parts]
    frame = (own or frames)[-1]
    return f"{_short(frame.filename)}:{frame.lineno}"


def kind(error: BaseException) -> str:
    return type(error).__name__


def describe(error: BaseException) -> list[str]:
    """The exception's type, its causes' types and every frame, without messages or locals."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = f"{type(current).__module__}.{type(current).__qualname__}"
        lines.append(name if not lines else f"caused by {name}")
        for frame in traceback.extract_tb(current.__traceback__):
            lines.append(f"  {_short(frame.filename)}:{frame.lineno} in {frame.name}")
        current = current.__cause__ or current.__context__
    return lines


def _handler(log_dir: Path) -> logging.Handler:
    """One handler per log file, kept where logging keeps handlers: on a logger of its own
    (logging's registry), which nothing else writes through and which passes nothing up."""
    path = log_dir / LOG_NAME
    keeper = logging.getLogger(f"nmi_desk.errorlog.{path}")
    keeper.propagate = False
    if keeper.handlers:
        return keeper.handlers[0]
    ensure_private_dir(log_dir)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    keeper.addHandler(handler)
    return handler


def log_unexpected(log_dir: Path, error: BaseException, context: str) -> Path:
    """Write one entry for `error` (which happened in `context`, e.g. 'worker _save_worker');
    returns the log file's path for the line shown to the consultant."""
    handler = _handler(log_dir)
    record = logger.makeRecord(
        logger.name,
        logging.ERROR,
        __file__,
        0,
        "unexpected error in %s\n%s",
        (context, "\n".join(describe(error))),
        None,
    )
    # Straight to this file: neither a console handler someone configured nor a library's
    # logging.config call (which disables existing loggers) decides whether it is written.
    handler.handle(record)
    handler.flush()
    return log_dir / LOG_NAME
