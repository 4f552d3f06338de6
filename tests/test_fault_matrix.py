"""Every command against every state the database file can be found in, as real processes.

States: missing, empty, truncated, random bytes inside, plain where an encrypted file was,
wrong passphrase, read-only folder, full disk (a small RLIMIT_FSIZE), a FIFO at the database's
path (refused without blocking). Also: reads on an empty folder create nothing, and the
database file replaced or removed under a running process stops its writes. For each: no traceback,
a refusal is one line on stderr with a non-zero exit, and where the command must not write
(every state that stops it) the database's bytes are unchanged and no new file appears.
The TUI's start is one of the commands, in a pseudo-terminal.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX faults")

PASS = "balie-wachtzin-synthetisch"
DB = "nmi-desk.db"

COMMANDS = {
    "doctor": ["doctor"],
    "export": ["export", "--format", "json", "--output", "-"],
    "demo": ["demo", "--visits", "5", "--days", "1"],
    "purge": ["purge", "--days", "0"],
    "sync": ["sync", "--no-pull", "--target", "sqlite:///{central}"],
    "change-passphrase": ["change-passphrase"],
    "guidance": ["guidance", "search", "aow"],
    "guidance-show": ["guidance", "show", "anw-buitenland"],
    "publish-guidance": ["publish-guidance", "{guidance}", "--target", "sqlite:///{central}"],
    "topics": ["topics", "search", "pensioen"],
    "tui": [],
}
# Commands that do not need the database (reference data from the shipped files): they may run
# in any state, but must not touch the database either.
DATABASE_FREE = {"topics"}
# Guidance search and show need no passphrase (the index is a plain cache beside the database):
# a wrong passphrase does not stop them, a damaged file still does.
PASSPHRASE_FREE = {"guidance", "guidance-show"}
# States in which no command may go on, write, or create anything.
STOPS = {
    "empty", "truncated", "plain-for-encrypted", "wrong-passphrase", "read-only-folder", "fifo",
}  # fmt: skip
STATES = [
    "missing",
    "empty",
    "truncated",
    "random-inside",
    "plain-for-encrypted",
    "wrong-passphrase",
    "read-only-folder",
    "full-disk",
    "fifo",  # a named pipe where the database should be: refused at once, never opened
]


def _env(home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NMI_DESK_")}
    env["NMI_DESK_HOME"] = str(home)
    env.update(extra)
    return env


def _run(args, env, preexec=None, user=None, cwd=None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "nmi_desk", *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        preexec_fn=preexec,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    """A plain and an encrypted data dir with synthetic visits, copied for every case. Kept
    under a world-readable folder so the read-only case can run as another user."""
    base = Path(tempfile.mkdtemp(prefix="nmi-fault-"))
    os.chmod(base, 0o755)
    plain = base / "plain"
    plain.mkdir()
    (plain / "config.toml").write_text(
        'consultant = "TS"\nlocation = "eindhoven-stadskantoor"\n', encoding="utf-8"
    )
    os.chmod(plain / "config.toml", 0o600)
    made = _run(["demo", "--visits", "40", "--days", "3"], _env(plain))
    assert made.returncode == 0, made.stderr
    encrypted = base / "encrypted"
    shutil.copytree(plain, encrypted)
    enc = _run(["change-passphrase"], _env(encrypted, NMI_DESK_NEW_PASSPHRASE=PASS))
    assert enc.returncode == 0, enc.stderr
    yield {"plain": plain, "encrypted": encrypted, "base": base}
    shutil.rmtree(base, ignore_errors=True)


def _prepare(state: str, homes: dict, case: Path) -> dict:
    """Make the case's data dir in `state`; returns how to run against it."""
    how: dict = {"env": {}, "preexec": None, "user": None}
    source = (
        homes["encrypted"]
        if state in ("plain-for-encrypted", "wrong-passphrase")
        else homes["plain"]
    )
    shutil.copytree(source, case)
    db = case / DB
    if state == "missing":
        db.unlink()
    elif state == "empty":
        db.write_bytes(b"")
    elif state == "truncated":
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2 + 100])
    elif state == "random-inside":
        data = bytearray(db.read_bytes())
        start = len(data) // 2
        data[start : start + 16384] = random.Random(7).randbytes(16384)
        db.write_bytes(bytes(data))
    elif state == "plain-for-encrypted":
        shutil.copy(homes["plain"] / DB, db)  # the encrypted file replaced by a plain one
        how["env"]["NMI_DESK_PASSPHRASE"] = PASS
    elif state == "wrong-passphrase":
        how["env"]["NMI_DESK_PASSPHRASE"] = "niet de goede wachtzin"
    elif state == "read-only-folder":
        if os.geteuid() == 0:  # root writes anywhere: run the command as nobody
            from conftest import can_run_as_nobody

            if not can_run_as_nobody(case):
                pytest.skip("cannot run as another user here (root writes anywhere)")
            for path in [case, *case.rglob("*")]:
                os.chown(path, 65534, 65534)
            how["user"] = 65534
        os.chmod(case, 0o500)
    elif state == "fifo":
        db.unlink()
        os.mkfifo(db)
    elif state == "full-disk":
        limit = 64 * 1024

        def preexec() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        how["preexec"] = preexec
    return how


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes; the wrong-try counter beside the database is meant to change."""
    out = {}
    for path in sorted(folder.iterdir()):
        if path.is_file():
            out[path.name] = b"" if path.name.endswith(".unlock.json") else path.read_bytes()
    return out


def _assert_one_line_refusal(proc, what: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nmi-desk: "), f"{what}: {proc.stderr!r}"


def _run_tui(case: Path, how: dict) -> tuple[int | None, str]:
    from tui_pty import PtyApp, nmi_desk_args

    env = _env(case, **how["env"])
    args = nmi_desk_args()
    if how["user"] is not None:
        args = [
            "setpriv",
            f"--reuid={how['user']}",
            f"--regid={how['user']}",
            "--clear-groups",
            *args,
        ]
    if how["preexec"] is not None:  # PtyApp has no preexec: the limit through the shell
        args = ["sh", "-c", 'trap "" XFSZ; ulimit -f 64; exec "$@"', "sh", *args]
    app = PtyApp(args, env)
    try:
        # Either it stops at once with one line, or a first screen is up (then quit).
        app.wait_for(
            lambda: (
                app.proc.poll() is not None
                or any(
                    word in app.text
                    for word in (
                        "Bezoeken vandaag",
                        "Ontgrendelen",
                        "Welkom",
                        "Instellen",
                        "wachtzin",
                    )
                )
            ),
            "a first screen or an exit",
        )
        if app.proc.poll() is None:
            time.sleep(1.0)  # let the database open behind the first screen
            app.send(b"\x11")  # ctrl+q
            app.wait_for(lambda: app.proc.poll() is not None, "the app to quit")
        time.sleep(0.2)
        return app.proc.returncode, app.text
    finally:
        if app.proc.poll() is None:
            app.kill9()
        app.close()


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_against_file_state(command, state, homes, tmp_path):
    case = Path(tempfile.mkdtemp(prefix="case-", dir=homes["base"]))
    case.rmdir()
    how = _prepare(state, homes, case)
    before = _snapshot(case) if os.access(case, os.R_OK) or os.geteuid() == 0 else {}
    central = homes["base"] / f"central-{command}-{state}.db"
    env = _env(case, **how["env"])
    if command == "change-passphrase":
        env["NMI_DESK_NEW_PASSPHRASE"] = "een nieuwe lange wachtzin"
    try:
        if command == "tui":
            code, text = _run_tui(case, how)
            output = text
            assert "Traceback" not in text, text[-3000:]
            if state in STOPS - {"wrong-passphrase"}:
                # Stopped before any screen: one line, non-zero exit.
                assert code not in (0, None), text[-2000:]
                assert "nmi-desk: " in text
            else:  # a first screen came up (setup, unlock or Today) and ctrl+q quit cleanly
                assert code == 0, text[-2000:]
        else:
            from nmi_desk.guidance.library import shipped_guidance_dir

            guidance = shipped_guidance_dir()
            args = [a.format(central=central, guidance=guidance) for a in COMMANDS[command]]
            proc = _run(args, env, how["preexec"], how["user"])
            output = proc.stdout + proc.stderr
            assert "Traceback" not in output, output[-3000:]
            if proc.returncode and not (command == "doctor" and proc.returncode == 1):
                _assert_one_line_refusal(proc, f"{command} on {state}")
            if command in PASSPHRASE_FREE and state == "wrong-passphrase":
                assert proc.returncode == 0, output
            elif state in STOPS and command not in DATABASE_FREE:
                assert proc.returncode != 0, output
            if command == "doctor" and state in STOPS | {"random-inside"}:
                assert proc.returncode == 1 and "FAIL" in proc.stdout, output
            if command == "doctor" and state == "random-inside":
                assert "FAIL  integrity" in proc.stdout, output
            if command == "doctor" and state in ("missing", "full-disk"):
                assert proc.returncode == 0, output  # reading needs no space
        if state in STOPS:
            after = _snapshot(case) if before else {}
            if command in PASSPHRASE_FREE and state == "wrong-passphrase":
                from nmi_desk.core.config import GUIDANCE_INDEX_NAME

                after.pop(GUIDANCE_INDEX_NAME, None)  # the guidance cache, no personal data
            assert after == before, (
                f"{command} on {state} changed {set(after) ^ set(before) or 'bytes'}"
            )
        assert not list(case.glob("*.rekey-tmp*")), "a failed re-key leaves no half copy"
        if state == "missing" and command != "tui":
            assert "is empty" not in output and "damaged" not in output
    finally:
        if state == "read-only-folder":
            os.chmod(case, 0o700)
        shutil.rmtree(case, ignore_errors=True)


READS = {
    "clients-search": ["clients", "search", "Nemo Testpersoon"],
    "clients-show": ["clients", "show", "00000000-0000-0000-0000-000000000000"],
    "guidance": ["guidance", "search", "aow"],
    "guidance-show": ["guidance", "show", "anw-buitenland"],
    "topics": ["topics", "search", "pensioen"],
    "doctor": ["doctor"],
}


@pytest.mark.parametrize("command", list(READS))
def test_a_read_on_an_empty_folder_creates_nothing(command, tmp_path):
    """No database, no write-ahead log, no config: a read on a laptop not set up leaves the
    folder as it found it (empty, or not there at all)."""
    for home in (tmp_path / "empty", tmp_path / "absent"):
        if home.name == "empty":
            home.mkdir()
        proc = _run(READS[command], _env(home))
        output = proc.stdout + proc.stderr
        assert "Traceback" not in output, output[-3000:]
        if proc.returncode and command != "doctor":
            _assert_one_line_refusal(proc, f"{command} on an empty folder")
        made = sorted(p.name for p in home.iterdir()) if home.exists() else []
        assert made == [], f"{command} made {made}"


FIFO_READS = {"clients-search": READS["clients-search"], "doctor": ["doctor"]}


@pytest.mark.parametrize("command", list(FIFO_READS))
def test_a_fifo_at_the_database_path_returns_within_seconds(command, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    os.mkfifo(home / DB)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "nmi_desk", *FIFO_READS[command]],
        capture_output=True, text=True, env=_env(home), timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert time.monotonic() - started < 30  # a start-up, not a hang (the check itself: <1 s)
    assert proc.returncode == 1 and "pipe" in proc.stdout + proc.stderr


@pytest.mark.parametrize("how", ["swapped", "removed"])
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_a_database_replaced_under_a_running_process_stops_its_writes(
    how, encrypted, homes, tmp_path
):
    """A long-running process (the TUI's desk) saves, the file is swapped for an older copy
    or removed, the next save fails with one line and nothing is reported saved; the rescued
    copy holds what the process had saved."""
    case = tmp_path / "case"
    shutil.copytree(homes["encrypted" if encrypted else "plain"], case)
    older = tmp_path / "older.db"
    shutil.copy(case / DB, older)
    script = (
        "import os, shutil, sys\n"
        "from nmi_desk.domain.desk import Desk\n"
        "from nmi_desk.domain.inputs import VisitInput\nfrom nmi_desk.domain.visits import create_visit\n"
        "desk = Desk.open()\n"
        f"if {encrypted!r}: desk.unlock({PASS!r})\n"
        "save = lambda n: create_visit(desk.context(), VisitInput(location_code='roermond',"
        " client_name=n, topics=['aow']))\n"
        "save('Voor Vervanging-Testpersoon')\n"
        f"if {how!r} == 'swapped': os.replace({str(older)!r}, desk.database_path)\n"
        "else: os.unlink(desk.database_path)\n"
        "try:\n    save('Na Vervanging-Testpersoon')\n    print('SAVED')\n"
        "except Exception as exc:\n    print('REFUSED', exc)\n"
        "desk.close()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env=_env(case, NMI_DESK_CONSULTANT="TS"),
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "SAVED" not in proc.stdout and "REFUSED" in proc.stdout, proc.stdout
    assert ("replaced" if how == "swapped" else "removed") in proc.stdout
    rescued = list(case.glob(f"{DB}.rescued-*"))
    assert len([p for p in rescued if not p.name.endswith(("-wal", "-shm"))]) == 1
    env = _env(case, NMI_DESK_PASSPHRASE=PASS) if encrypted else _env(case)
    doctor = _run(["doctor"], env)
    assert "rescued copies" in doctor.stdout, doctor.stdout
