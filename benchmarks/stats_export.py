"""Statistics speed on a year of 200,000 synthetic visits (figures go to docs/performance.md).

    python benchmarks/stats_export.py [--visits 200000] [--keep DIR]

Measures in one run (the machine is noisy: compare the rows with each other):
  1. `nmi-desk export --format json` for the whole year, process wall time (start-up included);
  2. its parts: compute_stats on the stdlib read path, and through a SQLAlchemy engine;
  3. the same figures counted from the visit, topic and referral rows
     (`compute_stats(..., from_rows=True)`: one GROUP BY per dimension, with the indexes the
     database has), on the same database, for the ratio;
  4. the Day overview after its key press: domain call (load_overview) and the screen showing
     its figures, then its attention line (Pilot, key press to the first frame rendered with
     them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def timed(fn, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="reuse/keep the data dir here")
    args = parser.parse_args()

    from nmi_desk.domain.desk import Desk
    from nmi_desk.domain.stats.compute import compute_stats, open_source
    from nmi_desk.domain.stats.end_of_day import load_overview
    from nmi_desk.domain.stats.period import Period

    home = args.keep or Path(tempfile.mkdtemp(prefix="nmi-stats-bench-"))
    now = datetime.now(UTC)
    desk = Desk.open(home, clock=lambda: now)
    desk.settings.consultant, desk.settings.location = "BM", "amsterdam"
    desk.save_settings()
    if not desk.paths.database.exists():
        from nmi_desk.domain.demo import generate

        start = time.perf_counter()
        generate(desk.engine(), args.visits, 365, 1, desk.settings.device_id, now)
        print(f"generated {args.visits:,} visits in {time.perf_counter() - start:.1f} s")
    engine = desk.engine()
    last = desk.today()
    first = last - timedelta(days=364)

    env = dict(os.environ, NMI_DESK_HOME=str(home))
    out = home / "x.json"
    cmd = [
        sys.executable, "-m", "nmi_desk", "export", "--from", str(first), "--to", str(last),
        "--format", "json", "--output", str(out),
    ]  # fmt: skip
    startup = [sys.executable, "-m", "nmi_desk", "export", "--help"]
    cli = timed(lambda: subprocess.run(cmd, env=env, check=True, capture_output=True))
    cli_help = timed(lambda: subprocess.run(startup, env=env, check=True, capture_output=True))

    with open_source(desk.url, desk.key) as src:
        stdlib = timed(lambda: compute_stats(src, first, last))
        from_rows = timed(lambda: compute_stats(src, first, last, from_rows=True), repeat=3)
        day = Period.around("day", last - timedelta(days=2))
        overview_call = timed(lambda: load_overview(src, day, "amsterdam", last))
    via_engine = timed(lambda: compute_stats(engine, first, last))

    key_to_figures, key_to_all = asyncio.run(_overview_in_tui(desk))

    rows = [
        ("`nmi-desk export` a year as JSON (process wall, incl. start-up)", cli),
        ("  of which: `nmi-desk export --help` (Python, Typer, pydantic imports)", cli_help),
        ("compute_stats, a year, stdlib sqlite3 read path", stdlib),
        ("compute_stats, a year, through the SQLAlchemy engine", via_engine),
        ("the same figures from the rows (from_rows=True), same database", from_rows),
        ("Day overview: load_overview for one day at one location", overview_call),
        ("Day overview: key press to figures on screen (Pilot, 100x30)", key_to_figures),
        (
            "Day overview: key press to the attention line on screen (follow-ups, unsynced)",
            key_to_all,
        ),
    ]
    print(f"\n{args.visits:,} visits, {first} .. {last}, medians\n")
    print("| what | ms |\n|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {ms(seconds)} |")
    if not args.keep:
        print(f"\n(data left in {home}; pass --keep DIR to reuse it)")


async def _overview_in_tui(desk) -> tuple[float, float]:
    """Key press to the first frame showing the figures, and to the one with the attention line.

    Measured up to the frame the app renders for the terminal (App._display, the call that
    writes to the driver), not to `pilot.pause()`: that waits until the whole process has been
    idle for a while (textual._wait.wait_for_idle, up to 1 s), which is not what the consultant
    sees. What a message put on the screen is in the first frame rendered after it.
    """
    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.day_overview import DayOverviewScreen

    app = NmiDeskApp(desk)
    figures, attention = [], []
    state: dict[str, float] = {}
    display = app._display
    handlers = {
        "on_stats_loaded": DayOverviewScreen.on_stats_loaded,
        "on_overview_loaded": DayOverviewScreen.on_overview_loaded,
    }

    def timed_handler(name):
        def handler(self, message):
            handlers[name](self, message)
            state[name] = time.perf_counter()

        return handler

    def frame(screen, update):
        display(screen, update)
        if update is None or not isinstance(screen, DayOverviewScreen):
            return
        for name, mark in (("on_stats_loaded", "figures"), ("on_overview_loaded", "all")):
            if name in state:
                state.setdefault(mark, time.perf_counter())

    app._display = frame
    for name in handlers:
        setattr(DayOverviewScreen, name, timed_handler(name))
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            for _ in range(5):
                state.clear()
                start = time.perf_counter()
                # Today -> Day overview, as the consultant does (press returns once idle; the
                # frames' times were taken when they were rendered).
                await pilot.press("d")
                while "all" not in state:
                    await asyncio.sleep(0.001)
                figures.append(state["figures"] - start)
                attention.append(state["all"] - start)
                assert isinstance(app.screen, DayOverviewScreen)
                await pilot.press("escape")
                await app.workers.wait_for_complete()
                await pilot.pause()
    finally:
        for name, handler in handlers.items():
            setattr(DayOverviewScreen, name, handler)
    return statistics.median(figures), statistics.median(attention)


if __name__ == "__main__":
    main()
