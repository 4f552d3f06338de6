"""Start-up: process start to "Today on screen with its rows", nmi-desk vs a bare Textual app.

Both run in a real pseudo-terminal with NMI_DESK_EXIT_WHEN_READY=1 (each exits as soon as it
has painted what it is there to show), alternating, in one run, so the ratio is fair on a
noisy machine. nmi-desk runs on a database of --visits synthetic visits (`nmi-desk demo`).

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
    "import nmi_desk.entry, nmi_desk.tui.run\n"  # what `nmi-desk` imports on its way to the TUI
    "from nmi_desk.desk import Desk\n"
    "from nmi_desk.tui.app import NmiDeskApp\n"
    "NmiDeskApp(Desk.open()).run()\n"
)


def run_in_pty(
    args: list[str], env: dict, size=(100, 30), answer: bytes | None = None
) -> tuple[float, bytes, int]:
    """Wall seconds from spawn to exit, the bytes drawn, the exit code.

    `answer` is typed once the unlock screen is drawn (the real, encrypted start)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    out = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            out.extend(chunk)

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
    return took, bytes(out), code


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
    from nmi_desk.desk import Desk

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
    commands = {
        "bare Textual app": ([sys.executable, str(HERE / "bare_app.py")], env, None),
        "counter app, plain database": ([sys.executable, "-c", PLAIN_APP], env, None),
        "nmi-desk, encrypted + unlock": ([sys.executable, "-m", "nmi_desk"], enc_env, answer),
    }
    # warm the OS file cache once for each, then alternate
    for cmd, cmd_env, reply in commands.values():
        run_in_pty(cmd, cmd_env, answer=reply)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (cmd, cmd_env, reply) in commands.items():
            took, _, code = run_in_pty(cmd, cmd_env, answer=reply)
            if code != 0:
                sys.exit(f"{name} exited with {code}")
            times[name].append(took * 1000)

    _, drawn, _ = run_in_pty([sys.executable, "-X", "importtime", "-c", PLAIN_APP], env)
    text = drawn.decode("utf-8", "replace")
    orm = [m for m in ("sqlalchemy", "sqlmodel") if f"| {m}" in text or f" {m}\r" in text]
    rows = _today_rows(home)

    print(f"database: {args.visits:,} visits, today's list at the location: {rows} rows")
    print(f"runs: {args.runs} each, alternating, process start to exit-when-ready, ms")
    print(f"{'':32} {'mean':>7} {'median':>7} {'min':>7}")
    for name, values in times.items():
        print(
            f"{name:32} {statistics.mean(values):7.0f} {statistics.median(values):7.0f} "
            f"{min(values):7.0f}"
        )
    bare = statistics.median(times["bare Textual app"])
    for name in list(times)[1:]:
        print(f"ratio {name} / bare (median): {statistics.median(times[name]) / bare:.2f}x")
    print("goal: counter app <= 1.5x the bare app")
    print(f"ORM imported before ready: {', '.join(orm) if orm else 'no'}")


def _today_rows(home: Path) -> int:
    from nmi_desk.desk import Desk
    from nmi_desk.store.connect import connect_sqlite
    from nmi_desk.visits import day_rows

    desk = Desk.open(home)
    conn = connect_sqlite(home / "nmi-desk.db", readonly=True)
    try:
        return len(day_rows(conn, desk.settings.location, desk.today()))
    finally:
        conn.close()


if __name__ == "__main__":
    main()
