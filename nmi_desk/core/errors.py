"""Errors that are the user's to fix: the CLI prints them as one line, never a traceback.

A message the consultant can meet in the TUI is a catalog text (nmi_desk.core.i18n.Text, keys
under `errors.` in nmi_desk/locale/*.toml): `raise UserError.of("errors.output_folder",
output=p)`. `str(exc)` is the English text, which the CLI prints (office and scripts);
`user_text(exc, lang)` is the same message in the UI's language, for the TUI. The one-line
explanations below (`one_line`, `storage_problem`, and store.file_state's
`explain_database_error`) return such texts too, so they render the same way.
"""

from __future__ import annotations

import errno
from typing import Any

from nmi_desk.core.i18n import Text


class UserError(Exception):
    """A mistake in input or environment, explained in one line for the consultant."""

    @classmethod
    def of(cls, key: str, /, **params: Any) -> UserError:
        """The error with catalog text `key` (English in str(), any language in render)."""
        return cls(Text(key, **params))

    @property
    def text(self) -> str:
        """The message: a Text when it came from the catalog, else the plain string."""
        first = self.args[0] if self.args else ""
        return first if isinstance(first, Text) else str(self)

    def render(self, lang: str) -> str:
        text = self.text
        return text.render(lang) if isinstance(text, Text) else text


def user_text(what: BaseException | str | None, lang: str) -> str:
    """A UserError, a one-line explanation (a Text) or any other error as one line in `lang`
    ("nl" or "en"). Plain strings (an English message not in the catalog) are shown as they are."""
    if what is None:
        return ""
    if isinstance(what, BaseException) and not isinstance(what, UserError):
        what = one_line(what)
    render = getattr(what, "render", None)
    return render(lang) if callable(render) else str(what)


# errno -> catalog key, used only when the system's own words are the ones in the English
# catalog (so the CLI prints exactly what the system said)
_OS_REASONS = {
    errno.EACCES: "errors.os.permission",
    errno.EPERM: "errors.os.not_permitted",
    errno.ENOSPC: "errors.os.disk_full",
    errno.EROFS: "errors.os.read_only",
    errno.ENOENT: "errors.os.not_found",
    errno.EISDIR: "errors.os.is_folder",
    errno.ENOTDIR: "errors.os.not_folder",
    errno.ENAMETOOLONG: "errors.os.name_too_long",
    errno.EIO: "errors.os.io",
    errno.EEXIST: "errors.os.exists",
}


def os_reason(exc: BaseException) -> str:
    """Why an OSError happened, as the system says it (exc.strerror) in English; a Text the
    TUI can say in Dutch for the common cases."""
    strerror = getattr(exc, "strerror", None)
    if not strerror:
        return str(exc)
    code = getattr(exc, "errno", None)
    key = _OS_REASONS.get(code) if isinstance(code, int) else None
    if key is not None:
        text = Text(key)
        if text == strerror:
            return text
    return str(strerror)


def one_line(exc: BaseException) -> str:
    """An unexpected error as one line for the consultant: what failed and what to try.

    Database and file errors are named by kind (nmi_desk.core.db_errors); anything else by
    its type and first line only, so no SQL parameters or local values (client data) follow.
    The line is a Text: English as a string, any language with user_text.
    """
    from nmi_desk.core.db_errors import explain_database_error

    explained = explain_database_error(exc)
    if explained:
        return explained
    if isinstance(exc, OSError):
        reason = os_reason(exc) if exc.strerror else type(exc).__name__
        if not exc.filename:
            return reason
        where = str(exc.filename)
        if len(f"{exc.filename}: ") > 80:
            where = f"{where[:60]}..."
        return Text("errors.os_error_at", where=where, reason=reason)
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    first = lines[0][:160] if lines else ""
    return Text("errors.unexpected", kind=f"{type(orig).__name__}{': ' + first if first else ''}")


def storage_problem(exc: BaseException) -> str | None:
    """The one line for a failure of the disk or the database file that the consultant can act
    on (full disk, damaged or read-only file, a UserError from opening it); None for anything
    else, which is left to the app's handler for unexpected errors."""
    if isinstance(exc, UserError):
        return exc.text
    from nmi_desk.core.db_errors import explain_database_error

    explained = explain_database_error(exc)
    if explained:
        return explained
    if isinstance(exc, OSError):
        return one_line(exc)
    return None
