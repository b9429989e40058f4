"""Security headers on every response, a bound on request bodies, and the client's
address behind trusted proxies.

:class:`SecurityHeaders` is a pure ASGI middleware: it adds :data:`HEADERS` to every
response, and :data:`CSP` unless the response set a Content-Security-Policy of its
own (the archive sets the stricter :data:`ARCHIVE_CSP`: no script at all, and the
inline styles its self-contained pages carry).

:class:`BodyLimit` answers 413 to a body over :data:`MAX_BODY` (1 MiB: forms only).

:func:`client_address` is the address to rate-limit and log: the TCP peer, or, when
the peer is one of ``[web] trusted_proxies``, the right-most address in
``X-Forwarded-For`` that is not itself a trusted proxy. Headers from any other peer are
ignored, so a client cannot choose its own address. (uvicorn's own proxy-header
handling is switched off in ``trendwatch serve``; this is the one place it is done.)
:func:`is_local_request` says whether a request comes straight from a browser on this
machine, for the admin pages when no admin token is configured.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
ARCHIVE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
MAX_FORWARDED_HOPS = 20  # X-Forwarded-For entries looked at, right to left
MAX_BODY = 1024 * 1024  # bytes of a request body; more is a 413


class SecurityHeaders:
    """Adds the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = CSP
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes (413) as the route reads them, whether
    announced by Content-Length or sent in chunks."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced = dict(scope.get("headers") or ()).get(b"content-length", b"0")
        received = int(announced) if announced.isdigit() else 0

        async def limited_receive() -> Message:
            nonlocal received
            if received > self.limit:
                raise HTTPException(413)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413)
            return message

        await self.app(scope, limited_receive, send)


def parse_address(text: str) -> Address | None:
    """An IP address from a header value: ``1.2.3.4``, ``1.2.3.4:5678``, ``::1`` or
    ``[::1]:5678``; None for anything else."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: Address, proxies: Iterable[Network]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def resolve_client(
    peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]
) -> str:
    """The client's address from the TCP ``peer``, the ``X-Forwarded-For`` header values
    (in order) and the trusted proxies. Pure; see the module docstring."""
    address = parse_address(peer or "")
    if address is None:
        return peer or "unknown"
    if not _trusted(address, proxies):
        return str(address)
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops[-MAX_FORWARDED_HOPS:]):
        found = parse_address(hop)
        if found is None:  # garbage left of a trusted hop: stop at that hop
            break
        address = found
        if not _trusted(found, proxies):
            break
    return str(address)


def client_address(conn: HTTPConnection, proxies: Sequence[Network]) -> str:
    """The client's address of a request (see :func:`resolve_client`)."""
    peer = conn.client.host if conn.client else None
    return resolve_client(peer, conn.headers.getlist("x-forwarded-for"), proxies)


def is_local_request(conn: HTTPConnection, proxies: Sequence[Network]) -> bool:
    """Straight from a browser on this machine: the peer is a loopback address that is
    no trusted proxy, no proxy header is present, and the Host is a loopback name (a
    DNS-rebinding page carries its own host name)."""
    peer = parse_address(conn.client.host) if conn.client else None
    if peer is None or not peer.is_loopback or _trusted(peer, proxies):
        return False
    if any(name in conn.headers for name in FORWARDING_HEADERS):
        return False
    host = conn.headers.get("host", "").lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in LOOPBACK_HOSTS
