"""A local HTTP server for the demo feeds, on 127.0.0.1 in a background thread.

Serves ``/feeds/<slug>.xml`` (rendered once at start, dated relative to ``now``) with a
strong ETag and Last-Modified, answers conditional requests with 304, and lists the
feeds on ``/``. Every request is recorded in :attr:`DemoServer.requests` for tests::

    with DemoServer() as server:
        crawl(server.feeds_url + "/werk-en-leven.xml")
"""

from __future__ import annotations

import hashlib
import html
import socketserver
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from pipeline.demo.feeds import DemoFeed, articles_of, load_demo_content, newest_date, render_feed

__all__ = ["DemoServer"]

HOST = "127.0.0.1"


@dataclass(frozen=True)
class _Resource:
    body: bytes
    content_type: str
    etag: str
    last_modified: datetime

    @classmethod
    def of(cls, body: bytes, content_type: str, last_modified: datetime) -> _Resource:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return cls(body, content_type, etag, last_modified.astimezone(UTC).replace(microsecond=0))


class DemoServer:
    """The demo feed server; a context manager that starts and stops it."""

    def __init__(self, now: datetime | None = None, port: int = 0) -> None:
        self.now = now if now is not None else datetime.now(UTC)
        if self.now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
        self.port = port
        self.feeds, self.articles = load_demo_content()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._resources: dict[str, _Resource] = {}
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    # -- lifecycle

    def start(self) -> DemoServer:
        if self._httpd is not None:
            raise RuntimeError("the demo server is already running")
        httpd = _HTTPServer((HOST, self.port), _Handler)
        httpd.demo = self
        self._base_url = f"http://{HOST}:{httpd.server_address[1]}"
        self._resources = self._render()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="trendwatch-demo-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (available once started)."""
        if self._base_url is None:
            raise RuntimeError("the demo server has not been started")
        return self._base_url

    @property
    def feeds_url(self) -> str:
        return self.base_url + "/feeds"

    def feed_url(self, feed: DemoFeed | str) -> str:
        slug = feed.slug if isinstance(feed, DemoFeed) else feed
        return f"{self.feeds_url}/{slug}.xml"

    # -- content

    def _render(self) -> dict[str, _Resource]:
        resources: dict[str, _Resource] = {}
        for feed in self.feeds:
            items = articles_of(feed, self.articles)
            body = render_feed(feed, items, self.now, self_url=self.feed_url(feed))
            resources[feed.path] = _Resource.of(
                body, feed.content_type, newest_date(items, self.now)
            )
        resources["/"] = _Resource.of(self._index_page(), "text/html; charset=utf-8", self.now)
        return resources

    def _index_page(self) -> bytes:
        links = []
        items = []
        for feed in self.feeds:
            url = html.escape(self.feed_url(feed))
            kind = feed.content_type.split(";")[0]
            title = html.escape(feed.title)
            links.append(f'<link rel="alternate" type="{kind}" title="{title}" href="{url}">')
            items.append(
                f'<li><a href="{url}">{title}</a> ({feed.format.upper()}, {feed.language}) '
                f"&mdash; {html.escape(feed.description)}</li>"
            )
        page = "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en">',
                "<head>",
                '<meta charset="utf-8">',
                "<title>Trendwatch demo feeds</title>",
                *links,
                "</head>",
                "<body>",
                "<h1>Trendwatch demo feeds</h1>",
                "<p>Fictional outlets and articles, served locally for",
                "<code>trendwatch demo</code>.</p>",
                "<ul>",
                *items,
                "</ul>",
                "</body>",
                "</html>",
                "",
            ]
        )
        return page.encode("utf-8")

    def _record(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((method, path, headers))

    def _resource(self, path: str) -> _Resource | None:
        if path == "/index.html":
            path = "/"
        return self._resources.get(path)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    demo: DemoServer

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "trendwatch-demo/1"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        demo = self.server.demo
        demo._record(self.command, self.path, dict(self.headers.items()))
        resource = demo._resource(urlsplit(self.path).path)
        self.close_connection = True
        if resource is None:
            body = b"Not found\n"
            self.send_response(HTTPStatus.NOT_FOUND)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return
        fresh = _not_modified(
            resource, self.headers.get_all("If-None-Match"), self.headers.get("If-Modified-Since")
        )
        self.send_response(HTTPStatus.NOT_MODIFIED if fresh else HTTPStatus.OK)
        self.send_header("ETag", resource.etag)
        self.send_header("Last-Modified", format_datetime(resource.last_modified, usegmt=True))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        if not fresh:
            self.send_header("Content-Type", resource.content_type)
            self.send_header("Content-Length", str(len(resource.body)))
        self.end_headers()
        if send_body and not fresh:
            self.wfile.write(resource.body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the demo prints its own progress."""


def _not_modified(resource: _Resource, if_none_match: list[str] | None, since: str | None) -> bool:
    """RFC 9110 §13.1: If-None-Match wins over If-Modified-Since when both are sent."""
    if if_none_match:
        tags = [t.strip() for value in if_none_match for t in value.split(",") if t.strip()]
        return "*" in tags or any(_weak(t) == _weak(resource.etag) for t in tags)
    if not since:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return resource.last_modified <= moment


def _weak(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag
