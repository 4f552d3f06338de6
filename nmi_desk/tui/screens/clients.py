"""Returning clients: find one as you type, their history, and the rights (inzage, correctie,
verwijdering) and merge. The screens call nmi_desk.domain.clients in thread workers; results come back
as messages (tui/messages.py)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, DataTable, Header, Input, Label, Select, Static

from nmi_desk.core.dates import screen_date
from nmi_desk.tui.messages import (
    CentralClientsFound,
    CentralUnavailable,
    ClientChanged,
    ClientErased,
    ClientFetched,
    ClientHistoryLoaded,
    ClientsFound,
    SaveRefused,
)
from nmi_desk.tui.screens.base import NmiModal, NmiScreen, footer
from nmi_desk.tui.widgets.check_box import CheckBox
from nmi_desk.tui.widgets.columns import add_fitted_columns, fitted_row

LIMIT = 20
CENTRAL_PAUSE = 0.3  # seconds of no typing before the central database is asked


def _label(table: dict, code: str | None, lang: str, short: bool = False) -> str:
    if not code:
        return ""
    entry = table.get(code)
    if entry is None:
        return code
    return entry.short_label(lang) if short else entry.label(lang)


class ClientSearchScreen(NmiScreen[str | None]):
    """Type a name in any spelling (a birth year narrows); Enter opens the highlighted client.

    `pick`: the walk-in form asks for a client; the chosen UUID is the screen's result."""

    CSS_PATH = "clients.tcss"
    AUTO_FOCUS = "#client-query"
    BINDINGS = [
        Binding("down", "move(1)", "clients.key_next", show=False),
        Binding("up", "move(-1)", "clients.key_previous", show=False),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, pick: bool = False, initial: str = "") -> None:
        super().__init__()
        self.pick = pick
        self.initial = initial
        self.local: list = []
        self.central: list = []
        self.central_note = ""
        self._remote = None
        self._opening = False

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        yield Header()
        yield Static(tr("clients.search_title"), id="client-title")
        yield Input(
            value=self.initial,
            placeholder=tr("clients.search_placeholder"),
            id="client-query",
            compact=True,
        )
        yield Static("", id="client-status")
        table = DataTable(id="client-table", cursor_type="row", zebra_stripes=True)
        self._widths = add_fitted_columns(
            table,
            {
                k: tr(f"clients.{k}")
                for k in ("col_name", "col_year", "col_last", "col_topics", "col_open")
            },  # fmt: skip
            fixed={"col_name": 24, "col_year": 5, "col_last": 22, "col_open": 5},
            flexible="col_topics",
            minimum=10,
            screen_width=self.app.size.width,
        )
        yield table
        yield footer()

    def on_mount(self) -> None:
        self.sub_title = self.app.tr("clients.search_title")
        self._status()
        if self.initial:
            self._search(self.initial)

    def on_unmount(self) -> None:
        if self._remote is not None:
            remote, self._remote = self._remote, None
            self.app.run_worker(remote.close, thread=True, group="client-central-close")

    # ---- typing: each keystroke cancels the last search ----

    @on(Input.Changed, "#client-query")
    def _typed(self, event: Input.Changed) -> None:
        self._search(event.value)

    def _search(self, query: str) -> None:
        self.central = []
        self.search_local(query)
        self.search_central(query)

    @work(thread=True, exclusive=True, group="client-search")
    def search_local(self, query: str) -> None:
        from nmi_desk.domain.clients import search

        hits = search(self.app.desk.context(), query, None, LIMIT) if query.strip() else []
        self.post_message(ClientsFound(query, hits))

    @work(thread=True, exclusive=True, group="client-central")
    def search_central(self, query: str) -> None:
        import time

        from textual.worker import get_current_worker

        from nmi_desk.core.errors import UserError

        time.sleep(CENTRAL_PAUSE)  # still typing: a newer keystroke cancels this worker
        if get_current_worker().is_cancelled or not query.strip():
            return
        try:
            remote = self._central()
            hits = remote.search(query, None, LIMIT, skip={h.uuid for h in self.local})
        except UserError as exc:
            self.post_message(CentralUnavailable(self.app.tr.explain(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(CentralClientsFound(query, hits))

    def _central(self):
        """The central database (raises UserError without a target or connection)."""
        if self._remote is None:
            import os

            from nmi_desk.core.errors import UserError
            from nmi_desk.domain.clients import CentralClients
            from nmi_desk.sync.target import ENV_URL, resolve_target

            saved = self.app.desk.settings.sync_target
            if not (saved or os.environ.get(ENV_URL)):
                raise UserError.of("clients.no_target")
            target = resolve_target(None, saved)
            self._remote = CentralClients(target)
        return self._remote

    def _current(self) -> str:
        return self.query_one("#client-query", Input).value

    def on_clients_found(self, message: ClientsFound) -> None:
        if message.query == self._current():
            self.local = message.hits
            self._show()

    def on_central_clients_found(self, message: CentralClientsFound) -> None:
        if message.query == self._current():
            local = {h.uuid for h in self.local}
            self.central = [h for h in message.hits if h.uuid not in local]
            self.central_note = self.app.tr("clients.central_included")
            self._show()

    def on_central_unavailable(self, message: CentralUnavailable) -> None:
        self.central_note = self.app.tr("clients.central_missing", reason=message.reason)
        self._status()

    def _status(self) -> None:
        tr = self.app.tr
        query = self._current().strip()
        if not query:
            text = tr("clients.search_hint")
        elif not (self.local or self.central):
            text = tr("clients.none_found")
        else:
            text = tr("clients.found", n=len(self.local) + len(self.central))
            if self.central:
                text += " · " + tr("clients.central_marked", n=len(self.central))
        if self.central_note:
            text += " · " + self.central_note
        self.query_one("#client-status", Static).update(text)

    def _show(self) -> None:
        tr = self.app.tr
        lang = tr.lang
        ref = self.app.desk.reference
        topics, locations = ref.by_code("topics"), ref.by_code("locations")
        table = self.query_one(DataTable)
        table.clear()
        for hit in [*self.local, *self.central]:
            last = ""
            if hit.last_visit:
                last = f"{screen_date(hit.last_visit)} {_label(locations, hit.last_location, lang, True)}"
            name = ("↓ " if hit.central else "") + hit.name  # fetched when opened
            values = (
                name,
                str(hit.birth_year or ""),
                last,
                ", ".join(_label(topics, t, lang) for t in hit.last_topics),
                str(hit.open_follow_ups or ""),
            )
            table.add_row(*fitted_row(values, self._widths), key=hit.uuid)
        self._status()

    # ---- choosing ----

    def action_move(self, step: int) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    @on(Input.Submitted, "#client-query")
    def _submitted(self) -> None:
        self._open_highlighted()

    @on(DataTable.RowSelected, "#client-table")
    def _selected(self) -> None:
        self._open_highlighted()

    def _open_highlighted(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count or self._opening:
            return
        uuid = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        hit = next(h for h in [*self.local, *self.central] if h.uuid == uuid)
        if hit.central:
            self._opening = True
            self.query_one("#client-status", Static).update(self.app.tr("clients.fetching"))
            self.fetch(uuid)
        else:
            self._chosen(uuid)

    @work(thread=True, exclusive=True, group="client-fetch")
    def fetch(self, uuid: str) -> None:
        from nmi_desk.core.errors import UserError

        desk = self.app.desk
        try:
            self._central().fetch(desk.engine(), uuid, desk.now())
        except UserError as exc:
            self.post_message(CentralUnavailable(self.app.tr.explain(exc)))
            return
        self.post_message(ClientFetched(uuid))

    def on_client_fetched(self, message: ClientFetched) -> None:
        self._opening = False
        self._chosen(message.uuid)

    def _chosen(self, uuid: str) -> None:
        if self.pick:
            self.dismiss(uuid)
        else:
            self.app.push_screen(ClientHistoryScreen(uuid))

    def on_screen_resume(self) -> None:
        self._opening = False
        if self._current().strip():  # back from the history: a new visit may have changed it
            self.search_local(self._current())

    def action_back(self) -> None:
        self.dismiss(None)


class ClientHistoryScreen(NmiScreen[None]):
    """One client: the record, open follow-ups on top, every visit newest first."""

    CSS_PATH = "clients.tcss"
    BINDINGS = [
        Binding("n", "new_visit", "clients.key_new_visit"),
        Binding("o", "open_visit", "key.open"),
        Binding("c", "correct", "clients.key_correct"),
        Binding("e", "export", "clients.key_export"),
        Binding("m", "merge", "clients.key_merge", show=False),
        Binding("x", "erase", "clients.key_erase", show=False),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, uuid: str) -> None:
        super().__init__()
        self.uuid = uuid
        self.history = None

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        yield Header()
        yield Static("", id="history-title")
        yield Static("", id="history-card")
        yield Static("", id="history-open")
        table = DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
        self._widths = add_fitted_columns(
            table,
            {
                k: tr(f"clients.{k}")
                for k in ("col_day", "col_location", "col_topics", "col_referrals", "col_outcome")
            },  # fmt: skip
            fixed={"col_day": 16, "col_location": 12, "col_referrals": 10, "col_outcome": 12},
            flexible="col_topics",
            minimum=10,
            screen_width=self.app.size.width,
        )
        yield table
        yield footer()

    def on_mount(self) -> None:
        self.sub_title = self.app.tr("clients.history_title")
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="client-history")
    def reload(self) -> None:
        from nmi_desk.domain.clients import ClientNotFound
        from nmi_desk.domain.clients.read import history

        desk = self.app.desk
        try:
            hist = history(desk.context(), self.uuid)
        except ClientNotFound:
            self.post_message(ClientErased())
            return
        self.post_message(ClientHistoryLoaded(hist))

    def on_client_history_loaded(self, message: ClientHistoryLoaded) -> None:
        tr = self.app.tr
        lang = tr.lang
        ref = self.app.desk.reference
        countries, topics = ref.by_code("countries"), ref.by_code("topics")
        locations, orgs = ref.by_code("locations"), ref.by_code("organisations")
        languages = {e.code: e for e in ref.lists["language"]}
        outcomes = {e.code: e for e in ref.lists["outcome"]}
        hist = self.history = message.history
        c = hist.client
        self.query_one("#history-title", Static).update(
            f"{c.name or tr('clients.purged')}" + (f" · {c.birth_year}" if c.birth_year else "")
        )
        household = []
        if c.partner_coremigrating:
            household.append(tr("clients.with_partner"))
        if c.children_coremigrating:
            household.append(tr("clients.with_children", n=c.children_coremigrating))
        parts = [
            " → ".join(
                x
                for x in (
                    _label(countries, c.origin_country, lang),
                    _label(countries, c.destination_country, lang),
                )
                if x
            ),  # fmt: skip
            _label(languages, c.language, lang),
            ", ".join(household),
            tr("clients.visits_n", n=len(hist.visits)),
        ]
        self.query_one("#history-card", Static).update(" · ".join(p for p in parts if p))
        today = self.app.desk.today().isoformat()
        open_lines = [
            tr(
                "clients.open_follow_up",
                date=screen_date(r.follow_up_on),
                organisation=_label(orgs, r.organisation_code, lang),
            )  # fmt: skip
            + (f" ({tr('clients.overdue')})" if (r.follow_up_on or today) < today else "")
            for r in hist.open_follow_ups
        ]
        box = self.query_one("#history-open", Static)
        box.update("\n".join(open_lines))
        box.display = bool(open_lines)
        table = self.query_one(DataTable)
        table.clear()
        for v in hist.visits:
            values = (
                f"{screen_date(v.day)} {v.time}",
                _label(locations, v.location_code, lang),
                ", ".join(_label(topics, t, lang) for t in v.topics),
                ", ".join(r.organisation_code.upper() for r in v.referrals),
                _label(outcomes, v.outcome, lang),
            )
            table.add_row(*fitted_row(values, self._widths), key=v.uuid)

    def on_client_erased(self, message: ClientErased) -> None:
        self.dismiss(None)

    # ---- actions ----

    def action_new_visit(self) -> None:
        self.app.open_visit_form(client_uuid=self.uuid)

    def action_open_visit(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            uuid = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
            self.app.open_visit_form(uuid=uuid)

    @on(DataTable.RowSelected, "#history-table")
    def _selected(self) -> None:
        self.action_open_visit()

    def action_correct(self) -> None:
        if self.history is None:
            return

        def done(inp) -> None:
            if inp is not None:
                self._correct(inp)

        self.app.push_screen(ClientEditScreen(self.history.client), done)

    @work(thread=True, exclusive=True, group="client-write")
    def _correct(self, inp) -> None:
        from nmi_desk.core.validation import ValidationError
        from nmi_desk.domain.clients import correct_client

        desk = self.app.desk
        try:
            revision = correct_client(desk.context(), self.uuid, inp)
        except ValidationError as exc:
            self.post_message(SaveRefused(exc.errors))
            return
        self.post_message(ClientChanged(self.app.tr("clients.corrected", revision=revision)))

    def on_save_refused(self, message: SaveRefused) -> None:
        tr = self.app.tr
        first = message.errors[0]
        self.app.notify(tr(first.key, **first.params), severity="error")

    def on_client_changed(self, message: ClientChanged) -> None:
        self.app.notify(message.note)
        self.reload()

    def action_export(self) -> None:
        self._export()

    @work(thread=True, exclusive=True, group="client-write")
    def _export(self) -> None:
        import json

        from nmi_desk.core.outputs import write_output
        from nmi_desk.core.paths import ensure_private_dir
        from nmi_desk.domain.clients.access import inzage, inzage_text
        from nmi_desk.domain.copies import register_file

        desk = self.app.desk
        data = inzage(desk.context(), self.uuid)
        # Where the consultant chose (settings.inzage_dir), not the data folder; each file
        # is registered, so erasure and retention remove it (nmi_desk.domain.copies).
        folder = ensure_private_dir(desk.inzage_folder, tighten_existing=False)
        stem = folder / f"inzage-{desk.today().isoformat()}-{self.uuid[:8]}"
        for path, body in (
            (f"{stem}.md", inzage_text(data, self.app.tr, self.app.desk.reference)),
            (f"{stem}.json", json.dumps(data, ensure_ascii=False, indent=2, default=str)),
        ):
            write_output(path, body, private=True)
            register_file(desk.engine(), path, "inzage", desk.now(), client=self.uuid)
        self.post_message(ClientChanged(self.app.tr("clients.exported", path=f"{stem}.md")))

    def action_erase(self) -> None:
        from nmi_desk.tui.screens.confirm import ConfirmScreen

        if self.history is None:
            return
        question = self.app.tr(
            "clients.erase_question", name=self.history.client.name or "",
            n=len(self.history.visits),
        )  # fmt: skip

        def answered(yes: bool | None) -> None:
            if yes:
                self._erase()

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(thread=True, exclusive=True, group="client-write")
    def _erase(self) -> None:
        from nmi_desk.domain.clients import erase_client

        desk = self.app.desk
        erase_client(desk.context(), self.uuid)
        self.post_message(ClientErased())

    def action_merge(self) -> None:
        from nmi_desk.tui.screens.confirm import ConfirmScreen

        if self.history is None:
            return
        name = self.history.client.name or ""

        def picked(other: str | None) -> None:
            if not other or other == self.uuid:
                return
            question = self.app.tr("clients.merge_question", name=name)
            self.app.push_screen(
                ConfirmScreen(question), lambda yes: self._merge(other) if yes else None
            )

        self.app.push_screen(ClientSearchScreen(pick=True, initial=name), picked)

    @work(thread=True, exclusive=True, group="client-write")
    def _merge(self, other: str) -> None:
        from nmi_desk.domain.clients import merge_clients

        desk = self.app.desk
        moved = merge_clients(desk.context(), self.uuid, other)
        self.post_message(ClientChanged(self.app.tr("clients.merged", n=moved)))

    def action_back(self) -> None:
        self.dismiss(None)


class ClientEditScreen(NmiModal[object]):
    """Correctie: the client record's fields; Ctrl+S returns a ClientInput."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", priority=True),
        Binding("escape", "cancel", "key.cancel"),
    ]

    def __init__(self, record) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        lang = tr.lang
        ref = self.app.desk.reference
        countries = sorted(((c.label(lang), c.code) for c in ref.countries), key=lambda x: x[0])
        languages = [(e.label(lang), e.code) for e in ref.lists["language"]]
        r = self.record
        with Vertical(classes="dialog"):
            yield Static(tr("clients.correct_title"), classes="question")
            yield Label(tr("clients.name"))
            yield Input(r.name or "", id="edit-name", compact=True)
            with Horizontal(classes="row"):
                yield Input(str(r.birth_year or ""), id="edit-year", max_length=4,
                            type="integer", compact=True, placeholder=tr("clients.birth_year"))  # fmt: skip
                yield Input(str(r.children_coremigrating or ""), id="edit-children",
                            max_length=2, type="integer", compact=True,
                            placeholder=tr("clients.children"))  # fmt: skip
            yield Select(countries, value=r.origin_country or Select.BLANK, id="edit-origin",
                         prompt=tr("clients.origin_country"), compact=True)  # fmt: skip
            yield Select(countries, value=r.destination_country or Select.BLANK,
                         id="edit-destination", prompt=tr("clients.destination_country"),
                         compact=True)  # fmt: skip
            yield Select(languages, value=r.language or Select.BLANK, id="edit-language",
                         prompt=tr("clients.language"), compact=True)  # fmt: skip
            yield CheckBox(tr("clients.partner"), bool(r.partner_coremigrating), id="edit-partner",
                           compact=True)  # fmt: skip
            yield Static(tr("clients.correct_hint"), classes="hint")

    def action_save(self) -> None:
        from nmi_desk.domain.clients import ClientInput

        def number(widget_id: str) -> int | None:
            text = self.query_one(widget_id, Input).value.strip()
            return int(text) if text.isdigit() else None

        def chosen(widget_id: str) -> str | None:
            value = self.query_one(widget_id, Select).value
            return value if isinstance(value, str) else None

        self.dismiss(
            ClientInput(
                name=self.query_one("#edit-name", Input).value,
                birth_year=number("#edit-year"),
                origin_country=chosen("#edit-origin"),
                destination_country=chosen("#edit-destination"),
                language=chosen("#edit-language"),
                partner_coremigrating=self.query_one("#edit-partner", Checkbox).value or None,
                children_coremigrating=number("#edit-children"),
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
