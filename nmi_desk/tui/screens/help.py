"""Help: the keys of the screen it was opened from, the app's keys, then every other screen's,
generated from the bindings themselves so it never drifts."""

from __future__ import annotations

from importlib import import_module

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from nmi_desk.tui.keys import (
    LocalizedBindings,
    catalog_bindings,
    key_label,
    long_description,
    source_bindings,
    translate,
)
from nmi_desk.tui.screens.base import NmiModal

# (catalog key of the section title, module, class), in the order the consultant meets them
SECTIONS = [
    ("help.today", "nmi_desk.tui.screens.today", "TodayScreen"),
    ("help.visit_form", "nmi_desk.tui.screens.visit_form", "VisitFormScreen"),
    ("help.topics", "nmi_desk.tui.widgets.topic_picker", "TopicPicker"),
    ("help.referral", "nmi_desk.tui.screens.referral", "ReferralScreen"),
    ("help.count_only", "nmi_desk.tui.screens.count_only", "CountOnlyScreen"),
    ("help.follow_ups", "nmi_desk.tui.screens.follow_ups", "FollowUpsScreen"),
    ("help.info_session", "nmi_desk.tui.screens.info_session", "InfoSessionScreen"),
    ("help.guidance", "nmi_desk.tui.screens.guidance", "GuidanceScreen"),
    ("help.day_overview", "nmi_desk.tui.screens.day_overview", "DayOverviewScreen"),
    ("clients.help_search", "nmi_desk.tui.screens.clients", "ClientSearchScreen"),
    ("clients.help_history", "nmi_desk.tui.screens.clients", "ClientHistoryScreen"),
]


def key_lines(bindings: list[tuple[str, Binding]], tr) -> list[tuple[str, str]]:
    """(keys, what they do) per action: 'Ctrl+S', 'Opslaan'."""
    lines: dict[str, list[str]] = {}
    for key, binding in bindings:
        label = long_description(translate(binding, tr))
        keys = lines.setdefault(label, [])
        if key_label(key) not in keys:
            keys.append(key_label(key))
    return [(" / ".join(keys), label) for label, keys in lines.items()]


def screen_bindings(screen: Screen) -> list[tuple[str, Binding]]:
    """Every key the consultant can use on `screen` (the app's aside): its own bindings, runtime
    ones included, and those of its widgets that bring their own (the topic picker)."""
    pairs = catalog_bindings(source_bindings(screen))
    for widget in screen.query("*"):
        if isinstance(widget, LocalizedBindings):
            pairs += catalog_bindings(source_bindings(widget))
    return pairs


class HelpScreen(NmiModal[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,q", "close", "key.close")]  # F1 (the app's) too

    def __init__(self, origin: Screen | None = None) -> None:
        """`origin`: the screen the consultant pressed F1 on."""
        super().__init__()
        self.origin = origin

    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        tr = self.app.tr
        out = []
        if self.origin is not None:
            out.append(
                (tr("general.help_this_screen"), key_lines(screen_bindings(self.origin), tr))
            )
        app_keys = catalog_bindings(source_bindings(self.app))
        if self.origin is not None and self.origin.is_modal:
            # on a dialog Textual passes only the app's priority keys (F1, Ctrl+P, Ctrl+L, ...)
            app_keys = [(key, b) for key, b in app_keys if b.priority]
        out.append((tr("help.everywhere"), key_lines(app_keys, tr)))
        for title, module, name in SECTIONS:
            cls = getattr(import_module(module), name)
            if self.origin is not None and isinstance(self.origin, cls):
                continue  # shown first, as "on this screen"
            out.append((tr(title), key_lines(catalog_bindings(cls._merged_bindings), tr)))
        return [(title, rows) for title, rows in out if rows]

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        with VerticalScroll(id="help", classes="dialog"):
            yield Static(tr("help.title"), classes="dialog-title")
            for title, rows in self.sections():
                yield Static(title, classes="help-section")
                yield Static("\n".join(f"  {k:<18} {d}" for k, d in rows), markup=False)
            yield Static(tr("help.general"), classes="help-section")
            yield Static(tr("help.general_keys"), markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
