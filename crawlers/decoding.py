"""Bounded Content-Encoding decoders: about CHUNK bytes of output per step, never more
than twice that.

httpx's own decoders inflate a whole network chunk at once, so one 64 KiB chunk of a
gzip bomb becomes about 64 MB (and a brotli bomb far more) before anyone can count it.
These decoders hand out the output in pieces of at most ``CHUNK`` bytes, so the caller
can stop as soon as the size cap is passed, with memory bounded by the cap.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Protocol

CHUNK = 64 * 1024

try:
    import brotli

    brotli.Decompressor().process(b"", output_buffer_limit=1)  # brotli >= 1.2 only
    HAS_BROTLI = True
except (ImportError, TypeError, AttributeError):  # missing, or too old to bound its output
    HAS_BROTLI = False

ACCEPT_ENCODING = "gzip, deflate, br" if HAS_BROTLI else "gzip, deflate"


class DecodeError(Exception):
    """The body could not be decoded, or uses an encoding we did not ask for."""


class Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def flush(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (``wbits=31``) or deflate; deflate falls back to raw deflate like browsers do."""

    def __init__(self, wbits: int, *, raw_fallback: bool = False) -> None:
        self._d = zlib.decompressobj(wbits)
        self._raw_fallback = raw_fallback
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._d.eof:
            return  # trailing bytes after the end of the stream are ignored
        buf = data
        while True:
            try:
                out = self._d.decompress(buf, CHUNK)
            except zlib.error as exc:
                if self._raw_fallback and not self._started:
                    self._raw_fallback = False
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise DecodeError(f"could not decompress the body: {exc}") from exc
            self._started = True
            if out:
                yield out
            buf = self._d.unconsumed_tail
            if self._d.eof or (not buf and len(out) < CHUNK):
                return

    def flush(self) -> Iterator[bytes]:
        yield from self.feed(b"")


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        # The limit is a soft one (the buffer may overshoot by one growth step, about
        # 1.5x), and output can be pending even when more input would be accepted:
        # keep asking with empty input until nothing more comes.
        try:
            if self._d.is_finished():
                return
            out = self._d.process(data, output_buffer_limit=CHUNK)
            while out:
                yield out
                if self._d.is_finished():
                    return
                out = self._d.process(b"", output_buffer_limit=CHUNK)
        except brotli.error as exc:
            raise DecodeError(f"could not decompress the brotli body: {exc}") from exc

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Chain:
    """Several encodings, undone in reverse order of application, piece by piece."""

    def __init__(self, decoders: list[Decoder]) -> None:
        self._decoders = decoders

    def feed(self, data: bytes) -> Iterator[bytes]:
        yield from self._through(1, self._decoders[0].feed(data))

    def flush(self) -> Iterator[bytes]:
        for i, decoder in enumerate(self._decoders):
            yield from self._through(i + 1, decoder.flush())

    def _through(self, index: int, pieces: Iterator[bytes]) -> Iterator[bytes]:
        if index == len(self._decoders):
            yield from pieces
            return
        for piece in pieces:
            yield from self._through(index + 1, self._decoders[index].feed(piece))


def _one(name: str) -> Decoder:
    if name in ("gzip", "x-gzip"):
        return _Zlib(16 + zlib.MAX_WBITS)
    if name == "deflate":
        return _Zlib(zlib.MAX_WBITS, raw_fallback=True)
    if name == "br" and HAS_BROTLI:
        return _Brotli()
    raise DecodeError(f"unsupported Content-Encoding {name!r}")


def decoder_for(content_encoding: str | None) -> Decoder:
    """A bounded decoder for a Content-Encoding header value (``None``: identity)."""
    names = [
        n.strip().lower()
        for n in (content_encoding or "").split(",")
        if n.strip() and n.strip().lower() != "identity"
    ]
    if not names:
        return _Identity()
    decoders = [_one(n) for n in reversed(names)]
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)
