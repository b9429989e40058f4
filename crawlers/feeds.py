"""Feed parsing: bytes in, entries out. Never touches the network."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser
from feedparser.mixin import _FeedParserMixin

from crawlers import feedparser_speedups
from crawlers.alerts import unwrap_link
from crawlers.bounds import MAX_NAME
from crawlers.entries import Entry, assign_identities, unique_by_identity
from crawlers.html_links import discover_feed_links, looks_like_html
from crawlers.jsonfeed import JsonFeedError, looks_like_json, parse_json_feed
from crawlers.sanitize import html_to_text, plain_line, sanitize_html
from crawlers.urls import canonical_url, is_web_url

# feedparser must never fetch anything itself: we give it bytes, and resolve no URLs
# from the network. These module switches keep its sanitizer off (we sanitise once).
feedparser.SANITIZE_HTML = False
feedparser.RESOLVE_RELATIVE_URIS = False
feedparser_speedups.install()  # the same results, a third faster
_sync_author_detail = _FeedParserMixin._sync_author_detail


def _bounded_sync_author_detail(self: Any, key: str = "author") -> None:
    """feedparser looks for an e-mail address in an author (<author>, <dc:creator>,
    <managingEditor>, ...) with a regular expression that takes quadratic time: 20,000
    characters took 2.5 s, 100,000 two minutes. It gets the author cut to just over the
    bound an entry's author is cut to anyway (crawlers.entries.bounded)."""
    context = self._get_context()
    value = context.get(key)
    if isinstance(value, str) and len(value) > MAX_NAME + 1:
        context[key] = value[: MAX_NAME + 1]
    _sync_author_detail(self, key)


_FeedParserMixin._sync_author_detail = _bounded_sync_author_detail  # type: ignore[method-assign]

_LANG = re.compile(r"^[a-zA-Z]{2,3}")
_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?[^;\"']*[\"']?", re.I)
# sy:updatePeriod in minutes (RSS 1.0 syndication module)
_SY_PERIODS = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}


class FeedParseError(Exception):
    """The bytes are not a feed at all."""


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None
    language: str | None
    entries: list[Entry] = field(default_factory=list)
    warning: str | None = None  # set when the feed was malformed but entries were salvaged
    ttl: int | None = None  # minutes: RSS <ttl>, else sy:updatePeriod / sy:updateFrequency


def parse_feed(
    content: bytes,
    url: str,
    *,
    content_type: str | None = None,
    default_language: str | None = None,
) -> ParsedFeed:
    """Parse feed bytes fetched from ``url``: RSS 0.9x/1.0/2.0, Atom or JSON Feed.

    Malformed feeds keep every entry that could be salvaged and carry a warning; bytes
    that hold no feed at all raise :class:`FeedParseError`.
    """
    if looks_like_json(content, content_type):
        try:
            doc = parse_json_feed(content, url)
        except JsonFeedError as exc:
            raise FeedParseError(str(exc)) from exc
        language = _language(doc.language) or default_language
        return ParsedFeed(
            title=doc.title,
            link=doc.link,
            language=language,
            entries=_entries(doc.items, language),
            warning=doc.warning,
        )
    headers = {"content-location": url, "content-type": _content_type(content, content_type)}
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
    entries = _entries([_prepare(e, url) for e in entries_raw], language)
    warning = None
    if bozo:
        problem = parsed.get("bozo_exception")
        if isinstance(problem, feedparser.CharacterEncodingOverride):
            warning = f"wrong charset declaration: {_describe(problem)}"
        else:
            warning = f"malformed feed, {len(entries)} entries salvaged: {_describe(problem)}"
    return ParsedFeed(
        title=plain_line(feed.get("title", "")),
        link=feed.get("link"),
        language=language,
        entries=entries,
        warning=warning,
        ttl=_ttl(feed),
    )


def _entries(prepared: list[dict[str, Any]], language: str | None) -> list[Entry]:
    identities = assign_identities([(p["guid"], p["url"], p["title"], p["text"]) for p in prepared])
    return unique_by_identity(
        [
            Entry(identity=ident, language=_language(p.pop("language")) or language, **p)
            for ident, p in zip(identities, prepared, strict=True)
        ]
    )


def _content_type(content: bytes, content_type: str | None) -> str:
    """The Content-Type to hand feedparser.

    * Bytes that are valid UTF-8 (and not plain ASCII) are UTF-8, whatever the header or
      the XML declaration claim: text in a single-byte charset is practically never
      valid UTF-8.
    * ``text/xml`` without a charset lets the XML declaration decide (RFC 7303), not
      RFC 3023's us-ascii, which feedparser still applies.
    """
    value = content_type or "application/xml"
    if not content.isascii():
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return _CHARSET.sub("", value) + "; charset=utf-8"
    media = value.split(";", 1)[0].strip().lower()
    if media.startswith("text/") and media.endswith("xml") and not _CHARSET.search(value):
        return "application/xml"
    return value


def _ttl(feed: dict[str, Any]) -> int | None:
    """How long the feed says it stays fresh, in minutes."""
    ttl = str(feed.get("ttl") or "").strip()
    if ttl.isdigit() and int(ttl) > 0:
        return int(ttl)
    period = _SY_PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
    if period is None:
        return None
    frequency = str(feed.get("sy_updatefrequency") or "1").strip()
    per = int(frequency) if frequency.isdigit() and int(frequency) > 0 else 1
    return max(1, period // per)


def _prepare(e: dict[str, Any], base: str) -> dict[str, Any]:
    link = e.get("link")
    link = canonical_url(unwrap_link(link), base) if link else None
    if link and not is_web_url(link):
        link = None
    guid = (e.get("id") or "").strip() or None
    title = _without_source_suffix(plain_line(e.get("title", "")), e.get("source"))
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


def _without_source_suffix(title: str, source: Any) -> str:
    """ "Headline - Publisher" → "Headline" when the entry names that publisher as its
    <source> (news aggregators such as Google News append it)."""
    name = source.get("title") if isinstance(source, dict) else None
    if name and title.endswith(f" - {name}") and len(title) > len(name) + 3:
        return title[: -len(name) - 3].rstrip()
    return title


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
