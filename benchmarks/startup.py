"""Start-up: process start to "Today on screen with its rows", nmi-desk vs a bare Textual app.

Both run in a real pseudo-terminal, alternating, in one run, so the ratio is fair on a noisy
machine. "Ready" is the moment the terminal has received the screen's content, watched from
outside in the bytes the app writes: for nmi-desk the day's count ("Bezoeken vandaag: 663")
and the newest visit's time, for the bare app its "Hello". With NMI_DESK_EXIT_WHEN_READY=1
each app then exits (the time to exit is printed too). nmi-desk runs on a database of
--visits synthetic visits (`nmi-desk demo`).

    python benchmarks/startup.py --visits 100000 --runs 10 [--home DIR]

Measured twice for nmi-desk: the counter app on a plain database (the start path this
benchmark is about), and the real `nmi-desk` command on the same data encrypted, where the
passphrase is typed the moment the unlock screen shows (its key derivation is deliberately
slow: a stolen laptop must not be brute-forced). Also checks with `python -X importtime` that
SQLAlchemy/SQLModel are not imported before Today is ready.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


PASSPHRASE = "benchmark-wachtzin-synthetisch"
UNLOCK_MARKER = b"Ontgrendelen"
PLAIN_APP = (
    "import nmi_desk.entry\n"  # what `nmi-desk` imports on its way to the TUI
    "from nmi_desk.tui.run import run_tui\n"
    "run_tui(require_encryption=False)\n"  # the real start path, on the plain database
)


def run_in_pty(
    args: list[str],
    env: dict,
    ready: tuple[bytes, ...],
    size=(100, 30),
    answer: bytes | None = None,
) -> tuple[float | None, float, bytes, int]:
    """Seconds from spawn until every `ready` text has reached the terminal (None if never),
    seconds from spawn to exit, the bytes drawn, the exit code.

    `answer` is typed once the unlock screen is drawn (the real, encrypted start)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    out = bytearray()
    seen: list[float] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            out.extend(chunk)
            if not seen and all(text in out for text in ready):
                seen.append(time.perf_counter())

    reader = threading.Thread(target=drain, daemon=True)
    started = time.perf_counter()
    proc = subprocess.Popen(
        args,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)
    reader.start()
    if answer is not None:
        while UNLOCK_MARKER not in out and proc.poll() is None:
            time.sleep(0.005)
        time.sleep(0.05)  # the input field takes focus
        os.write(master, answer)
    code = proc.wait(timeout=120)
    took = time.perf_counter() - started
    reader.join(timeout=2)
    os.close(master)
    return (seen[0] - started if seen else None), took, bytes(out), code


def encrypted_copy(home: Path) -> Path:
    """The same data dir, encrypted under PASSPHRASE (as the real counter app keeps it)."""
    import shutil

    target = home.with_name(home.name + "-encrypted")
    if not (target / "nmi-desk.db").exists():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(home, target)
        env = {**os.environ, "NMI_DESK_HOME": str(target), "NMI_DESK_NEW_PASSPHRASE": PASSPHRASE}
        subprocess.run([sys.executable, "-m", "nmi_desk", "change-passphrase"], env=env, check=True)
    return target


