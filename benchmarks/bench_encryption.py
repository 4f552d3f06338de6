"""Cost of encryption at rest: the start-up read (open + today's rows, as Today's fast path does)
and `nmi-desk demo --visits N`, plain vs SQLCipher, measured in one run (compare the ratio).

    python benchmarks/bench_encryption.py [--visits 200000] [--repeat 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

PASS = "benchmark passphrase 123"


def cli(home: Path, *args: str, env_extra: dict | None = None) -> float:
    env = {**os.environ, **(env_extra or {})}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "nmi_desk", "--data-dir", str(home), *args],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def startup_read(home: Path, encrypted: bool, repeat: int) -> tuple[float, float]:
    """ms: key derivation (scrypt) once, then connect + today's rows + counts (mean)."""
    from nmi_desk.domain.security import unlock
    from nmi_desk.domain.stats.today import day_counts, day_rows
    from nmi_desk.store.connect import connect_sqlite

    path = home / "nmi-desk.db"
    kdf = 0.0
    key = None
    if encrypted:
        t = time.perf_counter()
        key = unlock(path, PASS)
        kdf = (time.perf_counter() - t) * 1000
    day = date.today()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        conn = connect_sqlite(path, key=key)
        day_rows(conn, "eindhoven-stadskantoor", day)
        day_counts(conn, "eindhoven-stadskantoor", day)
        conn.close()
        times.append((time.perf_counter() - t) * 1000)
    return kdf, statistics.mean(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain, enc = Path(tmp) / "plain", Path(tmp) / "enc"
        env = {"NMI_DESK_PASSPHRASE": PASS, "NMI_DESK_NEW_PASSPHRASE": PASS}
        cli(enc, "change-passphrase", env_extra=env)
        demo_plain = cli(plain, "demo", "--visits", str(args.visits), "--days", "365")
        demo_enc = cli(enc, "demo", "--visits", str(args.visits), "--days", "365", env_extra=env)
        kdf_p, read_p = startup_read(plain, False, args.repeat)
        kdf_e, read_e = startup_read(enc, True, args.repeat)
        size_p = (plain / "nmi-desk.db").stat().st_size / 1e6
        size_e = (enc / "nmi-desk.db").stat().st_size / 1e6
    print("| what | plain | encrypted | ratio |\n|---|---|---|---|")
    print(
        f"| `demo --visits {args.visits}` (process wall, s) | {demo_plain:.1f} | {demo_enc:.1f} | {demo_enc / demo_plain:.2f} |"
    )
    print(
        f"| start-up read: open + today's rows + counts (ms, mean of {args.repeat}) | {read_p:.1f} | {read_e:.1f} | {read_e / read_p:.2f} |"
    )
    print(f"| key derivation from the passphrase, once per start (ms) | - | {kdf_e:.0f} | |")
    print(f"| database size (MB) | {size_p:.0f} | {size_e:.0f} | |")


if __name__ == "__main__":
    main()
