"""JSON Feed 1.0/1.1: detection and mapping to the same Entry type as RSS and Atom."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer

from crawl_support import run_with_client
from crawlers.feed_crawler import CrawlOutcome, FetchState, crawl_feed
from crawlers.feeds import FeedParseError, parse_feed
from crawlers.http import CrawlClient

URL = "https://jsonfeed.test.invalid/feed.json"


def test_json_feed_items_become_entries(fixture_bytes) -> None:
    feed = parse_feed(fixture_bytes("feeds", "jsonfeed.json"), URL)
    assert feed.title == "Fixture JSON Feed"
    assert feed.link == "https://jsonfeed.test.invalid/"
    assert feed.language == "en"
    assert feed.warning is None
    first, second, third = feed.entries
    assert first.identity == "guid:https://jsonfeed.test.invalid/2026/11/hybrid-work"
    assert first.url == "https://jsonfeed.test.invalid/2026/11/hybrid-work"  # canonical
    assert first.title == "Hybrid work is here to stay"
    assert "<strong>hybrid work</strong>" in first.content and "<script" not in first.content
    assert first.text == "Most employers now offer hybrid work."
    assert first.summary == "Employers settle on hybrid work."
    assert first.published == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert first.author == "Ada Lovelace"
    assert first.categories == ("hybrid work", "HR")
    assert first.language == "en"
    # numeric id, relative url, text only, date_modified as the date, its own language
    assert second.identity == "guid:42"
    assert second.url == "https://jsonfeed.test.invalid/2026/11/plain-text"
    assert second.content.startswith("<p>A post with only plain text.</p>")
    assert "&lt;angle&gt;" in second.content and "<angle>" in second.text
    assert second.title == "A post with only plain text. And a second paragraph with <angle> …"
    assert second.published == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert second.language == "nl"
    assert second.author == "Feed Author"  # the feed's authors stand in
    # external_url when there is no url; no dates at all
    assert third.url == "https://elsewhere.test.invalid/linked-article"
    assert third.published is None


def test_json_feed_1_0_author_object(fixture_bytes) -> None:
    [entry] = parse_feed(fixture_bytes("feeds", "jsonfeed-1.0.json"), URL).entries
    assert entry.author == "Single Author"
    assert entry.published == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "not valid JSON"),
        (b'{"hello": "world"}', "not a JSON Feed"),
        (b"[1, 2, 3]", "not a JSON Feed"),
    ],
)
def test_json_that_is_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_feed(body, URL, content_type="application/json")


def test_json_content_type_with_an_xml_body_goes_to_the_xml_parser(fixture_bytes) -> None:
    feed = parse_feed(fixture_bytes("feeds", "rss2.xml"), URL, content_type="application/json")
    assert len(feed.entries) == 3


def test_lenient_json_feed_without_version_warns() -> None:
    body = b'{"title": "T", "items": [{"id": "1", "content_text": "x"}, "junk"]}'
    feed = parse_feed(body, URL)
    assert [e.identity for e in feed.entries] == ["guid:1"]
    assert feed.warning is not None


def test_json_feed_over_http_by_content_type_and_by_sniffing(
    httpserver: HTTPServer, fixture_bytes
) -> None:
    body = fixture_bytes("feeds", "jsonfeed.json")
    httpserver.expect_request("/feed.json").respond_with_data(
        body, content_type="application/feed+json"
    )
    httpserver.expect_request("/feed").respond_with_data(body, content_type="text/plain")

    async def work(client: CrawlClient) -> list[CrawlOutcome]:
        return [
            await crawl_feed(client, "JSON", FetchState(httpserver.url_for(path)))
            for path in ("/feed.json", "/feed")
        ]

    for outcome in run_with_client(work):
        assert outcome.error is None
        assert outcome.feed_title == "Fixture JSON Feed"
        assert len(outcome.entries) == 3
