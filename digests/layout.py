"""Where things live in the archive folder, and relative links between them.

Every link in the archive is relative, so the folder opens straight from disk
(``file://``) and works under any path of any web server.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from urllib.parse import quote

INDEX = "index.html"
FEED = "feed.xml"
WATCHLIST_DIR = "watchlists"
_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")


def year_index_path(year: int) -> str:
    """``2026/index.html``: the editions of one (ISO) year."""
    return f"{int(year):04d}/{INDEX}"


def watchlist_filename(watchlist: str) -> str:
    """A safe file name for a watchlist's page: its name when that is a plain slug,
    otherwise a slug of it plus a short hash (so two names never share a file)."""
    if _PLAIN_NAME.fullmatch(watchlist):
        return f"{watchlist}.html"
    slug = re.sub(r"[^a-z0-9]+", "-", watchlist.lower()).strip("-")[:60] or "watchlist"
    digest = hashlib.sha256(watchlist.encode("utf-8")).hexdigest()[:10]
    return f"{slug}-{digest}.html"


def watchlist_page_path(watchlist: str) -> str:
    """``watchlists/<name>.html``: the editions that cover one watchlist."""
    return f"{WATCHLIST_DIR}/{watchlist_filename(watchlist)}"


def href(from_page: str, to_path: str) -> str:
    """A relative, percent-encoded link from the page ``from_page`` to ``to_path``
    (both relative to the archive root)."""
    start = posixpath.dirname(from_page) or "."
    return quote(posixpath.relpath(to_path, start), safe="/-._~")
