"""A small in-memory rate limiter: at most ``limit`` hits per key in any ``window`` seconds.

::

    per_address = RateLimiter(limit=5, window=3600)      # e.g. subscribe, per e-mail
    if not per_address.hit(address):
        ... answer 429 with Retry-After: per_address.retry_after(address)

A sliding window: each key keeps the times of its last ``limit`` hits. The clock is
monotonic and injectable (tests pass their own). The number of keys is bounded: when
``max_keys`` is reached, keys whose hits have all left the window are dropped, and if
that is not enough the least recently used keys go. Thread-safe. The state is per
process and is lost on restart, which is fine for slowing down abuse.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    """At most ``limit`` hits per key in any ``window`` seconds."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("limit and max_keys must be at least 1, window positive")
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque(maxlen=self.limit)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def hit(self, key: str) -> bool:
        """Count a hit for ``key`` and say whether it is allowed; a refused hit is not
        counted (so a client that keeps trying is let in again after the window)."""
        with self._lock:
            now = self.clock()
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                self._hits.move_to_end(key)
                return False
            hits.append(now)
            self._hits[key] = hits
            self._hits.move_to_end(key)
            self._bound(now)
            return True

    def allowed(self, key: str) -> bool:
        """Whether a hit for ``key`` would be allowed now (counts nothing)."""
        with self._lock:
            return len(self._recent(key, self.clock())) < self.limit

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may hit again (0 when it may now)."""
        with self._lock:
            now = self.clock()
            hits = self._recent(key, now)
            if len(hits) < self.limit:
                return 0.0
            return max(0.0, hits[0] + self.window - now)

    def reset(self, key: str) -> None:
        """Forget ``key``'s hits (e.g. after a successful login)."""
        with self._lock:
            self._hits.pop(key, None)

    def __len__(self) -> int:
        return len(self._hits)

    def _bound(self, now: float) -> None:
        if len(self._hits) <= self.max_keys:
            return
        for key in [
            k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window
        ]:
            del self._hits[key]
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
