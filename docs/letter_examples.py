"""Render the example letters in docs/letter/ (synthetic visit, Turkish and Arabic).

    .venv/bin/python docs/letter_examples.py

Writes letter-tr.pdf and letter-ar.pdf, and a PNG of page 1 of each with `pdftoppm`
(poppler-utils) when it is installed, else with pypdfium2 when that is importable.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

from nmi_desk.core.clock import AMS
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.letter import build_letter, render_pdf

OUT = Path(__file__).resolve().parent / "letter"

# A synthetic visit: invented reasons and notes, consultant "JV".
VISIT = VisitInput(
    location_code="eindhoven-stadskantoor",
    started_at=datetime(2026, 12, 1, 10, 15, tzinfo=AMS),
    referrals=[
        ReferralInput(
            "ind",
            reason="Verblijfsvergunning inleveren bij vertrek; terugkeer binnen 1 jaar",
            note="Neem de brief van de SVB over de remigratie-uitkering mee",
            follow_up_on=date(2026, 12, 15),
        ),
        ReferralInput("cak", reason="Zorgverzekering in Turkije (S1) na vertrek"),
        ReferralInput(
            "juridisch-loket",
            reason="Bezwaar tegen het besluit over de huurtoeslag",
            follow_up_on=date(2026, 12, 22),
        ),
    ],
)


def png(pdf: Path) -> None:
    stem = pdf.with_suffix("")
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf, stem],
            check=True,
        )
        return
    try:
        import pypdfium2
    except ImportError:
        print(f"no pdftoppm or pypdfium2: {pdf.name} has no PNG")
        return
    page = pypdfium2.PdfDocument(str(pdf))[0]
    page.render(scale=80 / 72).to_pil().save(f"{stem}.png")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for lang in ("tr", "ar"):
        pdf = OUT / f"letter-{lang}.pdf"
        pdf.write_bytes(render_pdf(build_letter(VISIT, "JV", lang)))
        png(pdf)
        print(f"wrote {pdf}")


if __name__ == "__main__":
    main()
