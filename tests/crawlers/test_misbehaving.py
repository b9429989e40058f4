"""Servers that misbehave, on 127.0.0.1: every failure comes back as plain outcome fields.

Each test checks what the store would record (error, moved_to, gone, retry_after,
entries) for one kind of misbehaviour. Timeouts are fractions of a second, or run on an
event loop clock the test moves forward; none of them is checked with a stopwatch.
"""

from __future__ import annotations

import asyncio
import gzip
import struct
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from crawl_support import LoopClock, run_with_client, until
from crawlers import netguard
from crawlers.decoding import HAS_BROTLI
from crawlers.feed_crawler import CrawlOutcome, FetchState, crawl_feed
from crawlers.http import CrawlClient, FetchResult, fetch

RSS_TYPE = "application/rss+xml; charset=utf-8"
MiB = 1024 * 1024


def crawl(url: str, state: FetchState | None = None, **options: object) -> CrawlOutcome:
    async def work(client: CrawlClient) -> CrawlOutcome:
        return await crawl_feed(client, "Test source", state or FetchState(url))

    return run_with_client(work, **options)


def get(url: str, **options: object) -> FetchResult:
    async def work(client: CrawlClient) -> FetchResult:
        return await fetch(client, url)

    return run_with_client(work, **options)


def assert_failed(outcome: CrawlOutcome, *needles: str) -> None:
    assert outcome.error is not None
    for needle in needles:
        assert needle in outcome.error, outcome.error
    assert outcome.entries == []
    assert not outcome.gone and outcome.moved_to is None


# --- time -------------------------------------------------------------------------


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of a test, so slow handlers return and free the server."""
    event = threading.Event()
    yield event
    event.set()


HANG_GUARD = 60.0  # seconds a slow handler keeps going by itself: only against a hang


def test_slow_body_past_the_total_timeout_is_an_error(
    server: HTTPServer, release: threading.Event
) -> None:
    """Bytes keep coming, so no read timeout ever fires: the total timeout ends it, at
    its deadline and not before. Time here is the event loop's, moved on by the test."""
    sent: list[bytes] = []
    finished = threading.Event()

    def trickle() -> Iterator[bytes]:
        yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>slow</title>'
        deadline = time.monotonic() + HANG_GUARD
        while not release.wait(0.05) and time.monotonic() < deadline:
            sent.append(b" ")
            yield b" "  # a byte every 50 ms (real time)
        yield b"</channel></rss>"
        finished.set()

    server.expect_request("/slow.xml").respond_with_response(
        Response(trickle(), content_type=RSS_TYPE)
    )
    url = server.url_for("/slow.xml")
    timeout = 600.0  # on the loop's clock; the reads may wait as long

    async def work(client: CrawlClient) -> tuple[bool, CrawlOutcome]:
        clock = LoopClock(asyncio.get_running_loop())
        crawling = asyncio.create_task(crawl_feed(client, "Test source", FetchState(url)))
        await until(lambda: len(sent) >= 2, "the body trickling in")
        await clock.advance(timeout - HANG_GUARD)
        # a minute before the deadline it goes on reading (and each wait for the next
        # byte now starts after the jump)
        mark = len(sent)
        await until(lambda: crawling.done() or len(sent) >= mark + 3, "more of the body")
        still_reading = not crawling.done()
        await clock.advance(2 * HANG_GUARD)
        await until(crawling.done, "the crawl giving up at its deadline")
        return still_reading, crawling.result()

    still_reading, outcome = run_with_client(work, timeout=timeout, read_timeout=timeout)
    assert still_reading  # not given up before the deadline
    assert_failed(outcome, "timed out after 600 s (total time)")
    assert outcome.fetch.status == 0
    assert not finished.is_set()  # given up while the server was still sending


def test_slow_headers_time_out(server: HTTPServer, release: threading.Event) -> None:
    answered = threading.Event()

    def stall(request: Request) -> Response:
        release.wait(HANG_GUARD)
        answered.set()
        return Response("late", content_type=RSS_TYPE)

    server.expect_request("/stall.xml").respond_with_handler(stall)
    outcome = crawl(server.url_for("/stall.xml"), timeout=0.4)
    assert_failed(outcome, "timed out")
    assert outcome.fetch.status == 0
    assert not answered.is_set()  # given up while the server still sat on the headers


