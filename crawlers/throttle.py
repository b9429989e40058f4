"""How long to wait between two requests to one host: a delay that follows the host's
own response times, as Scrapy's AutoThrottle does. Pure: numbers in, numbers out;
:class:`crawlers.limits.HostLimiter` keeps the state per host and applies it.

The idea: a server that needs ``latency`` seconds to answer is asked at most once every
``latency / target_concurrency`` seconds, so on average ``target_concurrency`` requests
(default 1) are in flight to it; the hard cap (``per_host``) stays with the limiter.

* Before a host has answered anything, two requests start at least ``start_delay``
  apart (the limiter lets a waiting request go as soon as the first answer arrives).
* The first answer sets the delay to its latency (over the target concurrency).
* Every later answer moves the delay: up to the new target at once (a slower server is
  given room at once), down only halfway (speeding up is gradual).
* Answers that are not a success (anything but 2xx and 304) never shorten the delay:
  error pages and redirects are quick to make and would speed the crawler up just when
  the server struggles. 429 and 503 at least double it.
* A failure without an answer (timeout, refused or reset connection) doubles the delay,
  to at least ``start_delay``.
* The delay stays within ``[floor, max_delay]``: ``floor`` is the larger of the
  configured ``per_host_delay`` and the host's robots.txt ``Crawl-delay``.

A ``Retry-After`` on 429 or 503 pauses the host altogether (:meth:`AutoThrottle.pause`).
"""

from __future__ import annotations

from dataclasses import dataclass

SLOW_DOWN = frozenset({429, 503})  # "too many requests", "unavailable"


def is_success(status: int) -> bool:
    """An answer that tells how fast the server really is: 2xx, or 304 Not Modified."""
    return 200 <= status < 300 or status == 304


@dataclass(frozen=True)
class AutoThrottle:
    """The delay policy (see the module's doc). ``delay`` arguments are a host's current
    adaptive delay, ``None`` before its first answer; ``floor`` its minimum."""

    target_concurrency: float = 1.0
    start_delay: float = 1.0  # seconds, before a host's first answer
    max_delay: float = 60.0  # seconds; also the cap of a Crawl-delay

    def __post_init__(self) -> None:
        if self.target_concurrency <= 0:
            raise ValueError("target_concurrency must be above 0")
        if not 0 <= self.start_delay <= self.max_delay:
            raise ValueError("start_delay must be from 0 to max_delay")

    def gap(self, delay: float | None, floor: float = 0.0) -> float:
        """Seconds between the starts of two requests to the host now."""
        current = self.start_delay if delay is None else delay
        return self._bounded(current, floor)

    def after_answer(
        self, delay: float | None, latency: float, status: int, floor: float = 0.0
    ) -> float:
        """The delay after an answer with ``status`` that took ``latency`` seconds (from
        sending the request to the response's headers)."""
        target = max(0.0, latency) / self.target_concurrency
        if delay is None:
            new = target
            current = self.start_delay
        else:
            new = max(target, (delay + target) / 2)
            current = delay
        if not is_success(status):
            new = max(new, current)  # errors never speed the crawler up
        if status in SLOW_DOWN:
            new = max(new, 2 * current, self.start_delay)
        return self._bounded(new, floor)

    def after_failure(self, delay: float | None, floor: float = 0.0) -> float:
        """The delay after a request that got no answer (timeout, connection error)."""
        current = self.start_delay if delay is None else delay
        return self._bounded(max(2 * current, self.start_delay), floor)

    def pause(self, status: int, retry_after: float | None) -> float | None:
        """Seconds to send nothing to the host after this answer: its Retry-After on 429
        or 503 (an HTTP date already made into seconds from now); else None."""
        if status in SLOW_DOWN and retry_after is not None and retry_after > 0:
            return retry_after
        return None

    def _bounded(self, delay: float, floor: float) -> float:
        floor = min(max(0.0, floor), self.max_delay)
        return min(max(delay, floor), self.max_delay)
