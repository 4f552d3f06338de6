"""How long `nmi-desk demo` takes to write a year of synthetic visits (goal: 200,000 in < 30 s).

    python benchmarks/demo_speed.py [--visits 200000] [--days 365] [--runs 3]

Runs the real command in a fresh data dir per run and prints the wall time of each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "NMI_DESK_HOME": home}
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "nmi_desk",
                    "demo",
                    "--visits",
                    str(args.visits),
                    "--days",
                    str(args.days),
                    "--seed",
                    str(run + 1),
                ],
                env=env,
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
            size = os.path.getsize(os.path.join(home, "nmi-desk.db")) / 2**20
        print(
            f"run {run + 1}: {args.visits:,} visits in {times[-1]:.1f} s (database {size:.0f} MiB)"
        )
    print(f"median {statistics.median(times):.1f} s, max {max(times):.1f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
