"""Markdown notes for the client that older versions wrote into the data folder (`notes/`).

They hold personal data, unencrypted, beside the encrypted database. `doctor` reports them and
`purge` removes them; today's letter never touches the data folder.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = "notes"


def stray_notes(home: Path) -> list[Path]:
    folder = Path(home) / FOLDER
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.md") if p.is_file() and not p.is_symlink())


def remove_stray_notes(home: Path) -> int:
    """Delete the old notes (and their folder once empty); returns how many went."""
    notes = stray_notes(home)
    for note in notes:
        note.unlink(missing_ok=True)
    folder = Path(home) / FOLDER
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (something else is in it) or already gone
    return len(notes)
