"""Lay a `Letter` out on A4 with fpdf2: Dutch on the left, the client's language on the right.

Text is shaped by HarfBuzz (fpdf2's `set_text_shaping`, through uharfbuzz) in the shipped
DejaVu Sans, which has Latin, Turkish and Arabic glyphs: Arabic is joined and runs right to
left. Values that are the same in every language (the consultant's text as typed, dates,
addresses, phone numbers, websites) sit in a middle column of their own, so no number is ever
reordered inside a right-to-left sentence. Up to three referrals fit one page: the text gets
smaller until they do.
"""

from __future__ import annotations

from pathlib import Path

from nmi_desk.letter.build import PER_PAGE, Letter, LetterReferral
from nmi_desk.letter.catalog import FALLBACK, language_name, phrases

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
MARGIN = 15.0  # mm
PAGE_W, PAGE_H = 210.0, 297.0
WIDTH = PAGE_W - 2 * MARGIN
SIZES = (11.0, 10.0, 9.0, 8.0, 7.0)  # pt, tried in turn until a page fits
ROW_KEYS = (
    "date",
    "location",
    "consultant",
    "ask",
    "note",
    "follow_up",
    "address",
    "phone",
    "website",
)
CLIP = 240  # last resort on the smallest size: free text longer than this is shortened


def _date(day) -> str:
    return day.strftime("%d-%m-%Y")


