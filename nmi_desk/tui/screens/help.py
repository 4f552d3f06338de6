"""Help: every key of every screen, generated from the bindings themselves so it never drifts."""

from __future__ import annotations

from importlib import import_module

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from nmi_desk.tui.keys import (
    CATALOG_KEY,
    has_screen,
    key_label,
    localize_bindings,
    long_description,
    translate,
)

# (catalog key of the section title, module, class); optional screens only when installed
SECTIONS = [
    ("help.everywhere", "nmi_desk.tui.app", "NmiDeskApp"),
    ("help.today", "nmi_desk.tui.screens.today", "TodayScreen"),
    ("help.visit_form", "nmi_desk.tui.screens.visit_form", "VisitFormScreen"),
    ("help.topics", "nmi_desk.tui.widgets.topic_picker", "TopicPicker"),
    ("help.referral", "nmi_desk.tui.screens.referral", "ReferralScreen"),
    ("help.count_only", "nmi_desk.tui.screens.count_only", "CountOnlyScreen"),
    ("help.follow_ups", "nmi_desk.tui.screens.follow_ups", "FollowUpsScreen"),
    ("help.info_session", "nmi_desk.tui.screens.info_session", "InfoSessionScreen"),
    ("help.guidance", "nmi_desk.tui.screens.guidance", "GuidanceScreen"),
    ("help.day_overview", "nmi_desk.tui.screens.day_overview", "DayOverviewScreen"),
]


def key_lines(cls, tr) -> list[tuple[str, str]]:
    lines: dict[str, list[str]] = {}
    for key, binding in cls._merged_bindings or []:
        if binding.system or not CATALOG_KEY.match(binding.description or ""):
            continue  # Textual's own (focus, copy) are under "Algemeen" below
        label = long_description(translate(binding, tr))
        lines.setdefault(label, []).append(key_label(key))
    return [(" / ".join(keys), label) for label, keys in lines.items()]


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    NMI_COMMANDS = True
    BINDINGS = [Binding("escape,f1,q", "close", "key.close")]

    def __init__(self) -> None:
        super().__init__()
        localize_bindings(self, self.app.tr)

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        with VerticalScroll(id="help", classes="dialog"):
            yield Static(tr("help.title"), classes="dialog-title")
            for title, module, name in SECTIONS:
                short = module.rsplit(".", 1)[-1]
                if module.startswith("nmi_desk.tui.screens.") and not has_screen(short):
                    continue
                try:
                    cls = getattr(import_module(module), name)
                except (ImportError, AttributeError):
                    continue  # another capability's screen not (fully) there yet
                rows = key_lines(cls, tr)
                if not rows:
                    continue
                yield Static(tr(title), classes="help-section")
                yield Static("\n".join(f"  {k:<18} {d}" for k, d in rows), markup=False)
            yield Static(tr("help.general"), classes="help-section")
            yield Static(tr("help.general_keys"), markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
