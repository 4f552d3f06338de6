"""Encryption at rest: the key from the consultant's passphrase, and the database's lock state.

Whole-database encryption with SQLCipher 4 (sqlcipher3 wheels bundle it for Linux, macOS and
Windows; docs/security.md says why). We derive the 256-bit key ourselves with scrypt (standard
library, memory-hard) and hand SQLCipher the raw key, so its own PBKDF2 does not run on every
pooled connection. The per-database salt is SQLCipher's: the first 16 bytes of the encrypted
file, so the database carries everything but the passphrase; nothing secret is stored.

A database is encrypted when its file exists and does not start with SQLite's plain header.
No Textual here: the TUI's unlock screen and the CLI both call these functions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nmi_desk.core.errors import UserError
from nmi_desk.core.i18n import Text
from nmi_desk.store.connect import private_file, probe_key
from nmi_desk.store.file_state import (  # noqa: F401 - re-exported
    PLAIN_HEADER,
    DatabaseLocked,
    DatabaseProblem,
    WrongPassphrase,
    check_usable,
    file_state,
)
from nmi_desk.store.keyring import Key

SALT_BYTES = 16
KEY_BYTES = 32
# scrypt cost: one of OWASP's recommended settings (N=2^15, r=8, p=3): ~32 MiB, under a second.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 3
MIN_PASSPHRASE = 10
MAX_DELAY_S = 30.0
PASSPHRASE_ENV = "NMI_DESK_PASSPHRASE"


@dataclass(frozen=True)
class DatabaseKey:
    key: bytes
    salt: bytes
    # False: derived from the passphrase as typed, not NFC-normalised (a database encrypted
    # before passphrases were normalised); the desk re-keys it at this unlock (Desk.unlock)
    normalised: bool = True

    @property
    def pragma_value(self) -> str:
        # SQLCipher's raw-key form with an explicit salt: x'<64 hex key><32 hex salt>'.
        return f"\"x'{self.key.hex()}{self.salt.hex()}'\""

    def __repr__(self) -> str:  # never print key material
        return "DatabaseKey(<hidden>)"


def normalise(passphrase: str) -> str:
    """The passphrase in Unicode NFC: "café" typed with a combining accent (NFD, as some
    keyboards and macOS give it) is the same passphrase as with the precomposed é."""
    return unicodedata.normalize("NFC", passphrase)


def derive_key(passphrase: str, salt: bytes, *, as_typed: bool = False) -> DatabaseKey:
    """The key of `passphrase` (NFC-normalised; `as_typed`: the raw string, as databases
    encrypted before normalisation were)."""
    text = passphrase if as_typed else normalise(passphrase)
    raw = hashlib.scrypt(
        text.encode("utf-8"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=128 * 1024 * 1024,
        dklen=KEY_BYTES,
    )
    return DatabaseKey(raw, salt, normalised=not as_typed or text == normalise(passphrase))


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def is_encrypted(path: Path) -> bool:
    return file_state(Path(path)) == "encrypted"


def read_salt(path: Path) -> bytes:
    with open(path, "rb") as handle:
        salt = handle.read(SALT_BYTES)
    if len(salt) != SALT_BYTES:
        raise UserError.of("errors.security.too_short", path=path)
    return salt


def check_new_passphrase(passphrase: str, repeat: str | None = None) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise UserError.of("errors.security.passphrase_short", min=MIN_PASSPHRASE)
    if repeat is not None and repeat != passphrase:
        raise UserError.of("errors.security.passphrases_differ")


# ---- wrong attempts slow down, across processes ----
#
# A file beside the database (`<db>.unlock.json`, owner-only) keeps the count of wrong tries
# and when the last one was, so a new process (each CLI run, a restarted TUI) waits too. It
# also keeps the salt and a check value of the key last used to open the file: with those a
# refused key can be told apart from a damaged first page (the right passphrase, a changed
# file). The check value is HMAC-SHA256(key, label): it lets a thief test passphrases exactly
# as cheaply as page 1 of the database already does (one scrypt each), nothing more.

CHECK_LABEL = b"nmi-desk passphrase check"
_failures_lock = threading.Lock()


def delay_after(failures: int) -> float:
    """Seconds to wait before the next attempt: 0, then 1, 2, 4, ... capped."""
    return 0.0 if failures <= 0 else min(2.0 ** (failures - 1), MAX_DELAY_S)


def state_path(path: Path) -> Path:
    path = Path(path).absolute()
    return path.with_name(f"{path.name}.unlock.json")


def _read_state(path: Path) -> dict:
    try:
        data = json.loads(state_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(path: Path, data: dict) -> None:
    """Best effort: a folder we cannot write has already been refused (file_state)."""
    target = state_path(path)
    tmp = target.with_name(f"{target.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, target)
    except OSError:
        pass


def failures(path: Path) -> int:
    value = _read_state(path).get("failures", 0)
    return value if isinstance(value, int) and value > 0 else 0


def wait_before_unlock(path: Path, now: Callable[[], float] = time.time) -> float:
    """Seconds still to wait before the next try is checked (0 when none)."""
    state = _read_state(path)
    count = failures(path)
    last = state.get("last_failure")
    if not count or not isinstance(last, (int, float)):
        return 0.0
    elapsed = max(0.0, now() - last)
    return max(0.0, delay_after(count) - elapsed)


def _check_value(key: DatabaseKey) -> str:
    return hmac.new(key.key, CHECK_LABEL, hashlib.sha256).hexdigest()


def remember_passphrase_check(path: Path, key: DatabaseKey) -> None:
    """After a success: the count starts over; salt and check value kept for later diagnosis."""
    with _failures_lock:
        _write_state(path, {"failures": 0, "salt": key.salt.hex(), "check": _check_value(key)})


def forget_passphrase_check(path: Path) -> None:
    try:
        state_path(path).unlink()
    except OSError:
        pass


def expects_encryption(path: Path) -> bool:
    """This laptop's database has been opened (or set up) with a passphrase before."""
    return bool(_read_state(path).get("check"))


