"""The demo's content and its rendering as RSS 2.0 and Atom 1.0 feeds.

Pure: the only input besides the arguments is ``articles.toml`` in this package. Every
article is dated relative to a ``now`` given by the caller (``hours_ago`` before it), so
the demo always looks fresh; links and ids never depend on time.

All text, outlets, companies and people in ``articles.toml`` are fictional, and every
host is under ``demo.trendwatch.invalid``.
"""

from __future__ import annotations

import html
import re
import tomllib
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "ATOM_CONTENT_TYPE",
    "RSS_CONTENT_TYPE",
    "DemoArticle",
    "DemoFeed",
    "articles_of",
    "content_type",
    "load_demo_content",
    "newest_date",
    "render_feed",
    "slugify",
]

RSS_CONTENT_TYPE = "application/rss+xml; charset=utf-8"
ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
ATOM_NS = "http://www.w3.org/2005/Atom"

DEMO_DOMAIN = "demo.trendwatch.invalid"
TAG_AUTHORITY = f"{DEMO_DOMAIN},2025"  # tag: URIs (RFC 4151) for guids and Atom ids
GENERATOR = "trendwatch demo"
FORMATS = ("rss", "atom")
LANGUAGES = ("nl", "en")
MAX_HOURS_AGO = 14 * 24

_FEED_KEYS = {"slug", "title", "format", "language", "site", "description"}
_ARTICLE_REQUIRED = {"feed", "id", "hours_ago", "title", "author", "summary", "content"}
_ARTICLE_OPTIONAL = {"categories", "html", "guid", "link_params"}
_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_PATH_PREFIX = {"nl": "nieuws", "en": "news"}


@dataclass(frozen=True)
class DemoFeed:
    """One bundled feed, served at ``/feeds/<slug>.xml``."""

    slug: str
    title: str
    format: str  # "rss" | "atom"
    language: str  # "nl" | "en"
    site: str  # the outlet's home page, ends with "/"
    description: str

    @property
    def path(self) -> str:
        return f"/feeds/{self.slug}.xml"

    @property
    def content_type(self) -> str:
        return content_type(self.format)


@dataclass(frozen=True)
class DemoArticle:
    """One bundled article; dated ``hours_ago`` before the demo's ``now``."""

    feed: str
    id: str
    hours_ago: float
    title: str
    author: str
    summary: str  # plain text
    content: str  # plain paragraphs separated by blank lines, or HTML when ``html``
    categories: tuple[str, ...]
    html: bool
    guid: bool  # False: the RSS item has no <guid> (identity falls back to the link)
    link: str

    @property
    def tag(self) -> str:
        """The stable id used as RSS guid and Atom id."""
        return f"tag:{TAG_AUTHORITY}:{self.id}"

    def published(self, now: datetime) -> datetime:
        """Publication moment for a demo running at ``now`` (UTC, whole seconds)."""
        return (_utc(now) - timedelta(hours=self.hours_ago)).replace(microsecond=0)

    @property
    def content_html(self) -> str:
        """The body as HTML: plain paragraphs become ``<p>`` elements, HTML stays as is."""
        if self.html:
            return self.content.strip()
        return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs(self.content))


def content_type(feed_format: str) -> str:
    return RSS_CONTENT_TYPE if feed_format == "rss" else ATOM_CONTENT_TYPE


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each with its line breaks folded to spaces."""
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]


def slugify(text: str, max_length: int = 80) -> str:
    """``"Lonen & cao's: dit verandert"`` → ``"lonen-caos-dit-verandert"``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"['’]", "", folded.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0]
    return slug


# --------------------------------------------------------------------------- loading


def load_demo_content() -> tuple[list[DemoFeed], list[DemoArticle]]:
    """Read and check ``articles.toml``; raises ValueError on any inconsistency."""
    text = resources.files("pipeline.demo").joinpath("articles.toml").read_text("utf-8")
    return parse_demo_content(tomllib.loads(text))


