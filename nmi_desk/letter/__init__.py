"""The client's letter: where to go next, in Dutch and the client's language, as a PDF.

Domain code, no Textual: `build_letter` turns a visit into a `Letter` (plain data),
`render_pdf` lays it out on A4 pages (fpdf2 with HarfBuzz shaping, the shipped DejaVu Sans),
`deliver` hands the file to the system's viewer or printer through an owner-only temporary
file. The TUI and the CLI (`nmi-desk letter`) call the same functions.

Names are imported on first use: the app creates its `deliver.TempLetters` at start-up and
should not pay for the rest then.
"""

from importlib import import_module

_WHERE = {
    "Letter": "build",
    "LetterReferral": "build",
    "build_letter": "build",
    "letter_for_visit": "build",
    "resolve_language": "catalog",
    "supported_languages": "catalog",
    "Contact": "contacts",
    "check_organisations": "contacts",
    "contact_for": "contacts",
    "render_pdf": "render",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"nmi_desk.letter.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'nmi_desk.letter' has no attribute {name!r}")
