"""The Scrapy side of the blog crawler: spider, private-network guard and settings.

Only the child process (``crawlers.blog.child``) imports this module: Scrapy's Twisted
reactor cannot be restarted in one process, so the long-running scheduler never loads
Scrapy itself.
"""

from __future__ import annotations

import asyncio
import re
import socket
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import lxml.etree
import scrapy
from protego import Protego
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.resolver import CachingThreadedResolver
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure
from w3lib.url import safe_url_string

from crawlers.blog.config import ROBOTS_TOKEN, BlogConfig
from crawlers.fulltext import extract_article
from crawlers.netguard import is_public_address, refusal
from crawlers.urls import canonical_url, is_web_url

Emit = Callable[[dict[str, Any]], None]

ACCEPT_HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
MAX_SITEMAPS = 10  # sitemap documents read per crawl (an index can list thousands)
_SITEMAP_NS = re.compile(r"^\{[^}]*\}")


class PrivateAddressRefused(IgnoreRequest):
    """The request's host resolves to an address that is not a public one (see
    :func:`crawlers.netguard.is_public_address`), and private networks are not allowed."""


class OffsiteStartRedirect(IgnoreRequest):
    """The start page redirects to another site: not followed (the crawl stays on the
    configured site), and said, so the source does not look like a site without
    articles."""


def same_site(host: str, site: str) -> bool:
    """``host`` is ``site`` or one of its subdomains (``www.`` ignored)."""
    host = host.lower().removeprefix("www.")
    return host == site or host.endswith("." + site)


class _Guard:
    """The verdicts of the private-network guard, one DNS lookup per host and port."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._verdicts: dict[tuple[str, int], str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getbool("TRENDWATCH_ALLOW_PRIVATE_NETWORKS"))

    async def refusal(self, url: str) -> str | None:
        """Why ``url``'s host is refused, or None."""
        if self.allow_private:
            return None
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (host, port)
        if key not in self._verdicts:
            self._verdicts[key] = await _refusal(host, port)
        return self._verdicts[key]


class PrivateNetworkGuard(_Guard):
    """Downloader middleware: the blog crawler's copy of the rule ``crawlers.http``
    applies to every feed request. It runs before robots.txt handling (priority 40), so
    a refused host is not even asked for its robots.txt, and again for every redirect,
    because Scrapy sends redirected requests through the middleware chain anew."""

    async def process_request(self, request: Request, spider: Any = None) -> None:
        reason = await self.refusal(request.url)
        if reason:
            raise PrivateAddressRefused(reason)
        return None


class PrivateRedirectGuard(_Guard):
    """Downloader middleware just before Scrapy's redirect handling (priority 610: it
    sees a response first): a redirect to a refused host fails the request that got it,
    with the guard's reason. Without it, such a redirect (to another host, as a private
    address always is) would be dropped silently as off-site when it is scheduled, and a
    start page redirecting there would look like a site without articles. For the same
    reason a start page that redirects to another (public) site fails with a note that
    says where it went."""

    async def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        if location.startswith(b"//"):
            location = urlsplit(request.url).scheme.encode() + b":" + location
        target = urljoin(request.url, safe_url_string(location))
        if urlsplit(target).scheme not in ("http", "https"):
            return response
        reason = await self.refusal(target)
        if reason:
            raise PrivateAddressRefused(f"redirect to {target} refused: {reason}")
        site = request.meta.get("start_site")
        if site and not same_site(urlsplit(target).hostname or "", site):
            raise OffsiteStartRedirect(
                f"redirects to {target}, another site: not followed; if the blog has"
                " moved, set the source's url to the new address"
            )
        return response


async def _refusal(host: str, port: int) -> str | None:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None  # let the download report the DNS failure itself
    for info in infos:
        address = str(info[4][0])
        if not is_public_address(address):
            return str(refusal(host, address))
    return None


