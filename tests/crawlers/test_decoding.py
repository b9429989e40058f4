"""Bounded decoding of Content-Encoding, and the header parsers of the HTTP module."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from crawlers.decoding import CHUNK, HAS_BROTLI, DecodeError, decoder_for
from crawlers.http import parse_cache_max_age, parse_retry_after

BODY = b"<rss>" + bytes(range(256)) * 2000 + b"</rss>"


def decode(encoding: str | None, data: bytes, step: int = 1000) -> list[bytes]:
    decoder = decoder_for(encoding)
    pieces = [p for i in range(0, len(data), step) for p in decoder.feed(data[i : i + step])]
    return pieces + list(decoder.flush())


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        (None, lambda b: b),
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
        ("deflate, gzip", lambda b: gzip.compress(zlib.compress(b))),
    ],
)
def test_round_trips_in_bounded_pieces(encoding: str | None, encode) -> None:
    pieces = decode(encoding, encode(BODY))
    assert b"".join(pieces) == BODY
    assert max(len(p) for p in pieces) <= max(CHUNK, 1000)


@pytest.mark.skipif(not HAS_BROTLI, reason="brotli >= 1.2 not installed")
def test_brotli_in_bounded_pieces() -> None:
    import brotli

    zeros = b"\0" * (8 * CHUNK)
    pieces = decode("br", brotli.compress(zeros), step=10**6)
    assert b"".join(pieces) == zeros
    assert max(len(p) for p in pieces) <= 2 * CHUNK  # brotli's limit is a soft one


def test_one_small_input_chunk_never_inflates_all_at_once() -> None:
    bomb = gzip.compress(b"\0" * (64 * CHUNK))
    pieces = decoder_for("gzip").feed(bomb)  # one call with the whole bomb
    assert len(next(pieces)) <= CHUNK


def test_unknown_encoding_is_an_error() -> None:
    with pytest.raises(DecodeError, match="unsupported Content-Encoding 'compress'"):
        decoder_for("compress")


def test_retry_after_both_forms() -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == now + timedelta(seconds=120)
    assert parse_retry_after("Fri, 27 Nov 2026 07:28:00 GMT", now) == datetime(
        2026, 11, 27, 7, 28, tzinfo=UTC
    )
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cache-control": "public, max-age=600"}, 600),
        ({"cache-control": "max-age=600", "age": "700"}, 0),
        ({"cache-control": 'max-age="300"'}, 300),
        ({"cache-control": "no-cache"}, None),
        (
            {"expires": "Thu, 26 Nov 2026 13:00:00 GMT", "date": "Thu, 26 Nov 2026 12:00:00 GMT"},
            3600,
        ),
        ({"expires": "0", "date": "Thu, 26 Nov 2026 12:00:00 GMT"}, None),
        ({}, None),
    ],
)
def test_cache_max_age(headers: dict[str, str], expected: int | None) -> None:
    assert parse_cache_max_age(headers) == expected
