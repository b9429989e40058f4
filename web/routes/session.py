"""The admin's sign-in (``GET``/``POST /admin/login``) and sign-out (``POST
/admin/logout``); who is admin is decided in :mod:`web.auth`.

A failed sign-in is counted per client address (:data:`web.state.AppState.login_limiter`:
10 per 15 minutes, then 429); a successful one renews the session (a new CSRF token
and the token's fingerprint), so nothing seen before signing in is worth anything after.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from web.auth import LOGIN_PATH, admin_token, fingerprint, is_admin, tokens_match
from web.csrf import checked_form
from web.security import client_address
from web.sessions import session_of
from web.state import app_state, settings_of, url
from web.templating import render

log = logging.getLogger("trendwatch.web")

LOGOUT_PATH = "/admin/logout"
DEFAULT_NEXT = "/admin"


def next_path(value: object) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and len(value) <= 2048
    ):
        return value
    return DEFAULT_NEXT


def login_page(request: Request) -> Response:
    """The form (or straight on when already admin)."""
    target = next_path(request.query_params.get("next"))
    if is_admin(request):
        return RedirectResponse(url(request, target), status_code=303)
    return _form(request, target)


def _form(request: Request, target: str, *, error: str = "", status: int = 200) -> Response:
    settings = settings_of(request)
    context = {
        "next_path": target,
        "error": error,
        "configured": admin_token(settings) is not None,
        "tokenless": not settings.web.admin_token_env,
    }
    return render(request, "login.html.j2", context, status_code=status, noindex=True)


async def login(request: Request) -> Response:
    """Check the token; on success a new session as admin."""
    form = await checked_form(request)
    state = app_state(request)
    settings = state.settings.current()
    target = next_path(form.get("next"))
    token = admin_token(settings)
    address = client_address(request, settings.web.trusted_proxies)
    if not state.login_limiter.allowed(address):
        return _form(request, target, error="login.too_many", status=429)
    given = form.get("token")
    if token is None or not isinstance(given, str) or not tokens_match(given, token):
        state.login_limiter.hit(address)
        log.warning("admin: failed sign-in from %s", address)
        return _form(request, target, error="login.wrong", status=403)
    state.login_limiter.reset(address)
    session_of(request).renew(state.clock(), admin=fingerprint(state.settings.secret(), token))
    log.info("admin: signed in from %s", address)
    return RedirectResponse(url(request, target), status_code=303)


async def logout(request: Request) -> Response:
    """A fresh session without admin."""
    await checked_form(request)
    session_of(request).renew(app_state(request).clock())
    return RedirectResponse(url(request, "/"), status_code=303)


routes: list[BaseRoute] = [
    Route(LOGIN_PATH, login_page, methods=["GET"], name="login_page"),
    Route(LOGIN_PATH, login, methods=["POST"], name="login"),
    Route(LOGOUT_PATH, logout, methods=["POST"], name="logout"),
]