def _refused_key_problem(path: Path, passphrase: str, file_salt: bytes) -> str | None:
    """Why a key was refused when it is not the passphrase's fault, else None."""
    state = _read_state(path)
    salt_hex, check = state.get("salt"), state.get("check")
    if not isinstance(salt_hex, str) or not isinstance(check, str):
        return None  # nothing known about this file: it is the passphrase, as far as we can tell
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return None
    right = hmac.compare_digest(_check_value(derive_key(passphrase, salt)), check)
    if right and salt != file_salt:
        return Text("errors.security.salt_changed")
    if right:
        return Text("errors.security.first_page")
    return None


def _count_failure(path: Path, now: Callable[[], float]) -> None:
    with _failures_lock:
        state = _read_state(path)
        state["failures"] = failures(path) + 1
        state["last_failure"] = now()
        _write_state(path, state)


def unlock(
    path: Path,
    passphrase: str,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> DatabaseKey:
    """Derive the key for an encrypted database and check it opens the file.

    An empty, damaged or unreadable file raises DatabaseProblem, never WrongPassphrase (the
    passphrase cannot be judged on it, and no wrong try is counted). A refused key raises
    WrongPassphrase, unless the stored check value shows the passphrase is right (then the
    file is damaged). Before checking, the growing wait after earlier wrong tries (in any
    process) is slept. On success the key is returned: the desk keeps it in its Keyring.
    """

    path = Path(path).absolute()
    if check_usable(path) != "encrypted":
        raise UserError.of("errors.security.not_encrypted", path=path)
    wait = wait_before_unlock(path, now)
    if wait:
        sleep(wait)
    salt = read_salt(path)
    key = derive_key(passphrase, salt)
    if not probe_key(path, key) and passphrase != normalise(passphrase):
        # Encrypted before passphrases were normalised, with a non-NFC spelling: the key of
        # the string as typed opens it (key.normalised is False: the desk re-keys it now).
        typed = derive_key(passphrase, salt, as_typed=True)
        if probe_key(path, typed):
            return typed
    if not probe_key(path, key):
        damage = _refused_key_problem(path, passphrase, salt)
        if damage is not None:
            raise DatabaseProblem(
                Text("errors.security.damaged_right_passphrase", path=path, reason=damage),
                "damaged",
            )
        _count_failure(path, now)
        raise WrongPassphrase.of("errors.security.wrong_passphrase")
    remember_passphrase_check(path, key)
    return key


def verify(path: Path, passphrase: str, sleep: Callable[[float], None] = time.sleep) -> None:
    """Check the passphrase again (screen lock): same delay rules, nothing else changes."""
    unlock(path, passphrase, sleep=sleep)


# ---- encrypting, re-keying ----


def _sqlcipher():
    import sqlcipher3

    return sqlcipher3


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _export(path: Path, source_key: Key | None, target_key: DatabaseKey) -> None:
    """Copy the database into a new file under target_key, check it, then swap it in atomically.

    A kill at any point leaves either the old file or the new one in place, never half of one.
    """

    cipher = _sqlcipher()
    tmp = path.with_name(f"{path.name}.rekey-tmp")
    for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal")):
        _remove_quietly(leftover)
    private_file(tmp)
    src = cipher.connect(str(path))
    try:
        src.execute("PRAGMA cipher_log_level = NONE")
        if source_key is not None:
            src.execute(f"PRAGMA key = {source_key.pragma_value}")
        # Fold the WAL into the file: after the swap no plain WAL may be left to replay.
        src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counts = _table_counts(src, "main")
        src.execute(f"ATTACH DATABASE ? AS enc KEY {target_key.pragma_value}", (str(tmp),))
        src.execute("SELECT sqlcipher_export('enc')")
        version = src.execute("PRAGMA main.user_version").fetchone()[0]
        src.execute(f"PRAGMA enc.user_version = {int(version)}")
        src.execute("DETACH DATABASE enc")
        src.execute("PRAGMA journal_mode = DELETE")  # removes the -wal and -shm of the old file
    finally:
        src.close()
    check = cipher.connect(str(tmp))
    try:
        check.execute("PRAGMA cipher_log_level = NONE")
        check.execute(f"PRAGMA key = {target_key.pragma_value}")
        ok = check.execute("PRAGMA integrity_check").fetchone()[0]
        copied = _table_counts(check, "main")
        check.execute("PRAGMA journal_mode = WAL")
    finally:
        check.close()
    if ok != "ok" or copied != counts:
        _remove_quietly(tmp)
        raise UserError.of("errors.security.reencrypt_check", path=path, check=ok)
    for companion in ("-wal", "-shm", "-journal"):
        wal = Path(f"{path}{companion}")
        if wal.exists() and wal.stat().st_size and companion == "-wal":
            _remove_quietly(tmp)
            raise UserError.of("errors.security.wal_busy", wal=wal)
        _remove_quietly(wal)
    os.replace(tmp, path)
    for companion in ("-wal", "-shm"):
        moved = Path(f"{tmp}{companion}")
        if moved.exists():
            os.replace(moved, Path(f"{path}{companion}"))
    private_file(path)


def _table_counts(conn, schema: str) -> dict[str, int]:
    names = [
        row[0]
        for row in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "  # noqa: S608
            "AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM {schema}."{n}"').fetchone()[0] for n in names}


def _backups(path: Path) -> list[Path]:
    """Migration backups beside the database: plain ones from before encryption, or ones under
    the old passphrase. Both are removed once the new file has passed its checks."""
    return list(path.parent.glob(f"{path.name}.v*.bak"))


def set_passphrase(path: Path, new_passphrase: str, old_key: Key | None = None) -> DatabaseKey:
    """Encrypt a plain (or new) database, or re-key an encrypted one under a new passphrase.

    A plain database is converted without loss (every table copied, counted, checked) and
    swapped in atomically; plain migration backups beside it are then removed.
    """

    path = Path(path)
    check_new_passphrase(new_passphrase)
    state = check_usable(path)
    if state == "encrypted" and old_key is None:
        raise DatabaseLocked.of("errors.security.unlock_first")
    target = derive_key(new_passphrase, new_salt())
    if state == "missing":
        private_file(path)
        cipher = _sqlcipher()
        conn = cipher.connect(str(path))
        try:
            conn.execute(f"PRAGMA key = {target.pragma_value}")
            conn.execute("PRAGMA journal_mode = WAL")  # writes page 1: the file now holds the salt
        finally:
            conn.close()
    else:
        try:
            _export(path, old_key if state == "encrypted" else None, target)
        except BaseException:
            # A full disk or a kill mid-copy: the old file is untouched; no half copy stays.
            tmp = path.with_name(f"{path.name}.rekey-tmp")
            for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                _remove_quietly(leftover)
            raise
    for leftover in _backups(path):
        _remove_quietly(leftover)
    remember_passphrase_check(path, target)
    return target


def passphrase_from_env() -> str | None:
    return os.environ.get(PASSPHRASE_ENV) or None
