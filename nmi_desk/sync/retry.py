"""A central transaction run again after a deadlock or serialization failure (the push's
batches, the fast lane, the fold)."""

from __future__ import annotations

from collections.abc import Callable

RETRIES = 8  # a deadlock or serialization failure: run the batch's transaction again


def retryable(exc: Exception) -> bool:
    code = getattr(getattr(exc, "orig", exc), "sqlstate", None)
    return code in ("40001", "40P01")  # serialization failure, deadlock detected


def retrying(transaction: Callable[[], object]):
    """Run a central transaction again after a deadlock or serialization failure."""
    import random
    import time

    from sqlalchemy.exc import DBAPIError

    for attempt in range(RETRIES):
        try:
            return transaction()
        except DBAPIError as exc:
            if not retryable(exc) or attempt == RETRIES - 1:
                raise
            time.sleep(random.uniform(0, 0.05 * 2**attempt))  # others finish first
