"""The screen lock: after settings.lock_minutes without a key or click, and on Ctrl+L, a full
screen hides every client detail until the passphrase is entered again.

Installed on the app from its on_mount by `guard` (a small hook, so app.py stays the counter
screens' file). Idle time is measured on the desk's clock, so tests move it with FixedClock.
"""

from __future__ import annotations

from textual import events

CHECK_EVERY_S = 0.5
LOCK_KEY = "ctrl+l"
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
        if not self.locked and isinstance(event, events.Key) and event.key == LOCK_KEY:
            self.lock()
            return False
        return True


def install(app) -> IdleLock:
    lock = IdleLock(app)
    original = app.on_event

    async def on_event(event: events.Event) -> None:
        if lock.lets_through(event):
            await original(event)

    app.on_event = on_event  # every event passes the app first: one place to see activity
    app.set_interval(CHECK_EVERY_S, lock.check)
    app.idle_lock = lock
    return lock


def guard(app, resume) -> bool:
    """Called first in the app's on_mount. True: a passphrase screen is up; `resume` runs after.

    An encrypted database asks its passphrase before anything is read. A production start
    (run_tui sets desk.require_encryption) on a new or plain database first sets one, which
    converts the plain data. A plain test desk goes straight on.
    """
    desk = app.desk
    if desk.passphrase_first():
        from nmi_desk.tui.screens.unlock import SetPassphraseScreen, UnlockScreen

        screen = UnlockScreen() if desk.locked else SetPassphraseScreen()
        app.push_screen(screen, callback=lambda _: resume())
        return True
    if getattr(app, "idle_lock", None) is None:
        install(app)
    return False
