"""The admin: who it is, signing in and out, and :func:`require_admin` for admin routes.

The admin token lives in the environment variable that ``[web] admin_token_env``
names (at least :data:`MIN_TOKEN_LENGTH` characters). Three cases:

- ``admin_token_env`` is not set: there is no token, and only a browser on this
  machine is admin (:func:`web.security.is_local_request`: loopback peer, no proxy
  headers, a loopback Host), without signing in;
- it is set and its variable holds a token: the login form (``/admin/login``) compares
  the token given with it in constant time (:func:`tokens_match`) and, when they match,
  renews the session with the token's fingerprint (:mod:`web.sessions`); a new token
  signs everyone out. Failed attempts are rate-limited per client address;
- it is set but the variable is empty or too short: nobody is admin (logged once).

The login and logout routes are in :mod:`web.routes.session`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pipeline.settings import Settings
from web.endpoint import AsyncEndpoint, Endpoint, call_endpoint
from web.security import is_local_request
from web.sessions import session_of, signing_key
from web.state import app_state, settings_of, url

log = logging.getLogger("trendwatch.web")

MIN_TOKEN_LENGTH = 16
MAX_TOKEN_LENGTH = 1024
LOGIN_PATH = "/admin/login"
_FINGERPRINT_TAG = b"trendwatch-web-admin-v1"
_warned: set[str] = set()


def admin_token(settings: Settings) -> str | None:
    """The configured admin token; None when there is none (or it is unusable)."""
    name = settings.web.admin_token_env
    if not name:
        return None
    token = os.environ.get(name, "")
    if len(token) < MIN_TOKEN_LENGTH or len(token) > MAX_TOKEN_LENGTH:
        if name not in _warned:
            _warned.add(name)
            log.error(
                "admin: environment variable %s must hold a token of %d to %d characters;"
                " nobody can sign in as admin",
                name,
                MIN_TOKEN_LENGTH,
                MAX_TOKEN_LENGTH,
            )
        return None
    return token


def tokens_match(given: str, expected: str) -> bool:
    """Whether ``given`` is ``expected``, in time independent of where they differ (and
    of their lengths: both are hashed first)."""
    a = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    b = hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(a, b)


def fingerprint(secret: bytes, token: str) -> str:
    """What a signed-in session keeps of the token: it changes when the token does."""
    key = signing_key(secret, _FINGERPRINT_TAG)
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()[:32]


def is_admin(request: Request) -> bool:
    """Whether the request comes from the admin (see the module docstring)."""
    settings = settings_of(request)
    if not settings.web.admin_token_env:
        return is_local_request(request, settings.web.trusted_proxies)
    token = admin_token(settings)
    session = session_of(request).admin
    if token is None or not session:
        return False
    expected = fingerprint(app_state(request).settings.secret(), token)
    return hmac.compare_digest(session.encode(), expected.encode())


def require_admin(endpoint: Endpoint) -> AsyncEndpoint:
    """Let only the admin reach ``endpoint`` (sync or async). Others get a redirect to
    the login form (GET and HEAD) or 403."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if not is_admin(request):
            if request.method in ("GET", "HEAD") and settings_of(request).web.admin_token_env:
                target = url(request, f"{LOGIN_PATH}?next={quote(request.url.path)}")
                return RedirectResponse(target, status_code=303)
            raise HTTPException(403, "admin")
        return await call_endpoint(endpoint, request)

    return guarded
