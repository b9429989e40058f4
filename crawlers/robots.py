"""robots.txt for page fetches (full text, blog pages); never for configured feed URLs.

One fetch of ``/robots.txt`` per origin (scheme, host, port), through the crawl's own
client, cached for ``ttl``. The rules follow Google's conventions (RFC 9309):

* 2xx: the file's rules (parsed by protego).
* 4xx other than 429 (404, 401, 403, 410, …): no rules, everything is allowed.
* 429, 5xx, timeouts and network errors: the site may be down or overloaded, so every
  page is *disallowed* for ``error_ttl`` (or until its Retry-After), then asked again.
* A refusal by the private-network guard: :meth:`RobotsCache.allowed` raises
  :class:`~crawlers.http.PrivateAddressRefused` with the guard's message, so a caller
  reports the private address instead of "forbidden by robots.txt"; nothing is fetched.

A ``Crawl-delay`` is exposed by :meth:`RobotsCache.crawl_delay` and, when a
:class:`~crawlers.limits.HostLimiter` is given (a :class:`~crawlers.http.CrawlClient`
brings its own), applied as that host's delay between requests.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from protego import Protego

from crawlers.http import USER_AGENT, CrawlClient, PrivateAddressRefused, fetch
from crawlers.limits import HostLimiter

ROBOTS_MAX_BYTES = 500 * 1024  # Google reads the first 500 KiB
DEFAULT_TTL = 24 * 3600.0
DEFAULT_ERROR_TTL = 30 * 60.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class RobotsRules:
    """What one origin's robots.txt says; ``parser`` is None for allow-all/deny-all."""

    allow_all: bool
    parser: Protego | None = None
    expires: float = 0.0
    problem: str | None = None  # why everything is disallowed, for logs
    refused_private: bool = False  # the guard refused the origin; ``problem`` says why

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        if delay is None:
            rate = self.parser.request_rate(user_agent)
            if rate and rate.requests:
                delay = rate.seconds / rate.requests
        return float(delay) if delay is not None else None


class RobotsCache:
    """Per-origin robots.txt rules, fetched once and cached."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        user_agent: str | None = None,
        ttl: float = DEFAULT_TTL,
        error_ttl: float = DEFAULT_ERROR_TTL,
        limiter: HostLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        if user_agent is None:
            crawl = isinstance(client, CrawlClient)
            user_agent = client.options.user_agent if crawl else USER_AGENT
        self.user_agent = user_agent
        self.ttl = ttl
        self.error_ttl = error_ttl
        if limiter is None and isinstance(client, CrawlClient):
            limiter = client.limiter
        self.limiter = limiter
        self._clock = clock
        self._rules: OrderedDict[str, RobotsRules] = OrderedDict()
        self._pending: dict[str, asyncio.Future[RobotsRules]] = {}

    async def allowed(self, url: str, user_agent: str | None = None) -> bool:
        """May ``url`` be fetched? Non-http(s) URLs never may. Raises
        PrivateAddressRefused when the private-network guard refused the origin."""
        rules = await self.rules(url)
        if rules.refused_private:
            raise PrivateAddressRefused(rules.problem)
        return rules.allowed(url, user_agent or self.user_agent)

    async def crawl_delay(self, url: str, user_agent: str | None = None) -> float | None:
        """The site's Crawl-delay (or Request-rate) for us, in seconds, if it sets one."""
        rules = await self.rules(url)
        return rules.crawl_delay(user_agent or self.user_agent)

    async def rules(self, url: str) -> RobotsRules:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return RobotsRules(allow_all=False, problem="not an http(s) URL")
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        cached = self._rules.get(origin)
        if cached is not None and cached.expires > self._clock():
            self._rules.move_to_end(origin)
            return cached
        pending = self._pending.get(origin)
        if pending is not None:  # another task is fetching it: share its answer
            return await asyncio.shield(pending)
        future: asyncio.Future[RobotsRules] = asyncio.get_running_loop().create_future()
        self._pending[origin] = future
        try:
            rules = await self._load(origin, parts.hostname)
            future.set_result(rules)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._pending[origin]
        self._rules[origin] = rules
        self._rules.move_to_end(origin)
        while len(self._rules) > MAX_ENTRIES:
            self._rules.popitem(last=False)
        return rules

    async def _load(self, origin: str, host: str) -> RobotsRules:
        result = await fetch(
            self.client, origin + "/robots.txt", accept="text/plain", max_bytes=ROBOTS_MAX_BYTES
        )
        now = self._clock()
        if result.content is not None and 200 <= result.status < 300:
            text = result.content.decode("utf-8", "replace")
            try:
                parser = Protego.parse(text)
            except Exception as exc:  # protego is lenient; be safe anyway
                return self._failed(now, f"unparsable robots.txt ({exc})", None)
            rules = RobotsRules(allow_all=True, parser=parser, expires=now + self.ttl)
            if self.limiter is not None:
                delay = rules.crawl_delay(self.user_agent)
                if delay is not None:
                    self.limiter.set_delay(host, delay)
            return rules
        if 400 <= result.status < 500 and result.status != 429:
            return RobotsRules(allow_all=True, expires=now + self.ttl)
        if result.refused_private:
            expires = now + min(self.error_ttl, self.ttl)
            return RobotsRules(False, expires=expires, problem=result.error, refused_private=True)
        # 429, 5xx, network errors, timeouts, a body over 500 KiB: disallow for a while
        return self._failed(now, result.error or "robots.txt unreadable", result.retry_after)

    def _failed(self, now: float, problem: str, retry_after: datetime | None) -> RobotsRules:
        wait = self.error_ttl
        if retry_after is not None:
            wait = max(wait, (retry_after - datetime.now(UTC)).total_seconds())
        return RobotsRules(allow_all=False, expires=now + min(wait, self.ttl), problem=problem)
