"""The ``[[sources]]`` section: feeds, alerts and blogs, each with the keys of its type.

An alert is either a pasted feed URL or built from a watchlist's query at a news
provider; the URL of the latter is filled in by :func:`with_alert_urls` once the
watchlists are read.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from pipeline.settings import checks
from pipeline.settings.checks import describe, quote, show_duration
from pipeline.settings.model import (
    DEFAULT_MAX_INTERVAL,
    DEFAULT_MIN_INTERVAL,
    BlogOptions,
    Source,
    Watchlist,
)
from pipeline.settings.reader import Reader, key_path, unknown_key_message
from pipeline.settings.validate_watchlists import WatchlistNames

SOURCE_TYPES = ("feed", "alert", "blog")
# Source keys: every type has the common ones; the others belong to one or two types.
COMMON_SOURCE_KEYS = (
    *("name", "type", "url", "language", "enabled", "preferred"),
    *("categories", "min_interval", "max_interval"),
)
ALERT_ONLY_KEYS = ("watchlist", "provider", "region", "endpoint")
BLOG_ONLY_KEYS = ("sitemap", "allow", "deny", "max_pages", "max_depth", "delay", "timeout")
SOURCE_TYPE_KEYS = {
    "feed": (*COMMON_SOURCE_KEYS, "full_text"),
    "alert": (*COMMON_SOURCE_KEYS, "full_text", *ALERT_ONLY_KEYS),
    "blog": (*COMMON_SOURCE_KEYS, *BLOG_ONLY_KEYS),
}
SOURCE_KEYS = (*COMMON_SOURCE_KEYS, "full_text", *ALERT_ONLY_KEYS, *BLOG_ONLY_KEYS)
ALERT_PROVIDERS = ("google-news", "bing-news")
DEFAULT_BLOG_MIN_INTERVAL = timedelta(hours=2)  # a blog crawl fetches up to max_pages pages


def source_list(reader: Reader, data: dict[str, Any]) -> tuple[Source, ...]:
    """The ``[[sources]]``; an alert built from a watchlist has no URL yet (see
    :func:`with_alert_urls`)."""
    entries = [
        (path, _source(reader, path, table)) for path, table in reader.tables(data, "sources")
    ]
    reader.unique(((path, s.name) for path, s in entries), "name", "name")
    return tuple(source for _, source in entries)


def with_alert_urls(
    reader: Reader,
    sources: tuple[Source, ...],
    watchlists: tuple[Watchlist, ...],
    names: WatchlistNames,
) -> tuple[Source, ...]:
    """Alerts built from a watchlist get the provider's search-feed URL for its query."""
    from crawlers.alerts import search_feed_url  # pure string building; no network

    queries = {w.name: w.query for w in watchlists}
    out = []
    for s in sources:
        if s.type != "alert" or not s.watchlist or s.url:
            out.append(s)
            continue
        key = key_path(s.key, "watchlist")
        if s.watchlist not in names.given:
            reader.add(key, f"no watchlist named {quote(s.watchlist)}; {names.listing}")
        elif s.watchlist in queries and not queries[s.watchlist].strip():
            reader.add(
                key,
                f"watchlist {quote(s.watchlist)} has no query (it names entities only);"
                " an alert feed needs a query to search for",
            )
        elif s.watchlist in queries and s.provider:
            url = search_feed_url(
                s.provider, queries[s.watchlist], s.language or "", s.region or ""
            )
            if s.endpoint:
                url = s.endpoint + "?" + urlsplit(url).query
            s = replace(s, url=url)
        out.append(s)
    return tuple(out)