class PublicAddressResolver(CachingThreadedResolver):
    """The DNS resolver of the crawler's own connections when private networks are not
    allowed: a name that resolves to a private or local address fails to resolve.

    :class:`PrivateNetworkGuard` checks each host before its first request, with its own
    lookup. This closes the window between that lookup and the connection's, in which a
    host could answer the first with a public address and the second with a private one
    (DNS rebinding). Scrapy's DNS cache is checked the same way on every use."""

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        found = super().getHostByName(name, timeout)
        found.addCallback(_public_only, name)
        return found


# name -> why the resolver refused it. Twisted reports a refused name only as "no
# results for hostname lookup"; the spider puts the reason back in its error.
REFUSED_NAMES: dict[str, str] = {}


def _public_only(address: str, name: str) -> str:
    if not is_public_address(address):
        reason = REFUSED_NAMES[name] = str(refusal(name, address))
        raise DNSLookupError(reason)
    return address


def scrapy_settings(
    config: BlogConfig, *, allow_private_networks: bool, time_limit: float | None = None
) -> dict[str, Any]:
    """Polite crawling, spelled out: robots.txt obeyed, AutoThrottle on, no cookies, no
    cache, a size cap, a depth and page cap, our own User-Agent."""
    return {
        "BOT_NAME": "trendwatch",
        "USER_AGENT": config.user_agent,
        "ROBOTSTXT_OBEY": True,
        "ROBOTSTXT_USER_AGENT": ROBOTS_TOKEN,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": config.delay,
        "AUTOTHROTTLE_MAX_DELAY": max(10.0, config.delay * 10),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_DELAY": config.delay,
        "CONCURRENT_REQUESTS": 4,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_MAXSIZE": config.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_TIMEOUT": config.download_timeout,
        "DNS_TIMEOUT": min(10.0, config.download_timeout),
        "DEPTH_LIMIT": config.max_depth,
        # breadth first, so a page budget is spent near the start page
        "DEPTH_PRIORITY": 1,
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        # The spider itself never schedules more than max_pages pages; this is the
        # backstop (robots.txt and sitemap responses count here too).
        "CLOSESPIDER_PAGECOUNT": config.max_pages + MAX_SITEMAPS + 5,
        "CLOSESPIDER_TIMEOUT": time_limit or 0,
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        # No listening sockets in the crawler: no telnet console, no remote control
        # server (Scrapy >= 2.19 starts one by default).
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "EXTENSIONS": {
            "scrapy.extensions.telnet.TelnetConsole": None,
            "scrapy.extensions.remote_control.RemoteControl": None,
        },
        "RETRY_TIMES": 1,
        "REDIRECT_MAX_TIMES": 5,
        "DEFAULT_REQUEST_HEADERS": {"Accept": ACCEPT_HTML},
        "DOWNLOADER_MIDDLEWARES": {
            "crawlers.blog.spider.PrivateNetworkGuard": 40,
            "crawlers.blog.spider.PrivateRedirectGuard": 610,
        },
        "TRENDWATCH_ALLOW_PRIVATE_NETWORKS": allow_private_networks,
        "TWISTED_DNS_RESOLVER": (
            "scrapy.resolver.CachingThreadedResolver"
            if allow_private_networks
            else "crawlers.blog.spider.PublicAddressResolver"
        ),
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "LOG_LEVEL": "INFO",
        "LOGSTATS_INTERVAL": 0,
    }


