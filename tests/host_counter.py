"""A request handler for pytest-httpserver that counts, per Host header, the requests
in flight at once: the server's own check of a crawler's per-host limit."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

from werkzeug import Request, Response


class PerHost:
    """The server's count of requests in flight per Host header, and each one's peak.
    ``respond`` makes the answer; each request is held 20 ms so requests would overlap
    if the crawler let them. A streamed answer is in flight until its body is sent."""

    def __init__(self, respond: Callable[[Request], Response]) -> None:
        self.respond = respond
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self._lock = threading.Lock()

    def handler(self, request: Request) -> Response:
        with self._lock:
            self.now[request.host] += 1
            self.peak[request.host] = max(self.peak[request.host], self.now[request.host])
        streamed = False
        try:
            time.sleep(0.02)  # long enough for requests to overlap, if they were let
            response = self.respond(request)
            if response.is_streamed:  # in flight until its body is sent whole
                response.call_on_close(lambda: self._done(request.host))
                streamed = True
            return response
        finally:
            if not streamed:
                self._done(request.host)

    def _done(self, host: str) -> None:
        with self._lock:
            self.now[host] -= 1
