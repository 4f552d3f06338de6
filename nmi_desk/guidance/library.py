"""Guidance articles: Markdown files with TOML front matter, parsed, validated and merged.

An article file is

    +++
    slug = "aow-buitenland"
    title = "AOW in het buitenland"
    ...
    valid_until = 2027-12-31        # optional: the whole article holds until then
    [[sources]]
    name = "SVB - AOW"
    url = "https://www.svb.nl/nl/aow"    # the page that states the fact, not a homepage
    checked = 2026-12-01                 # when someone last read that page
    +++
    Dutch Markdown body

    <!-- geldig tot 2026-12-31 -->
    A paragraph or list that holds only until then (also "geldig vanaf DATE" and
    "geldig vanaf DATE tot DATE"): the line marks the block directly after it.

The shipped library lives in data/guidance/. Articles published centrally arrive through sync
in the `guidance_article` table (whole file as `content`); the higher revision wins, so a
central correction replaces the shipped text without a new release.

Plain Python: no database, no Textual.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from nmi_desk.core.paths import shipped_data_dir
from nmi_desk.domain.reference.files import Reference

FENCE = "+++"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED = (
    "slug",
    "title",
    "topics",
    "organisations",
    "countries",
    "keywords",
    "reviewed",
    "revision",
)
OPTIONAL = ("title_en", "status", "sources", "valid_from", "valid_until")
KNOWN_KEYS = set(REQUIRED) | set(OPTIONAL)
REVIEW_MONTHS = 12
# A dated statement: `<!-- geldig tot 2025-12-31 -->`, `<!-- geldig vanaf 2025-01-01 -->` or
# `<!-- geldig vanaf 2025-01-01 tot 2025-12-31 -->` on its own line before the block it dates.
# The check warns this many days before a dated statement (or article) expires, and fails
# once it has: time to re-review it against the official page.
WARN_DAYS = 60
MARKER_RE = re.compile(r"^\s*<!--\s*geldig\b(?P<spec>.*?)-->\s*$", re.IGNORECASE)
SPEC_RE = re.compile(
    r"^\s*(?:vanaf\s+(?P<start>\S+))?\s*(?:tot\s+(?P<end>\S+))?\s*$", re.IGNORECASE
)
# Path segments that still make a URL a site's front page ("https://ind.nl/nl").
HOME_SEGMENTS = {"nl", "en", "home", "index.html", "index.htm", "index.php", "default.aspx"}


class ArticleError(ValueError):
    """An article file that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    checked: date | None = None  # when the page was last read; `guidance check` requires it

    @property
    def is_homepage(self) -> bool:
        """A bare domain or a site's front page: it does not state any fact itself."""
        parts = urlsplit(self.url)
        segments = [s for s in parts.path.split("/") if s]
        return not parts.query and all(s.lower() in HOME_SEGMENTS for s in segments)


@dataclass(frozen=True)
class Dated:
    """A statement (the paragraph or list after a `<!-- geldig ... -->` line) that holds
    from and/or until a date."""

    line: int  # 1-based line of the marker in the body
    valid_from: date | None
    valid_until: date | None
    text: str  # the block's first line, to name it in messages

    def expired(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today

    def pending(self, today: date) -> bool:
        return self.valid_from is not None and self.valid_from > today

    def expiring(self, today: date, days: int = WARN_DAYS) -> bool:
        """Still holds, but not for more than `days`: time to re-review it."""
        return self.valid_until is not None and today <= self.valid_until < today + timedelta(
            days=days
        )


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    body: str
    topics: tuple[str, ...]
    organisations: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    reviewed: date | None = None
    revision: int = 1
    sources: tuple[Source, ...] = ()
    title_en: str = ""
    status: str = ""
    origin: str = "shipped"  # "shipped" or "central" (pulled by sync)
    valid_from: date | None = None
    valid_until: date | None = None
    dated: tuple[Dated, ...] = ()
    marker_errors: tuple[str, ...] = ()  # `<!-- geldig ... -->` lines that could not be read
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def expired(self, today: date) -> bool:
        """The article as a whole holds only until a date that has passed."""
        return self.valid_until is not None and self.valid_until < today

    def expired_statements(self, today: date) -> list[Dated]:
        return [d for d in self.dated if d.expired(today)]

    def outdated(self, today: date) -> bool:
        """The article or one of its statements has expired: the app warns."""
        return self.expired(today) or bool(self.expired_statements(today))

    def due_for_review(self, today: date) -> bool:
        """Reviewed more than 12 months before `today` (or never): the facts may be stale."""
        return self.reviewed is None or self.reviewed < months_before(today, REVIEW_MONTHS)

    def display_title(self, lang: str = "nl") -> str:
        return self.title_en if lang == "en" and self.title_en else self.title


def months_before(day: date, months: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]  # 31 March - 1 month = 28/29 February
    return date(year, month0 + 1, min(day.day, last))


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter TOML, Markdown body); ArticleError if the +++ fences are missing."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FENCE:
        raise ArticleError("does not start with a +++ line (front matter)")
    for i in range(1, len(lines)):
        if lines[i].strip() == FENCE:
            return "".join(lines[1:i]), "".join(lines[i + 1 :]).strip("\n") + "\n"
    raise ArticleError("front matter is not closed by a +++ line")


