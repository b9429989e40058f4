"""The demo content, its rendering as feeds, the local feed server and the demo config."""

from __future__ import annotations

import difflib
import html
import re
import tomllib
import unicodedata
import urllib.request
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.error import HTTPError, URLError

import feedparser
import pytest

from pipeline.demo.feeds import (
    DemoArticle,
    DemoFeed,
    articles_of,
    load_demo_content,
    render_feed,
    slugify,
)
from pipeline.demo.server import DemoServer

NOW = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC)
WEEK_HOURS = 7 * 24
DEMO_CONFIG = Path(__file__).resolve().parents[3] / "config" / "demo.toml"

FEEDS, ARTICLES = load_demo_content()
BY_ID = {a.id: a for a in ARTICLES}
FEED_BY_SLUG = {f.slug: f for f in FEEDS}


def _feed_of(article: DemoArticle) -> DemoFeed:
    return FEED_BY_SLUG[article.feed]


def _text(article: DemoArticle) -> str:
    """Title, summary and body as plain text."""
    body = article.content
    if article.html:
        body = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return f"{article.title}\n{article.summary}\n{body}"


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a GET; HTTP error statuses are returned, not raised."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers.items()), response.read()
    except HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()


# --------------------------------------------------------------------------- content


def test_content_loads_with_enough_feeds_and_articles():
    assert len(ARTICLES) >= 40
    assert len(FEEDS) >= 5
    assert {f.language for f in FEEDS} == {"nl", "en"}
    assert {f.format for f in FEEDS} == {"rss", "atom"}
    assert {(f.language, f.format) for f in FEEDS} == {
        ("nl", "rss"),
        ("nl", "atom"),
        ("en", "rss"),
        ("en", "atom"),
    }
    counts = Counter(a.feed for a in ARTICLES)
    assert set(counts) == set(FEED_BY_SLUG)
    assert min(counts.values()) >= 5
    assert len({a.id for a in ARTICLES}) == len(ARTICLES)


def test_articles_are_well_formed():
    for article in ARTICLES:
        words = len(re.findall(r"\w+", _text(article).split("\n", 2)[2]))
        assert 120 <= words <= 300, (article.id, words)
        if article.html:
            paragraphs = re.findall(r"<p>", article.content)
        else:
            paragraphs = [p for p in re.split(r"\n\s*\n", article.content) if p.strip()]
        assert 3 <= len(paragraphs) <= 5, article.id
        assert article.title and article.author and article.summary
        assert "<" not in article.summary
        assert 1 <= article.hours_ago <= 330, article.id


def test_ages_spread_over_two_weeks_mostly_recent():
    ages = [a.hours_ago for a in ARTICLES]
    recent = sum(age < WEEK_HOURS for age in ages) / len(ages)
    assert 0.5 <= recent <= 0.7
    assert min(ages) <= 3 and max(ages) >= 300
    for feed in FEEDS:
        feed_ages = [a.hours_ago for a in ARTICLES if a.feed == feed.slug]
        assert min(feed_ages) < WEEK_HOURS <= max(feed_ages), feed.slug


def test_links_are_stable_unique_and_fictional():
    links = [a.link for a in ARTICLES]
    assert len(set(links)) == len(links)
    for article in ARTICLES:
        assert article.link.startswith(_feed_of(article).site)
        host = article.link.split("/")[2]
        assert host.endswith(".demo.trendwatch.invalid")
    again = {a.id: a.link for a in load_demo_content()[1]}
    assert again == {a.id: a.link for a in ARTICLES}


def test_slugify():
    assert slugify("Lonen & cao's: dit verandert er per 1 juli") == (
        "lonen-caos-dit-verandert-er-per-1-juli"
    )
    assert slugify("Één café, twee   managers!") == "een-cafe-twee-managers"
    assert len(slugify("woord " * 40)) <= 80


def test_quirks_are_present():
    assert [a.id for a in ARTICLES if not a.guid] == ["wl-006"]
    assert _feed_of(BY_ID["wl-006"]).format == "rss"
    tracked = [a for a in ARTICLES if "utm_source=" in a.link]
    assert [a.id for a in tracked] == ["ww-004"]
    assert tracked[0].link.endswith("?utm_source=newsletter&utm_medium=email")
    assert BY_ID["wl-004"].title == "Lonen & cao's: dit verandert er per 1 juli"
    html_articles = [a for a in ARTICLES if a.html]
    assert [a.id for a in html_articles] == ["hk-001"]
    body = html_articles[0].content
    assert "<p>" in body and "<strong>" in body and '<a href="' in body
    # The HTML article links to another demo article.
    assert BY_ID["hk-009"].link in body