# --- size ---------------------------------------------------------------------------


def test_endless_body_is_cut_off_at_the_cap(server: HTTPServer) -> None:
    def endless() -> Iterator[bytes]:
        block = b"<item>" + b"x" * 65_000 + b"</item>"
        for _ in range(100_000):  # ~6.5 GB: "endless" for any test run
            yield block

    server.expect_request("/endless.xml").respond_with_response(
        Response(endless(), content_type=RSS_TYPE)
    )
    outcome = crawl(server.url_for("/endless.xml"), max_bytes=MiB)
    assert_failed(outcome, f"larger than {MiB} bytes")


def test_declared_length_over_the_cap_fails_before_reading(server: HTTPServer) -> None:
    server.expect_request("/big.xml").respond_with_data(b"x" * (MiB + 1), content_type=RSS_TYPE)
    outcome = crawl(server.url_for("/big.xml"), max_bytes=MiB)
    assert_failed(outcome, "larger than")


def gzip_bomb(mebibytes: int, *, valid_trailer: bool = False) -> bytes:
    """A gzip stream of ``mebibytes`` MiB of zeros, about 1 KB per MiB: one full-flushed
    deflate block repeated (the compressor's state is reset, so the block repeats)."""
    block_input = b"\0" * MiB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(block_input) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
    crc = 0
    if valid_trailer:
        for _ in range(mebibytes):
            crc = zlib.crc32(block_input, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, (mebibytes * MiB) & 0xFFFFFFFF)
    return header + block * mebibytes + end + trailer


def test_the_gzip_bomb_helper_is_a_real_gzip_stream() -> None:
    assert gzip.decompress(gzip_bomb(3, valid_trailer=True)) == b"\0" * (3 * MiB)


