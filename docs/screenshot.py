"""Make docs/screenshot.svg: the Today screen on synthetic visits (fake people only).

python docs/screenshot.py
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from nmi_desk.core.clock import AMS
from nmi_desk.core.config import Paths, Settings
from nmi_desk.domain.demo import generate
from nmi_desk.domain.desk import Desk
from nmi_desk.tui.app import NmiDeskApp

OUT = Path(__file__).with_name("screenshot.svg")
NOW = datetime(2026, 3, 10, 17, 30, tzinfo=AMS).astimezone(UTC)


async def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        desk = Desk(
            paths=Paths(Path(home)),
            settings=Settings(consultant="HK", location="eindhoven-stadskantoor", device_id="doc"),
            clock=lambda: NOW,
        )
        desk.save_settings()
        generate(desk.engine(), 60, 1, 7, desk.settings.device_id, NOW, "eindhoven-stadskantoor")
        app = NmiDeskApp(desk)
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(200):
                await pilot.pause(0.05)
                screen = app.screen
                if getattr(screen, "loaded", False) and app.workers._workers == set():
                    break
            await pilot.pause(0.5)
            app.save_screenshot(filename=OUT.name, path=str(OUT.parent))
        desk.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
