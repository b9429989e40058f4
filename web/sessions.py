"""The session cookie: a signed, HttpOnly, SameSite=Strict cookie that holds no personal
data, only a CSRF token, whether the holder signed in as admin, and when it was issued.

The cookie value is ``<payload>.<mac>``, both base64url without padding: ``payload`` is
JSON ``{"v": 1, "csrf": ..., "admin": ..., "iat": ...}`` and ``mac`` is HMAC-SHA256
over it with a key derived from the instance secret
(:func:`pipeline.digest.secret.token_secret`) for this purpose only. A cookie with a
bad MAC, of another version, or older than :data:`SESSION_LIFETIME` counts as none.
``admin`` is a fingerprint of the admin token it was signed in with, so changing the
token signs every admin out.

:class:`SessionMiddleware` reads the cookie into a :class:`Session` on each request
(:func:`session_of`) and writes it back when a route changed it: creating the CSRF
token (:mod:`web.csrf`), signing in or out (:mod:`web.auth`). ``Secure`` is set when
``base_url`` is https.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.state import app_state

COOKIE = "tw_session"
SESSION_LIFETIME = timedelta(hours=12)
SCOPE_KEY = "trendwatch.session"
_KEY_TAG = b"trendwatch-web-session-v1"
_MAX_COOKIE = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def signing_key(secret: bytes, purpose: bytes = _KEY_TAG) -> bytes:
    """A key for one purpose, derived from the instance secret."""
    return hmac.new(secret, purpose, hashlib.sha256).digest()


def sign(key: bytes, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(key: bytes, value: str) -> dict[str, Any] | None:
    """The payload of a value made by :func:`sign` with ``key``; None if forged or broken."""
    if len(value) > _MAX_COOKIE or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    given = _unb64(mac)
    expected = hmac.new(key, body.encode("ascii", "replace"), hashlib.sha256).digest()
    if given is None or not hmac.compare_digest(given, expected):
        return None
    raw = _unb64(body)
    try:
        payload = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


@dataclass
class Session:
    """One browser's session; ``changed`` makes the middleware write the cookie."""

    csrf: str = ""
    admin: str = ""  # fingerprint of the admin token signed in with ("" = not admin)
    issued: int = 0  # POSIX seconds
    changed: bool = False

    def ensure_csrf(self, now: datetime) -> str:
        """The CSRF token, made (with a fresh session) on first use."""
        if not self.csrf:
            self.renew(now)
        return self.csrf

    def renew(self, now: datetime, *, admin: str = "") -> None:
        """A new session: new CSRF token, new issue time (after sign-in and sign-out, so
        a token seen before is worth nothing after)."""
        self.csrf = secrets.token_urlsafe(32)
        self.admin = admin
        self.issued = int(now.timestamp())
        self.changed = True

    def payload(self) -> dict[str, Any]:
        return {"v": 1, "csrf": self.csrf, "admin": self.admin, "iat": self.issued}


def load_session(key: bytes, cookie: str | None, now: datetime) -> Session:
    """The session a cookie holds, or an empty one (none, forged, expired)."""
    payload = unsign(key, cookie) if cookie else None
    if payload is None or payload.get("v") != 1:
        return Session()
    csrf, admin, issued = payload.get("csrf"), payload.get("admin"), payload.get("iat")
    if not (isinstance(csrf, str) and isinstance(admin, str) and isinstance(issued, int)):
        return Session()
    age = now.timestamp() - issued
    if not 0 <= age <= SESSION_LIFETIME.total_seconds():
        return Session()
    return Session(csrf=csrf, admin=admin, issued=issued)


def session_of(conn: HTTPConnection) -> Session:
    """The request's session (installed by :class:`SessionMiddleware`)."""
    session: Session = conn.scope[SCOPE_KEY]
    return session


def cookie_header(value: str, *, secure: bool, max_age: int) -> str:
    """The Set-Cookie value: HttpOnly, SameSite=Strict, Path=/, Secure over https."""
    parts = [f"{COOKIE}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Strict"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


class SessionMiddleware:
    """Reads the session cookie before the route runs; writes it when it changed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        state = app_state(conn)
        settings = state.settings.current()
        key = signing_key(state.settings.secret())
        session = load_session(key, conn.cookies.get(COOKIE), state.clock())
        scope[SCOPE_KEY] = session
        secure = (settings.base_url or "").startswith("https://")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.changed:
                headers = MutableHeaders(scope=message)
                if session.csrf:
                    value = sign(key, session.payload())
                    max_age = int(SESSION_LIFETIME.total_seconds())
                else:
                    value, max_age = "", 0
                headers.append("Set-Cookie", cookie_header(value, secure=secure, max_age=max_age))
                headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_cookie)