def fetch_bomb_measuring_memory(server: HTTPServer, path: str) -> tuple[CrawlOutcome, int]:
    tracemalloc.start()
    try:
        outcome = crawl(server.url_for(path), max_bytes=4 * MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, peak


def test_gzip_bomb_is_stopped_early_with_bounded_memory(server: HTTPServer) -> None:
    bomb = gzip_bomb(1024)  # about 1 MB on the wire, 1 GiB inflated
    assert len(bomb) < 1.1 * MiB
    server.expect_request("/bomb.xml").respond_with_data(
        bomb, content_type=RSS_TYPE, headers={"Content-Encoding": "gzip"}
    )
    outcome, peak = fetch_bomb_measuring_memory(server, "/bomb.xml")
    assert_failed(outcome, f"larger than {4 * MiB} bytes (decoded)")
    assert peak < 20 * MiB, f"peak memory {peak / MiB:.0f} MiB"


@pytest.mark.skipif(not HAS_BROTLI, reason="brotli >= 1.2 not installed")
def test_brotli_bomb_is_stopped_early_with_bounded_memory(server: HTTPServer) -> None:
    import brotli

    compressor = brotli.Compressor(quality=1)
    zeros = b"\0" * MiB
    bomb = b"".join([compressor.process(zeros) for _ in range(1024)] + [compressor.finish()])
    assert len(bomb) < MiB
    server.expect_request("/bomb.br").respond_with_data(
        bomb, content_type=RSS_TYPE, headers={"Content-Encoding": "br"}
    )
    outcome, peak = fetch_bomb_measuring_memory(server, "/bomb.br")
    assert_failed(outcome, "larger than")
    assert peak < 20 * MiB, f"peak memory {peak / MiB:.0f} MiB"


def test_gzip_and_brotli_feeds_within_the_cap_parse(server: HTTPServer, fixture_bytes) -> None:
    body = fixture_bytes("feeds", "rss2.xml")
    server.expect_request("/feed.gz").respond_with_data(
        gzip.compress(body), content_type=RSS_TYPE, headers={"Content-Encoding": "gzip"}
    )
    server.expect_request("/feed.deflate").respond_with_data(
        zlib.compress(body), content_type=RSS_TYPE, headers={"Content-Encoding": "deflate"}
    )
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    server.expect_request("/feed.rawdeflate").respond_with_data(
        raw.compress(body) + raw.flush(),
        content_type=RSS_TYPE,
        headers={"Content-Encoding": "deflate"},
    )
    paths = ["/feed.gz", "/feed.deflate", "/feed.rawdeflate"]
    if HAS_BROTLI:
        import brotli

        server.expect_request("/feed.br").respond_with_data(
            brotli.compress(body), content_type=RSS_TYPE, headers={"Content-Encoding": "br"}
        )
        paths.append("/feed.br")
    for path in paths:
        outcome = crawl(server.url_for(path))
        assert outcome.error is None, (path, outcome.error)
        assert len(outcome.entries) == 3, path
        assert outcome.fetch.content == body


def test_broken_gzip_is_an_error(server: HTTPServer) -> None:
    server.expect_request("/broken.gz").respond_with_data(
        b"\x1f\x8b\x08\x00garbage that is not deflate",
        content_type=RSS_TYPE,
        headers={"Content-Encoding": "gzip"},
    )
    assert_failed(crawl(server.url_for("/broken.gz")), "could not decompress")


def test_client_asks_only_for_encodings_it_can_bound(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(b"", status=204)
    get(server.url_for("/feed.xml"))
    [(request, _)] = server.log
    expected = "gzip, deflate, br" if HAS_BROTLI else "gzip, deflate"
    assert request.headers["Accept-Encoding"] == expected


# --- redirects ----------------------------------------------------------------------


def redirect(server: HTTPServer, path: str, to: str, status: int) -> None:
    server.expect_request(path).respond_with_data(
        "", status=status, headers={"Location": server.url_for(to)}
    )


def test_redirect_loop_is_a_clear_error(server: HTTPServer) -> None:
    redirect(server, "/a", "/b", 302)
    redirect(server, "/b", "/a", 302)
    outcome = crawl(server.url_for("/a"))
    assert_failed(outcome, "redirect loop", server.url_for("/a"), server.url_for("/b"))


def test_more_than_five_redirects_is_an_error(server: HTTPServer, fixture_bytes) -> None:
    for i in range(6):
        redirect(server, f"/r{i}", f"/r{i + 1}", 307)
    server.expect_request("/r6").respond_with_data(fixture_bytes("feeds", "rss2.xml"))
    assert_failed(crawl(server.url_for("/r0")), "more than 5 redirects")
    assert crawl(server.url_for("/r1")).error is None  # five hops are fine


def test_permanent_redirect_reports_the_new_url(server: HTTPServer, fixture_bytes) -> None:
    redirect(server, "/old.xml", "/older-still.xml", 301)
    redirect(server, "/older-still.xml", "/new.xml", 308)
    server.expect_request("/new.xml").respond_with_data(
        fixture_bytes("feeds", "rss2.xml"), content_type=RSS_TYPE
    )
    outcome = crawl(server.url_for("/old.xml"))
    assert outcome.error is None and len(outcome.entries) == 3
    assert outcome.moved_to == server.url_for("/new.xml")
    assert outcome.fetch.url == server.url_for("/new.xml")


def test_temporary_redirect_does_not_move_the_source(server: HTTPServer, fixture_bytes) -> None:
    redirect(server, "/feed.xml", "/today.xml", 302)
    redirect(server, "/feed2.xml", "/today.xml", 307)
    server.expect_request("/today.xml").respond_with_data(
        fixture_bytes("feeds", "rss2.xml"), content_type=RSS_TYPE
    )
    for path in ("/feed.xml", "/feed2.xml"):
        outcome = crawl(server.url_for(path))
        assert outcome.error is None and len(outcome.entries) == 3
        assert outcome.moved_to is None
        assert outcome.fetch.url == server.url_for("/today.xml")


def test_only_the_permanent_part_of_a_chain_counts(server: HTTPServer, fixture_bytes) -> None:
    redirect(server, "/feed.xml", "/moved.xml", 301)
    redirect(server, "/moved.xml", "/mirror.xml", 302)
    server.expect_request("/mirror.xml").respond_with_data(
        fixture_bytes("feeds", "rss2.xml"), content_type=RSS_TYPE
    )
    outcome = crawl(server.url_for("/feed.xml"))
    assert outcome.moved_to == server.url_for("/moved.xml")


def test_permanent_redirect_to_an_error_moves_nothing(server: HTTPServer) -> None:
    redirect(server, "/feed.xml", "/missing.xml", 301)
    server.expect_request("/missing.xml").respond_with_data("no", status=404)
    outcome = crawl(server.url_for("/feed.xml"))
    assert_failed(outcome, "HTTP 404")


def test_permanent_redirect_then_304_still_reports_the_move(server: HTTPServer) -> None:
    redirect(server, "/feed.xml", "/new.xml", 301)
    server.expect_request("/new.xml").respond_with_data("", status=304, headers={"ETag": '"x"'})
    outcome = crawl(server.url_for("/feed.xml"), FetchState(server.url_for("/feed.xml"), '"x"'))
    assert outcome.error is None and outcome.not_modified
    assert outcome.moved_to == server.url_for("/new.xml")


# --- statuses -----------------------------------------------------------------------


def test_410_gone(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data("gone", status=410)
    outcome = crawl(server.url_for("/feed.xml"))
    assert outcome.error == "HTTP 410 GONE"
    assert outcome.gone is True
    assert outcome.retry_after is None and outcome.moved_to is None


def test_429_with_retry_after_seconds(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )
    before = datetime.now(UTC)
    outcome = crawl(server.url_for("/feed.xml"))
    assert outcome.error is not None and "HTTP 429" in outcome.error
    assert outcome.retry_after is not None
    assert before + timedelta(seconds=119) <= outcome.retry_after
    assert outcome.retry_after <= datetime.now(UTC) + timedelta(seconds=121)
    assert not outcome.gone


def test_503_with_retry_after_http_date(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        "maintenance", status=503, headers={"Retry-After": "Fri, 27 Nov 2026 07:28:00 GMT"}
    )
    outcome = crawl(server.url_for("/feed.xml"))
    assert outcome.error is not None and "HTTP 503" in outcome.error
    assert outcome.retry_after == datetime(2026, 11, 27, 7, 28, tzinfo=UTC)


def test_500_is_a_plain_error(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        "oops", status=500, headers={"Retry-After": "60"}
    )
    outcome = crawl(server.url_for("/feed.xml"))
    assert_failed(outcome, "HTTP 500")
    assert outcome.retry_after is None  # only 429 and 503 ask us to wait
    assert outcome.fetch.status == 500


def test_304_keeps_the_validators_and_reads_cache_control(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        "", status=304, headers={"Cache-Control": "public, max-age=600", "Age": "100"}
    )
    state = FetchState(server.url_for("/feed.xml"), etag='"v1"', last_modified="Wed, 25 Nov")
    outcome = crawl(server.url_for("/feed.xml"), state)
    assert outcome.error is None and outcome.not_modified and outcome.entries == []
    assert (outcome.fetch.etag, outcome.fetch.last_modified) == ('"v1"', "Wed, 25 Nov")
    assert outcome.cache_max_age == 500
    [(request, _)] = server.log
    assert request.headers["If-None-Match"] == '"v1"'


def test_feed_ttl_and_max_age_reach_the_outcome(server: HTTPServer) -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><ttl>90</ttl>'
        b"<item><title>x</title><link>https://ttl.test.invalid/x</link></item></channel></rss>"
    )
    server.expect_request("/feed.xml").respond_with_data(
        body, content_type=RSS_TYPE, headers={"Cache-Control": "max-age=300"}
    )
    outcome = crawl(server.url_for("/feed.xml"))
    assert (outcome.ttl, outcome.cache_max_age) == (90, 300)


# --- content ------------------------------------------------------------------------


def test_html_instead_of_a_feed_names_the_feeds_it_links(server: HTTPServer, fixture_bytes) -> None:
    server.expect_request("/blog/").respond_with_data(
        fixture_bytes("feeds", "page.html"), content_type="text/html; charset=utf-8"
    )
    outcome = crawl(server.url_for("/blog/"))
    assert_failed(outcome, "HTML page instead of a feed", server.url_for("/feed.xml"))
    assert "https://elders.test.invalid/atom.xml" in (outcome.error or "")
    assert outcome.fetch.status == 200


@pytest.mark.parametrize(
    ("fixture", "content_type", "warns"),
    [
        ("latin1-declared.xml", "application/rss+xml; charset=utf-8", True),  # header lies
        ("latin1-declared.xml", "text/xml", False),  # RFC 3023 said us-ascii; 7303 does not
        ("utf8-declared.xml", "application/rss+xml; charset=windows-1252", False),  # lies
        ("utf8-declared.xml", "application/rss+xml; charset=iso-8859-1", False),
    ],
)
def test_wrong_charset_declarations_still_decode(
    server: HTTPServer, fixture_bytes, fixture: str, content_type: str, warns: bool
) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        fixture_bytes("feeds", fixture), content_type=content_type
    )
    outcome = crawl(server.url_for("/feed.xml"))
    assert outcome.error is None
    assert outcome.feed_title == "Café Personeelszaken"
    [entry] = outcome.entries
    assert entry.title.startswith("Één op de vijf werknemers wil een crèche op het werk")
    assert entry.summary == "Reïntegratie na verzuim: een naïeve aanpak werkt niet."
    if warns:  # recorded on the source's health, entries kept
        assert outcome.warning == (
            "wrong charset declaration: document declared as utf-8, but parsed as iso-8859-1"
        )
    else:
        assert outcome.warning is None


def test_entries_without_guid_or_date_and_repeated_guids(server: HTTPServer, fixture_bytes) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        fixture_bytes("feeds", "identity.xml"), content_type=RSS_TYPE
    )
    outcome = crawl(server.url_for("/feed.xml"))
    assert outcome.error is None and outcome.warning is None
    by_title = {e.title: e for e in outcome.entries}
    assert [e.identity.split(":", 1)[0] for e in outcome.entries] == [
        "guid",
        "guid+link",
        "guid+link",
        "link",
        "hash",
    ]  # the exact repeat of the first entry is dropped
    assert by_title["Unique guid"].identity == "guid:ids-unique"
    assert by_title["Unique guid"].summary == "An ordinary entry."  # the first one wins
    assert by_title["Shared guid, first link"].identity == (
        "guid+link:ids-shared https://ids.test.invalid/shared-a"
    )
    undated = by_title["No guid and no date"]
    assert undated.identity == "link:https://ids.test.invalid/undated"
    assert undated.published is None and undated.guid is None
    assert by_title["Nothing but words"].url is None
    assert len({e.identity for e in outcome.entries}) == 5
    again = crawl(server.url_for("/feed.xml"))
    assert [e.identity for e in again.entries] == [e.identity for e in outcome.entries]


