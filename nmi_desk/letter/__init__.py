"""The client's letter: where to go next, in Dutch and the client's language, as a PDF.

Domain code, no Textual: `build_letter` turns a visit into a `Letter` (plain data),
`render_pdf` lays it out on A4 pages (fpdf2 with HarfBuzz shaping, the shipped DejaVu Sans),
`deliver` hands the file to the system's viewer or printer through an owner-only temporary
file. The TUI and the CLI (`nmi-desk letter`) call the same functions.
"""

from nmi_desk.letter.build import Letter, LetterReferral, build_letter, letter_for_visit
from nmi_desk.letter.catalog import resolve_language, supported_languages
from nmi_desk.letter.contacts import Contact, check_organisations, contact_for
from nmi_desk.letter.render import render_pdf

__all__ = [
    "Contact",
    "Letter",
    "LetterReferral",
    "build_letter",
    "check_organisations",
    "contact_for",
    "letter_for_visit",
    "render_pdf",
    "resolve_language",
    "supported_languages",
]
