"""The push's writer thread (push.push drives it); apart from push.py to keep that module
under the house's 800 lines."""

from __future__ import annotations


class Writer:
    """Writes to the laptop (synced marks, quarantine) in a thread of their own, in order, so
    marking batch N overlaps batch N+1's central transaction. A mark still comes only after
    its batch's central commit; a kill before it leaves the batch pending (pushed again,
    idempotently)."""

    def __init__(self, raw) -> None:
        import queue
        import threading

        self._raw = raw
        self._queue: queue.Queue = queue.Queue()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sync-mark", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            if self.error is None:
                try:
                    job(self._raw)
                except BaseException as exc:  # handed to the pushing thread by close()
                    self.error = exc

    def submit(self, job) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(job)

    def close(self) -> None:
        """Wait for every submitted write; raise the first that failed."""
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error
