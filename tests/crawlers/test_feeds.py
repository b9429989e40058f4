"""Feed parsing: identity rules, canonical URLs, sanitising, broken feeds. No network."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.feeds import FeedParseError, parse_feed
from crawlers.urls import canonical_url


def test_rss_entries_are_normalised(fixture_bytes) -> None:
    feed = parse_feed(fixture_bytes("feeds", "rss2.xml"), "https://hrnieuws.test.invalid/feed")
    assert feed.title == "Fixture HR Nieuws"
    assert feed.language == "nl"
    assert feed.warning is None
    first, second, third = feed.entries
    # guid is the identity; the link loses tracking parameters and fragment
    assert first.identity == "guid:hrnieuws-1001"
    assert first.url == "https://hrnieuws.test.invalid/2026/11/social-media-regels?id=7"
    assert first.author == "Fatima el Amrani"
    assert first.published == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert first.categories == ("social media",)
    assert first.language == "nl"
    # no guid: the link is the identity; no link either: a hash of title and text
    assert second.identity == "link:https://hrnieuws.test.invalid/2026/11/thuiswerken"
    assert third.identity.startswith("hash:")
    assert third.url is None and third.published is None


def test_feed_html_is_sanitised_once(fixture_bytes) -> None:
    entry = parse_feed(fixture_bytes("feeds", "rss2.xml"), "https://x.test.invalid/").entries[0]
    for bad in ("<script", "onclick", "javascript:", "tracker.test.invalid"):
        assert bad not in entry.content
    assert "<p>Steeds meer werkgevers" in entry.content
    assert "alert" not in entry.text
    assert entry.text.startswith("Steeds meer werkgevers leggen vast")
    assert entry.summary.startswith("Steeds meer werkgevers")


def test_atom_repeated_guid_is_combined_with_link(fixture_bytes) -> None:
    feed = parse_feed(fixture_bytes("feeds", "atom.xml"), "https://workplace.test.invalid/atom")
    ids = [e.identity for e in feed.entries]
    assert ids[0] == "guid:tag:workplace.test.invalid,2026:1"
    assert ids[1] == (
        "guid+link:tag:workplace.test.invalid,2026:dup https://workplace.test.invalid/dup-a"
    )
    assert ids[1] != ids[2]
    assert feed.entries[0].author == "Tom Baker"
    assert feed.entries[0].language == "en"
    assert "four-day week" in feed.entries[0].text


def test_malformed_feed_keeps_salvaged_entries_with_warning(fixture_bytes) -> None:
    feed = parse_feed(fixture_bytes("feeds", "malformed.xml"), "https://broken.test.invalid/")
    assert [e.title for e in feed.entries] == ["First item survives", "Second item survives"]
    assert feed.warning is not None and "2 entries salvaged" in feed.warning


def test_html_page_instead_of_feed_names_discovered_feeds(fixture_bytes) -> None:
    with pytest.raises(FeedParseError) as info:
        parse_feed(fixture_bytes("feeds", "page.html"), "https://site.test.invalid/blog/")
    message = str(info.value)
    assert "HTML page instead of a feed" in message
    assert "https://site.test.invalid/feed.xml" in message
    assert "https://elders.test.invalid/atom.xml" in message


def test_garbage_is_not_a_feed() -> None:
    with pytest.raises(FeedParseError):
        parse_feed(b"\x00\x01 nothing here", "https://x.test.invalid/")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.org/a?utm_source=x&id=3#top", "https://example.org/a?id=3"),
        ("http://example.org:80/a?fbclid=1&gclid=2&mc_cid=3", "http://example.org/a"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org/a?b=2&a=1", "https://example.org/a?b=2&a=1"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_resolves_relative_links() -> None:
    assert canonical_url("/x?utm_medium=m", "https://site.test/feed") == "https://site.test/x"


@pytest.mark.parametrize(
    ("channel", "ttl"),
    [
        ("<ttl>90</ttl>", 90),
        ("<ttl>0</ttl>", None),
        ("<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>", 30),
        ("<sy:updatePeriod>daily</sy:updatePeriod>", 1440),
        ("<ttl>15</ttl><sy:updatePeriod>daily</sy:updatePeriod>", 15),
        ("", None),
    ],
)
def test_feed_ttl_in_minutes(channel: str, ttl: int | None) -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>T</title>'
        f"{channel}<item><title>x</title></item></channel></rss>"
    ).encode()
    assert parse_feed(body, "https://x.test.invalid/").ttl == ttl
