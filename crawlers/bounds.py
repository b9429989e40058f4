"""Length bounds for every text value that comes in: from a feed, an OPML file or the config.

One table, shared by the readers here (feed entries, OPML outlines) and by the settings
loader (``pipeline.settings``), so a name an OPML file or a feed brings in always fits
the bound the config is checked against. What a feed or an OPML file brings in is cut
to fit (with a warning); the config refuses a longer value (``trendwatch check``).
"""

from __future__ import annotations

MAX_NAME = 200  # names and labels: sources, watchlists, entities, authors, categories
MAX_TITLE = 500  # titles (an entry's, a feed's, a watchlist's, the digest's), senders
MAX_QUERY = 1000  # a watchlist query; a blog's allow and deny patterns
MAX_URL = 2048  # any URL (what browsers and the sitemaps protocol accept)
MAX_ID = 2048  # an entry's guid (often a URL)
MAX_PATH = 4096  # a folder in the config (Linux PATH_MAX)
MAX_CATEGORIES = 100  # categories kept per entry

ELLIPSIS = "…"


def clip(text: str, limit: int, mark: str = ELLIPSIS) -> str:
    """``text`` if it has at most ``limit`` characters, else its start with ``mark``
    appended, ``limit`` characters in all."""
    if len(text) <= limit:
        return text
    return text[: limit - len(mark)] + mark