def _source(reader: Reader, path: str, table: dict[str, Any]) -> Source:
    kind = table.get("type", "feed")
    allowed = SOURCE_TYPE_KEYS.get(kind, SOURCE_KEYS) if isinstance(kind, str) else SOURCE_KEYS
    for key in table:
        if key in allowed:
            continue
        if key in SOURCE_KEYS:
            types = [t for t, keys in SOURCE_TYPE_KEYS.items() if key in keys]
            only = " or ".join(f'"{t}"' for t in types)
            reader.add(
                key_path(path, key), f'only for sources of type {only}; this one is "{kind}"'
            )
        else:
            reader.add(key_path(path, key), unknown_key_message(key, allowed))
    kind = reader.optional(table, path, "type", checks.choice(SOURCE_TYPES), "feed")
    watchlist = reader.optional(table, path, "watchlist", checks.text, None)
    if kind == "alert" and "url" in table and "watchlist" in table:
        reader.add(
            path,
            "give either url (a pasted alert or search feed) or watchlist (a feed built from"
            " a watchlist's query at provider), not both",
        )
    if kind == "alert" and "url" not in table and "watchlist" not in table:
        reader.add(
            key_path(path, "url"),
            "missing required key; expected url = an alert or search feed URL, or"
            " watchlist = the name of a watchlist (with provider = 'google-news' or 'bing-news')",
        )
        url: str | None = ""
    elif kind == "alert" and "url" not in table:
        url = ""  # built from the watchlist once the watchlists are read
    else:
        url = reader.required(table, path, "url", checks.http_url, "an absolute http(s) URL") or ""
    provider = reader.optional(table, path, "provider", checks.choice(ALERT_PROVIDERS), None)
    if kind == "alert" and "watchlist" in table and "url" not in table and "provider" not in table:
        reader.add(
            key_path(path, "provider"),
            "missing required key; expected 'google-news' or 'bing-news': where the search"
            " feed for the watchlist's query is built",
        )
    if kind == "alert" and "watchlist" not in table:
        for key in ("provider", "region", "endpoint"):
            if key in table:
                reader.add(
                    key_path(path, key),
                    "only for an alert built from a watchlist (watchlist = ...); a pasted"
                    " url is used as it is",
                )
    default_min = DEFAULT_BLOG_MIN_INTERVAL if kind == "blog" else DEFAULT_MIN_INTERVAL
    min_interval = reader.optional(table, path, "min_interval", checks.POLL_INTERVAL, default_min)
    max_interval = reader.optional(
        table, path, "max_interval", checks.POLL_INTERVAL, DEFAULT_MAX_INTERVAL
    )
    if min_interval > max_interval:
        reader.add(
            key_path(path, "min_interval"),
            f"expected at most max_interval ({show_duration(max_interval)}),"
            f" got {show_duration(min_interval)}",
        )
    return Source(
        name=reader.required(table, path, "name", checks.text) or "",
        type=kind,
        url=url or "",
        language=reader.optional(table, path, "language", checks.language, None),
        enabled=reader.optional(table, path, "enabled", checks.boolean, True),
        preferred=reader.optional(table, path, "preferred", checks.boolean, False),
        full_text=reader.optional(table, path, "full_text", checks.boolean, False),
        min_interval=min_interval,
        max_interval=max(min_interval, max_interval),
        categories=reader.optional(table, path, "categories", checks.text_list, ()),
        watchlist=watchlist,
        provider=provider,
        region=reader.optional(table, path, "region", checks.region, None),
        endpoint=reader.optional(table, path, "endpoint", checks.base_url, None),
        blog=_blog_options(reader, path, table) if kind == "blog" else None,
        key=path,
    )


def _blog_options(reader: Reader, path: str, table: dict[str, Any]) -> BlogOptions:
    default = BlogOptions()
    return BlogOptions(
        sitemap=reader.optional(table, path, "sitemap", checks.http_url, None),
        allow=_patterns(reader, path, table, "allow"),
        deny=_patterns(reader, path, table, "deny"),
        max_pages=reader.optional(table, path, "max_pages", checks.positive_int(100_000), 50),
        max_depth=reader.optional(table, path, "max_depth", checks.whole_number(0, 100), 2),
        delay=reader.optional(table, path, "delay", checks.DELAY, default.delay),
        timeout=reader.optional(table, path, "timeout", checks.CRAWL_TIMEOUT, default.timeout),
    )


def _patterns(reader: Reader, path: str, table: dict[str, Any], key: str) -> tuple[str, ...]:
    """An array of regular expressions, each compiled to check it."""
    if key not in table:
        return ()
    value = table[key]
    if isinstance(value, str):
        value = [value]
    where = key_path(path, key)
    if not isinstance(value, list):
        reader.add(where, f"expected an array of regular expressions, got {describe(value)}")
        return ()
    out = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            reader.add(
                key_path(where, index),
                f"expected a regular expression (a non-empty string), got {describe(item)}",
            )
            continue
        if not reader.within_bounds(item, key_path(where, index)):
            continue
        try:
            re.compile(item)
        except re.error as exc:
            reader.add(
                key_path(where, index),
                f"not a regular expression ({exc}): {quote(item)}; expected Python syntax"
                r" such as '/blog/\d{4}/'",
            )
            continue
        out.append(item)
    return tuple(out)