class BlogSpider(scrapy.Spider):
    """Crawl one site from its start page (and sitemap), yield its article pages.

    Every page is handed to :func:`crawlers.fulltext.extract_article` with
    ``require_evidence``: listing, tag, pagination and "about" pages come back as None
    and are only used for their links. Items are plain dicts (JSON-ready). ``now`` is
    the crawl's time: no page date after its day is believed (default: today).
    """

    name = "trendwatch-blog"

    def __init__(
        self, config: BlogConfig, emit: Emit, now: datetime | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.now = now
        self.emit = emit
        host = (urlsplit(config.start_url).hostname or "").lower()
        # www.example.org and example.org are one site: a redirect between them is fine
        self.site = host.removeprefix("www.")
        self.allowed_domains = [self.site]
        self.allow = [re.compile(p) for p in config.allow]
        self.deny = [re.compile(p) for p in config.deny]
        # same-site filtering is ours (_wanted): allow_domains compares host:port
        self.links = LinkExtractor(unique=True)
        self.scheduled: set[str] = set()  # canonical URLs of pages requested
        self.articles: set[str] = set()  # canonical URLs of articles yielded
        self.sitemaps_read = 0
        self.pages_seen = 0
        self.start_canonical = canonical_url(config.start_url)

    async def start(self) -> AsyncIterator[Any]:
        first = self._page_request(self.config.start_url, check_filters=False)
        if first is not None:
            first.meta["start_site"] = self.site  # a redirect off the site is reported
            yield first
        if self.config.sitemap_url:
            yield self._sitemap_request(self.config.sitemap_url)
        else:  # the sitemaps the site's robots.txt lists, if any
            parts = urlsplit(self.config.start_url)
            yield Request(
                f"{parts.scheme}://{parts.netloc}/robots.txt",
                callback=self.parse_robots,
                errback=self.no_robots,
                meta={"dont_obey_robotstxt": True},
                headers={"Accept": "text/plain, */*;q=0.5"},
            )

    # --- pages ----------------------------------------------------------------------

    def parse_page(self, response: Response) -> Iterator[Any]:
        self.pages_seen += 1
        self.scheduled.add(canonical_url(response.url))  # the URL a redirect ended at
        if not isinstance(response, TextResponse) or b"html" not in (
            response.headers.get(b"Content-Type") or b"text/html"
        ):
            return
        extracted = extract_article(
            response.body,
            response.url,
            min_words=self.config.min_words,
            require_evidence=True,
            now=self.now,
        )
        if extracted is not None and extracted.url not in self.articles:
            self.articles.add(extracted.url)
            yield {
                "url": extracted.url,
                "fetched_url": response.url,
                "title": extracted.title,
                "text": extracted.text,
                "content": extracted.content,
                "author": extracted.author,
                "published": extracted.published.isoformat() if extracted.published else None,
                "language": extracted.language,
                "description": extracted.description,
                "categories": list(extracted.categories),
                "depth": response.meta.get("depth", 0),
            }
        if response.meta.get("depth", 0) >= self.config.max_depth:
            return
        for link in self.links.extract_links(response):
            if link.nofollow:
                continue
            request = self._page_request(link.url)
            if request is not None:
                yield request

    def _page_request(self, url: str, *, check_filters: bool = True) -> Request | None:
        """A request for ``url`` unless it was requested already, is filtered out, or the
        page budget is spent."""
        key = canonical_url(url)
        if key in self.scheduled or len(self.scheduled) >= self.config.max_pages:
            return None
        if check_filters and not self._wanted(key):
            return None
        self.scheduled.add(key)
        return Request(url, callback=self.parse_page, errback=self.on_error)

    def _wanted(self, url: str) -> bool:
        if not same_site(urlsplit(url).hostname or "", self.site):
            return False
        if any(p.search(url) for p in self.deny):
            return False
        return not self.allow or any(p.search(url) for p in self.allow)

    # --- sitemaps -------------------------------------------------------------------

    def _sitemap_request(self, url: str) -> Request:
        self.sitemaps_read += 1
        return Request(
            url,
            callback=self.parse_sitemap,
            errback=self.on_error,
            meta={"sitemap": True},
            headers={"Accept": "application/xml, text/xml;q=0.9, */*;q=0.5"},
        )

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        body = response.body
        if body[:2] == b"\x1f\x8b":  # a .xml.gz served without Content-Encoding
            try:
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                body = inflater.decompress(body, self.config.max_bytes)
            except zlib.error as exc:
                self._error(response.url, f"sitemap not readable: {exc}")
                return
        kind, entries = parse_sitemap(body)
        if kind == "sitemapindex":
            for loc, _ in entries:
                if self.sitemaps_read >= MAX_SITEMAPS:
                    break
                if self._same_site(loc):
                    yield self._sitemap_request(loc)
            return
        if kind != "urlset":
            self._error(response.url, "not a sitemap")
            return
        # Newest first: with a page budget, recent posts are the ones worth having.
        newest_first = sorted(entries, key=lambda e: e[1] or "", reverse=True)
        for loc, _ in newest_first:
            request = self._page_request(loc)
            if request is not None:
                yield request

    def parse_robots(self, response: Response) -> Iterator[Any]:
        """``Sitemap:`` lines of robots.txt, on this site only (a robots.txt may name
        sitemaps anywhere), up to :data:`MAX_SITEMAPS` documents in all."""
        if not isinstance(response, TextResponse):
            return
        for url in Protego.parse(response.text).sitemaps:
            if self.sitemaps_read >= MAX_SITEMAPS:
                break
            if is_web_url(url) and self._same_site(url):
                yield self._sitemap_request(url)

    def no_robots(self, failure: Failure) -> None:
        """A site without robots.txt (404) or whose robots.txt fails simply lists no
        sitemaps; Scrapy's robots.txt handling reports on it where it matters."""

    def _same_site(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return host == self.site or host.endswith("." + self.site)

    # --- failures -------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        request: Request | None = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        # a redirected request carries the URL it started from
        origin = (request.meta.get("redirect_urls") or [url])[0] if request is not None else url
        exc = failure.value
        if isinstance(exc, HttpError):
            response = exc.response
            self._error(url, f"HTTP {response.status}", status=response.status, origin=origin)
        elif isinstance(exc, PrivateAddressRefused | OffsiteStartRedirect):
            self._error(url, str(exc), origin=origin)
        elif isinstance(exc, DNSLookupError | CannotResolveHostError) and (
            reason := REFUSED_NAMES.get(urlsplit(url).hostname or "")
        ):
            self._error(url, reason, origin=origin)
        elif isinstance(exc, IgnoreRequest):
            if "robots.txt" in str(exc):
                self.emit({"kind": "refused", "url": url, "reason": "robots.txt"})
                if canonical_url(origin) == self.start_canonical:
                    self._error(url, "the start page is forbidden by robots.txt", origin=origin)
            elif origin != url:
                # e.g. a redirect off the site, or too many redirects
                self._error(origin, f"redirect to {url} not followed: {exc}", origin=origin)
            # other filtering (duplicates, offsite links) is not a failure
        else:
            message = str(exc).strip() or type(exc).__name__
            self._error(url, f"{type(exc).__name__}: {message}"[:300], origin=origin)

    def _error(self, url: str, message: str, *, status: int = 0, origin: str = "") -> None:
        self.emit(
            {
                "kind": "error",
                "url": url,
                "error": message,
                "status": status,
                "start": canonical_url(origin or url) == self.start_canonical,
            }
        )


def parse_sitemap(body: bytes) -> tuple[str, list[tuple[str, str | None]]]:
    """``(kind, [(loc, lastmod)])`` of a sitemap or sitemap index; kind is ``urlset``,
    ``sitemapindex`` or ``""`` when the bytes are no sitemap. External entities and
    network access are off: a sitemap is untrusted input."""
    parser = lxml.etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False
    )
    try:
        root = lxml.etree.fromstring(body, parser=parser)
    except (lxml.etree.XMLSyntaxError, ValueError):
        return "", []
    if root is None:
        return "", []
    kind = _SITEMAP_NS.sub("", str(root.tag))
    entries: list[tuple[str, str | None]] = []
    for node in root:
        if _SITEMAP_NS.sub("", str(node.tag)) not in ("url", "sitemap"):
            continue
        loc = lastmod = None
        for child in node:
            name = _SITEMAP_NS.sub("", str(child.tag))
            if name == "loc" and child.text:
                loc = child.text.strip()
            elif name == "lastmod" and child.text:
                lastmod = _normalise_lastmod(child.text.strip())
        if loc:
            entries.append((loc, lastmod))
    return kind, entries


def _normalise_lastmod(value: str) -> str | None:
    """lastmod as a sortable UTC ISO string (sitemaps mix dates and timestamps)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()
