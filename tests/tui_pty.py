"""Run `nmi-desk` in a real pseudo-terminal (POSIX): send keys, read what it draws."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
import threading
import time

ANSI = re.compile(
    r"\x1b(\[[0-9;?<>=$]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])"
)


class PtyApp:
    def __init__(self, args: list[str], env: dict, size=(100, 30)) -> None:
        master, slave = os.openpty()
        rows_cols = struct.pack("HHHH", size[1], size[0], 0, 0)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, rows_cols)
        self.proc = subprocess.Popen(
            args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color", "COLUMNS": str(size[0]), "LINES": str(size[1])},
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.raw = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.raw.extend(chunk)

    @property
    def text(self) -> str:
        with self._lock:
            data = bytes(self.raw)
        return ANSI.sub("", data.decode("utf-8", "replace"))

    def mark(self) -> int:
        with self._lock:
            return len(self.raw)

    def text_since(self, mark: int) -> str:
        with self._lock:
            data = bytes(self.raw[mark:])
        return ANSI.sub("", data.decode("utf-8", "replace"))

    def send(self, data: str | bytes) -> None:
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def wait_for(self, predicate, what: str, limit: float = 90.0) -> None:
        """Poll until predicate() holds; a generous limit, not a speed assertion."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if predicate():
                return
            if self.proc.poll() is not None and not predicate():
                raise AssertionError(f"app exited ({self.proc.returncode}) waiting for {what}")
            time.sleep(0.1)
        raise AssertionError(f"gave up waiting for {what}; screen text:\n{self.text[-2000:]}")

    def wait_text(self, needle: str, since: int = 0, limit: float = 90.0) -> None:
        self.wait_for(lambda: needle in self.text_since(since), repr(needle), limit)

    def wait_drained(self, limit: float = 30.0) -> None:
        """After the process exited: until the reader has every byte it wrote."""
        self._reader.join(limit)

    def kill9(self) -> None:
        os.killpg(self.proc.pid, 9)
        self.proc.wait()
        self.close()

    def close(self) -> None:
        try:
            os.close(self.master)
        except OSError:
            pass


def nmi_desk_args(*extra: str) -> list[str]:
    return [sys.executable, *extra, "-m", "nmi_desk"]