# --- private networks ---------------------------------------------------------------


def test_guard_refuses_local_addresses_before_any_request(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data("<rss/>", content_type=RSS_TYPE)
    literal = crawl(server.url_for("/feed.xml"), allow_private_networks=False)
    assert_failed(literal, "refused 127.0.0.1", "private or local network address")
    by_name = server.url_for("/feed.xml").replace("127.0.0.1", "localhost")
    named = crawl(by_name, allow_private_networks=False)
    assert_failed(named, "refused localhost", "allow_private_networks")
    assert server.log == []  # not even a request reached the server


def test_guard_checks_every_redirect(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 plays a public site that redirects into a private address."""
    real = netguard.is_public_address
    monkeypatch.setattr(netguard, "is_public_address", lambda a: a == "127.0.0.1" or real(a))
    target = server.url_for("/internal").replace("127.0.0.1", "127.0.0.2")
    server.expect_request("/feed.xml").respond_with_data(
        "", status=301, headers={"Location": target}
    )
    outcome = crawl(server.url_for("/feed.xml"), allow_private_networks=False)
    assert_failed(outcome, "refused 127.0.0.2")
    assert [r.path for r, _ in server.log] == ["/feed.xml"]


def test_guard_off_allows_local_addresses(server: HTTPServer, fixture_bytes) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        fixture_bytes("feeds", "rss2.xml"), content_type=RSS_TYPE
    )
    by_name = server.url_for("/feed.xml").replace("127.0.0.1", "localhost")
    outcome = crawl(by_name, allow_private_networks=True)
    assert outcome.error is None and len(outcome.entries) == 3
