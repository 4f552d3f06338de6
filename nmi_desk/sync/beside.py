"""A step of a sync in a thread of its own, its result or error handed back when joined."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Beside(Generic[T]):
    """A step in a thread of its own beside the push (the fold, the lane's second
    transaction); wait() joins it and returns what it returned or raises what it raised."""

    def __init__(self, step: Callable[[], T], name: str) -> None:
        import threading

        self.error: BaseException | None = None
        self.value: T | None = None
        self._thread = threading.Thread(target=self._run, args=(step,), name=name)
        self._thread.start()

    def _run(self, step) -> None:
        try:
            self.value = step()
        except BaseException as exc:  # handed to the syncing thread by wait()
            self.error = exc

    def wait(self, quiet: bool = False) -> T | None:
        self._thread.join()
        if self.error is not None and not quiet:
            raise self.error
        return self.value
