"""The Atom feed of a watchlist (``/watchlists/{name}.atom``) on a real SQLite file filled
by the real crawl and process jobs: valid Atom (feedparser), the matched stories newest
first with their other sources, stable ids, ``updated`` that moves when a story grows,
no personal data, and conditional GET (ETag, Last-Modified, 304)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from pytest_httpserver import HTTPServer

from pages_support import (
    AUTHOR,
    HOME,
    NOW,
    STORED_TITLE,
    SUBSCRIBER,
    Item,
    crawl_and_process,
    seed,
    seeded,
    serve_feeds,
    story_of,
)
from web.routes.watchlists import is_fresh
from web_support import Clock, app_for, client

FEED = "/watchlists/thuiswerken.atom"
BASE_URL = "https://digest.example.org/trendwatch"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded(tmp_path_factory.mktemp("feed"))


def get(config: Path, path: str = FEED, method: str = "GET", headers: dict[str, str] | None = None):
    with client(app_for(config, Clock(NOW))) as web:
        return web.request(method, path, headers=headers or {})


def test_a_valid_atom_feed_of_the_matched_stories_newest_first(config: Path) -> None:
    response = get(config)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Thuiswerken · Trendwatch Werk"
    assert parsed.feed.updated == "2026-11-26T12:00:00Z"  # the newest entry's
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links == {
        "self": "http://127.0.0.1:8080/watchlists/thuiswerken.atom",
        "alternate": "http://127.0.0.1:8080/watchlists/thuiswerken",
    }
    entries = parsed.entries
    assert len(entries) == 8  # every story the watchlist matched
    assert entries[0].title == STORED_TITLE  # text, as the store has it: escaped in the XML
    assert [e.title.split(":")[0] for e in entries[1:]] == [f"Thuiswerken {n}" for n in range(1, 8)]
    first = entries[1]
    assert first.link == "https://nos.example/thuiswerken-1"
    story = story_of(config, "https://nos.example/thuiswerken-1")
    related = [link.href for link in first.links if link.rel == "related"]
    assert related == [f"http://127.0.0.1:8080/stories/{story}"]
    published = [datetime.fromisoformat(e.published) for e in entries]
    assert published == sorted(published, reverse=True)
    assert published[1] == NOW - timedelta(hours=2)
    assert {e.updated for e in entries} == {"2026-11-26T12:00:00Z"}  # when processed
    ids = [e.id for e in entries]
    assert len(set(ids)) == 8 and all(i.startswith("urn:uuid:") for i in ids)
    body = response.text
    assert SUBSCRIBER not in body and AUTHOR not in body and "redactie@" not in body
    assert "<script>" not in body


def test_each_entry_names_the_other_sources_of_its_story(config: Path) -> None:
    parsed = feedparser.parse(get(config, "/watchlists/jumbo.atom").content)
    assert not parsed.bozo
    (entry,) = parsed.entries  # the Dutch, the copy and the English report: one story
    assert entry.title == "Jumbo schrapt 300 banen in Veghel"
    assert entry.link == "https://nos.example/jumbo"
    html = entry.content[0].value
    assert entry.content[0].type == "text/html"
    assert "NOS · 25 nov 2026" in html
    assert '<a href="https://regio.example/jumbo-banen">Regio</a>' in html
    assert '<a href="https://wire.example/jumbo">Wire</a>' in html
    assert "Het hele verhaal (3 artikelen)" in html
    empty = feedparser.parse(get(config, "/watchlists/stil.atom").content)
    assert not empty.bozo and empty.entries == [] and empty.feed.updated


def test_ids_are_stable_and_under_base_url_when_there_is_one(config: Path, tmp_path: Path) -> None:
    first, again = get(config), get(config)
    assert first.content == again.content and first.headers["etag"] == again.headers["etag"]
    text = config.read_text("utf-8").replace(
        'data_dir = "data"', f'data_dir = "{config.parent / "data"}"\nbase_url = "{BASE_URL}"'
    )
    moved = tmp_path / "trendwatch.toml"
    moved.write_text(text, "utf-8")
    parsed = feedparser.parse(get(moved).content)
    story = story_of(config, "https://nos.example/thuiswerken-1")
    entry = next(e for e in parsed.entries if e.link == "https://nos.example/thuiswerken-1")
    assert entry.id == f"{BASE_URL}/stories/{story}"
    assert [link.href for link in entry.links if link.rel == "related"] == [entry.id]
    assert parsed.feed.id == f"{BASE_URL}/watchlists/thuiswerken.atom"
    assert {link.rel: link.href for link in parsed.feed.links}["self"] == parsed.feed.id


def test_conditional_get_answers_304(config: Path) -> None:
    full = get(config)
    etag, modified = full.headers["etag"], full.headers["last-modified"]
    assert modified == "Thu, 26 Nov 2026 12:00:00 GMT"
    assert full.headers["cache-control"] == "public, max-age=300"
    assert etag.startswith('"') and etag.endswith('"')
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": modified},
        {"If-Modified-Since": "Fri, 27 Nov 2026 08:00:00 GMT"},
    ):
        answer = get(config, headers=headers)
        assert answer.status_code == 304, headers
        assert answer.content == b"" and answer.headers["etag"] == etag
        assert answer.headers["last-modified"] == modified
    for headers in (
        {"If-None-Match": '"other"'},
        {"If-None-Match": '"other"', "If-Modified-Since": modified},  # the ETag decides
        {"If-Modified-Since": "Thu, 26 Nov 2026 11:59:59 GMT"},
        {"If-Modified-Since": "not a date"},
    ):
        assert get(config, headers=headers).status_code == 200, headers
    head = get(config, method="HEAD")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag


def test_updated_moves_when_a_story_grows(tmp_path: Path) -> None:
    server = HTTPServer()
    server.start()
    try:
        config = seed(tmp_path, server, NOW)
        before = get(config)
        later = NOW + timedelta(hours=1)
        copy = Item(
            "Utrecht: thuiswerken steeds vaker toegestaan",
            "https://regio.example/thuiswerken-utrecht",
            NOW - timedelta(minutes=30),
            f"<p>{HOME[0]}</p>",
        )
        serve_feeds(server, NOW, {"regio": [copy]})
        crawl_and_process(config, later)
    finally:
        server.clear()
        server.stop()
    story = story_of(config, "https://nos.example/thuiswerken-1")
    assert story_of(config, copy.link) == story
    after = get(config, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200  # changed: the old ETag no longer matches
    assert after.headers["last-modified"] == "Thu, 26 Nov 2026 13:00:00 GMT"
    parsed = feedparser.parse(after.content)
    old = {e.id: e for e in feedparser.parse(before.content).entries}
    top = parsed.entries[0]  # its newest article is now the newest of all
    assert top.link == "https://nos.example/thuiswerken-1" and top.id in old
    assert top.updated == "2026-11-26T13:00:00Z" and parsed.feed.updated == top.updated
    assert '<a href="https://regio.example/thuiswerken-utrecht">Regio</a>' in top.content[0].value
    assert all(e.updated == old[e.id].updated for e in parsed.entries[1:])
    assert [e.id for e in parsed.entries[1:]] == [e.id for e in old.values() if e.id != top.id]


@pytest.mark.parametrize(
    ("inm", "ims", "fresh"),
    [
        (None, None, False),
        ('"a"', None, True),
        ('W/"a"', None, True),
        ('"b", "a"', None, True),
        ('"b"', "Thu, 26 Nov 2026 12:00:00 GMT", False),
        (None, "Thu, 26 Nov 2026 12:00:00 GMT", True),
        (None, "Thu, 26 Nov 2026 11:00:00 GMT", False),
        (None, "Thursday", False),
        (None, "", False),
    ],
)
def test_is_fresh(inm: str | None, ims: str | None, fresh: bool) -> None:
    modified = datetime(2026, 11, 26, 12, 0, 0, 500, tzinfo=UTC)
    assert is_fresh(inm, ims, '"a"', modified) is fresh
