"""Feed parsing: bytes in, entries out. Never touches the network."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from crawlers.discover import discover_feed_links, looks_like_html
from crawlers.entries import Entry, assign_identities
from crawlers.sanitize import html_to_text, plain_line, sanitize_html
from crawlers.urls import canonical_url, is_web_url

# feedparser must never fetch anything itself: we give it bytes, and resolve no URLs
# from the network. These module switches keep its sanitizer off (we sanitise once).
feedparser.SANITIZE_HTML = False
feedparser.RESOLVE_RELATIVE_URIS = False

_LANG = re.compile(r"^[a-zA-Z]{2,3}")


class FeedParseError(Exception):
    """The bytes are not a feed at all."""


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None
    language: str | None
    entries: list[Entry] = field(default_factory=list)
    warning: str | None = None  # set when the feed was malformed but entries were salvaged


def parse_feed(
    content: bytes,
    url: str,
    *,
    content_type: str | None = None,
    default_language: str | None = None,
) -> ParsedFeed:
    """Parse feed bytes fetched from ``url``.

    Malformed feeds keep every entry feedparser salvaged and carry a warning; bytes
    that hold no feed at all raise :class:`FeedParseError`.
    """
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(
        content, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    feed: dict[str, Any] = parsed.get("feed", {})
    entries_raw = parsed.get("entries", [])
    version = parsed.get("version", "")
    bozo = parsed.get("bozo", False)
    if not version and not entries_raw:
        if looks_like_html(content):
            found = discover_feed_links(content, url)
            hint = f"; feeds linked from that page: {', '.join(found)}" if found else ""
            raise FeedParseError(f"got an HTML page instead of a feed{hint}")
        reason = parsed.get("bozo_exception")
        raise FeedParseError(f"not a feed ({_describe(reason)})" if reason else "not a feed")

    language = _language(feed.get("language")) or default_language
    prepared = [_prepare(e, url) for e in entries_raw]
    identities = assign_identities([(p["guid"], p["url"], p["title"], p["text"]) for p in prepared])
    entries = [
        Entry(identity=ident, language=_language(p.pop("language")) or language, **p)
        for ident, p in zip(identities, prepared, strict=True)
    ]
    warning = None
    if bozo:
        problem = _describe(parsed.get("bozo_exception"))
        warning = f"malformed feed, {len(entries)} entries salvaged: {problem}"
    return ParsedFeed(
        title=plain_line(feed.get("title", "")),
        link=feed.get("link"),
        language=language,
        entries=entries,
        warning=warning,
    )


def _prepare(e: dict[str, Any], base: str) -> dict[str, Any]:
    link = e.get("link")
    link = canonical_url(link, base) if link else None
    if link and not is_web_url(link):
        link = None
    guid = (e.get("id") or "").strip() or None
    title = plain_line(e.get("title", ""))
    summary_html = e.get("summary", "") or ""
    content_html = ""
    if e.get("content"):
        content_html = max((c.get("value", "") for c in e["content"]), key=len)
    if not content_html:
        content_html = summary_html
    content = sanitize_html(content_html)
    text = html_to_text(content)
    if summary_html and summary_html != content_html:
        summary = html_to_text(sanitize_html(summary_html))
    else:
        summary = text
    if not summary:
        summary = text
    if not title:
        title = _first_words(text)
    author = plain_line(e.get("author", "")) or None
    return {
        "guid": guid,
        "url": link,
        "title": title,
        "summary": summary,
        "content": content,
        "text": text,
        "author": author,
        "published": _date(e),
        "language": e.get("language"),
        "categories": tuple(t.get("term", "") for t in e.get("tags", []) if t.get("term")),
    }


def _date(e: dict[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = e.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError):
                continue
    return None


def _language(value: Any) -> str | None:
    if not value or not isinstance(value, str):
        return None
    m = _LANG.match(value.strip())
    return m.group(0).lower() if m else None


def _first_words(text: str, n: int = 12) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def _describe(exc: object) -> str:
    if exc is None:
        return "unknown problem"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
