"""Key bindings in the consultant's language: one mechanism for the app, every screen and widget.

BINDINGS declare catalog keys ("key.new_visit") as descriptions. A node built on
`LocalizedBindings` (the app, `NmiScreen`, `NmiModal`, the topic picker) keeps the bindings it
was created with, including those Textual adds at runtime (Ctrl+P for the command palette), as
its source, and shows them with the texts of the current language; `localize_bindings` does it
again after a language switch. So the footer, the help screen and the command palette all
read the same catalog. The footer must fit 80 columns, so some keys have a short text there
and a longer one ("key.day_overview_long") that the help screen, the command palette and the
footer's tooltip show.

Textual keeps a node's bindings in its `_bindings` map; replacing that map per instance is
the private API this module keeps in one place.
"""

from __future__ import annotations

import re
from dataclasses import replace

from textual.binding import Binding, BindingsMap

CATALOG_KEY = re.compile(r"^[a-z_]+\.[a-z_0-9]+$")  # "key.save", "day_overview.key_day"


def translate(binding: Binding, tr) -> Binding:
    if CATALOG_KEY.match(binding.description):
        key = binding.description
        return replace(binding, description=tr(key), tooltip=tr.optional(f"{key}_long"))
    return binding


def long_description(binding: Binding) -> str:
    """A translated binding's name in the help and the palette: the long form, if any."""
    return binding.tooltip or binding.description


def localized_map(bindings: BindingsMap, tr) -> BindingsMap:
    return BindingsMap.from_keys(
        {key: [translate(b, tr) for b in items] for key, items in bindings.key_to_bindings.items()}
    )


def source_bindings(node) -> BindingsMap:
    """The bindings `node` was created with, descriptions still catalog keys."""
    source = getattr(node, "_source_bindings", None)
    if source is None:
        source = node._source_bindings = node._bindings.copy()
    return source


def localize_bindings(node, tr) -> None:
    """Show `node`'s bindings (runtime ones included) with the texts of `tr`'s language."""
    node._bindings = localized_map(source_bindings(node), tr)


def from_catalog(node, key: str, action: str) -> bool:
    """Is `node`'s binding of `key` to `action` one of ours (named from the catalog), not one
    Textual adds to every app and screen (copy, focus next and previous)?"""
    for b in source_bindings(node).key_to_bindings.get(key, ()):
        if b.action == action and CATALOG_KEY.match(b.description or ""):
            return True
    return False


def catalog_bindings(bindings: BindingsMap) -> list[tuple[str, Binding]]:
    """(key, binding) of the bindings named from the catalog: the ones the consultant uses.
    Textual's own (cursor moves, copy, focus) have plain English text and are left out."""
    return [
        (key, b) for key, b in bindings if not b.system and CATALOG_KEY.match(b.description or "")
    ]


class LocalizedBindings:
    """Mixin for the app, screens and widgets that declare BINDINGS with catalog keys.

    `NMI_COMMANDS`: the node's keys are also commands in the palette (screens and the app
    always are; a widget is when it is built on this mixin)."""

    NMI_COMMANDS = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        localize_bindings(self, self.app.tr)


def key_label(key: str) -> str:
    """How a key is written for people: 'ctrl+s' -> 'Ctrl+S', 'f1' -> 'F1'."""
    names = {
        "escape": "Esc",
        "enter": "Enter",
        "delete": "Del",
        "space": "Space",
        "up": "↑",
        "down": "↓",
    }
    parts = []
    for part in key.split("+"):
        parts.append(names.get(part, part.upper() if len(part) <= 3 else part.capitalize()))
    return "+".join(parts)
