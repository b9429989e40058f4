"""Keyword alert feeds: search-feed URLs per provider, and unwrapping their result links.

A watchlist query in Google Alerts syntax becomes a provider's news-search feed URL
(:func:`search_feed_url`). Result links in such feeds are often redirect wrappers
(google.com/url, bing.com/news/apiclick.aspx, news.google.com/articles/…);
:func:`unwrap_link` recovers the publisher's URL without any network access, so the
same article from an alert and from its own feed gets the same canonical URL.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Literal
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

Provider = Literal["google-news", "bing-news"]
PROVIDERS: tuple[str, ...] = ("google-news", "bing-news")

_TOKEN = re.compile(r'-?"[^"]*"?|\(|\)|[^\s()"]+')
_LANG_TERM = re.compile(r"^lang:([a-zA-Z]{2,3})$", re.I)
# Google News editions whose hl carries the region (en-US, en-GB, pt-BR, es-419, …)
_REGIONAL_HL = frozenset({"en", "pt", "es", "zh"})


def translate_query(query: str) -> tuple[str, str | None]:
    """Our Google-Alerts query as a news-search query, and the ``lang:`` it named.

    Terms, quoted phrases, ``-`` exclusions, parentheses, ``OR``, ``site:`` and
    ``intitle:`` pass through (both providers understand them); ``|`` becomes ``OR``;
    ``lang:xx`` is dropped, since the language goes into the URL instead.
    """
    out: list[str] = []
    language = None
    for token in _TOKEN.findall(query):
        m = _LANG_TERM.match(token)
        if m:
            language = language or m.group(1).lower()
            continue
        if token.lower().startswith("-lang:"):
            continue
        out.append("OR" if token == "|" else token)
    text = " ".join(out)
    return text.replace("( ", "(").replace(" )", ")"), language


def search_feed_url(
    provider: Provider | str, query: str, language: str = "", region: str = ""
) -> str:
    """The RSS search-feed URL for ``query`` at ``provider``, in ``language``/``region``.

    >>> search_feed_url("google-news", '"social media" werk', "nl", "NL")
    'https://news.google.com/rss/search?q=%22social+media%22+werk&hl=nl&gl=NL&ceid=NL:nl'
    """
    q, lang_in_query = translate_query(query)
    if not q:
        raise ValueError(f"empty search query: {query!r}")
    language = (language or lang_in_query or "en").lower()
    region = (region or {"en": "US"}.get(language, language)).upper()
    if provider == "google-news":
        hl = f"{language}-{region}" if language in _REGIONAL_HL else language
        params = {"q": q, "hl": hl, "gl": region, "ceid": f"{region}:{language}"}
        return "https://news.google.com/rss/search?" + urlencode(
            params, quote_via=quote_plus, safe=":"
        )
    if provider == "bing-news":
        params = {"q": q, "format": "rss", "setlang": language, "cc": region}
        return "https://www.bing.com/news/search?" + urlencode(params, quote_via=quote_plus)
    raise ValueError(f"unknown alert provider {provider!r}; expected one of {PROVIDERS}")


def unwrap_link(url: str) -> str:
    """The target of a redirect-wrapped search-result link; other links unchanged.

    Handles ``www.google.<tld>/url?…&url=<target>`` (or ``q=``), Bing's
    ``/news/apiclick.aspx?…&url=<target>`` and ``/ck/a?…&u=a1<base64>``, and
    old-style ``news.google.com/…/articles/CBMi…`` ids that embed the URL. Newer Google
    News ids hold no URL and are left as they are.
    """
    for _ in range(3):  # a wrapper may wrap another wrapper
        target = _unwrap_once(url)
        if target is None or target == url:
            return url
        url = target
    return url


def _unwrap_once(url: str) -> str | None:
    if "google." not in url and "bing.com" not in url:
        return None  # the common case: not a wrapper; no parsing at all
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    path = parts.path
    if host == "news.google.com":
        return _google_news_article(path)
    if _is_google_host(host) and path == "/url":
        query = parse_qs(parts.query)
        return _web_url(query.get("url")) or _web_url(query.get("q"))
    if host in ("www.bing.com", "bing.com"):
        query = parse_qs(parts.query)
        if path.lower() == "/news/apiclick.aspx":
            return _web_url(query.get("url"))
        if path == "/ck/a":
            return _bing_ck(query.get("u"))
    return None


def _is_google_host(host: str) -> bool:
    labels = host.split(".")
    if labels[0] == "www":
        labels = labels[1:]
    return len(labels) >= 2 and labels[0] == "google"


def _web_url(values: list[str] | None) -> str | None:
    if not values:
        return None
    value = values[0].strip()
    return value if value.startswith(("http://", "https://")) else None


def _b64decode(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _bing_ck(values: list[str] | None) -> str | None:
    if not values or not values[0].startswith("a1"):
        return None
    raw = _b64decode(values[0][2:])
    if raw is None:
        return None
    try:
        return _web_url([raw.decode("utf-8")])
    except UnicodeDecodeError:
        return None


def _google_news_article(path: str) -> str | None:
    """The URL inside an old-style Google News article id (a base64 protobuf)."""
    segments = [s for s in path.split("/") if s]
    if len(segments) < 2 or segments[-2] not in ("articles", "read"):
        return None
    raw = _b64decode(segments[-1])
    if raw is None:
        return None
    for value in _protobuf_strings(raw):
        if value.startswith((b"http://", b"https://")):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return None
    return None


def _protobuf_strings(raw: bytes) -> list[bytes]:
    """The length-delimited fields of a protobuf message, as far as it parses."""
    out: list[bytes] = []
    i = 0
    while i < len(raw):
        key, i = _varint(raw, i)
        if key is None:
            break
        wire = key & 7
        if wire == 0:
            _, i = _varint(raw, i)
        elif wire == 2:
            length, i = _varint(raw, i)
            if length is None or i + length > len(raw):
                break
            out.append(raw[i : i + length])
            i += length
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            break
    return out


def _varint(raw: bytes, i: int) -> tuple[int | None, int]:
    value = shift = 0
    while i < len(raw):
        byte = raw[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7
        if shift > 63:
            break
    return None, len(raw)
