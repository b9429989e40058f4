"""Tests for the [[sources]] section: feeds, blogs and alerts (pasted, or built from a
watchlist), the keys of each type, polling intervals and their problems."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from settings_support import BASE, by_key, load, only, problems


@pytest.mark.parametrize("url", ["ftp://x", "example.org/feed", "https://", "http://exa mple.org/"])
def test_bad_source_url(tmp_path: Path, url: str) -> None:
    problem = only(tmp_path, BASE.replace("https://example.org/feed.xml", url))
    assert problem.key == "sources[0].url"
    assert problem.message == f"expected an absolute http(s) URL, got {url!r}"


def test_bad_source_type_and_language(tmp_path: Path) -> None:
    text = BASE.replace('name = "Werk en Leven"', 'name = "W"\ntype = "rss"\nlanguage = "NL"')
    assert by_key(problems(tmp_path, text)) == {
        "sources[0].type": "expected one of: feed, alert, blog, got 'rss'",
        "sources[0].language": "expected a 2-letter lowercase language code such as 'nl', got 'NL'",
    }


def test_source_defaults_per_type(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [[sources]]
        name = "Feed"
        url = "https://example.org/feed.xml"
        full_text = true
        categories = ["HR", "Werk"]
        min_interval = "1h"
        max_interval = "12h"
        [[sources]]
        name = "Blog"
        type = "blog"
        url = "https://example.org/blog/"
        sitemap = "https://example.org/sitemap.xml"
        allow = ['/blog/\\d{4}/', '/blog/page/']
        deny = '/tag/'
        max_pages = 20
        max_depth = 0
        delay = 0
        timeout = 120
        """,
    )
    feed, blog = settings.sources
    assert (feed.full_text, feed.categories) == (True, ("HR", "Werk"))
    assert (feed.min_interval, feed.max_interval) == (timedelta(hours=1), timedelta(hours=12))
    assert feed.blog is None and feed.key == "sources[0]"
    assert blog.min_interval == timedelta(hours=2)  # a blog crawl is heavier: polled less
    assert blog.max_interval == timedelta(days=1)
    assert blog.blog is not None
    assert blog.blog.sitemap == "https://example.org/sitemap.xml"
    assert blog.blog.allow == (r"/blog/\d{4}/", "/blog/page/")
    assert blog.blog.deny == ("/tag/",)
    assert (blog.blog.max_pages, blog.blog.max_depth, blog.blog.delay) == (20, 0, 0.0)
    assert blog.blog.timeout == 120.0
    default = load(tmp_path, BASE).sources[0]
    assert (default.min_interval, default.max_interval) == (timedelta(minutes=15), timedelta(1))
    assert (default.full_text, default.categories) == (False, ())


ALERTS = """
[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = 'thuiswerken OR "hybride werken" lang:nl'
[[watchlists]]
name = "personen"
title = "Personen"
entities = ["Jan Jansen"]
"""


def test_alert_built_from_a_watchlist(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        ALERTS
        + """
        [[sources]]
        name = "Google News NL"
        type = "alert"
        watchlist = "thuiswerken"
        provider = "google-news"
        language = "nl"
        region = "nl"
        [[sources]]
        name = "Bing"
        type = "alert"
        watchlist = "thuiswerken"
        provider = "bing-news"
        [[sources]]
        name = "Lokaal"
        type = "alert"
        watchlist = "thuiswerken"
        provider = "google-news"
        endpoint = "http://127.0.0.1:8080/rss/search"
        [[sources]]
        name = "Geplakt"
        type = "alert"
        url = "https://www.google.com/alerts/feeds/123/456"
        """,
    )
    google, bing, local, pasted = settings.sources
    assert google.url == (
        "https://news.google.com/rss/search?q=thuiswerken+OR+%22hybride+werken%22"
        "&hl=nl&gl=NL&ceid=NL:nl"
    )
    assert (google.watchlist, google.provider, google.region) == (
        "thuiswerken",
        "google-news",
        "NL",
    )
    assert bing.url == (
        "https://www.bing.com/news/search?q=thuiswerken+OR+%22hybride+werken%22"
        "&format=rss&setlang=nl&cc=NL"
    )
    assert local.url.startswith("http://127.0.0.1:8080/rss/search?q=thuiswerken+OR+")
    assert pasted.url == "https://www.google.com/alerts/feeds/123/456" and pasted.watchlist is None


