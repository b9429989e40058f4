"""CSRF protection for the forms that a cookie authorises (the admin's, and any other
form whose POST relies on the session cookie).

A form carries the session's token (:func:`csrf_token`, made on first use; in a
template: ``{{ csrf_field() }}``), an htmx request may send it as the
``X-CSRF-Token`` header instead. A POST is accepted only when the token matches the
session's (constant-time compare) and, when the browser sends an ``Origin``, it is
this site's. The cookie is also SameSite=Strict, so another site's form never carries
it. Forms that a token in their URL authorises (the RFC 8058 one-click unsubscribe)
do not use this.

In a route::

    @csrf_protect                      # before the endpoint runs: 403 on a bad token
    async def save(request): form = request.state.form ...

or, in an ``async def`` endpoint, ``form = await checked_form(request)``.
"""

from __future__ import annotations

import functools
import hmac
from urllib.parse import urlsplit

from markupsafe import Markup, escape
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from web.endpoint import AsyncEndpoint, Endpoint, call_endpoint
from web.sessions import session_of
from web.state import app_state

FIELD = "csrf"
HEADER = "x-csrf-token"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
MAX_FORM_FIELDS = 1000
MAX_FORM_FILES = 0


def csrf_token(request: Request) -> str:
    """The session's CSRF token (a session cookie is set if there was none)."""
    return session_of(request).ensure_csrf(app_state(request).clock())


def csrf_field(request: Request) -> Markup:
    """The hidden input that carries the token, for a template."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD, escape(csrf_token(request))
    )


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # older browsers and non-browser clients send none; the token decides
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower() or _matches_base(request, origin)


def _matches_base(request: Request, origin: str) -> bool:
    base = app_state(request).settings.current().base_url
    if not base:
        return False
    parts = urlsplit(base)
    return origin.lower() == f"{parts.scheme}://{parts.netloc}".lower()


async def checked_form(request: Request) -> FormData:
    """The request's form, after the CSRF check; HTTPException 403 when it fails."""
    form = await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS)
    expected = session_of(request).csrf
    given = request.headers.get(HEADER) or form.get(FIELD)
    if (
        not expected
        or not isinstance(given, str)
        or not hmac.compare_digest(given.encode(), expected.encode())
        or not _same_origin(request)
    ):
        raise HTTPException(403, "csrf")
    return form


def csrf_protect(endpoint: Endpoint) -> AsyncEndpoint:
    """Check the CSRF token of every unsafe request before ``endpoint`` (sync or async)
    runs; the checked form is ``request.state.form``."""

    @functools.wraps(endpoint)
    async def checked(request: Request) -> Response:
        if request.method in UNSAFE_METHODS:
            request.state.form = await checked_form(request)
        return await call_endpoint(endpoint, request)

    return checked
