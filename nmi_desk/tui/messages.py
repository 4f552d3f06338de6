"""What workers post back to the UI: one dataclass per result.

The convention (see docs/decisions.md, "Layers"): a screen's thread worker calls a domain
function and posts one of these to its own screen (`self.post_message(VisitSaved(...))`); the
screen's `on_<name>` handler updates the widgets. Workers never touch widgets themselves and
never use `call_from_thread`. Validation problems are results too (`SaveRefused`); anything
unexpected is left to raise: the app's single handler (`NmiDeskApp._handle_exception`) tells
the consultant in one line, logs where it happened and keeps the app running.

Messages of a widget that only that widget handles (the sync line's) stay nested in the widget,
as Textual's own widgets do.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

# ---- the app: database and drafts ----


class DatabaseReady(Message, bubble=False):
    """The engine is open, migrated and holds the reference data.

    The app forwards it to each screen; it must not bubble back up to the app.
    """


@dataclass
class DatabaseFailed(Message):
    """The database cannot be opened or read (a UserError): one line for the consultant."""

    reason: str


@dataclass
class DraftFound(Message):
    """An unsaved form from an earlier run (crash, kill) is waiting in the database."""

    draft: object  # nmi_desk.domain.drafts.Draft


# ---- forms ----


@dataclass
class SaveRefused(Message):
    """The domain refused a form's save: field errors to show next to the fields."""

    errors: list  # list[nmi_desk.core.validation.FieldError]


@dataclass
class VisitLoaded(Message):
    """A stored visit, as the walk-in form's payload."""

    payload: dict


@dataclass
class VisitSaved(Message):
    """`revision`: the visit's new revision after an edit, None for a new visit."""

    revision: int | None = None


@dataclass
class CountOnlySaved(Message):
    people: int = 1


@dataclass
class SessionSaved(Message):
    pass


@dataclass
class LetterDone(Message):
    """The client's letter went out: `how` is "print", "open" or "saved"; `where` a saved path."""

    how: str
    where: str = ""


@dataclass
class LetterFailed(Message):
    """No letter: one line for the consultant (no printer, a folder that does not exist...)."""

    reason: str


# ---- Today, follow-ups ----


@dataclass
class TodayLoaded(Message):
    view: object  # nmi_desk.domain.stats.today.TodayView
    read: int = 0  # which read this is: a slower, older read must not overwrite a newer one


@dataclass
class TodayUnavailable(Message):
    """No database (yet) to read: first run, or a schema the fast path cannot read."""


@dataclass
class VisitDeleted(Message):
    pass


@dataclass
class FollowUpsLoaded(Message):
    items: list  # list[nmi_desk.domain.referrals.FollowUp]
    read: int = 0  # as TodayLoaded.read


@dataclass
class FollowUpClosed(Message):
    pass


# ---- passphrase and settings ----


@dataclass
class Unlocked(Message):
    pass


@dataclass
class PassphraseWrong(Message):
    pass


@dataclass
class PassphraseSet(Message):
    pass


@dataclass
class PassphraseRefused(Message):
    reason: str


@dataclass
class SettingsSaved(Message):
    pass


@dataclass
class SettingsFailed(Message):
    """config.toml could not be written (a UserError, said in the UI's language)."""

    reason: str


# ---- returning clients (nmi_desk.domain.clients) ----


@dataclass
class ClientsFound(Message):
    """This laptop's clients for `query` (a newer keystroke makes it stale)."""

    query: str
    hits: list  # list[nmi_desk.domain.clients.ClientHit]


@dataclass
class CentralClientsFound(Message):
    """The central database's clients for `query` that this laptop does not hold."""

    query: str
    hits: list


@dataclass
class CentralUnavailable(Message):
    """No central search: no target set, or it cannot be reached (one line why)."""

    reason: str


@dataclass
class ClientFetched(Message):
    """A central client's record and history are on this laptop now."""

    uuid: str


@dataclass
class ClientHistoryLoaded(Message):
    history: object  # nmi_desk.domain.clients.History


@dataclass
class ClientChanged(Message):
    """A correction, merge or export finished; `note` is what to tell the consultant."""

    note: str


@dataclass
class ClientErased(Message):
    pass


@dataclass
class ClientPrefill(Message):
    """The stable fields of a chosen client, for the walk-in form."""

    payload: dict


# ---- the disk or the database failed under a form (nmi_desk.core.errors.storage_problem) ----


@dataclass
class SaveFailed(Message):
    """Saving did not reach the disk: the form stays open with its content."""

    reason: str


@dataclass
class DraftFailed(Message):
    """A draft write did not reach the disk: said once, tried again shortly."""

    reason: str


@dataclass
class DraftWritten(Message):
    """A draft write reached the disk (again, after a failure)."""


@dataclass
class UnlockFailed(Message):
    """The passphrase could not be checked: the file is damaged, unreadable or the disk full.
    Never shown as a wrong passphrase (no wrong try is counted either)."""

    reason: str


# ---- choice fields ----


@dataclass
class ChoicesPreferred(Message):
    """Per choice field, the codes to offer first (most chosen here, then last used), and the
    language most chosen here per origin country."""

    preferred: dict  # field name -> list of codes
    languages: dict  # origin country -> language code
