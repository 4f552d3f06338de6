"""How long the client's letter takes to build and render (three referrals, one A4 page).

    .venv/bin/python benchmarks/letter_render.py [--runs N]

Prints the median and the slowest of N renders per language, and the PDF's size. The TUI runs
this in a worker, so it never blocks the screen; the figure says how long the consultant waits
between pressing Print and the printer getting the file.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, datetime

from nmi_desk.core.clock import AMS
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.letter import build_letter, render_pdf

VISIT = VisitInput(
    location_code="amersfoort",
    started_at=datetime(2026, 12, 1, 10, 0, tzinfo=AMS),
    referrals=[
        ReferralInput(
            "ind", reason="Verblijfsvergunning inleveren", follow_up_on=date(2026, 12, 15)
        ),
        ReferralInput("cak", reason="Zorg in een verdragsland (S1)"),
        ReferralInput("juridisch-loket", reason="Bezwaar tegen besluit"),
    ],
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    for lang in ("nl", "tr", "ar"):
        times, size = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            size = len(render_pdf(build_letter(VISIT, "TS", lang)))
            times.append(time.perf_counter() - started)
        print(
            f"{lang}: median {statistics.median(times) * 1000:.0f} ms, "
            f"slowest {max(times) * 1000:.0f} ms, {size / 1024:.0f} kB"
        )


if __name__ == "__main__":
    main()
