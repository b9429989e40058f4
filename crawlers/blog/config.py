"""What a ``type = "blog"`` source says, as plain data that crosses the process boundary."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from crawlers.http import VERSION
from crawlers.urls import is_web_url

DEFAULT_MAX_PAGES = 50
DEFAULT_MAX_DEPTH = 2
DEFAULT_DELAY = 1.0
DEFAULT_DOWNLOAD_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
# The token robots.txt rules are matched against ("User-agent: trendwatch").
ROBOTS_TOKEN = "trendwatch"
BLOG_USER_AGENT = f"trendwatch/{VERSION} (+https://github.com/trendwatch/trendwatch; blog crawler)"


@dataclass(frozen=True)
class BlogConfig:
    """One blog source: where to start and how far to go.

    ``allow``/``deny`` are regular expressions (``re.search``) on absolute URLs. They
    decide which links are followed and which sitemap entries are fetched, as Scrapy's
    LinkExtractor does: with ``allow`` set, only matching URLs are requested (so include
    the listing pages that lead to articles); ``deny`` wins over ``allow``. The start
    URL and the sitemap (``sitemap_url``, else those the site's robots.txt lists)
    are always fetched. ``max_pages`` caps the HTML pages requested
    (robots.txt and sitemaps not counted); ``max_depth`` caps link hops from the start
    page (a sitemap entry is one hop; two through a sitemap index).
    """

    start_url: str
    sitemap_url: str | None = None
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    max_pages: int = DEFAULT_MAX_PAGES
    max_depth: int = DEFAULT_MAX_DEPTH
    name: str = ""  # the source's name, for log lines
    language: str | None = None  # when set, wins over what the pages declare
    delay: float = DEFAULT_DELAY  # seconds between requests; AutoThrottle may go higher
    min_words: int = 120  # fewer words of main text: not an article
    download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    user_agent: str = BLOG_USER_AGENT

    def __post_init__(self) -> None:
        # Lists from TOML/JSON become tuples so the config stays hashable and frozen.
        object.__setattr__(self, "allow", tuple(self.allow))
        object.__setattr__(self, "deny", tuple(self.deny))
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        """Every problem with the values, as ``key: what is wrong`` strings."""
        out: list[str] = []
        if not is_web_url(self.start_url):
            out.append(f"url: expected an absolute http(s) URL, got {self.start_url!r}")
        if self.sitemap_url is not None and not is_web_url(self.sitemap_url):
            out.append(f"sitemap: expected an absolute http(s) URL, got {self.sitemap_url!r}")
        for key in ("allow", "deny"):
            for i, pattern in enumerate(getattr(self, key)):
                try:
                    re.compile(pattern)
                except (re.error, TypeError) as exc:
                    out.append(f"{key}[{i}]: not a regular expression ({exc}): {pattern!r}")
        if self.max_pages < 1:
            out.append(f"max_pages: expected a positive integer, got {self.max_pages!r}")
        if self.max_depth < 0:
            out.append(f"max_depth: expected 0 or more, got {self.max_depth!r}")
        if self.delay < 0:
            out.append(f"delay: expected 0 or more seconds, got {self.delay!r}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BlogConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