def _marker_date(text: str | None) -> date | None:
    if text is None:
        return None
    return date.fromisoformat(text)


def body_offset(text: str) -> int:
    """How many lines of the file come before the body (fences, front matter, blank lines):
    dated statements are reported by their line in the file."""
    lines = text.lstrip("\ufeff").splitlines()
    closing = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), 0)
    n = closing + 1
    while n < len(lines) and not lines[n].strip():
        n += 1
    return n


def parse_dated(body: str, offset: int = 0) -> tuple[tuple[Dated, ...], tuple[str, ...]]:
    """The dated statements of a body, and one message per marker line that cannot be read;
    line numbers count from the file's first line when `offset` is the body's."""
    found: list[Dated] = []
    errors: list[str] = []
    lines = body.splitlines()
    for n, line in enumerate(lines):
        lineno = n + 1 + offset
        match = MARKER_RE.match(line)
        if match is None:
            continue
        spec = SPEC_RE.match(match["spec"])
        try:
            if spec is None or not (spec["start"] or spec["end"]):
                raise ValueError
            start, end = _marker_date(spec["start"]), _marker_date(spec["end"])
        except ValueError:
            errors.append(
                f"line {lineno}: {line.strip()!r} is not 'geldig vanaf YYYY-MM-DD', "
                "'geldig tot YYYY-MM-DD' or both"
            )
            continue
        if start and end and end < start:
            errors.append(f"line {lineno}: 'tot' {end} lies before 'vanaf' {start}")
            continue
        following = lines[n + 1].strip() if n + 1 < len(lines) else ""
        if not following or MARKER_RE.match(following):
            errors.append(
                f"line {lineno}: {line.strip()!r} must stand directly before the paragraph "
                "or list it dates"
            )
            continue
        found.append(Dated(lineno, start, end, following))
    return tuple(found), tuple(errors)


def _optional_date(data: dict, key: str) -> date | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise ArticleError(f"{key} must be a date without quotes ({key} = YYYY-MM-DD)")
    return value


