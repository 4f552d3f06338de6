"""The screen lock: after settings.lock_minutes without a key or click, and on Ctrl+L, a full
screen hides every client detail until the passphrase is entered again.

The app owns one IdleLock once no passphrase screen comes first; its on_event passes every
event through `lets_through`. Idle time is measured on the desk's clock, so tests move it
with FixedClock.
"""

from __future__ import annotations

from textual import events

CHECK_EVERY_S = 0.5
# While locked only typing reaches the lock screen: no app binding, palette or screen switch.
_TYPING = {"enter", "backspace", "delete", "left", "right", "home", "end", "tab", "ctrl+q"}


class IdleLock:
    def __init__(self, app) -> None:
        self.app = app
        self.last_activity = app.desk.now()
        self.locked = False

    @property
    def minutes(self) -> int:
        return max(1, int(self.app.desk.settings.lock_minutes or 5))

    def touch(self) -> None:
        self.last_activity = self.app.desk.now()

    def check(self) -> None:
        idle = self.app.desk.now() - self.last_activity
        if not self.locked and idle.total_seconds() >= self.minutes * 60:
            self.lock()

    def lock(self) -> None:
        if self.locked or self.app.desk.encryption_state() != "encrypted":
            return  # nothing to check a passphrase against (a plain test or demo desk)
        self.locked = True
        from nmi_desk.tui.screens.unlock import UnlockScreen  # not needed until then

        self.app.push_screen(UnlockScreen(relock=True), callback=self._unlocked)

    def _unlocked(self, _ok) -> None:
        self.locked = False
        self.touch()

    def lets_through(self, event: events.Event) -> bool:
        if isinstance(
            event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)
        ):
            if not self.locked:
                self.touch()
        if self.locked and isinstance(event, events.Key):
            return event.is_printable or event.key in _TYPING
        return True


def ask_passphrase_first(app, then) -> bool:
    """True when a passphrase screen is up; `then` runs once it is dismissed.

    An encrypted database asks its passphrase before anything is read. A production start
    (run_tui sets desk.require_encryption) on a new or plain database first sets one, which
    converts the plain data. A plain test desk goes straight on.
    """
    if not app.desk.passphrase_first():
        return False
    from nmi_desk.tui.screens.unlock import SetPassphraseScreen, UnlockScreen

    screen = UnlockScreen() if app.desk.locked else SetPassphraseScreen()
    app.push_screen(screen, callback=lambda _: then())
    return True
