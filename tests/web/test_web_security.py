"""Security headers on every response; the client's address behind trusted proxies; the
local-browser rule; the rate limiter."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from httpx import Response
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from web.ratelimit import RateLimiter
from web.security import ARCHIVE_CSP, CSP, client_address, is_local_request, resolve_client
from web.state import settings_of
from web_support import LOCAL, REMOTE, app_for, client, edition, write_archive, write_config

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
PATHS = (
    "/",
    "/?lang=en",
    "/archive",
    "/archive/",
    "/archive/index.html",
    "/archive/2026/W48/nl-thuiswerken.html",
    "/archive/feed.xml",
    "/archive/nope.html",
    "/search?q=x",
    "/stories/1",
    "/watchlists/thuiswerken",
    "/subscribe",
    "/admin",
    "/admin/login",
    "/static/style.css",
    "/static/htmx.min.js",
    "/does/not/exist",
)


def assert_secure(response: Response, path: str) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (path, name)
    policy = response.headers["content-security-policy"]
    assert policy in (CSP, ARCHIVE_CSP), path
    assert "unsafe-inline" not in policy.split("style-src")[0], path  # never for scripts
    assert "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy


def test_the_policy_is_the_one_asked_for() -> None:
    assert CSP == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:;"
        " frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    assert "script-src" not in ARCHIVE_CSP and "default-src 'none'" in ARCHIVE_CSP


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
def test_every_route_answers_with_the_security_headers(
    tmp_path: Path, config: Path, method: str
) -> None:
    write_archive(tmp_path / "data" / "archive", [edition("https://digest.example.org")])
    with client(app_for(config)) as web:
        for path in PATHS:
            response = web.request(method, path)
            assert response.status_code < 500, (method, path)
            assert_secure(response, path)


def test_archive_pages_get_the_archive_policy_the_site_its_own(
    tmp_path: Path, config: Path
) -> None:
    write_archive(tmp_path / "data" / "archive", [edition(None)])
    with client(app_for(config)) as web:
        archive = web.get("/archive/2026/W48/nl-thuiswerken.html")
        home = web.get("/")
    assert archive.status_code == 200 and "Thuiswerken blijft populair" in archive.text
    assert archive.headers["content-security-policy"] == ARCHIVE_CSP
    assert home.headers["content-security-policy"] == CSP


def test_a_failing_page_is_a_500_page_with_the_headers_too(config: Path) -> None:
    app = app_for(config)

    def boom(request: Request) -> None:
        raise RuntimeError("boom")

    app.router.routes.append(Route("/boom", boom))
    with TestClient(app, raise_server_exceptions=False) as web:
        response = web.get("/boom")
    assert response.status_code == 500
    assert "RuntimeError" not in response.text and "Er ging iets mis" in response.text
    assert_secure(response, "/boom")


# --- the client's address ------------------------------------------------------------

PROXIES = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.7", [], "203.0.113.7"),
        # an untrusted peer cannot choose its address
        ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),
        # a trusted proxy: the address it saw
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        # a client's own X-Forwarded-For is left of what the proxy added
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),
        # a chain of trusted proxies is walked
        ("127.0.0.1", ["198.51.100.1, 10.1.2.3"], "198.51.100.1"),
        # garbage: the last trusted hop
        ("127.0.0.1", ["not-an-address"], "127.0.0.1"),
        ("127.0.0.1", ["<script>, 10.1.2.3"], "10.1.2.3"),
        ("127.0.0.1", [], "127.0.0.1"),
        # ports and brackets
        ("127.0.0.1", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("127.0.0.1", ["198.51.100.1:1234"], "198.51.100.1"),
        (None, [], "unknown"),
    ],
)
def test_resolve_client(peer: str | None, forwarded: list[str], expected: str) -> None:
    assert resolve_client(peer, forwarded, PROXIES) == expected


def test_no_trusted_proxies_means_the_peer_always() -> None:
    assert resolve_client("127.0.0.1", ["198.51.100.1"], ()) == "127.0.0.1"


def _request(peer: tuple[str, int], headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "client": peer, "headers": raw, "method": "GET"})


@pytest.mark.parametrize(
    ("peer", "headers", "proxies", "local"),
    [
        (LOCAL, {"host": "127.0.0.1:8080"}, (), True),
        (LOCAL, {"host": "localhost:8080"}, (), True),
        (("::1", 1), {"host": "[::1]:8080"}, (), True),
        (REMOTE, {"host": "127.0.0.1:8080"}, (), False),
        # through a proxy on this machine
        (LOCAL, {"host": "127.0.0.1:8080", "x-forwarded-for": "203.0.113.7"}, (), False),
        (LOCAL, {"host": "127.0.0.1:8080", "forwarded": "for=203.0.113.7"}, (), False),
        (LOCAL, {"host": "127.0.0.1:8080"}, PROXIES, False),
        # a DNS-rebinding page has its own host name
        (LOCAL, {"host": "evil.example:8080"}, (), False),
        (LOCAL, {}, (), False),
    ],
)
def test_is_local_request(
    peer: tuple[str, int], headers: dict[str, str], proxies: tuple, local: bool
) -> None:
    assert is_local_request(_request(peer, headers), proxies) is local


def test_client_address_behind_a_trusted_proxy_through_the_app(tmp_path: Path) -> None:
    config = write_config(tmp_path, web='[web]\ntrusted_proxies = ["127.0.0.1"]\n')
    seen: list[str] = []

    def whoami(request: Request) -> PlainTextResponse:
        seen.append(client_address(request, settings_of(request).web.trusted_proxies))
        return PlainTextResponse("ok")

    app = app_for(config)
    app.router.routes.append(Route("/whoami", whoami))
    with client(app, peer=LOCAL) as web:
        web.get("/whoami", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.1"})
    with client(app, peer=REMOTE) as web:
        web.get("/whoami", headers={"X-Forwarded-For": "198.51.100.1"})
    assert seen == ["198.51.100.1", "203.0.113.7"]


# --- the rate limiter ----------------------------------------------------------------


class Tick:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_allows_limit_hits_in_any_window_per_key() -> None:
    tick = Tick()
    limiter = RateLimiter(3, 60, clock=tick)
    for _ in range(3):  # hits at 0, 10 and 20 s
        assert limiter.hit("a")
        tick.now += 10
    assert not limiter.hit("a") and not limiter.allowed("a")  # at 30 s
    assert limiter.hit("b")  # another key has its own count
    assert limiter.retry_after("a") == 30  # the hit at 0 s leaves the window at 60 s
    tick.now += 30  # 60 s: one place free, refused hits did not count
    assert limiter.allowed("a") and limiter.retry_after("a") == 0
    assert limiter.hit("a") and not limiter.hit("a")
    assert limiter.retry_after("a") == 10
    limiter.reset("a")
    assert limiter.hit("a")


def test_rate_limiter_keeps_a_bounded_number_of_keys() -> None:
    tick = Tick()
    limiter = RateLimiter(1, 10, clock=tick, max_keys=100)
    for n in range(1000):
        limiter.hit(f"k{n}")
        tick.now += 0.001
    assert len(limiter) == 100
    assert limiter.hit("k0")  # dropped, so counted afresh
    with pytest.raises(ValueError):
        RateLimiter(0, 10)