def _str_list(data: dict, key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ArticleError(f"{key} must be a list of strings")
    return tuple(v.strip() for v in value)


def parse_article(text: str, origin: str = "shipped") -> Article:
    """Parse one article file. Raises ArticleError for what makes it unusable (shape, types);
    `check_article` reports the finer problems (codes, URLs, dates) without raising."""
    front, body = split_front_matter(text)
    try:
        data = tomllib.loads(front)
    except tomllib.TOMLDecodeError as exc:
        raise ArticleError(
            f"front matter (lines after the first +++) is not valid TOML: {exc}"
        ) from None
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ArticleError(f"front matter lacks {', '.join(missing)}")
    for key in ("slug", "title", "title_en", "status"):
        if key in data and not isinstance(data[key], str):
            raise ArticleError(f"{key} must be a string")
    reviewed = data["reviewed"]
    if isinstance(reviewed, str):
        raise ArticleError(f"reviewed must be a TOML date without quotes (reviewed = {reviewed})")
    if not isinstance(reviewed, date) or hasattr(reviewed, "hour"):
        raise ArticleError("reviewed must be a date (reviewed = YYYY-MM-DD)")
    revision = data["revision"]  # sync publishes and replaces articles by revision
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
        raise ArticleError("revision must be a whole number >= 1")
    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ArticleError("sources must be [[sources]] tables with name and url")
    sources = []
    for n, src in enumerate(raw_sources, 1):
        if not isinstance(src, dict) or not isinstance(src.get("name"), str):
            raise ArticleError(f"source {n} needs a name")
        if not isinstance(src.get("url"), str):
            raise ArticleError(f"source {n} ({src['name']}) needs a url")
        checked = src.get("checked")
        if checked is not None and (not isinstance(checked, date) or hasattr(checked, "hour")):
            raise ArticleError(
                f"source {n} ({src['name']}): checked must be a date without quotes "
                "(checked = YYYY-MM-DD)"
            )
        sources.append(Source(name=src["name"].strip(), url=src["url"].strip(), checked=checked))
    valid_from = _optional_date(data, "valid_from")
    valid_until = _optional_date(data, "valid_until")
    dated, marker_errors = parse_dated(body, body_offset(text))
    return Article(
        slug=data["slug"].strip(),
        title=data["title"].strip(),
        title_en=data.get("title_en", "").strip(),
        body=body,
        topics=_str_list(data, "topics"),
        organisations=_str_list(data, "organisations"),
        countries=_str_list(data, "countries"),
        keywords=_str_list(data, "keywords"),
        reviewed=reviewed,
        revision=revision,
        sources=tuple(sources),
        status=data.get("status", "").strip(),
        origin=origin,
        valid_from=valid_from,
        valid_until=valid_until,
        dated=dated,
        marker_errors=marker_errors,
        extra={k: v for k, v in data.items() if k not in KNOWN_KEYS},
    )


def check_article(article: Article, ref: Reference, today: date, stem: str | None) -> list[str]:
    """What is wrong with a parsed article, one sentence each (empty when it is fine)."""
    problems: list[str] = []
    if article.extra:
        problems.append(f"unknown front matter key(s): {', '.join(sorted(article.extra))}")
    if not SLUG_RE.match(article.slug):
        problems.append(f"slug {article.slug!r} must be lower-case words joined by hyphens")
    if stem is not None and article.slug != stem:
        problems.append(f"slug {article.slug!r} differs from the file name {stem}.md")
    if not article.title or "\n" in article.title:
        problems.append("title must be one non-empty line")
    if "\n" in article.status:
        problems.append("status must be one line")
    if not article.topics:
        problems.append("topics is empty: tag at least one topic code")
    for kind, codes, known in (
        ("topic", article.topics, ref.topic_codes()),
        ("organisation", article.organisations, ref.organisation_codes()),
        ("country", article.countries, ref.country_codes()),
    ):
        for code in codes:
            if code not in known:
                problems.append(f"unknown {kind} code {code!r}")
        if len(set(codes)) != len(codes):
            problems.append(f"a {kind} code is listed twice")
    if not article.sources:
        problems.append("no sources: add [[sources]] with name, url and checked")
    for src in article.sources:
        parts = urlsplit(src.url)
        if parts.scheme != "https" or not parts.netloc or " " in src.url:
            problems.append(f"source {src.name!r}: url {src.url!r} must be an https:// address")
        if not src.name:
            problems.append(f"source with url {src.url!r} has no name")
        if src.checked is None:
            problems.append(
                f"source {src.name!r} has no checked date: add checked = YYYY-MM-DD "
                "(when the page was last read)"
            )
        elif src.checked > today:
            problems.append(f"source {src.name!r}: checked {src.checked} lies in the future")
    if article.sources and all(src.is_homepage for src in article.sources):
        urls = ", ".join(src.url for src in article.sources)
        problems.append(f"only a homepage as source ({urls}): cite the page that states the fact")
    if article.reviewed is not None and article.reviewed > today:
        problems.append(f"reviewed {article.reviewed} lies in the future")
    if article.valid_from and article.valid_until and article.valid_until < article.valid_from:
        problems.append(f"valid_until {article.valid_until} lies before valid_from")
    if article.expired(today):
        problems.append(
            f"the article expired on {article.valid_until} (valid_until): "
            "review it and move or remove the date"
        )
    problems += list(article.marker_errors)
    for statement in article.expired_statements(today):
        problems.append(
            f"line {statement.line}: statement expired on {statement.valid_until} "
            f"({_excerpt(statement.text)}): review it and update or remove it"
        )
    if len(article.body.strip()) < 40:
        problems.append("the Markdown body is empty or too short")
    return problems


def article_warnings(article: Article, today: date, days: int = WARN_DAYS) -> list[str]:
    """What will expire within `days` of `today`: the check says so (and still passes), so a
    statement is re-reviewed before it expires and the check fails."""
    warnings = []
    until = article.valid_until
    if until is not None and today <= until < today + timedelta(days=days):
        warnings.append(f"the article expires on {until} (in {(until - today).days} days)")
    for statement in article.dated:
        if statement.expiring(today, days):
            left = (statement.valid_until - today).days  # type: ignore[operator]
            warnings.append(
                f"line {statement.line}: statement expires on {statement.valid_until} "
                f"(in {left} days; {_excerpt(statement.text)}): re-review it"
            )
    return warnings


def _excerpt(text: str, size: int = 50) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= size else text[: size - 1] + "…")


