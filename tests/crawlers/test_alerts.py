"""Keyword alert feeds: search-feed URLs, unwrapped result links, served on 127.0.0.1."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_httpserver import HTTPServer

from crawl_support import run_with_client
from crawlers.alerts import search_feed_url, translate_query, unwrap_link
from crawlers.feed_crawler import CrawlOutcome, FetchState, crawl_feed
from crawlers.http import CrawlClient

ARTICLE = "https://hrnieuws.test.invalid/2026/11/thuiswerken"


def crawl(url: str) -> CrawlOutcome:
    async def work(client: CrawlClient) -> CrawlOutcome:
        return await crawl_feed(client, "Alert", FetchState(url))

    return run_with_client(work)


def test_google_news_search_url() -> None:
    url = search_feed_url("google-news", '"social media" werk', "nl", "NL")
    assert url == (
        "https://news.google.com/rss/search?q=%22social+media%22+werk&hl=nl&gl=NL&ceid=NL:nl"
    )
    english = urlsplit(search_feed_url("google-news", "burnout", "en", "GB"))
    assert parse_qs(english.query) == {
        "q": ["burnout"],
        "hl": ["en-GB"],
        "gl": ["GB"],
        "ceid": ["GB:en"],
    }


def test_bing_news_search_url() -> None:
    url = search_feed_url("bing-news", "thuiswerken site:nu.nl", "nl", "NL")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.bing.com", "/news/search")
    assert parse_qs(parts.query) == {
        "q": ["thuiswerken site:nu.nl"],
        "format": ["rss"],
        "setlang": ["nl"],
        "cc": ["NL"],
    }


@pytest.mark.parametrize(
    ("query", "expected", "language"),
    [
        ('"social media" werk', '"social media" werk', None),
        ("thuiswerken | hybride", "thuiswerken OR hybride", None),
        ("(cao OR lonen) -webinar", "(cao OR lonen) -webinar", None),
        ("burnout lang:nl site:nu.nl", "burnout site:nu.nl", "nl"),
        ('intitle:cao -"gesponsorde inhoud"', 'intitle:cao -"gesponsorde inhoud"', None),
    ],
)
def test_query_translation(query: str, expected: str, language: str | None) -> None:
    assert translate_query(query) == (expected, language)


def test_lang_in_the_query_picks_the_edition_when_none_is_given() -> None:
    url = search_feed_url("google-news", "verzuim lang:nl")
    assert parse_qs(urlsplit(url).query)["ceid"] == ["NL:nl"]


def test_bad_provider_and_empty_query_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown alert provider"):
        search_feed_url("yahoo", "x", "nl", "NL")
    with pytest.raises(ValueError, match="empty"):
        search_feed_url("google-news", "lang:nl", "nl", "NL")


def google_news_id(url: str) -> str:
    raw = b"\x08\x13\x22" + bytes([len(url)]) + url.encode() + b"\xd2\x01\x00"
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "wrapped",
    [
        f"https://www.google.com/url?rct=j&sa=t&url={ARTICLE}&ct=ga&usg=AOvVaw",
        f"https://www.google.nl/url?q={ARTICLE}&sa=U&ved=2ahUKE",
        "https://www.google.com/url?sa=t&url=https%3A%2F%2Fhrnieuws.test.invalid%2F2026%2F11%2Fthuiswerken",
        "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=X&url="
        "https%3a%2f%2fhrnieuws.test.invalid%2f2026%2f11%2fthuiswerken&c=1&mkt=nl-nl",
        "https://www.bing.com/ck/a?!&&p=abc&u=a1"
        + base64.urlsafe_b64encode(ARTICLE.encode()).decode().rstrip("=")
        + "&ntb=1",
        f"https://news.google.com/rss/articles/{google_news_id(ARTICLE)}?oc=5",
        f"https://news.google.com/articles/{google_news_id(ARTICLE)}",
        f"https://news.google.com/__i/rss/rd/articles/{google_news_id(ARTICLE)}?oc=5",
    ],
)
def test_unwrap_link(wrapped: str) -> None:
    assert unwrap_link(wrapped) == ARTICLE


@pytest.mark.parametrize(
    "url",
    [
        ARTICLE,
        "https://www.google.com/search?q=thuiswerken",
        "https://www.google.com/url?url=javascript:alert(1)",
        "https://news.google.com/rss/articles/CBMiWkFVX3lxTFBvbmx5YW5vcGFxdWV0b2tlbg?oc=5",
        "https://news.google.com/rss/articles/!!!not-base64!!!",
        "https://notgoogle.example/url?url=https://x.test/",
        "https://www.bing.com/news/search?q=x",
    ],
)
def test_other_links_are_left_alone(url: str) -> None:
    assert unwrap_link(url) == url


def test_google_alerts_feed_links_are_unwrapped_and_canonical(
    httpserver: HTTPServer, fixture_bytes
) -> None:
    httpserver.expect_request("/alerts/feed").respond_with_data(
        fixture_bytes("feeds", "google-alerts.xml"), content_type="application/atom+xml"
    )
    httpserver.expect_request("/own/feed").respond_with_data(
        fixture_bytes("feeds", "rss2.xml"), content_type="application/rss+xml"
    )
    alert = crawl(httpserver.url_for("/alerts/feed"))
    assert alert.error is None
    first, second = alert.entries
    assert first.url == ARTICLE  # unwrapped, then utm_source dropped
    assert first.title == "Kabinet wil recht op thuiswerken vastleggen"  # <b> dropped
    assert first.identity == "guid:tag:google.com,2013:googlealerts/feed:11111111111111111111"
    assert second.url == "https://zorgwerk.test.invalid/artikel/42"
    own = crawl(httpserver.url_for("/own/feed"))
    assert ARTICLE in {e.url for e in own.entries}  # same canonical URL from both sources


def test_google_news_feed_links_are_unwrapped_where_possible(
    httpserver: HTTPServer, fixture_bytes
) -> None:
    httpserver.expect_request("/rss/search").respond_with_data(
        fixture_bytes("feeds", "google-news.xml"), content_type="application/rss+xml"
    )
    outcome = crawl(httpserver.url_for("/rss/search"))
    assert outcome.error is None
    old_style, new_style = outcome.entries
    assert old_style.url == ARTICLE
    assert old_style.title == "Kabinet wil recht op thuiswerken vastleggen"  # " - source" gone
    assert new_style.url is not None and new_style.url.startswith(
        "https://news.google.com/rss/articles/CBMi"
    )  # holds no URL: kept as it is
    assert new_style.title == "Thuiswerken in cijfers"


def test_bing_news_feed_links_are_unwrapped(httpserver: HTTPServer, fixture_bytes) -> None:
    httpserver.expect_request("/news/search").respond_with_data(
        fixture_bytes("feeds", "bing-news.xml"), content_type="application/rss+xml"
    )
    [entry] = crawl(httpserver.url_for("/news/search")).entries
    assert entry.url == ARTICLE
    assert entry.identity == f"link:{ARTICLE}"
