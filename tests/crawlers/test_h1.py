"""The crawl client's own HTTP/1.1 (crawlers.h1 under crawlers.transport), against a
raw server on 127.0.0.1 that answers each connection from a script: the ways real
servers frame, end and break their responses, seen through :func:`crawlers.http.fetch`
as a crawl sees them."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from crawlers.h1 import parse_head
from crawlers.http import FetchResult, HttpOptions, fetch, make_client
from crawlers.transport import HostPools

Answer = Callable[[bytes], list[bytes]]  # the request's head -> what to send (then close?)
CLOSE = b"<close>"


class Script:
    """A server whose every connection answers requests with ``answer``; a ``CLOSE``
    piece closes the connection there. It notes each request's connection number."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[tuple[int, bytes]] = []
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                self.requests.append((number, head))
                for piece in self.answer(head):
                    if piece == CLOSE:
                        return
                    writer.write(piece)
                    await writer.drain()
        finally:
            writer.close()


def run(answer: Answer, paths: list[str], **fetch_args: object) -> tuple[list[FetchResult], Script]:
    """Fetch ``paths`` one after the other from a server that answers with ``answer``."""
    script = Script(answer)

    async def main() -> list[FetchResult]:
        server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        options = HttpOptions(allow_private_networks=True, timeout=5.0, read_timeout=2.0)
        try:
            async with make_client(options) as client:
                results = []
                for path in paths:
                    url = f"http://127.0.0.1:{port}{path}"
                    results.append(await fetch(client, url, **fetch_args))  # type: ignore[arg-type]
                    await asyncio.sleep(0.01)  # the server sees a close before the next
                return results
        finally:
            server.close()

    return asyncio.run(main()), script


def ok(body: bytes, *headers: bytes) -> list[bytes]:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + b"".join(
        h + b"\r\n" for h in headers
    )
    return [head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body]


def test_content_length_bodies_share_one_connection() -> None:
    results, script = run(lambda head: ok(b"hello"), ["/a", "/b", "/c"])
    assert [r.content for r in results] == [b"hello"] * 3
    assert script.connections == 1


def test_chunked_body_with_extensions_and_trailers() -> None:
    chunked = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"5;name=value\r\nhello\r\n",
        b"7\r\n, world\r\n",
        b"0\r\nX-Trailer: yes\r\n\r\n",
    ]
    results, script = run(lambda head: chunked, ["/a", "/b"])
    assert [r.content for r in results] == [b"hello, world"] * 2
    assert script.connections == 1  # the chunked body ended cleanly: the connection stays


def test_a_body_that_ends_with_the_connection() -> None:
    def answer(head: bytes) -> list[bytes]:
        return [b"HTTP/1.1 200 OK\r\n\r\n", b"no length, ", b"read to the end", CLOSE]

    results, script = run(answer, ["/a", "/b"])
    assert [r.content for r in results] == [b"no length, read to the end"] * 2
    assert script.connections == 2


