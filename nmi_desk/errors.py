"""Errors that are the user's to fix: the CLI prints them as one line, never a traceback."""


class UserError(Exception):
    """A mistake in input or environment, explained in one line for the consultant."""
