"""The session cookie, CSRF refusal, the admin's sign-in (token compared in constant time,
cookie flags, rate limit), require_admin, and the local browser without a token."""

from __future__ import annotations

import hmac
import re
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from httpx import Response
from starlette.testclient import TestClient

from web import auth
from web.sessions import COOKIE, Session, load_session, sign, signing_key
from web_support import (
    ADMIN_ENV,
    ADMIN_TOKEN,
    LOCAL,
    NOW,
    SECRET,
    Clock,
    app_for,
    client,
    write_config,
)

WITH_TOKEN = f'[web]\nadmin_token_env = "{ADMIN_ENV}"\n'


@pytest.fixture
def admin_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ADMIN_ENV, ADMIN_TOKEN)
    return write_config(tmp_path, web=WITH_TOKEN)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found[1]


def set_cookie(response: Response) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        cookie.load(header)
    return cookie


def sign_in(web: TestClient, token: str = ADMIN_TOKEN, **headers: str) -> Response:
    page = web.get("/admin/login?next=/admin")
    assert page.status_code == 200
    return web.post(
        "/admin/login",
        data={"csrf": csrf_of(page.text), "token": token, "next": "/admin"},
        headers=headers,
    )


# --- the admin's sign-in -------------------------------------------------------------


def test_admin_pages_send_strangers_to_sign_in(admin_config: Path) -> None:
    with client(app_for(admin_config)) as web:
        response = web.get("/admin")
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/login?next=/admin"
        assert web.head("/admin").status_code == 303


def test_the_right_token_signs_in_with_a_strict_cookie(admin_config: Path) -> None:
    with client(app_for(admin_config)) as web:
        response = sign_in(web)
        assert response.status_code == 303 and response.headers["location"] == "/admin"
        morsel = set_cookie(response)[COOKIE]
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Strict"
        assert morsel["path"] == "/"
        assert not morsel["secure"]  # base_url is not https
        assert "lezer" not in morsel.value  # no personal data in it
        assert web.get("/admin").status_code == 200  # in: the admin overview
        assert "Beheer" in web.get("/").text  # the admin link in the navigation


def test_the_cookie_is_secure_when_base_url_is_https(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ADMIN_ENV, ADMIN_TOKEN)
    config = write_config(tmp_path, web=WITH_TOKEN, top='base_url = "https://digest.example.org"')
    with client(app_for(config), base_url="https://digest.example.org") as web:
        morsel = set_cookie(web.get("/admin/login"))[COOKIE]
        assert morsel["secure"] is True and morsel["httponly"] is True
        assert morsel["samesite"] == "Strict"
        assert sign_in(web).status_code == 303


def test_a_wrong_token_is_refused(admin_config: Path) -> None:
    with client(app_for(admin_config)) as web:
        response = sign_in(web, token=ADMIN_TOKEN[:-1] + "X")
        assert response.status_code == 403
        assert "Dat token klopt niet." in response.text
        assert web.get("/admin").status_code == 303  # still out
        assert sign_in(web, token="").status_code == 403