@dataclass(frozen=True)
class FileReport:
    path: Path
    problems: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # expiring within WARN_DAYS: said, but not a failure


def check_directory(directory: Path, ref: Reference, today: date) -> list[FileReport]:
    """Validate every *.md in `directory`; one report per file (problems empty when fine)."""
    reports = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.md")):
        try:
            article = parse_article(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            reports.append(FileReport(path, ("not UTF-8 text",)))
            continue
        except ArticleError as exc:
            reports.append(FileReport(path, (str(exc),)))
            continue
        problems = check_article(article, ref, today, path.stem)
        if article.slug in seen:
            problems.append(f"slug {article.slug!r} already used by {seen[article.slug].name}")
        seen.setdefault(article.slug, path)
        reports.append(FileReport(path, tuple(problems), tuple(article_warnings(article, today))))
    return reports


@dataclass(frozen=True)
class Override:
    """A row of the guidance_article table: an article published centrally."""

    slug: str
    revision: int
    content: str


@dataclass
class Library:
    articles: dict[str, Article]
    digest: str  # changes whenever any input of the search index changes
    skipped: list[str] = field(default_factory=list)  # central rows that could not be used

    def get(self, slug: str) -> Article | None:
        return self.articles.get(slug)

    def __len__(self) -> int:
        return len(self.articles)


def shipped_guidance_dir() -> Path:
    return shipped_data_dir() / "guidance"


def load_library(
    directory: Path | None = None,
    overrides: Iterable[Override] = (),
    extra_digest: bytes = b"",
) -> Library:
    """The shipped articles with central overrides applied: a higher revision wins.

    Shipped files are trusted to be checked (tests run `guidance check`); a shipped file that
    does not parse is skipped rather than taking the whole library down at the counter.
    """
    directory = directory or shipped_guidance_dir()
    digest = hashlib.sha256(extra_digest)
    articles: dict[str, Article] = {}
    skipped: list[str] = []
    for path in sorted(directory.glob("*.md")):
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        try:
            article = parse_article(raw.decode("utf-8"))
        except (ArticleError, UnicodeDecodeError) as exc:
            skipped.append(f"{path.name}: {exc}")
            continue
        articles[article.slug] = article
    for row in sorted(overrides, key=lambda o: o.slug):
        digest.update(f"{row.slug}\0{row.revision}\0".encode() + row.content.encode() + b"\0")
        current = articles.get(row.slug)
        if current is not None and current.revision >= row.revision:
            continue
        try:
            article = parse_article(row.content, origin="central")
        except ArticleError as exc:
            skipped.append(f"central {row.slug}: {exc}")
            continue
        if article.slug != row.slug:
            skipped.append(f"central {row.slug}: content has slug {article.slug!r}")
            continue
        articles[row.slug] = article
    return Library(articles=articles, digest=digest.hexdigest(), skipped=skipped)
