"""Feed values that once hung the parser."""

from __future__ import annotations

import pytest

from crawlers.feeds import FeedParseError, parse_feed
from crawlers.html_links import discover_feed_links

NAMESPACES = (
    "xmlns:dc='http://purl.org/dc/elements/1.1/'"
    " xmlns:itunes='http://www.itunes.com/dtds/podcast-1.0.dtd'"
)


@pytest.mark.parametrize("element", ["author", "dc:creator", "itunes:author"])
def test_a_huge_author_is_cut_before_feedparser_scans_it_for_an_e_mail_address(
    element: str,
) -> None:
    # feedparser's e-mail regex is quadratic: 20,000 characters took 2.5 s, 100,000 two
    # minutes; the author it sees is cut to 201 characters (the bound, 200, plus one, so
    # crawlers.entries.bounded still notes the cut)
    author = "Jan " + "x" * 20_000  # no e-mail address: the slow case
    feed = (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0' {NAMESPACES}><channel>"
        "<title>F</title><link>https://feed.test/</link>"
        f"<item><title>T</title><link>https://feed.test/1</link><{element}>{author}</{element}>"
        "</item></channel></rss>"
    ).encode()
    (entry,) = parse_feed(feed, "https://feed.test/feed.xml").entries
    assert entry.author == author[:201]


def test_a_page_announcing_30000_feeds_gives_the_first_20() -> None:
    # each one was compared with all before it (quadratic: 20,000 links took 3.4 s), and
    # `sources add` fetched every one of them
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" href="/f{i}.xml">' for i in range(30_000)
    )
    too_long = f'<link rel="alternate" type="application/rss+xml" href="/{"x" * 2048}">'
    page = f"<!DOCTYPE html><html><head>{too_long}{links}</head></html>"
    found = discover_feed_links(page, "https://x.test/")
    assert found == [f"https://x.test/f{i}.xml" for i in range(20)]


def test_a_json_feed_nested_100000_deep_is_not_a_feed_rather_than_a_recursion_error() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": [' + b"[" * 100_000
    with pytest.raises(FeedParseError, match=r"not valid JSON \(arrays or objects nested too"):
        parse_feed(body + b"]" * 100_000 + b"]}", "https://x.test/feed.json")
