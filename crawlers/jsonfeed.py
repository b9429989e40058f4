"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1): detection and item mapping.

The mapping produces the same normalised fields as the XML path in
:mod:`crawlers.feeds`, which turns them into :class:`~crawlers.entries.Entry` objects.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crawlers.alerts import unwrap_link
from crawlers.sanitize import html_to_text, plain_line, sanitize_html
from crawlers.urls import canonical_url, is_web_url

VERSION_PREFIX = "https://jsonfeed.org/version/"
JSON_TYPES = ("application/feed+json", "application/json")


class JsonFeedError(Exception):
    """JSON that is not a JSON Feed (or not JSON at all)."""


@dataclass(frozen=True)
class JsonFeed:
    title: str
    link: str | None
    language: str | None
    items: list[dict[str, Any]]  # normalised fields, as crawlers.feeds prepares them
    warning: str | None = None


def looks_like_json(content: bytes, content_type: str | None) -> bool:
    """A JSON media type, or a body that starts with ``{`` (after a BOM and blanks)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return True
    return media in JSON_TYPES and not head.startswith(b"<")


def parse_json_feed(content: bytes, url: str) -> JsonFeed:
    """Parse a JSON Feed; :class:`JsonFeedError` when the bytes are not one."""
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise JsonFeedError(f"not valid JSON ({exc})") from exc
    except RecursionError:
        raise JsonFeedError("not valid JSON (arrays or objects nested too deeply)") from None
    if not isinstance(doc, dict):
        raise JsonFeedError("JSON, but not a JSON Feed (no top-level object)")
    version = doc.get("version")
    items = doc.get("items")
    warning = None
    if not (isinstance(version, str) and version.startswith(VERSION_PREFIX)):
        if not isinstance(items, list):
            raise JsonFeedError("JSON, but not a JSON Feed (no jsonfeed.org version)")
        warning = "JSON Feed without a jsonfeed.org version"
    if not isinstance(items, list):
        items = []
        warning = "JSON Feed without an items list"
    base = _str(doc.get("feed_url")) or url
    feed_authors = _authors(doc)
    prepared = [_item(i, base, feed_authors) for i in items if isinstance(i, dict)]
    skipped = len(items) - len(prepared)
    if skipped:
        warning = f"JSON Feed with {skipped} malformed items skipped"
    return JsonFeed(
        title=plain_line(_str(doc.get("title"))),
        link=_str(doc.get("home_page_url")) or None,
        language=_str(doc.get("language")) or None,
        items=prepared,
        warning=warning,
    )


def _item(item: dict[str, Any], base: str, feed_authors: list[str]) -> dict[str, Any]:
    link = _str(item.get("url")) or _str(item.get("external_url"))
    url = canonical_url(unwrap_link(link), base) if link else None
    if url and not is_web_url(url):
        url = None
    raw_id = item.get("id")
    guid = str(raw_id).strip() if isinstance(raw_id, str | int | float) else ""
    content_html = _str(item.get("content_html"))
    content_text = _str(item.get("content_text"))
    if not content_html and content_text:
        paragraphs = [p.strip() for p in content_text.split("\n\n") if p.strip()]
        content_html = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    content = sanitize_html(content_html)
    text = html_to_text(content)
    summary = plain_line(_str(item.get("summary"))) or text
    title = plain_line(_str(item.get("title")))
    if not title:
        words = text.split()
        title = " ".join(words[:12]) + (" …" if len(words) > 12 else "")
    authors = _authors(item) or feed_authors
    tags = item.get("tags")
    return {
        "guid": guid or None,
        "url": url,
        "title": title,
        "summary": summary,
        "content": content,
        "text": text,
        "author": authors[0] if authors else None,
        "published": _date(item.get("date_published")) or _date(item.get("date_modified")),
        "language": _str(item.get("language")) or None,
        "categories": tuple(
            plain_line(t) for t in (tags if isinstance(tags, list) else []) if isinstance(t, str)
        ),
    }


def _authors(obj: dict[str, Any]) -> list[str]:
    """Author names: 1.1's ``authors`` list, else 1.0's ``author`` object."""
    raw = obj.get("authors")
    if not isinstance(raw, list):
        raw = [obj.get("author")]
    names = [plain_line(_str(a.get("name"))) for a in raw if isinstance(a, dict)]
    return [n for n in names if n]


def _date(value: Any) -> datetime | None:
    """An RFC 3339 date as timezone-aware UTC (naive dates are taken as UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