def parse_demo_content(data: dict[str, Any]) -> tuple[list[DemoFeed], list[DemoArticle]]:
    feeds = [_feed(table) for table in data.get("feeds", [])]
    by_slug: dict[str, DemoFeed] = {}
    for feed in feeds:
        if feed.slug in by_slug:
            raise ValueError(f"demo feed {feed.slug!r} is defined twice")
        by_slug[feed.slug] = feed
    articles: list[DemoArticle] = []
    seen_ids: set[str] = set()
    seen_links: set[str] = set()
    for table in data.get("articles", []):
        article = _article(table, by_slug)
        if article.id in seen_ids:
            raise ValueError(f"demo article id {article.id!r} is used twice")
        if article.link in seen_links:
            raise ValueError(f"demo article {article.id!r} has the same link as another one")
        seen_ids.add(article.id)
        seen_links.add(article.link)
        articles.append(article)
    if not feeds or not articles:
        raise ValueError("the demo content has no feeds or no articles")
    return feeds, articles


def _feed(table: dict[str, Any]) -> DemoFeed:
    _check_keys(table, _FEED_KEYS, set(), f"feed {table.get('slug')!r}")
    slug = str(table["slug"])
    where = f"feed {slug!r}"
    if not _ID_RE.fullmatch(slug):
        raise ValueError(f"{where}: slug must be lowercase letters, digits and '-'")
    if table["format"] not in FORMATS:
        raise ValueError(f"{where}: format must be one of {', '.join(FORMATS)}")
    if table["language"] not in LANGUAGES:
        raise ValueError(f"{where}: language must be one of {', '.join(LANGUAGES)}")
    site = str(table["site"])
    host = urlsplit(site).hostname or ""
    if not site.startswith("https://") or not host.endswith("." + DEMO_DOMAIN):
        raise ValueError(f"{where}: site must be an https URL under {DEMO_DOMAIN}")
    return DemoFeed(
        slug=slug,
        title=str(table["title"]),
        format=str(table["format"]),
        language=str(table["language"]),
        site=site if site.endswith("/") else site + "/",
        description=str(table["description"]),
    )


def _article(table: dict[str, Any], feeds: dict[str, DemoFeed]) -> DemoArticle:
    _check_keys(table, _ARTICLE_REQUIRED, _ARTICLE_OPTIONAL, f"article {table.get('id')!r}")
    article_id = str(table["id"])
    where = f"article {article_id!r}"
    if not _ID_RE.fullmatch(article_id):
        raise ValueError(f"{where}: id must be lowercase letters, digits and '-'")
    feed = feeds.get(str(table["feed"]))
    if feed is None:
        raise ValueError(f"{where}: unknown feed {table['feed']!r}")
    hours_ago = table["hours_ago"]
    if isinstance(hours_ago, bool) or not isinstance(hours_ago, int | float):
        raise ValueError(f"{where}: hours_ago must be a number")
    if not 0 <= hours_ago <= MAX_HOURS_AGO:
        raise ValueError(f"{where}: hours_ago must be from 0 to {MAX_HOURS_AGO}")
    guid = bool(table.get("guid", True))
    if not guid and feed.format != "rss":
        raise ValueError(f"{where}: only RSS items can go without a guid")
    title = str(table["title"]).strip()
    link = f"{feed.site}{_PATH_PREFIX[feed.language]}/{slugify(title)}"
    if table.get("link_params"):
        link += "?" + str(table["link_params"])
    return DemoArticle(
        feed=feed.slug,
        id=article_id,
        hours_ago=float(hours_ago),
        title=title,
        author=str(table["author"]).strip(),
        summary=" ".join(str(table["summary"]).split()),
        content=str(table["content"]).strip(),
        categories=tuple(str(c) for c in table.get("categories", ())),
        html=bool(table.get("html", False)),
        guid=guid,
        link=link,
    )


def _check_keys(table: dict[str, Any], required: set[str], optional: set[str], where: str) -> None:
    missing = required - table.keys()
    unknown = table.keys() - required - optional
    if missing:
        raise ValueError(f"demo {where}: missing {', '.join(sorted(missing))}")
    if unknown:
        raise ValueError(f"demo {where}: unknown key(s) {', '.join(sorted(unknown))}")


# --------------------------------------------------------------------------- rendering