def test_connection_close_and_http_1_0_are_not_kept() -> None:
    def answer(head: bytes) -> list[bytes]:
        if head.startswith(b"GET /old"):
            return [b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"]
        return ok(b"ok", b"Connection: close")

    results, script = run(answer, ["/old", "/new", "/old"])
    assert [r.content for r in results] == [b"ok"] * 3
    assert script.connections == 3


def test_a_kept_connection_the_server_closed_is_replaced() -> None:
    """The server answers and then closes without saying so: the next request goes on
    a new connection instead of failing."""

    def answer(head: bytes) -> list[bytes]:
        return [*ok(b"ok"), CLOSE]

    results, script = run(answer, ["/a", "/b", "/c"])
    assert [r.error for r in results] == [None] * 3
    assert script.connections == 3


def test_a_broken_answer_on_a_kept_connection_is_not_asked_again() -> None:
    """Only a connection closed before any answer is retried: a request the server
    did answer (badly) is never sent twice."""

    def answer(head: bytes) -> list[bytes]:
        return ok(b"ok") if head.startswith(b"GET /a") else [b"nonsense\r\n\r\n"]

    results, script = run(answer, ["/a", "/b"])
    assert results[0].ok and "malformed status line" in (results[1].error or "")
    assert len(script.requests) == 2 and script.connections == 1


def test_interim_responses_are_skipped() -> None:
    def answer(head: bytes) -> list[bytes]:
        return [b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n", *ok(b"final")]

    results, _ = run(answer, ["/a"])
    assert results[0].status == 200 and results[0].content == b"final"


def test_304_and_204_have_no_body_and_keep_the_connection() -> None:
    def answer(head: bytes) -> list[bytes]:
        if b"If-None-Match" in head:
            return [b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n']
        return [b"HTTP/1.1 204 No Content\r\n\r\n"]

    results, script = run(answer, ["/a", "/b"], etag='"v1"')
    assert [r.not_modified for r in results] == [True, True]
    assert [r.etag for r in results] == ['"v1"', '"v1"']
    assert script.connections == 1


def test_request_carries_the_client_headers() -> None:
    results, script = run(lambda head: ok(b"ok"), ["/feed?x=1"], etag='"e"')
    assert results[0].ok
    head = script.requests[0][1].decode()
    assert head.startswith("GET /feed?x=1 HTTP/1.1\r\n")
    assert "\r\nHost: 127.0.0.1:" in head
    assert '\r\nIf-None-Match: "e"\r\n' in head
    assert "\r\nUser-Agent: trendwatch/" in head


@pytest.mark.parametrize(
    ("pieces", "needle"),
    [
        ([b"garbage\r\n\r\n"], "malformed status line"),
        ([b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"], "malformed header line"),
        ([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", CLOSE], "complete message"),
        (
            [b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"],
            "Content-Length",
        ),
        ([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"], "bad chunk size"),
        ([CLOSE], "without sending a response"),
    ],
)
def test_broken_responses_are_errors(pieces: list[bytes], needle: str) -> None:
    results, _ = run(lambda head: pieces, ["/a"])
    assert results[0].error is not None and needle in results[0].error, results[0].error


def test_a_silent_server_times_out() -> None:
    results, _ = run(lambda head: [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"], ["/a"])
    assert results[0].error == "timed out waiting for data"


def test_cookies_set_by_a_response_go_back_with_the_next_request() -> None:
    def answer(head: bytes) -> list[bytes]:
        return ok(b"ok", b"Set-Cookie: consent=yes; Path=/")

    results, script = run(answer, ["/a", "/b"])
    assert [r.ok for r in results] == [True, True]
    assert b"Cookie: consent=yes" not in script.requests[0][1]
    assert b"\r\nCookie: consent=yes\r\n" in script.requests[1][1]


def test_unsupported_schemes_are_errors() -> None:
    async def main() -> FetchResult:
        async with make_client(HttpOptions(allow_private_networks=True)) as client:
            return await fetch(client, "ftp://127.0.0.1/feed")

    result = asyncio.run(main())
    assert result.error is not None and "UnsupportedProtocol" in result.error


def test_parse_head_keeps_the_header_order_and_values() -> None:
    head = parse_head(b"HTTP/1.1 301 Moved\r\nLocation: /new \r\nX-A: 1\r\nx-a: 2")
    assert (head.status, head.reason, head.keep_alive) == (301, b"Moved", True)
    assert head.headers == [(b"Location", b"/new"), (b"X-A", b"1"), (b"x-a", b"2")]
    assert head.get(b"x-a") == [b"1", b"2"]
    # llhttp drops a folded line's line break and keeps the whitespace after it
    folded = parse_head(b"HTTP/1.0 200 OK\r\nX-Long: one\r\n  two\r\n\tthree")
    assert folded.headers == [(b"X-Long", b"one  two\tthree")] and not folded.keep_alive
    with pytest.raises(httpx.RemoteProtocolError):
        parse_head(b"HTTP/1.1 20 OK")


# --- TLS --------------------------------------------------------------------------------


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = datetime(2020, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * 30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def fetch_tls(tmp_path: Path, trusted: bool, paths: list[str]) -> tuple[list[FetchResult], Script]:
    cert, key = self_signed(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert)) if trusted else None
    script = Script(lambda head: ok(b"secret"))

    async def main() -> list[FetchResult]:
        server = await asyncio.start_server(script.handle, "127.0.0.1", 0, ssl=served)
        port = server.sockets[0].getsockname()[1]
        transport = HostPools(2, 8, guard=False, tls=client_tls)
        try:
            async with httpx.AsyncClient(transport=transport) as client:
                return [await fetch(client, f"https://localhost:{port}{p}") for p in paths]
        finally:
            server.close()

    return asyncio.run(main()), script


def test_https_with_a_trusted_certificate_keeps_its_connection(tmp_path: Path) -> None:
    results, script = fetch_tls(tmp_path, True, ["/a", "/b"])
    assert [r.content for r in results] == [b"secret", b"secret"]
    assert script.connections == 1


def test_https_with_an_unknown_certificate_is_refused(tmp_path: Path) -> None:
    results, script = fetch_tls(tmp_path, False, ["/a"])
    assert results[0].error is not None and "CERTIFICATE_VERIFY_FAILED" in results[0].error
    assert script.requests == []


# --- what llhttp (httptools) is told and asked ------------------------------------------


def exchange(answer: Answer, requests: list[tuple[str, str]]) -> tuple[list[object], Script]:
    """Send ``requests`` (method, path) one after the other through the transport;
    each result is (status, body) or the exception raised."""
    script = Script(answer)

    async def main() -> list[object]:
        server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        results: list[object] = []
        try:
            async with httpx.AsyncClient(transport=HostPools(2, 8, guard=False)) as client:
                for method, path in requests:
                    try:
                        response = await client.request(method, f"http://127.0.0.1:{port}{path}")
                        results.append((response.status_code, response.content))
                    except httpx.HTTPError as exc:
                        results.append(exc)
                    await asyncio.sleep(0.01)
        finally:
            server.close()
        return results

    return asyncio.run(main()), script


def test_a_head_response_has_no_body_and_keeps_the_connection() -> None:
    """llhttp cannot be told a response answers HEAD: its Content-Length announces a
    body that never comes, and the message ends with the headers."""

    def answer(head: bytes) -> list[bytes]:
        if head.startswith(b"HEAD"):
            return [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"]
        return ok(b"hello")

    results, script = exchange(answer, [("HEAD", "/a"), ("GET", "/a"), ("HEAD", "/a")])
    assert results == [(200, b""), (200, b"hello"), (200, b"")]
    assert script.connections == 1


def test_bytes_after_a_response_leave_its_connection_unused() -> None:
    results, script = exchange(lambda head: [*ok(b"ok"), b"HTTP/1.1 junk"], [("GET", "/a")] * 2)
    assert results == [(200, b"ok")] * 2
    assert script.connections == 2


@pytest.mark.parametrize(
    ("pieces", "needle"),
    [
        ([b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"], "headers are too long"),
        (
            [
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n",
                b"X-Big: " + b"a" * 200_000 + b"\r\n\r\n",  # counted from the next piece
            ],
            "trailers are too long",
        ),
        ([b"HTTP/1.1 200\r\nX-A 1\r\n\r\n"], "malformed header line"),
    ],
)
def test_overlong_or_broken_heads_are_errors(pieces: list[bytes], needle: str) -> None:
    results, _ = exchange(lambda head: pieces, [("GET", "/a")])
    assert isinstance(results[0], httpx.RemoteProtocolError) and needle in str(results[0])
