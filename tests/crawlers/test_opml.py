"""OPML import and export."""

from __future__ import annotations

import pytest

from crawlers.opml import OpmlError, OpmlFeed, parse_opml, write_opml


def test_parse_nested_folders_categories_and_missing_titles(fixture_bytes) -> None:
    feeds = parse_opml(fixture_bytes("feeds", "subscriptions.opml"))
    assert feeds == [
        OpmlFeed(
            title="HR Nieuws",
            xml_url="https://hrnieuws.test.invalid/feed",
            html_url="https://hrnieuws.test.invalid/",
            categories=("HR", "Tech"),  # listed in two folders: one feed, both folders
            language="nl",
        ),
        OpmlFeed(
            title="Zorgwerk",
            xml_url="https://zorgwerk.test.invalid/rss.xml",
            categories=("HR", "Nederland"),
        ),
        OpmlFeed(
            title="https://untitled.test.invalid/atom.xml",  # no title or text at all
            xml_url="https://untitled.test.invalid/atom.xml",
            categories=("Tech", "Work/Remote", "Leadership"),
        ),
        OpmlFeed(title="Top level", xml_url="https://top.test.invalid/index.xml"),
    ]


def test_round_trip(fixture_bytes) -> None:
    feeds = parse_opml(fixture_bytes("feeds", "subscriptions.opml"))
    written = write_opml(feeds, title="Mijn bronnen")
    assert written.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b'<opml version="2.0">' in written
    assert b"<title>Mijn bronnen</title>" in written
    assert parse_opml(written) == feeds


def test_round_trip_of_awkward_values() -> None:
    feeds = [
        OpmlFeed(title='Quotes "&" <angles>', xml_url="https://x.test/feed?a=1&b=2"),
        OpmlFeed(title="Één", xml_url="https://y.test/rss", categories=("Zorg & welzijn",)),
    ]
    assert parse_opml(write_opml(feeds)) == feeds


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not well-formed"),
        (b"just text", "not well-formed"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "root element is <rss>"),
        (b'<opml version="2.0"><head/></opml>', "no <body>"),
    ],
)
def test_non_opml_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message):
        parse_opml(data)


def test_entity_declarations_are_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;">]>'
        b'<opml version="2.0"><body><outline text="&b;" xmlUrl="https://x.test/"/></body></opml>'
    )
    with pytest.raises(OpmlError, match="entities"):
        parse_opml(laughs)
    external = (
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<opml version="2.0"><body><outline text="&x;" xmlUrl="https://x.test/"/></body></opml>'
    )
    with pytest.raises(OpmlError):
        parse_opml(external)


def test_empty_body_is_an_empty_list() -> None:
    assert parse_opml(b'<opml version="1.0"><head/><body/></opml>') == []
