"""An article as Markdown for reading: facts line, body, sources and review date.

Shared by `nmi-desk guidance show` and the TUI's guidance screen. Labels come from the locale
catalogs (Dutch by default); the article text itself is Dutch.
"""

from __future__ import annotations

from datetime import date

from nmi_desk.core.dates import format_date
from nmi_desk.core.i18n import t
from nmi_desk.domain.reference.files import Reference
from nmi_desk.guidance.library import MARKER_RE, Article, Dated, parse_dated


def facts_line(article: Article, ref: Reference, lang: str = "nl") -> str:
    parts = []
    for key, kind, codes in (
        ("guidance.topics", "topics", article.topics),
        ("guidance.organisations", "organisations", article.organisations),
        ("guidance.countries", "countries", article.countries),
    ):
        if codes:
            labels = ref.by_code(kind)
            names = ", ".join(labels[c].label(lang) if c in labels else c for c in codes)
            parts.append(f"{t(key, lang)}: {names}")
    return " · ".join(parts)


def review_line(article: Article, today: date, lang: str = "nl") -> str:
    line = t(
        "guidance.reviewed",
        lang,
        date=format_date(article.reviewed) if article.reviewed else "?",
        revision=article.revision,
    )
    if article.origin == "central":
        line += f" · {t('guidance.central', lang)}"
    return line


def due_line(article: Article, today: date, lang: str = "nl") -> str:
    """The due-for-review warning, or '' while the article is recent enough."""
    if not article.due_for_review(today):
        return ""
    return t("guidance.due", lang, date=format_date(article.reviewed) if article.reviewed else "?")


def validity_lines(article: Article, today: date, lang: str = "nl") -> list[str]:
    """Warnings about dates: the article expired or not yet in force, expired statements."""
    lines = []
    if article.expired(today):
        lines.append(t("guidance_dates.expired", lang, date=format_date(article.valid_until)))
    if article.valid_from is not None and article.valid_from > today:
        lines.append(t("guidance_dates.pending", lang, date=format_date(article.valid_from)))
    n = len(article.expired_statements(today))
    if n:
        lines.append(t("guidance_dates.statements_expired", lang, n=n))
    return lines


def _marker_label(statement: Dated, today: date, lang: str) -> str:
    start, end = statement.valid_from, statement.valid_until
    if statement.expired(today):
        return f"> **⚠ {t('guidance_dates.marker_expired', lang, date=format_date(end))}**"
    if statement.pending(today):
        return f"*{t('guidance_dates.marker_pending', lang, date=format_date(start))}*"
    if start and end:
        label = t(
            "guidance_dates.marker_from_until", lang, start=format_date(start), end=format_date(end)
        )
    elif end:
        label = t("guidance_dates.marker_until", lang, date=format_date(end))
    else:
        label = t("guidance_dates.marker_from", lang, date=format_date(start))
    return f"*{label}*"


def body_text(article: Article, today: date, lang: str = "nl") -> str:
    """The body with each `<!-- geldig ... -->` line turned into a visible label (a warning
    when the statement has expired): Markdown would hide the comment."""
    dated, _errors = parse_dated(article.body)  # lines counted in the body itself
    at = {d.line - 1: d for d in dated}
    out = []
    for n, line in enumerate(article.body.strip("\n").splitlines()):
        if n in at:
            out += [_marker_label(at[n], today, lang), ""]
        elif not MARKER_RE.match(line):
            out.append(line)
    return "\n".join(out)


def sources_markdown(article: Article, lang: str = "nl") -> str:
    lines = [f"## {t('guidance.sources', lang)}", ""]
    for s in article.sources:
        checked = ""
        if s.checked is not None:
            checked = f" ({t('guidance_dates.checked', lang, date=format_date(s.checked))})"
        lines.append(f"- [{s.name}]({s.url}){checked}  \n  {s.url}")
    return "\n".join(lines)


def reading_markdown(article: Article, ref: Reference, today: date, lang: str = "nl") -> str:
    """What the TUI's reading pane shows under the title and warnings: the text, then the
    facts line and the sources."""
    return "\n\n".join(
        [
            body_text(article, today, lang),
            facts_line(article, ref, lang),
            sources_markdown(article, lang),
        ]
    )


def article_markdown(article: Article, ref: Reference, today: date, lang: str = "nl") -> str:
    """The whole article as one Markdown document (the CLI's `guidance show`)."""
    head = [f"# {article.display_title(lang)}", ""]
    if article.status:
        head += [f"> **{t('guidance.status', lang)}:** {article.status}", ""]
    due = due_line(article, today, lang)
    if due:
        head += [f"> **{due}**", ""]
    for warning in validity_lines(article, today, lang):
        head += [f"> **⚠ {warning}**", ""]
    head += [facts_line(article, ref, lang), "", body_text(article, today, lang), ""]
    tail = ["", sources_markdown(article, lang), "", review_line(article, today, lang)]
    return "\n".join(head + tail) + "\n"