def test_the_token_is_compared_in_constant_time(
    admin_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert auth.tokens_match(ADMIN_TOKEN, ADMIN_TOKEN)
    assert not auth.tokens_match("short", ADMIN_TOKEN)
    # both sides hashed first: the same length whatever was typed
    assert [len(a) == len(b) == 32 for a, b in compared] == [True, True]
    compared.clear()
    with client(app_for(admin_config)) as web:
        sign_in(web, token="wrong")
    assert any(len(a) == len(b) == 32 for a, b in compared)


def test_failed_sign_ins_are_rate_limited_per_client_address(admin_config: Path) -> None:
    app = app_for(admin_config)
    with client(app) as web:
        for _ in range(10):
            assert sign_in(web, token="wrong").status_code == 403
        assert sign_in(web).status_code == 429  # even the right token, for now
    with client(app, peer=("198.51.100.9", 1)) as other:
        assert sign_in(other).status_code == 303


def test_signing_out_ends_the_session(admin_config: Path) -> None:
    with client(app_for(admin_config)) as web:
        sign_in(web)
        page = web.get("/")
        response = web.post("/admin/logout", data={"csrf": csrf_of(page.text)})
        assert response.status_code == 303 and response.headers["location"] == "/"
        assert web.get("/admin").status_code == 303


def test_a_new_token_signs_everyone_out(
    admin_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with client(app_for(admin_config)) as web:
        sign_in(web)
        assert web.get("/admin").status_code == 200
        monkeypatch.setenv(ADMIN_ENV, "another-token-of-enough-length")
        assert web.get("/admin").status_code == 303


def test_sessions_expire(admin_config: Path) -> None:
    clock = Clock()
    with client(app_for(admin_config, clock)) as web:
        sign_in(web)
        clock.advance(timedelta(hours=11))
        assert web.get("/admin").status_code == 200
        clock.advance(timedelta(hours=2))
        assert web.get("/admin").status_code == 303


def test_no_usable_token_means_no_admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path, web=WITH_TOKEN)
    monkeypatch.setenv(ADMIN_ENV, "too-short")
    with client(app_for(config), peer=LOCAL) as web:  # not even from this machine
        page = web.get("/admin/login")
        assert "Er is geen beheerderstoken ingesteld" in page.text
        assert web.get("/admin").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_open_redirects_are_refused(admin_config: Path, target: str) -> None:
    with client(app_for(admin_config)) as web:
        page = web.get("/admin/login")
        response = web.post(
            "/admin/login",
            data={"csrf": csrf_of(page.text), "token": ADMIN_TOKEN, "next": target},
        )
        assert response.headers["location"] == "/admin"
        assert web.get(f"/admin/login?next={target}").headers["location"] == "/admin"


# --- without a token: the browser on this machine -------------------------------------


def test_without_a_token_only_a_local_browser_is_admin(config: Path) -> None:
    app = app_for(config)
    with client(app, peer=LOCAL) as web:
        assert web.get("/admin").status_code == 200  # in
        assert web.get("/admin/login?next=/x").headers["location"] == "/x"  # no form needed
        # through a proxy on this machine, or a page that rebound its DNS name: out
        assert web.get("/admin", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 403
        assert web.get("/admin", headers={"Host": "evil.example"}).status_code == 403
    with client(app) as web:
        assert web.get("/admin").status_code == 403


# --- CSRF ----------------------------------------------------------------------------


def test_posts_without_the_sessions_token_are_refused(admin_config: Path) -> None:
    with client(app_for(admin_config)) as web:
        form = {"token": ADMIN_TOKEN, "next": "/admin"}
        # no session at all
        refused = web.post("/admin/login", data=form)
        assert refused.status_code == 403
        assert "Het formulier is verlopen of komt niet van deze site" in refused.text
        token = csrf_of(web.get("/admin/login").text)
        # a wrong token, an empty one, another session's
        assert web.post("/admin/login", data={**form, "csrf": token[:-2]}).status_code == 403
        assert web.post("/admin/login", data={**form, "csrf": ""}).status_code == 403
        with client(web.app) as other:
            theirs = csrf_of(other.get("/admin/login").text)
        assert web.post("/admin/login", data={**form, "csrf": theirs}).status_code == 403
        # the right token from another site's page
        evil = {"Origin": "https://evil.example"}
        assert (
            web.post("/admin/login", data={**form, "csrf": token}, headers=evil).status_code == 403
        )
        # the right token, this site: in; or as htmx sends it, in a header
        ok = web.post(
            "/admin/login",
            data={**form, "csrf": token},
            headers={"Origin": "http://127.0.0.1:8080"},
        )
        assert ok.status_code == 303
        token = csrf_of(web.get("/").text)  # signing in made a new session
        assert web.post("/admin/logout", headers={"X-CSRF-Token": token}).status_code == 303


def test_a_token_seen_before_signing_in_is_worthless_after(admin_config: Path) -> None:
    with client(app_for(admin_config)) as web:
        before = csrf_of(web.get("/admin/login").text)
        sign_in(web)
        assert web.post("/admin/logout", data={"csrf": before}).status_code == 403


# --- the cookie itself ---------------------------------------------------------------


def test_forged_and_expired_cookies_count_as_none() -> None:
    key = signing_key(SECRET.encode())
    good = Session(csrf="c" * 43, admin="f" * 32, issued=int(NOW.timestamp()))
    value = sign(key, good.payload())
    assert load_session(key, value, NOW) == good
    body, mac = value.split(".")
    forged = sign(signing_key(b"another secret of enough length"), good.payload())
    for bad in (forged, body + "." + mac[:-2], "x" * 2000, "a.b.c", "", body):
        assert load_session(key, bad, NOW) == Session(), bad
    assert load_session(key, value, NOW + timedelta(hours=13)) == Session()
    assert load_session(key, value, NOW - timedelta(minutes=1)) == Session()