def articles_of(feed: DemoFeed, articles: Sequence[DemoArticle]) -> list[DemoArticle]:
    """The feed's articles, newest first."""
    return sorted((a for a in articles if a.feed == feed.slug), key=lambda a: (a.hours_ago, a.id))


def newest_date(articles: Sequence[DemoArticle], now: datetime) -> datetime:
    """Date of the newest article (``now`` when there are none)."""
    if not articles:
        return _utc(now).replace(microsecond=0)
    return max(a.published(now) for a in articles)


def render_feed(
    feed: DemoFeed,
    articles: Sequence[DemoArticle],
    now: datetime,
    *,
    self_url: str | None = None,
) -> bytes:
    """The feed as UTF-8 XML: RSS 2.0 or Atom 1.0, items newest first.

    ``articles`` must all belong to ``feed``; ``now`` must be timezone-aware.
    ``self_url``, if given, is where the feed itself is served.
    """
    _utc(now)
    strays = [a.id for a in articles if a.feed != feed.slug]
    if strays:
        raise ValueError(f"articles {', '.join(strays)} do not belong to feed {feed.slug!r}")
    ordered = sorted(articles, key=lambda a: (a.hours_ago, a.id))
    root = (
        _rss(feed, ordered, now, self_url)
        if feed.format == "rss"
        else _atom(feed, ordered, now, self_url)
    )
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return moment.astimezone(UTC)


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


# Namespace prefixes are written as plain attribute and tag names ("xmlns:dc",
# "dc:creator"): ElementTree escapes text and attributes all the same, and no global
# prefix registry (ET.register_namespace) is touched.


def _rss(
    feed: DemoFeed, articles: Sequence[DemoArticle], now: datetime, self_url: str | None
) -> ET.Element:
    rss = ET.Element("rss", {"version": "2.0"})
    rss.set("xmlns:content", CONTENT_NS)
    rss.set("xmlns:dc", DC_NS)
    rss.set("xmlns:atom", ATOM_NS)
    channel = _sub(rss, "channel")
    _sub(channel, "title", feed.title)
    _sub(channel, "link", feed.site)
    _sub(channel, "description", feed.description)
    _sub(channel, "language", feed.language)
    _sub(channel, "lastBuildDate", _rfc822(newest_date(articles, now)))
    _sub(channel, "generator", GENERATOR)
    if self_url:
        _sub(channel, "atom:link", href=self_url, rel="self", type=RSS_CONTENT_TYPE.split(";")[0])
    for article in articles:
        item = _sub(channel, "item")
        _sub(item, "title", article.title)
        _sub(item, "link", article.link)
        if article.guid:
            _sub(item, "guid", article.tag, isPermaLink="false")
        _sub(item, "pubDate", _rfc822(article.published(now)))
        _sub(item, "dc:creator", article.author)
        for category in article.categories:
            _sub(item, "category", category)
        _sub(item, "description", article.summary)
        _sub(item, "content:encoded", article.content_html)
    return rss


def _atom(
    feed: DemoFeed, articles: Sequence[DemoArticle], now: datetime, self_url: str | None
) -> ET.Element:
    root = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": feed.language})
    _sub(root, "title", feed.title)
    _sub(root, "subtitle", feed.description)
    _sub(root, "link", href=feed.site, rel="alternate", type="text/html")
    if self_url:
        _sub(root, "link", href=self_url, rel="self", type=ATOM_CONTENT_TYPE.split(";")[0])
    _sub(root, "id", f"tag:{TAG_AUTHORITY}:feed:{feed.slug}")
    _sub(root, "updated", _rfc3339(newest_date(articles, now)))
    _sub(root, "generator", GENERATOR)
    for article in articles:
        entry = _sub(root, "entry")
        _sub(entry, "title", article.title, type="text")
        _sub(entry, "link", href=article.link, rel="alternate", type="text/html")
        _sub(entry, "id", article.tag)
        published = _rfc3339(article.published(now))
        _sub(entry, "published", published)
        _sub(entry, "updated", published)
        author = _sub(entry, "author")
        _sub(author, "name", article.author)
        for category in article.categories:
            _sub(entry, "category", term=category)
        _sub(entry, "summary", article.summary, type="text")
        _sub(entry, "content", article.content_html, type="html")
    return root