def test_syndicated_copies_are_near_duplicates():
    for original_id, copy_id in (("wl-001", "pb-001"), ("hk-002", "pb-002")):
        original, copy = BY_ID[original_id], BY_ID[copy_id]
        assert copy.feed == "persberichten-werk" != original.feed
        assert copy.title != original.title
        assert copy.content != original.content
        ratio = difflib.SequenceMatcher(None, original.content, copy.content).ratio()
        assert ratio > 0.9, (copy_id, ratio)
        sentences = re.compile(r"(?<=[.!?'])\s+")
        changed = set(sentences.split(original.content)) ^ set(sentences.split(copy.content))
        assert len(changed) == 2, changed  # one sentence out, one in
        assert copy.hours_ago < original.hours_ago


def test_dutch_and_english_report_the_same_event():
    nl, en = BY_ID["wl-001"], BY_ID["ww-001"]
    assert (_feed_of(nl).language, _feed_of(en).language) == ("nl", "en")
    for fact in ("Brinkhorst", "Apeldoorn", "640", "120", "1 maart"):
        assert fact in nl.content
    for fact in ("Brinkhorst", "Apeldoorn", "640", "120", "1 March"):
        assert fact in en.content
    assert "6,1 naar 4,3" in nl.content and "6.1 to 4.3" in en.content


# --------------------------------------------------------------------------- rendering


@pytest.mark.parametrize("feed", FEEDS, ids=lambda f: f.slug)
def test_rendered_feed_parses_cleanly(feed: DemoFeed):
    items = articles_of(feed, ARTICLES)
    body = render_feed(feed, items, NOW)
    assert body.startswith(b"<?xml")
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == ("rss20" if feed.format == "rss" else "atom10")
    assert parsed.feed.title == feed.title
    assert parsed.feed.get("language", "").startswith(feed.language)
    assert len(parsed.entries) == len(items)
    dates = []
    for entry, article in zip(parsed.entries, items, strict=True):
        assert entry.title == article.title
        assert entry.link == article.link
        assert entry.summary == article.summary
        assert entry.author == article.author
        published = datetime(*entry.published_parsed[:6], tzinfo=UTC)
        assert published == article.published(NOW)
        assert NOW - timedelta(days=14) <= published <= NOW
        dates.append(published)
        if article.guid:
            assert entry.id == article.tag
        else:
            assert "id" not in entry  # the crawler falls back to the link
        assert [t.term for t in entry.get("tags", [])] == list(article.categories)
        content = entry.content[0].value
        if not article.html:
            paragraphs = [p for p in re.split(r"\n\s*\n", article.content) if p.strip()]
            assert content.count("<p>") == len(paragraphs)
    assert dates == sorted(dates, reverse=True)


def test_escaping_survives_the_round_trip():
    feed = FEED_BY_SLUG["werk-en-leven"]
    body = render_feed(feed, articles_of(feed, ARTICLES), NOW)
    assert b"Lonen &amp; cao's" in body
    entries = {e.link: e for e in feedparser.parse(body).entries}
    assert entries[BY_ID["wl-004"].link].title == "Lonen & cao's: dit verandert er per 1 juli"

    feed = FEED_BY_SLUG["hr-kompas"]
    parsed = feedparser.parse(render_feed(feed, articles_of(feed, ARTICLES), NOW))
    entry = next(e for e in parsed.entries if e.id == BY_ID["hk-001"].tag)
    assert entry.content[0].type == "text/html"
    assert "<strong>Slechts 14 procent" in entry.content[0].value
    assert f'<a href="{BY_ID["hk-009"].link}">' in entry.content[0].value

    feed = FEED_BY_SLUG["workplace-wire"]
    body = render_feed(feed, articles_of(feed, ARTICLES), NOW)
    assert b"?utm_source=newsletter&amp;utm_medium=email" in body
    links = [e.link for e in feedparser.parse(body).entries]
    assert BY_ID["ww-004"].link in links
    # "Calder & Finch" in a plain-text body is escaped twice: once as HTML, once as XML.
    assert b"Calder &amp;amp; Finch" in body