def prepare(home: Path, visits: int) -> None:
    from nmi_desk.domain.desk import Desk

    desk = Desk.open(home)
    if not desk.settings.is_set_up:
        desk.settings.consultant = "BM"
        desk.settings.location = "eindhoven-stadskantoor"
        desk.save_settings()
    desk.close()
    if (home / "nmi-desk.db").exists():
        return
    env = {**os.environ, "NMI_DESK_HOME": str(home)}
    # 30 days ending today, so today's list at one location holds a realistic few hundred rows
    subprocess.run(
        [sys.executable, "-m", "nmi_desk", "demo", "--visits", str(visits), "--seed", "7"],
        env=env,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--home", type=Path, help="reuse this data dir (kept afterwards)")
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="nmi-bench-"))
    prepare(home, args.visits)
    env = {**os.environ, "NMI_DESK_HOME": str(home), "NMI_DESK_EXIT_WHEN_READY": "1"}
    enc_env = {**env, "NMI_DESK_HOME": str(encrypted_copy(home))}
    answer = (PASSPHRASE + "\r").encode()
    rows, today_ready = _today_markers(home)
    commands = {
        "bare Textual app": ([sys.executable, str(HERE / "bare_app.py")], env, None, BARE_READY),
        "counter app, plain database": ([sys.executable, "-c", PLAIN_APP], env, None, today_ready),
        "nmi-desk, encrypted + unlock": (
            [sys.executable, "-m", "nmi_desk"],
            enc_env,
            answer,
            today_ready,
        ),
    }
    # warm the OS file cache once for each, then alternate
    for cmd, cmd_env, reply, ready in commands.values():
        run_in_pty(cmd, cmd_env, ready, answer=reply)
    ready_ms: dict[str, list[float]] = {name: [] for name in commands}
    exit_ms: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (cmd, cmd_env, reply, ready) in commands.items():
            shown, took, _, code = run_in_pty(cmd, cmd_env, ready, answer=reply)
            if code != 0 or shown is None:
                sys.exit(f"{name}: exit code {code}, ready text seen: {shown is not None}")
            ready_ms[name].append(shown * 1000)
            exit_ms[name].append(took * 1000)

    orm = _orm_before_ready(env, today_ready)
    print(f"database: {args.visits:,} visits, today's list at the location: {rows} rows")
    print(f"runs: {args.runs} each, alternating, ms from process start")
    print(f"{'':32} {'ready: median':>14} {'mean':>6} {'min':>6} {'exit: median':>13}")
    for name, values in ready_ms.items():
        print(
            f"{name:32} {statistics.median(values):14.0f} {statistics.mean(values):6.0f} "
            f"{min(values):6.0f} {statistics.median(exit_ms[name]):13.0f}"
        )
    bare = statistics.median(ready_ms["bare Textual app"])
    bare_exit = statistics.median(exit_ms["bare Textual app"])
    for name in list(ready_ms)[1:]:
        print(
            f"ratio {name} / bare: ready {statistics.median(ready_ms[name]) / bare:.2f}x, "
            f"exit {statistics.median(exit_ms[name]) / bare_exit:.2f}x"
        )
    print("goal: counter app ready <= 1.5x the bare app")
    print(f"ORM imported before Today was on screen: {', '.join(orm) if orm else 'no'}")


BARE_READY = (b"Hello",)


def _today_markers(home: Path) -> tuple[int, tuple[bytes, ...]]:
    """Today is ready when the terminal has the day's count and the newest visit's time."""
    from nmi_desk.core.translator import Translator
    from nmi_desk.domain.desk import Desk
    from nmi_desk.domain.stats.today import read_today

    desk = Desk.open(home)
    view = read_today(desk)
    if view is None or not view.rows:
        sys.exit(f"no visits today at {desk.settings.location} in {home}")
    counts = Translator(desk.settings.lang)("today.visits", n=view.counts.visits)
    return len(view.rows), (counts.encode(), view.rows[0].time.encode())


def _orm_before_ready(env: dict, ready: tuple[bytes, ...]) -> list[str]:
    """`python -X importtime`: which ORM modules were imported before Today was on screen."""
    _, _, drawn, _ = run_in_pty([sys.executable, "-X", "importtime", "-c", PLAIN_APP], env, ready)
    cut = min((drawn.find(text) for text in ready if text in drawn), default=len(drawn))
    before = drawn[:cut].decode("utf-8", "replace")
    return [m for m in ("sqlalchemy", "sqlmodel") if f"| {m}" in before or f" {m}\r" in before]


if __name__ == "__main__":
    main()
