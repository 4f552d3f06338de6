"""Errors that are the user's to fix: the CLI prints them as one line, never a traceback."""


class UserError(Exception):
    """A mistake in input or environment, explained in one line for the consultant."""


def one_line(exc: BaseException) -> str:
    """An unexpected error as one line for the consultant: what failed and what to try.

    Database and file errors are named by kind (nmi_desk.store.file_state); anything else by
    its type and first line only, so no SQL parameters or local values (client data) follow.
    """
    from nmi_desk.store.file_state import explain_database_error

    explained = explain_database_error(exc)
    if explained:
        return explained
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        if len(where) > 80:
            where = f"{str(exc.filename)[:60]}...: "
        return f"{where}{exc.strerror or type(exc).__name__}"
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    first = lines[0][:160] if lines else ""
    return (
        f"unexpected error ({type(orig).__name__}{': ' + first if first else ''}); "
        "nothing more was done: run nmi-desk doctor"
    )


def storage_problem(exc: BaseException) -> str | None:
    """The one line for a failure of the disk or the database file that the consultant can act
    on (full disk, damaged or read-only file, a UserError from opening it); None for anything
    else, which is left to the app's handler for unexpected errors."""
    if isinstance(exc, UserError):
        return str(exc)
    from nmi_desk.store.file_state import explain_database_error

    explained = explain_database_error(exc)
    if explained:
        return explained
    if isinstance(exc, OSError):
        return one_line(exc)
    return None