class _Writer:
    """One attempt at one size; `overflow` tells whether a page ran out of room."""

    def __init__(self, letter: Letter, size: float, clip: int | None) -> None:
        from fpdf import FPDF

        self.letter = letter
        self.size = size
        self.clip = clip
        self.nl = phrases("nl")
        self.lang = letter.language
        self.client = phrases(self.lang.client) if self.lang.client != "nl" else None
        self.rtl = self.lang.rtl
        self.line = size * 0.46  # mm per line
        self.overflow = False
        pdf = FPDF(format="A4", unit="mm")
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(False)
        pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        pdf.set_title(self.nl["title"])
        pdf.set_creator("nmi-desk")
        pdf.set_lang(self.lang.client if self.client else "nl")
        self.pdf = pdf
        self.nl_label_w = self._label_width(self.nl)
        self.client_label_w = self._label_width(self.client) if self.client else 0.0

    # ---- primitives ----

    def _label_width(self, catalog: dict[str, str]) -> float:
        """Room for the longest word of any row label: labels wrap between words, never
        inside one ("Acompanhamento" must not break)."""
        self._font(bold=True)
        self.pdf.set_text_shaping(True)
        words = [w for key in ROW_KEYS for w in catalog[key].split()]
        widest = max(self.pdf.get_string_width(w) for w in words)
        return min(max(widest + 3.0, 40.0), 55.0)

    def _font(self, bold: bool = False, scale: float = 1.0) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", self.size * scale)

    def _shaping(self, rtl: bool | None) -> None:
        # rtl True/False: catalog text of a known direction; None: text as typed, direction
        # from its first strong character (Unicode bidi rules).
        if rtl:
            self.pdf.set_text_shaping(True, direction="rtl", script="arab")
        elif rtl is False:
            self.pdf.set_text_shaping(True, direction="ltr")
        else:
            self.pdf.set_text_shaping(True)

    def _cell(self, x, y, w, text, *, rtl=False, bold=False, align="L", scale=1.0) -> float:
        """A wrapped block at (x, y); returns the y below it."""
        from fpdf.enums import XPos, YPos

        if not text:
            return y
        self._font(bold, scale)
        self._shaping(rtl)
        self.pdf.set_xy(x, y)
        self.pdf.multi_cell(
            w, self.line * scale, text, align=align, new_x=XPos.LEFT, new_y=YPos.NEXT
        )
        return self.pdf.get_y()

    def _typed(self, text: str | None) -> str | None:
        if text and self.clip and len(text) > self.clip:
            return text[: self.clip - 1].rstrip() + "…"
        return text

    def pair(self, key: str, *, bold=False, scale=1.0, nl_text=None, client_text=None) -> None:
        """A sentence in Dutch (left) and in the client's language (right)."""
        y = self.pdf.get_y()
        left = nl_text if nl_text is not None else self.nl[key]
        if self.client is None:
            self.pdf.set_y(self._cell(MARGIN, y, WIDTH, left, bold=bold, scale=scale))
            return
        half = (WIDTH - 6) / 2
        right = client_text if client_text is not None else self.client[key]
        y1 = self._cell(MARGIN, y, half, left, bold=bold, scale=scale)
        align = "R" if self.rtl else "L"
        y2 = self._cell(
            MARGIN + half + 6, y, half, right, rtl=self.rtl, bold=bold, align=align, scale=scale
        )
        self.pdf.set_y(max(y1, y2))

    def row(
        self, key: str, value: str | None, *, typed: bool = False, translation: str | None = None
    ) -> None:
        """Dutch label | value (same in every language) | label in the client's language.
        `translation`: the value in the client's language, printed under it."""
        if not value:
            return
        y = self.pdf.get_y()
        label_w, client_w = self.nl_label_w, self.client_label_w
        value_w = WIDTH - label_w - client_w
        y1 = self._cell(MARGIN, y, label_w - 2, self.nl[key], bold=True)
        value_x = MARGIN + label_w
        # Typed text keeps its own direction; numbers, dates and addresses read left to right.
        y2 = self._cell(value_x, y, value_w - 2, value, rtl=None if typed else False)
        if translation:
            align = "R" if self.rtl else "L"
            # Its own direction (Unicode bidi): Arabic with "AOW" or "S1" inside stays readable.
            y2 = self._cell(value_x, y2, value_w - 2, translation, rtl=None, align=align)
        y3 = y
        if self.client:
            y3 = self._cell(
                value_x + value_w, y, client_w, self.client[key], rtl=self.rtl, bold=True, align="R"
            )
        self.pdf.set_y(max(y1, y2, y3) + 0.6)

    def rule(self) -> None:
        y = self.pdf.get_y() + 1.5
        self.pdf.set_draw_color(150, 150, 150)
        self.pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
        self.pdf.set_y(y + 2.5)

    def gap(self, mm: float = 1.5) -> None:
        self.pdf.set_y(self.pdf.get_y() + mm)

    # ---- the letter ----

    def header(self) -> None:
        self.pdf.set_y(MARGIN)
        self.pair("title", bold=True, scale=1.6)
        self.gap(2)
        self.pair("intro")
        self.gap(2)
        self.row("date", _date(self.letter.day))
        self.row("location", self.letter.location)
        self.row("consultant", self.letter.consultant)
        if self.lang.fallback:
            self.gap(1)
            en = phrases(FALLBACK)
            self.pair(
                "fallback",
                nl_text=self.nl["fallback"].format(
                    language=language_name(self.lang.requested, "nl")
                ),
                client_text=en["fallback"].format(
                    language=language_name(self.lang.requested, "en")
                ),
            )
        self.rule()

    def referral(self, number: int, r: LetterReferral) -> None:
        name = r.organisation
        if self.lang.client == "en" and r.organisation_en and r.organisation_en != name:
            name = f"{name} / {r.organisation_en}"
        self.pdf.set_y(
            self._cell(MARGIN, self.pdf.get_y(), WIDTH, f"{number}. {name}", bold=True, scale=1.15)
            + 0.8
        )
        self.row("ask", self._typed(r.ask), typed=True, translation=r.ask_client)
        self.row("note", self._typed(r.note), typed=True)
        self.pair("bring")
        self.gap(0.6)
        if r.follow_up:
            self.row("follow_up", _date(r.follow_up))
        c = r.contact
        if r.own_contact and c is None:
            self.pair("own_contact")
        if c is not None:
            if c.address:
                self.row("address", c.address)
            elif c.by_appointment:
                self.pair("by_appointment")
                self.gap(0.6)
            self.row("phone", c.phone)
            self.row("website", c.website)
        self.rule()

    def page(self, referrals, first: int) -> None:
        self.pdf.add_page()
        self.header()
        for i, r in enumerate(referrals):
            self.referral(first + i, r)
        if self.pdf.get_y() > PAGE_H - MARGIN:
            self.overflow = True

    def render(self) -> bytes:
        refs = self.letter.referrals
        chunks = [refs[i : i + PER_PAGE] for i in range(0, len(refs), PER_PAGE)] or [()]
        for n, chunk in enumerate(chunks):
            self.page(chunk, n * PER_PAGE + 1)
        return bytes(self.pdf.output())


def render_pdf(letter: Letter) -> bytes:
    """The letter as PDF bytes: one A4 page per three referrals."""
    attempt = None
    for size in SIZES:
        attempt = _Writer(letter, size, None)
        data = attempt.render()
        if not attempt.overflow:
            return data
    return _Writer(letter, SIZES[-1], CLIP).render()
