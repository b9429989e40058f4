"""The one HTTP client factory and fetch function every crawler uses.

Everything about talking HTTP lives here: the User-Agent, connect/read/total timeouts,
a global concurrency limit and per-host politeness (:class:`HostLimiter`), at most
``max_redirects`` redirects followed hop by hop, the private-network guard (in the
transport, see :mod:`crawlers.netguard`), conditional GET, and a body-size cap enforced
while streaming *after* decompression (see :mod:`crawlers.decoding`). Failures never
raise: they come back as a :class:`FetchResult` with ``error`` set, plus the plain
facts the store acts on (``moved_to``, ``gone``, ``retry_after``, ``cache_max_age``).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar

import httpx

from crawlers.decoding import ACCEPT_ENCODING, DecodeError, decoder_for
from crawlers.limits import HostLimiter, HostPaused, Turn
from crawlers.netguard import PrivateAddressRefused, is_public_address
from crawlers.throttle import AutoThrottle
from crawlers.transport import HostPools

__all__ = [
    "ACCEPT_FEEDS",
    "ACCEPT_PAGES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "MAX_REDIRECTS",
    "USER_AGENT",
    "CrawlClient",
    "FetchResult",
    "HostLimiter",
    "HttpOptions",
    "PrivateAddressRefused",
    "fetch",
    "is_public_address",
    "make_client",
    "parse_cache_max_age",
    "parse_retry_after",
]

VERSION = "0.1.0"
USER_AGENT = f"trendwatch/{VERSION} (+https://github.com/trendwatch/trendwatch; feed reader)"
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
MAX_REDIRECTS = 5
ERROR_BODY_BYTES = 64 * 1024  # read (raw) from an error response so the connection is reused
ACCEPT_FEEDS = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
ACCEPT_PAGES = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True)
class HttpOptions:
    timeout: float = DEFAULT_TIMEOUT  # total seconds for one fetch: redirects, headers, body
    connect_timeout: float = 10.0
    read_timeout: float = 10.0  # longest silence between two reads (capped at ``timeout``)
    max_bytes: int = DEFAULT_MAX_BYTES  # decoded body size cap
    max_connections: int = 64  # global: fetches in flight at once, and the pool size
    per_host: int = 2  # fetches in flight per host
    per_host_delay: float = 0.0  # least seconds between request starts to one host
    throttle: AutoThrottle = field(default_factory=AutoThrottle)  # the delay above it
    max_redirects: int = MAX_REDIRECTS
    user_agent: str = USER_AGENT
    allow_private_networks: bool = False


@dataclass(frozen=True)
class FetchResult:
    """What one GET produced. ``error`` is set for every failure; ``status`` may be 0
    when no response arrived at all.

    The store acts on: ``moved_to`` (a 301/308 chain ended in success: update the
    source URL and log it), ``gone`` (410: disable the source), ``retry_after`` (429/503:
    do not poll before it), ``cache_max_age`` (seconds the response stays fresh: an input
    to :func:`pipeline.crawl.decide.next_interval`), ``etag``/``last_modified`` (send back
    next time).
    """

    url: str  # the URL finally answered (after redirects)
    status: int = 0
    content: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    moved_to: str | None = None  # permanent new URL (only 301/308 hops, only on success)
    gone: bool = False  # 410 Gone
    retry_after: datetime | None = None  # from Retry-After on 429/503, timezone-aware UTC
    cache_max_age: int | None = None  # seconds from Cache-Control max-age (less Age)
    error: str | None = None
    blocked_by_robots: bool = False
    refused_private: bool = False  # the private-network guard refused a host (or a hop's)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


class BodyTooLarge(Exception):
    pass


class _Cookies(httpx.Cookies):
    """A cookie jar that reads a response's cookies only when it sets any: httpx wraps
    every response and its request for ``http.cookiejar`` first, which cost a crawl of
    unchanged feeds more than a tenth of its time for no cookie at all."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


