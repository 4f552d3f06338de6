"""Lists of keys bound to PostgreSQL as one array literal ('{a,b,c}'), not as a Python list.

psycopg adapts a list element by element in Python (each string searched for characters to
quote): of the 2.0 ms a 1,000-uuid look-up of the push took, 1.4 ms was that (measured; the
same look-up with the literal 0.6 ms). Uuids, codes and ids need no quoting, so they are
joined as they are, checked with one pattern over the whole; anything else is left to psycopg.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from sqlalchemy.engine import Dialect
from sqlalchemy.types import String, TypeDecorator

# Tokens an array literal takes as they are (no quotes, braces, commas, spaces, backslashes).
_PLAIN = re.compile(r"[A-Za-z0-9_.:-]+(?:,[A-Za-z0-9_.:-]+)*\Z")
_NULL = re.compile(r"(?:^|,)null(?:,|$)", re.IGNORECASE)  # unquoted NULL is a null element


def pg_array(values: Iterable[object]) -> str | list[object]:
    """An array literal of `values` (ints, or strings of plain tokens); else the list."""
    values = list(values)
    if not values:
        return "{}"
    if all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}"
    if all(type(v) is str for v in values):
        joined = ",".join(map(str, values))
        # One comma per gap: a key holding a comma of its own would split in two.
        plain = joined.count(",") == len(values) - 1 and _PLAIN.match(joined)
        if plain and not _NULL.search(joined):
            return "{" + joined + "}"
    return values


class KeyArray(TypeDecorator[object]):
    """A bound list of keys, sent to PostgreSQL as one array literal (`CAST(:u AS varchar[])`)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: object, dialect: Dialect) -> object:
        if value is None or dialect.name != "postgresql" or isinstance(value, str):
            return value
        return pg_array(value)  # type: ignore[arg-type]  # a list of keys
