"""feedparser's faster paths give what feedparser itself gives: the same parsed feeds
(fixtures, relative links under xml:base, enclosures, the legacy key names), and the
same answers from FeedParserDict's special keys."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
from feedparser.util import FeedParserDict

from crawlers import feedparser_speedups
from crawlers.feeds import ParsedFeed, parse_feed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"

XML_BASE_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://a.test.invalid/news/">
  <title>Base</title>
  <link rel="alternate" href="index.html"/>
  <link rel="license" href="/license"/>
  <entry xml:base="2026/">
    <id>tag:a,2026:1</id>
    <title type="html">One &amp;amp; two</title>
    <link href="one.html"/>
    <link rel="enclosure" href="one.mp3" length="12" type="audio/mpeg"/>
    <category term="economy"/><category term="jobs"/>
    <published>2026-11-24T08:30:00Z</published>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
      <p>See <a href="two.html">two</a>, <img src="/i.png"/>.</p></div></content>
  </entry>
  <entry xml:base="javascript:alert(1)//">
    <id>tag:a,2026:2</id>
    <title>Two</title>
    <link href="two.html"/>
    <updated>2026-11-25T08:30:00Z</updated>
    <summary type="text">Plain &lt;b&gt;text&lt;/b&gt;</summary>
  </entry>
</feed>
"""

RSS_ENCLOSURE = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
  <title>Pod</title><link>/pod</link><description>d</description>
  <item><title>Ep 1</title><link>ep1</link><guid isPermaLink="false">e1</guid>
    <enclosure url="/ep1.mp3" length="1" type="audio/mpeg"/><dc:creator>Ann</dc:creator>
    <pubDate>Tue, 24 Nov 2026 08:30:00 GMT</pubDate><description>&lt;p&gt;x&lt;/p&gt;</description>
  </item>
</channel></rss>
"""


@pytest.fixture
def original() -> Iterator[Callable[[], None]]:
    """Switch to feedparser's own functions (and back to the fast ones afterwards)."""
    yield feedparser_speedups.uninstall
    feedparser_speedups.install()


def _both(parse: Callable[[], Any], original: Callable[[], None]) -> tuple[Any, Any]:
    assert feedparser_speedups.installed()
    fast = parse()
    original()
    assert not feedparser_speedups.installed()
    return fast, parse()


def _documents() -> list[tuple[bytes, str]]:
    found = [(p.read_bytes(), f"https://x.test.invalid/{p.name}") for p in FIXTURES.glob("*.xml")]
    assert len(found) >= 5
    return [
        *found,
        (XML_BASE_ATOM, "https://a.test.invalid/feed"),
        (RSS_ENCLOSURE, "https://p.test.invalid/rss"),
    ]


def test_parsed_feeds_are_the_same(original: Callable[[], None]) -> None:
    documents = _documents()

    def parse_all() -> list[ParsedFeed | str]:
        out: list[ParsedFeed | str] = []
        for body, url in documents:
            try:
                out.append(parse_feed(body, url))
            except Exception as exc:  # a broken fixture: the same error either way
                out.append(repr(exc))
        return out

    fast, slow = _both(parse_all, original)
    assert fast == slow
    base = fast[-2]
    assert isinstance(base, ParsedFeed)
    assert base.entries[0].url == "https://a.test.invalid/news/2026/one.html"


def test_feedparser_results_are_the_same(original: Callable[[], None]) -> None:
    """Everything feedparser reports (links resolved, enclosures, license, details)."""

    def raw() -> list[Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            out = []
            for body, url in _documents():
                d = feedparser.parse(body, response_headers={"content-location": url})
                out.append((d["feed"], d["entries"], d.get("bozo"), d.get("version")))
                keys = [(e.get("enclosures"), e.get("updated"), "category" in e) for e in d.entries]
                out.append(keys)
                out.append((d.feed.get("license"), d.feed.get("url"), "channel" in d))
            return out

    fast, slow = _both(raw, original)
    assert fast == slow
    assert fast[-6][1][0]["link"] == "https://a.test.invalid/news/2026/one.html"  # xml:base


def test_special_keys_answer_as_before(original: Callable[[], None]) -> None:
    def ask() -> list[Any]:
        d = FeedParserDict(
            tags=[{"term": "t"}],
            links=[{"rel": "license", "href": "L"}, {"rel": "enclosure", "href": "E"}],
            published="P",
            rights="R",
            plain="x",
        )
        empty = FeedParserDict()
        answers: list[Any] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            for key in ("category", "enclosures", "license", "updated", "copyright", "plain"):
                answers += [d.get(key), key in d, d[key]]
            for key in ("category", "updated", "missing", "copyright"):
                answers += [empty.get(key, "default"), key in empty]
                with pytest.raises(KeyError):
                    empty[key]
        return answers

    fast, slow = _both(ask, original)
    assert fast == slow
    assert fast[:3] == ["t", True, "t"]


def test_a_feedparser_release_they_were_not_checked_against_keeps_its_own_functions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feedparser_speedups.uninstall()
    try:
        monkeypatch.setattr(feedparser, "__version__", "7.0.0")
        assert feedparser_speedups.install() is False
        assert not feedparser_speedups.installed()
        monkeypatch.setattr(feedparser, "__version__", "6.0.14")
        assert feedparser_speedups.install() is True
    finally:
        feedparser_speedups.install()
    assert feedparser_speedups.installed()


def test_feedparser_asks_xml_sax_only_for_parsers_that_are_installed(
    original: Callable[[], None],
) -> None:
    """Where drv_libxml2 is not installed, asking for it first searched sys.path again
    for every feed; the parser chosen is expat either way."""
    import importlib.util

    import feedparser.api

    expected = [] if importlib.util.find_spec("drv_libxml2") is None else ["drv_libxml2"]
    asked = feedparser.api.PREFERRED_XML_PARSERS
    assert asked == expected
    original()
    asked = feedparser.api.PREFERRED_XML_PARSERS
    assert asked == ["drv_libxml2"]