class CrawlClient(httpx.AsyncClient):
    """The httpx client every crawler uses, carrying its options, the per-host
    limiter and the global concurrency gate. Build it with :func:`make_client`."""

    _crawl_cookies: _Cookies

    @property
    def cookies(self) -> httpx.Cookies:
        return self._crawl_cookies

    @cookies.setter
    def cookies(self, cookies: httpx.Cookies | CookieJar | dict[str, str] | None) -> None:
        self._crawl_cookies = _Cookies(cookies)

    def __init__(self, options: HttpOptions, limiter: HostLimiter | None = None) -> None:
        o = options
        # idle pools are kept for twice as many hosts as are fetched from at once: a
        # crawl comes back to a host about that many requests later (decide.spread_hosts)
        transport = HostPools(o.per_host, 2 * o.max_connections, guard=not o.allow_private_networks)
        read = min(o.read_timeout, o.timeout)
        super().__init__(
            timeout=httpx.Timeout(
                connect=min(o.connect_timeout, o.timeout), read=read, write=read, pool=o.timeout
            ),
            follow_redirects=False,
            headers={"User-Agent": o.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            transport=transport,
            trust_env=False,
        )
        self.cookies = None
        self.options = o
        if limiter is None:
            limiter = HostLimiter(o.per_host, o.per_host_delay, throttle=o.throttle)
        self.limiter = limiter
        self.gate = asyncio.Semaphore(o.max_connections)


def make_client(options: HttpOptions | None = None) -> CrawlClient:
    """The client every crawler uses (an ``httpx.AsyncClient``)."""
    return CrawlClient(options or HttpOptions())


_DEFAULTS = HttpOptions()


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int | None = None,
    accept: str = ACCEPT_FEEDS,
    timeout: float | None = None,
) -> FetchResult:
    """GET ``url`` with conditional headers; never raises for network or HTTP failures.

    ``timeout`` (default: the client's) bounds the whole fetch, redirects and body
    included; waiting for a free slot (global or per host) does not count.
    """
    crawl = client if isinstance(client, CrawlClient) else None
    options = crawl.options if crawl else _DEFAULTS
    max_bytes = options.max_bytes if max_bytes is None else max_bytes
    total = options.timeout if timeout is None else timeout
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    gate = crawl.gate if crawl else None
    limiter = crawl.limiter if crawl else None
    try:
        hops = _Hops(client, limiter, gate, options.max_redirects, total)
        return await hops.run(url, headers, etag, last_modified, max_bytes)
    except HostPaused as exc:
        return FetchResult(url=url, error=str(exc), retry_after=exc.until)
    except TimeoutError:
        return FetchResult(url=url, error=f"timed out after {total:g} s (total time)")
    except BodyTooLarge:
        return FetchResult(
            url=url, error=f"response body larger than {max_bytes} bytes (decoded), cut off"
        )
    except DecodeError as exc:
        return FetchResult(url=url, error=str(exc))
    except PrivateAddressRefused as exc:
        return FetchResult(url=url, error=str(exc), refused_private=True)
    except httpx.TooManyRedirects as exc:
        return FetchResult(url=url, error=str(exc))
    except httpx.ConnectTimeout:
        return FetchResult(url=url, error="timed out connecting")
    except httpx.ReadTimeout:
        return FetchResult(url=url, error="timed out waiting for data")
    except httpx.TimeoutException as exc:
        return FetchResult(url=url, error=f"timed out ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return FetchResult(url=url, error=f"{type(exc).__name__}: {exc}".rstrip(": "))
    except (OSError, ValueError, httpx.InvalidURL) as exc:
        return FetchResult(url=url, error=f"{type(exc).__name__}: {exc}")


class _Hops:
    """Follows redirects one hop at a time: each hop gets its host's slot, with one of
    the global ``gate`` once the host's delay has passed (see ``HostLimiter.slot``), and
    tells the limiter how fast the host answered; loops and too many hops are errors,
    and the permanent part of the chain is remembered.

    The total timeout starts once the first hop holds its slots and runs on across the
    hops, but waiting for the first slots is never counted."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        limiter: HostLimiter | None,
        gate: asyncio.Semaphore | None,
        max_redirects: int,
        total: float,
    ) -> None:
        self.client = client
        self.limiter = limiter
        self.gate = gate
        self.max_redirects = max_redirects
        self.total = total

    async def run(
        self,
        url: str,
        headers: dict[str, str],
        etag: str | None,
        last_modified: str | None,
        max_bytes: int,
    ) -> FetchResult:
        request = self.client.build_request("GET", url, headers=headers)
        chain = [str(request.url)]
        permanent: str | None = None  # end of the leading run of 301/308 hops
        only_permanent = True
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while True:
            limiter = self.limiter
            slot = (
                contextlib.nullcontext()
                if limiter is None
                else limiter.slot(request.url.host, self.gate)
            )
            async with slot as turn:
                if deadline is None:
                    deadline = loop.time() + self.total
                async with asyncio.timeout_at(deadline):
                    response, retry = await _send(self.client, request, turn)
                    try:
                        nxt = response.next_request
                        if nxt is None:
                            moved = permanent if permanent != chain[0] else None
                            return await _result(
                                response, etag, last_modified, max_bytes, moved, retry
                            )
                        await _drain(response)  # small; lets the connection be reused
                        only_permanent = only_permanent and response.status_code in (301, 308)
                        if only_permanent:
                            permanent = str(nxt.url)
                    finally:
                        await response.aclose()
            chain.append(str(nxt.url))
            if len(chain) - 1 > self.max_redirects:
                raise httpx.TooManyRedirects(_too_many(chain, self.max_redirects), request=nxt)
            request = nxt


async def _send(
    client: httpx.AsyncClient, request: httpx.Request, turn: Turn | None
) -> tuple[httpx.Response, datetime | None]:
    """Send one request (the body is read later) and tell the host's ``turn`` how it
    went: the status and a Retry-After once the headers are in, or no answer at all.
    Returns the response and its Retry-After (on 429 and 503 only)."""
    try:
        response = await client.send(request, stream=True, follow_redirects=False)
    except (httpx.TransportError, TimeoutError):
        if turn is not None:
            turn.failed()
        raise
    status = response.status_code
    retry = None
    if status in (429, 503):
        retry = parse_retry_after(response.headers.get("retry-after"))
    if turn is not None:
        turn.answered(status, retry)
    return response, retry


def _too_many(chain: list[str], limit: int) -> str:
    if len(set(chain)) < len(chain):
        first_repeat = next(u for i, u in enumerate(chain) if u in chain[:i])
        loop = chain[chain.index(first_repeat) :]
        loop = loop[: loop.index(first_repeat, 1) + 1]
        return "redirect loop: " + " → ".join(loop)
    return f"more than {limit} redirects: " + " → ".join([*chain[:3], "…", chain[-1]])


async def _result(
    response: httpx.Response,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
    moved: str | None,
    retry: datetime | None = None,
) -> FetchResult:
    status = response.status_code
    headers = response.headers
    base = {"url": str(response.url), "status": status, "headers": dict(headers)}
    if status == 304:
        await _drain(response)  # no body, but read to its end: the connection is kept
        return FetchResult(
            **base,
            not_modified=True,
            moved_to=moved,
            etag=headers.get("etag") or etag,
            last_modified=headers.get("last-modified") or last_modified,
            cache_max_age=parse_cache_max_age(headers),
        )
    if not 200 <= status < 300:
        await _drain(response)
        return FetchResult(
            **base,
            error=f"HTTP {status} {response.reason_phrase}".strip(),
            gone=status == 410,
            retry_after=retry,
        )
    body = await _read_capped(response, max_bytes)
    return FetchResult(
        **base,
        content=body,
        moved_to=moved,
        content_type=headers.get("content-type"),
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        cache_max_age=parse_cache_max_age(headers),
    )


async def _drain(response: httpx.Response) -> None:
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > ERROR_BODY_BYTES:
            break


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body, or BodyTooLarge as soon as it passes ``max_bytes``.

    Reads raw bytes and decodes them in bounded pieces, so a compression bomb is
    stopped after about ``max_bytes`` of output, never inflated whole.
    """
    encoding = response.headers.get("content-encoding")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes and not encoding:
        raise BodyTooLarge
    decoder = decoder_for(encoding)
    chunks: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
        for piece in decoder.feed(raw):
            size += len(piece)
            if size > max_bytes:
                raise BodyTooLarge
            chunks.append(piece)
    for piece in decoder.flush():
        size += len(piece)
        if size > max_bytes:
            raise BodyTooLarge
        chunks.append(piece)
    return b"".join(chunks)


def parse_retry_after(value: str | None, now: datetime | None = None) -> datetime | None:
    """Retry-After as an absolute UTC time: either delta-seconds or an HTTP date."""
    if not value:
        return None
    now = now or datetime.now(UTC)
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_cache_max_age(headers: httpx.Headers | dict[str, str]) -> int | None:
    """Seconds the response stays fresh: Cache-Control ``max-age`` less ``Age``, else
    ``Expires`` less ``Date``; ``None`` without a usable hint."""
    get = headers.get
    lifetime: int | None = None
    for directive in (get("cache-control") or "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            value = value.strip().strip('"')
            if value.isdigit():
                lifetime = int(value)
            break
    if lifetime is None:
        expires, date = get("expires"), get("date")
        if not expires:
            return None
        try:
            end = email.utils.parsedate_to_datetime(expires)
            start = email.utils.parsedate_to_datetime(date) if date else datetime.now(UTC)
        except (TypeError, ValueError, IndexError):
            return None  # "Expires: 0" and the like: already stale, no hint
        if end.tzinfo is None or start.tzinfo is None:
            return None
        lifetime = int((end - start).total_seconds())
    age = (get("age") or "").strip()
    if age.isdigit():
        lifetime -= int(age)
    return max(0, lifetime)
