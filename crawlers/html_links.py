"""Feed links in HTML: is this HTML, and which feeds does it announce? No network."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

from crawlers.bounds import MAX_URL

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
        "text/xml",
        "application/xml",
    }
)
MAX_FEED_LINKS = 20  # feeds taken from one page; sites announce a few, a hostile page 100,000s
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S)


def looks_like_html(content: bytes) -> bool:
    head = content[:2048].lstrip(b"\xef\xbb\xbf")
    return bool(_HTML_START.match(head))


class _LinkCollector(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base":
            href = dict(attrs).get("href")
            if href:
                self.base = urljoin(self.base, href)
        if tag != "link":
            return
        a = {k: (v or "") for k, v in attrs}
        rels = a.get("rel", "").lower().split()
        media = a.get("type", "").split(";", 1)[0].strip().lower()
        if "alternate" in rels and media in FEED_TYPES and a.get("href"):
            url = urljoin(self.base, a["href"])
            if len(self.found) < MAX_FEED_LINKS and len(url) <= MAX_URL and url not in self.found:
                self.found.append(url)


def discover_feed_links(content: bytes | str, base_url: str) -> list[str]:
    """Absolute URLs of the feeds an HTML page announces with ``<link rel=alternate>``:
    the first MAX_FEED_LINKS of at most MAX_URL characters."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    collector = _LinkCollector(base_url)
    collector.feed(text)
    collector.close()
    return collector.found
