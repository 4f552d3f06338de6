"""Key bindings in the consultant's language.

BINDINGS declare catalog keys ("key.new_visit") as descriptions; `localize_bindings` gives a
node its own copy with the text of the current language, so the footer, the help screen and
the command palette all read the same catalog. The footer must fit 80 columns, so some keys
have a short text there and a longer one ("key.day_overview_long") that the help screen, the
command palette and the footer's tooltip show. Textual keeps a node's bindings in the
`_bindings` map built from the class at init; we replace that map per instance.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from importlib.util import find_spec

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


def localize_bindings(node, tr) -> None:
    """Give `node` the bindings of its class with descriptions in the language of `tr`."""
    source = type(node)._merged_bindings
    if source is not None:
        node._bindings = localized_map(source, tr)


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


@cache
def has_screen(module: str) -> bool:
    """Whether an optional screen module (built by another capability) is installed."""
    return find_spec(f"nmi_desk.tui.screens.{module}") is not None