def test_alert_problems(tmp_path: Path) -> None:
    def alert(name: str, body: str) -> str:
        return f'[[sources]]\nname = "{name}"\ntype = "alert"\n{body}\n'

    found = by_key(
        problems(
            tmp_path,
            ALERTS
            + alert("both", 'url = "https://x.org/f"\nwatchlist = "thuiswerken"')
            + alert("neither", 'language = "nl"')
            + alert("no provider", 'watchlist = "thuiswerken"')
            + alert("bad provider", 'watchlist = "thuiswerken"\nprovider = "yahoo"')
            + alert("unknown", 'watchlist = "verzuim"\nprovider = "google-news"')
            + alert("entities", 'watchlist = "personen"\nprovider = "bing-news"')
            + alert("region", 'watchlist = "thuiswerken"\nprovider = "bing-news"\nregion = "NLD"')
            + alert("pasted", 'url = "https://x.org/g"\nregion = "NL"\nprovider = "bing-news"'),
        )
    )
    assert found == {
        "sources[0]": (
            "give either url (a pasted alert or search feed) or watchlist (a feed built from"
            " a watchlist's query at provider), not both"
        ),
        "sources[1].url": (
            "missing required key; expected url = an alert or search feed URL, or"
            " watchlist = the name of a watchlist (with provider = 'google-news' or 'bing-news')"
        ),
        "sources[2].provider": (
            "missing required key; expected 'google-news' or 'bing-news': where the search"
            " feed for the watchlist's query is built"
        ),
        "sources[3].provider": "expected one of: google-news, bing-news, got 'yahoo'",
        "sources[4].watchlist": "no watchlist named 'verzuim'; defined: thuiswerken, personen",
        "sources[5].watchlist": (
            "watchlist 'personen' has no query (it names entities only); an alert feed needs"
            " a query to search for"
        ),
        "sources[6].region": "expected a 2-letter country code such as 'NL', got 'NLD'",
        "sources[7].region": (
            "only for an alert built from a watchlist (watchlist = ...); a pasted url is used"
            " as it is"
        ),
        "sources[7].provider": (
            "only for an alert built from a watchlist (watchlist = ...); a pasted url is used"
            " as it is"
        ),
    }


def test_source_keys_of_another_type_and_blog_problems(tmp_path: Path) -> None:
    found = by_key(
        problems(
            tmp_path,
            """
            [[sources]]
            name = "Feed"
            url = "https://example.org/feed.xml"
            sitemap = "https://example.org/sitemap.xml"
            watchlist = "x"
            min_interval = "2d"
            categories = "HR"
            [[sources]]
            name = "Blog"
            type = "blog"
            url = "https://example.org/"
            full_text = true
            allow = ["/blog/", "(unclosed"]
            deny = [3]
            max_pages = 0
            max_depth = -1
            delay = "even"
            sitemap = "sitemap.xml"
            """,
        )
    )
    assert found == {
        "sources[0].sitemap": 'only for sources of type "blog"; this one is "feed"',
        "sources[0].watchlist": 'only for sources of type "alert"; this one is "feed"',
        "sources[0].min_interval": "expected at most max_interval (1d), got 2d",
        "sources[0].categories": "expected an array of non-empty strings, got 'HR'",
        "sources[1].full_text": 'only for sources of type "feed" or "alert"; this one is "blog"',
        "sources[1].allow[1]": (
            "not a regular expression (missing ), unterminated subpattern at position 0):"
            " '(unclosed'; expected Python syntax such as '/blog/\\d{4}/'"
        ),
        "sources[1].deny[0]": "expected a regular expression (a non-empty string), got integer 3",
        "sources[1].max_pages": "expected a whole number from 1 to 100000, got integer 0",
        "sources[1].max_depth": "expected a whole number from 0 to 100, got integer -1",
        "sources[1].delay": "expected a number of seconds from 0 to 3600, got 'even'",
        "sources[1].sitemap": "expected an absolute http(s) URL, got 'sitemap.xml'",
    }


def test_min_interval_zero_refused(tmp_path: Path) -> None:
    text = BASE.replace(
        'url = "https://example.org/feed.xml"',
        'url = "https://example.org/feed.xml"\nmin_interval = "0s"',
    )
    problem = only(tmp_path, text)
    assert problem[1:] == (
        "sources[0].min_interval",
        "expected a duration from 1s to 30d, got '0s'",
    )
