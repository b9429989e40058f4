"""Feed text and URLs made safe to show, and plain-text wrapping.

Everything from feeds is plain text: :func:`clean_text` makes one tidy line of it, and
only absolute ``http(s)`` URLs (:func:`safe_url`) ever become links. Shared by the
edition views, the archive pages and the MIME message.
"""

from __future__ import annotations

import functools
import re
import textwrap
import unicodedata
from email.utils import parseaddr
from urllib.parse import quote, urlsplit

SAFE_SCHEMES = frozenset({"http", "https"})
TEXT_WIDTH = 72
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_URL_SAFE = "%!#$&'()*+,/:;=?@[]~-._"
_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:@\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def clean_text(value: str | None) -> str:
    """Feed text as one tidy line: control characters dropped, whitespace collapsed."""
    if not value:
        return ""
    return _clean_text(value)


# the same articles' titles and teasers, view after view and edition after edition
@functools.lru_cache(maxsize=16384, typed=True)
def _clean_text(value: str) -> str:
    if value.isprintable():
        # no control, format, surrogate, private or unassigned character and no
        # whitespace but the ASCII space: only the spaces to collapse (the common case)
        return " ".join(value.split())
    chars = (" " if ch.isspace() else ch for ch in value if ch.isspace() or _printable(ch))
    return " ".join("".join(chars).split())


def _printable(ch: str) -> bool:
    # drops controls and invisible format characters (bidi overrides...), keeps the
    # zero-width (non-)joiners that emoji and some scripts need
    return ch in "\u200c\u200d" or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None (``javascript:``, ``data:``...).

    The result is percent-encoded where needed, so it is the same in HTML and text.
    """
    if not url:
        return None
    return _safe_url(url)


@functools.lru_cache(maxsize=16384)  # the same articles' URLs, edition after edition
def _safe_url(url: str) -> str | None:
    # Browsers drop ASCII tab/newline anywhere and strip C0 controls + space at the ends.
    candidate = re.sub(r"[\t\n\r]", "", url).strip(_C0_AND_SPACE)
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    # Percent-encode what does not belong in a URI (spaces, quotes, <>, non-ASCII).
    return quote(candidate, safe=_URL_SAFE)


def unsubscribe_mailto(address: str | None) -> str | None:
    """``mailto:<address>?subject=unsubscribe`` for a plain ``local@domain`` address
    (``Name <a@b>`` is accepted too), else None."""
    addr = parseaddr(address or "")[1].strip()
    if not _ADDRESS.fullmatch(addr):
        return None
    return f"mailto:{quote(addr, safe='@.+-_~!$*')}?subject=unsubscribe"


def relative_href(path: str) -> str | None:
    """A link to ``path`` relative to the archive root, or None if it is not such a path."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or path.startswith(("/", "\\")) or ".." in path.split("/"):
        return None
    return quote(path, safe="/-._~")


def archive_url(base_url: str | None, path: str) -> str | None:
    """The absolute URL of ``path`` (relative to the archive root) under ``base_url``:
    ``{base_url}/archive/{path}``; None without a usable base URL."""
    base = safe_url(base_url)
    rel = relative_href(path)
    if base is None or rel is None:
        return None
    return f"{base.rstrip('/')}/archive/{rel}"


def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None) -> str:
    """Wrap plain text for the text part; URLs and long words are never broken."""
    try:
        return _wrap(text, width, indent, first)
    except TypeError:  # not hashable
        return _wrap.__wrapped__(text, width, indent, first)


def forget_texts() -> None:
    """Drop the kept results of :func:`clean_text` and :func:`wrap` (a long-running
    process, after a digest run)."""
    _clean_text.cache_clear()
    _wrap.cache_clear()


# the same articles' lines in every text part that shows them
@functools.lru_cache(maxsize=16384, typed=True)
def _wrap(text: str, width: int, indent: str, first: str | None) -> str:
    return textwrap.fill(
        text,
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
