"""An article as Markdown for reading: facts line, body, sources and review date.

Shared by `nmi-desk guidance show` and the TUI's guidance screen. Labels come from the locale
catalogs (Dutch by default); the article text itself is Dutch.
"""

from __future__ import annotations

from datetime import date

from nmi_desk.guidance.library import Article
from nmi_desk.i18n import t
from nmi_desk.refdata import Reference


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
        date=article.reviewed.isoformat() if article.reviewed else "?",
        revision=article.revision,
    )
    if article.origin == "central":
        line += f" · {t('guidance.central', lang)}"
    return line


def due_line(article: Article, today: date, lang: str = "nl") -> str:
    """The due-for-review warning, or '' while the article is recent enough."""
    if not article.due_for_review(today):
        return ""
    return t("guidance.due", lang, date=article.reviewed.isoformat() if article.reviewed else "?")


def sources_markdown(article: Article, lang: str = "nl") -> str:
    lines = [f"## {t('guidance.sources', lang)}", ""]
    lines += [f"- [{s.name}]({s.url})  \n  {s.url}" for s in article.sources]
    return "\n".join(lines)


def body_markdown(article: Article, ref: Reference, lang: str = "nl") -> str:
    """Title, facts, body and sources (status and review date are shown apart by the TUI)."""
    return "\n\n".join(
        [
            f"# {article.display_title(lang)}",
            facts_line(article, ref, lang),
            article.body.strip(),
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
    head += [facts_line(article, ref, lang), "", article.body.strip(), ""]
    tail = ["", sources_markdown(article, lang), "", review_line(article, today, lang)]
    return "\n".join(head + tail) + "\n"
