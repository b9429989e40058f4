"""The one HTTP client factory and fetch function every crawler uses.

Timeouts, redirect limit, User-Agent, conditional GET and a body-size cap that is
enforced while streaming (after decompression) all live here.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

VERSION = "0.1.0"
USER_AGENT = f"trendwatch/{VERSION} (+https://github.com/trendwatch/trendwatch; feed reader)"
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
MAX_REDIRECTS = 5
ACCEPT_FEEDS = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True)
class HttpOptions:
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = 10.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_connections: int = 20
    user_agent: str = USER_AGENT
    allow_private_networks: bool = False


@dataclass(frozen=True)
class FetchResult:
    """What one GET produced. ``error`` is set for every failure; ``status`` may be 0
    when no response arrived at all."""

    url: str  # the URL finally answered (after redirects)
    status: int = 0
    content: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    permanent_redirect: str | None = None  # new URL when a 301/308 moved the resource
    retry_after: datetime | None = None
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


class BodyTooLarge(Exception):
    pass


class PrivateAddressRefused(httpx.RequestError):
    """The URL's host resolves to a loopback, private, link-local, multicast or
    unspecified address, and the config does not allow private networks."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
    )


async def _refuse_private(request: httpx.Request) -> None:
    """Request hook (runs for the first request and for every redirect): resolve the
    host and refuse non-public addresses."""
    host = request.url.host
    port = request.url.port or (443 if request.url.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return  # let the connection attempt report the DNS failure itself
    for info in infos:
        address = str(info[4][0])
        if not is_public_address(address):
            raise PrivateAddressRefused(
                f"refused {host} ({address}): a private or local network address; "
                "set allow_private_networks = true to allow it",
                request=request,
            )


def make_client(options: HttpOptions | None = None) -> httpx.AsyncClient:
    """The client every crawler uses: timeouts, redirect limit, User-Agent."""
    o = options or HttpOptions()
    return httpx.AsyncClient(
        timeout=httpx.Timeout(o.timeout, connect=o.connect_timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": o.user_agent},
        limits=httpx.Limits(max_connections=o.max_connections, max_keepalive_connections=10),
        trust_env=False,
        event_hooks={} if o.allow_private_networks else {"request": [_refuse_private]},
    )


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    accept: str = ACCEPT_FEEDS,
) -> FetchResult:
    """GET ``url`` with conditional headers; never raises for network or HTTP failures."""
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with client.stream("GET", url, headers=headers) as response:
            moved = _permanent_redirect(response)
            base = {
                "url": str(response.url),
                "status": response.status_code,
                "permanent_redirect": moved,
                "headers": dict(response.headers),
            }
            if response.status_code == 304 or response.status_code >= 400:
                # drain the (small) body so the connection can be reused
                await _read_capped(response, 64 * 1024)
            if response.status_code == 304:
                return FetchResult(
                    **base,
                    not_modified=True,
                    etag=response.headers.get("etag") or etag,
                    last_modified=response.headers.get("last-modified") or last_modified,
                )
            if response.status_code >= 400:
                return FetchResult(
                    **base,
                    error=f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                    retry_after=parse_retry_after(response.headers.get("retry-after")),
                )
            body = await _read_capped(response, max_bytes)
            return FetchResult(
                **base,
                content=body,
                content_type=response.headers.get("content-type"),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )
    except BodyTooLarge:
        return FetchResult(url=url, error=f"response body larger than {max_bytes} bytes, cut off")
    except PrivateAddressRefused as exc:
        return FetchResult(url=url, error=str(exc))
    except httpx.TooManyRedirects:
        return FetchResult(url=url, error=f"more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException as exc:
        return FetchResult(url=url, error=f"timed out ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return FetchResult(url=url, error=f"{type(exc).__name__}: {exc}".rstrip(": "))
    except (OSError, ValueError) as exc:
        return FetchResult(url=url, error=f"{type(exc).__name__}: {exc}")


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if (
        declared
        and declared.isdigit()
        and int(declared) > max_bytes
        and not response.headers.get("content-encoding")
    ):
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():  # decompressed bytes
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _permanent_redirect(response: httpx.Response) -> str | None:
    """The new URL when the first hop(s) were permanent redirects (301/308)."""
    target = None
    for hop in response.history:
        if hop.status_code not in (301, 308):
            break
        location = hop.headers.get("location")
        if location:
            target = str(hop.url.join(location))
    return target


def parse_retry_after(value: str | None, now: datetime | None = None) -> datetime | None:
    """Retry-After as an absolute time: either delta-seconds or an HTTP date."""
    if not value:
        return None
    now = now or datetime.now(UTC)
    value = value.strip()
    if value.isdigit():
        return datetime.fromtimestamp(now.timestamp() + int(value), tz=UTC)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