def test_rendering_is_deterministic_and_checks_its_input():
    feed = FEED_BY_SLUG["hr-kompas"]
    items = articles_of(feed, ARTICLES)
    assert render_feed(feed, items, NOW) == render_feed(feed, list(reversed(items)), NOW)
    assert render_feed(feed, items, NOW) != render_feed(feed, items, NOW + timedelta(hours=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        render_feed(feed, items, NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="do not belong"):
        render_feed(feed, [*items, BY_ID["wl-001"]], NOW)
    empty = feedparser.parse(render_feed(feed, [], NOW))
    assert not empty.bozo and empty.entries == []


def test_rss_self_link():
    feed = FEED_BY_SLUG["werk-en-leven"]
    body = render_feed(feed, [], NOW, self_url="http://127.0.0.1:1/feeds/werk-en-leven.xml")
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert any(
        link.rel == "self" and link.href.endswith("/werk-en-leven.xml")
        for link in parsed.feed.links
    )


def test_loader_rejects_inconsistent_content():
    from pipeline.demo.feeds import parse_demo_content

    feed = {
        "slug": "f",
        "title": "F",
        "format": "rss",
        "language": "nl",
        "site": "https://f.demo.trendwatch.invalid/",
        "description": "d",
    }
    article = {
        "feed": "f",
        "id": "a-1",
        "hours_ago": 1,
        "title": "T",
        "author": "A",
        "summary": "S",
        "content": "C",
    }
    _, articles = parse_demo_content({"feeds": [feed], "articles": [article]})
    assert articles[0].link == "https://f.demo.trendwatch.invalid/nieuws/t"
    bad_cases = [
        ({"feeds": [feed], "articles": [article, article]}, "used twice"),
        ({"feeds": [feed], "articles": [{**article, "feed": "nope"}]}, "unknown feed"),
        ({"feeds": [feed], "articles": [{**article, "colour": 1}]}, "unknown key"),
        ({"feeds": [feed], "articles": [{**article, "hours_ago": 999}]}, "hours_ago"),
        ({"feeds": [{**feed, "format": "json"}], "articles": [article]}, "format"),
        ({"feeds": [{**feed, "site": "https://example.org/"}], "articles": [article]}, "site"),
        (
            {"feeds": [{**feed, "format": "atom"}], "articles": [{**article, "guid": False}]},
            "guid",
        ),
    ]
    for data, message in bad_cases:
        with pytest.raises(ValueError, match=message):
            parse_demo_content(data)


# --------------------------------------------------------------------------- server


def test_server_serves_every_feed_with_conditional_get():
    with DemoServer(now=NOW) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.feeds_url == server.base_url + "/feeds"
        for feed in FEEDS:
            url = f"{server.feeds_url}/{feed.slug}.xml"
            status, headers, body = _get(url)
            assert status == 200
            kind = "rss" if feed.format == "rss" else "atom"
            assert headers["Content-Type"] == f"application/{kind}+xml; charset=utf-8"
            assert int(headers["Content-Length"]) == len(body)
            etag = headers["ETag"]
            assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
            newest = max(a.published(NOW) for a in articles_of(feed, ARTICLES))
            assert headers["Last-Modified"] == format_datetime(newest, usegmt=True)
            parsed = feedparser.parse(body)
            assert not parsed.bozo
            assert len(parsed.entries) == len(articles_of(feed, ARTICLES))
            assert body == render_feed(feed, articles_of(feed, ARTICLES), NOW, self_url=url)

            status, headers, body = _get(url, {"If-None-Match": etag})
            assert (status, body) == (304, b"")
            assert headers["ETag"] == etag
            status, _, body = _get(url, {"If-None-Match": f'W/{etag}, "other"'})
            assert (status, body) == (304, b"")
            status, _, _ = _get(url, {"If-None-Match": '"stale"'})
            assert status == 200
            status, _, _ = _get(url, {"If-Modified-Since": headers["Last-Modified"]})
            assert status == 304
            earlier = format_datetime(newest - timedelta(seconds=1), usegmt=True)
            status, _, _ = _get(url, {"If-Modified-Since": earlier})
            assert status == 200
            # If-None-Match wins over If-Modified-Since.
            status, _, _ = _get(
                url, {"If-None-Match": '"stale"', "If-Modified-Since": headers["Last-Modified"]}
            )
            assert status == 200

        method, path, headers = server.requests[1]
        assert (method, path) == ("GET", f"/feeds/{FEEDS[0].slug}.xml")
        assert headers["If-None-Match"]
        base_url = server.base_url
    with pytest.raises(URLError):
        urllib.request.urlopen(base_url + "/", timeout=2)


def test_server_index_page_and_not_found():
    with DemoServer(now=NOW) as server:
        status, headers, body = _get(server.base_url + "/")
        assert status == 200
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        page = body.decode("utf-8")
        for feed in FEEDS:
            kind = "rss" if feed.format == "rss" else "atom"
            assert (
                f'<link rel="alternate" type="application/{kind}+xml" '
                f'title="{html.escape(feed.title)}" href="{server.feeds_url}/{feed.slug}.xml">'
            ) in page
        for path in ("/feeds/nope.xml", "/feeds/", "/werk-en-leven.xml"):
            status, _, _ = _get(server.base_url + path)
            assert status == 404, path
        request = urllib.request.Request(server.feed_url("hr-kompas"), method="HEAD")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200 and response.read() == b""
        assert [m for m, _, _ in server.requests][-1] == "HEAD"


def test_server_port_and_lifecycle():
    server = DemoServer(now=NOW)
    with pytest.raises(RuntimeError):
        server.base_url  # noqa: B018 - not started yet
    with server:
        port = int(server.base_url.rsplit(":", 1)[1])
    with DemoServer(now=NOW, port=port) as again:
        assert again.base_url == f"http://127.0.0.1:{port}"
        assert _get(again.feed_url("werk-en-leven"))[0] == 200
    again.stop()  # stopping twice is harmless
    with pytest.raises(ValueError):
        DemoServer(now=NOW.replace(tzinfo=None))


# --------------------------------------------------------------------------- demo config
#
# A deliberately simple reading of the watchlist queries (Google Alerts syntax): plain
# terms must all occur, "phrases" as consecutive words, OR between alternatives,
# -term excludes, (...) groups. Words are compared whole, ignoring case and accents,
# with no stemming or lemmas: if this finds a match, any reasonable matcher does.

_WORD = re.compile(r"\w+(?:['’]\w+)*")
_QUERY_TOKEN = re.compile(r'-?"[^"]*"|[()]|[^\s()"]+')


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(plain)


def _contains(words: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return n > 0 and any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


def query_matches(query: str, text: str) -> bool:
    words = _words(text)
    tokens = _QUERY_TOKEN.findall(query)
    pos = 0

    def conjunction() -> bool:  # all parts must hold
        nonlocal pos
        results = []
        while pos < len(tokens) and tokens[pos] != ")":
            results.append(disjunction())
        return bool(results) and all(results)

    def disjunction() -> bool:  # OR binds tighter than the implicit AND
        nonlocal pos
        result = unary()
        while pos < len(tokens) and tokens[pos] == "OR":
            pos += 1
            result = unary() or result
        return result

    def unary() -> bool:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == "(":
            result = conjunction()
            assert tokens[pos] == ")", query
            pos += 1
            return result
        negated = token.startswith("-")
        found = _contains(words, _words(token.lstrip("-").strip('"')))
        return not found if negated else found

    result = conjunction()
    assert pos == len(tokens), f"unbalanced parentheses in {query!r}"
    return result


def test_query_helper():
    text = "Thuiswerken en hybride werken; social media op het werk. Één café."
    assert query_matches('"social media" werk', text)
    assert query_matches("kantoor OR thuiswerken", text)
    assert not query_matches("kantoor OR (thuiswerken zorg)", text)
    assert query_matches('(kantoor OR "hybride werken") -zorg', text)
    assert not query_matches('werk -"social media"', text)
    assert not query_matches('"media social"', text)
    assert query_matches("een CAFE", text)
    assert not query_matches("thuis", text)  # whole words only


def _demo_config(feeds_url: str = "http://127.0.0.1:8123/feeds") -> dict:
    template = DEMO_CONFIG.read_text("utf-8")
    assert "{feeds}" in template
    return tomllib.loads(template.replace("{feeds}", feeds_url))


def test_demo_config_sources_cover_every_feed():
    config = _demo_config()
    assert config["allow_private_networks"] is True
    sources = {s["url"]: s for s in config["sources"]}
    assert len(sources) == len(FEEDS)
    for feed in FEEDS:
        source = sources[f"http://127.0.0.1:8123/feeds/{feed.slug}.xml"]
        assert source["name"] == feed.title
        assert source["language"] == feed.language
        assert source["type"] == "feed"


def test_demo_config_is_accepted_by_the_settings_loader(tmp_path):
    from pipeline import settings

    path = tmp_path / "trendwatch.toml"
    template = DEMO_CONFIG.read_text("utf-8")
    path.write_text(template.replace("{feeds}", "http://127.0.0.1:8123/feeds"), "utf-8")
    loaded = settings.load_settings(path)
    assert len(loaded.sources) == len(FEEDS)
    assert {s.language for s in loaded.subscribers} == {"nl", "en"}


def test_demo_config_subscribers():
    config = _demo_config()
    names = {w["name"] for w in config["watchlists"]}
    subscribers = config["subscribers"]
    assert len(subscribers) == 3
    assert Counter(s["language"] for s in subscribers) == {"nl": 2, "en": 1}
    for subscriber in subscribers:
        assert subscriber["email"].endswith("@demo.trendwatch.invalid")
        assert subscriber["watchlists"] and set(subscriber["watchlists"]) <= names
    assert names == {w for s in subscribers for w in s["watchlists"]}


def _matches(query: str) -> tuple[list[str], list[str]]:
    """Ids of the articles the query matches: (last 7 days, older)."""
    hits = [a for a in ARTICLES if query_matches(query, _text(a))]
    return (
        [a.id for a in hits if a.hours_ago < WEEK_HOURS],
        [a.id for a in hits if a.hours_ago >= WEEK_HOURS],
    )


def test_every_demo_watchlist_has_recent_and_older_matches():
    watchlists = _demo_config()["watchlists"]
    assert 4 <= len(watchlists) <= 6
    for watchlist in watchlists:
        recent, older = _matches(watchlist["query"])
        assert len(recent) >= 3, (watchlist["name"], recent)
        assert older, watchlist["name"]


def test_demo_watchlists_follow_the_language_of_their_readers():
    config = _demo_config()
    language_of = {a.id: _feed_of(a).language for a in ARTICLES}
    readers: dict[str, set[str]] = {}
    for subscriber in config["subscribers"]:
        for name in subscriber["watchlists"]:
            readers.setdefault(name, set()).add(subscriber["language"])
    for watchlist in config["watchlists"]:
        recent, older = _matches(watchlist["query"])
        languages = {language_of[i] for i in recent + older}
        assert languages == readers[watchlist["name"]], watchlist["name"]


def test_exclusion_in_the_ai_watchlist_drops_the_webinar():
    query = next(w["query"] for w in _demo_config()["watchlists"] if w["name"] == "ai-at-work")
    assert "-webinar" in query
    assert not query_matches(query, _text(BY_ID["pl-003"]))
    assert query_matches(query.replace("-webinar", ""), _text(BY_ID["pl-003"]))


def test_syndicated_copies_match_the_same_watchlists():
    for original_id, copy_id in (("wl-001", "pb-001"), ("hk-002", "pb-002")):
        for watchlist in _demo_config()["watchlists"]:
            query = watchlist["query"]
            original = replace(BY_ID[original_id], title="")
            copy = replace(BY_ID[copy_id], title="")
            assert query_matches(query, _text(original)) == query_matches(query, _text(copy))


def test_server_serves_the_demo_config_sources():
    with DemoServer(now=NOW) as server:
        for source in _demo_config(server.feeds_url)["sources"]:
            status, _, body = _get(source["url"])
            assert status == 200, source["url"]
            assert not feedparser.parse(body).bozo


def test_the_real_matcher_finds_at_least_the_literal_matches():
    from pipeline.process.watchlists import matching

    for watchlist in _demo_config()["watchlists"]:
        query = matching.CompiledQuery(watchlist["query"])
        for article in ARTICLES:
            if not query_matches(watchlist["query"], _text(article)):
                continue
            body = _text(article).split("\n", 1)[1]
            doc = matching.MatchDoc.build(
                article.title, body, article.link, _feed_of(article).language
            )
            assert query.match(doc), (watchlist["name"], article.id)
