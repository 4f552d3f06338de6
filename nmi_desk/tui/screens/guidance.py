"""Guidance: search the offline articles as you type and read one, with sources and review date.

Opening the library (and building its index on first use) and every search run in thread
workers; a keystroke cancels the previous search (exclusive worker), like Textual's dictionary
example. The article text comes from the library in memory, so moving through the results
is instant.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Header, Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from nmi_desk.tui.screens.base import NmiScreen, footer

RESULT_LIMIT = 25


class GuidanceOpened(Message):
    def __init__(self, guidance) -> None:
        super().__init__()
        self.guidance = guidance


class GuidanceFailed(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class ResultsReady(Message):
    def __init__(self, query: str, hits: list) -> None:
        super().__init__()
        self.query = query
        self.hits = hits


class GuidanceScreen(NmiScreen[None]):
    """Search and read guidance. `topic` lists that topic's articles until the consultant
    types; `query` starts with a search already filled in."""

    CSS_PATH = "guidance.tcss"
    BINDINGS = [
        Binding("escape", "close", "guidance.close"),
        Binding("ctrl+f", "focus_search", "guidance.search"),
        Binding("down", "focus_results", show=False),
        # F2 opens guidance from anywhere; here it means "search again", not a second screen.
        Binding("f2", "focus_search", "guidance.search", show=False),
    ]

    def __init__(self, topic: str | None = None, query: str = "") -> None:
        super().__init__()
        self.topic = topic
        self.initial_query = query
        self.guidance = None
        self.current_slug: str | None = None

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        yield Header()
        yield Input(value=self.initial_query, placeholder=tr("guidance.placeholder"), id="query")
        yield Static(tr("guidance.loading"), id="info")
        with Horizontal(id="panes"):
            yield OptionList(id="results")
            # The text comes first: on 24 lines the title, a short warning and the text, the
            # facts, sources and review date below it (compact, in the same scroll).
            with VerticalScroll(id="article"):
                yield Static("", id="title")
                yield Static("", id="status")
                yield Static("", id="due")
                yield Markdown("", id="text", open_links=False)
                yield Static("", id="reviewed")
        yield footer()

    def on_mount(self) -> None:
        tr = self.app.tr
        self.title = tr("app.title")
        self.sub_title = tr("guidance.title")
        if self.topic:
            entry = self.app.desk.reference.by_code("topics").get(self.topic)
            label = entry.label(self.app.desk.settings.lang) if entry else self.topic
            self.sub_title = f"{tr('guidance.title')} · {tr('guidance.topic', topic=label)}"
        for widget_id in ("#title", "#status", "#due", "#reviewed"):
            self.query_one(widget_id).display = False
        self.query_one("#query", Input).focus()
        self.open_library()

    def on_unmount(self) -> None:
        if self.guidance is not None:
            self.guidance.close()

    # Workers -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="guidance-open")
    def open_library(self) -> None:
        from nmi_desk.core.errors import UserError
        from nmi_desk.guidance.service import open_guidance

        try:
            guidance = open_guidance(self.app.desk)
        except UserError as exc:
            self.post_message(GuidanceFailed(self.app.tr.explain(exc)))
        else:
            self.post_message(GuidanceOpened(guidance))

    @work(thread=True, exclusive=True, group="guidance-search")
    def run_search(self, query: str) -> None:
        guidance = self.guidance
        if guidance is None:
            return  # the library is still opening; GuidanceOpened searches the current text
        if query.strip():
            hits = guidance.search(query, RESULT_LIMIT)
        elif self.topic:
            hits = guidance.by_topic(self.topic)
        else:
            hits = guidance.browse()
        if not get_current_worker().is_cancelled:  # a newer keystroke took over
            self.post_message(ResultsReady(query, hits))

    # Messages ----------------------------------------------------------------------------

    def on_guidance_opened(self, message: GuidanceOpened) -> None:
        if not self.is_attached:
            message.guidance.close()
            return
        self.guidance = message.guidance
        self.run_search(self.query_one("#query", Input).value)

    def on_guidance_failed(self, message: GuidanceFailed) -> None:
        self.query_one("#info", Static).update(
            self.app.tr("guidance.failed", reason=message.reason)
        )

    @on(Input.Changed, "#query")
    def query_changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    @on(Input.Submitted, "#query")
    def query_submitted(self) -> None:
        results = self.query_one("#results", OptionList)
        if results.option_count:
            results.focus()

    def on_results_ready(self, message: ResultsReady) -> None:
        if message.query != self.query_one("#query", Input).value:
            return  # stale: the consultant typed on
        tr = self.app.tr
        today = self.app.desk.today()
        lang = self.app.desk.settings.lang
        results = self.query_one("#results", OptionList)
        options = []
        for hit in message.hits:
            article = self.guidance.article(hit.slug)
            if article is None:
                continue
            # "!": due for review, or something in it has expired.
            mark = "! " if article.due_for_review(today) or article.outdated(today) else ""
            options.append(Option(f"{mark}{article.display_title(lang)}", id=hit.slug))
        results.set_options(options)
        info = self.query_one("#info", Static)
        if message.hits:
            n = len(message.hits)
            info.update(tr("guidance.results", n=n))
            results.highlighted = 0
        else:
            info.update(tr("guidance.no_results"))
            self.show_article(None)

    @on(OptionList.OptionHighlighted, "#results")
    def result_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.show_article(event.option.id)

    @on(OptionList.OptionSelected, "#results")
    def result_selected(self) -> None:
        self.query_one("#article", VerticalScroll).focus()

    # Showing an article ------------------------------------------------------------------

    def show_article(self, slug: str | None) -> None:
        from nmi_desk.guidance.render import (
            due_line,
            reading_markdown,
            review_line,
            validity_lines,
        )

        if slug == self.current_slug:
            return
        self.current_slug = slug
        article = self.guidance.article(slug) if (slug and self.guidance) else None
        title = self.query_one("#title", Static)
        status = self.query_one("#status", Static)
        due = self.query_one("#due", Static)
        reviewed = self.query_one("#reviewed", Static)
        if article is None:
            for widget in (title, status, due, reviewed):
                widget.display = False
            self._render_text("" if self.guidance is None else self.app.tr("guidance.pick"))
            return
        lang = self.app.desk.settings.lang
        today = self.app.desk.today()
        title.update(article.display_title(lang))
        title.display = True
        status.update(f"{self.app.tr('guidance.status')}: {article.status}")
        status.display = bool(article.status)
        warnings = [
            w for w in (due_line(article, today, lang), *validity_lines(article, today, lang)) if w
        ]
        due.update("\n".join(warnings))
        due.display = bool(warnings)
        reviewed.update(review_line(article, today, lang))
        reviewed.display = True
        self._render_text(reading_markdown(article, self.guidance.ref, today, lang))
        self.query_one("#article", VerticalScroll).scroll_home(animate=False)

    @work(group="guidance-render")
    async def _render_text(self, markdown: str) -> None:
        """The article's Markdown, awaited in a worker: Textual parses it in the loop's
        executor and mounts its blocks; a failure there was lost silently (the pane stayed
        empty), here it is reported like any worker's. Not exclusive: a cancelled update
        could leave half its blocks mounted; Markdown's own lock keeps updates in order."""
        await self.query_one("#text", Markdown).update(markdown)

    # Actions -----------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def action_focus_search(self) -> None:
        self.query_one("#query", Input).focus()

    def action_focus_results(self) -> None:
        """Down from the search field moves into the results (the list handles it there)."""
        results = self.query_one("#results", OptionList)
        if results.option_count:
            results.focus()
