"""The base of every nmi-desk screen: bindings in the consultant's language, set once here.

A new screen derives from `NmiScreen` (a full screen) or `NmiModal` (a dialog over the
current one), declares BINDINGS with catalog keys, and is listed in help.SECTIONS. The app's
own keys (F1, Ctrl+P, Ctrl+L, Ctrl+Q) work on every screen; the help screen shows the keys of
the screen it was opened from, runtime ones included.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.screen import ModalScreen, Screen
from textual.widgets import Footer

from nmi_desk.tui.keys import LocalizedBindings

ResultT = TypeVar("ResultT")


class NmiScreen(LocalizedBindings, Screen[ResultT], Generic[ResultT]):
    pass


class NmiModal(LocalizedBindings, ModalScreen[ResultT], Generic[ResultT]):
    pass


def footer() -> Footer:
    """Every screen's footer: compact, and without Textual's Ctrl+P entry on the right, so it
    fits 80 columns (Ctrl+P is named in the help and works on every screen)."""
    return Footer(compact=True, show_command_palette=False)


def follow_up_summary(tr, due: int | str, overdue: int | str = 0) -> str:
    """ "Opvolging nodig: 5 (2 te laat)": the same words on Today, Follow-ups and the Day
    overview, for the counts of domain.follow_up_rule."""
    if overdue:
        return tr("follow_ups.due_overdue", n=due, overdue=overdue)
    return tr("follow_ups.due", n=due)
