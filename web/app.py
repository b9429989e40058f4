"""The application: :func:`create_app` builds the Starlette app that ``trendwatch serve``
runs on uvicorn.

Requests pass, outermost first: :class:`~web.security.SecurityHeaders` (the headers of
every response), :class:`~web.security.BodyLimit` (1 MiB),
:class:`~web.sessions.SessionMiddleware` (the signed session cookie),
Starlette's exception handling (every error is a page in the reader's language:
:func:`error_page`), then the routes: ``/static`` (this package's ``static`` folder)
and the ``routes`` of every module in :data:`ROUTE_MODULES`, in that order.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.staticfiles import StaticFiles

from web import i18n
from web.routes import admin, archive, home, search, session, stories, subscribe, watchlists
from web.security import CSP, HEADERS, BodyLimit, SecurityHeaders
from web.sessions import SessionMiddleware
from web.state import AppState, LiveSettings, url, utcnow
from web.templating import language, render

log = logging.getLogger("trendwatch.web")

STATIC = Path(__file__).parent / "static"
# One module per area; each has ``routes``. Add a new area's module here.
ROUTE_MODULES = (home, archive, session, search, stories, watchlists, subscribe, admin)


def routes() -> list[BaseRoute]:
    found: list[BaseRoute] = [Mount("/static", app=StaticFiles(directory=STATIC), name="static")]
    for module in ROUTE_MODULES:
        found.extend(module.routes)
    return found


def message_key(status: int, detail: str) -> str:
    """The string that explains an error: ``error.<status>.<detail>`` if there is one
    (``error.403.csrf``), else ``error.<status>``, else the one for its class."""
    table = i18n.STRINGS["en"]
    for key in (f"error.{status}.{detail}", f"error.{status}"):
        if key in table:
            return key
    return "error.400" if 400 <= status < 500 else "error.500"


def without_slash(request: Request) -> str | None:
    """For a GET or HEAD of ``/watchlists/`` that no route answers: the link to
    ``/watchlists`` (its query kept) if a route answers that, else None. Starlette's
    own redirect would build an absolute URL from the Host header and lose the folder
    of ``base_url`` behind a proxy; this one goes through :func:`web.state.url`."""
    path = request.url.path
    if request.method not in ("GET", "HEAD") or len(path) < 2 or not path.endswith("/"):
        return None
    scope = {**request.scope, "path": path.rstrip("/")}
    if not any(r.matches(scope)[0] is Match.FULL for r in request.app.router.routes):
        return None
    query = request.url.query
    return url(request, scope["path"]) + (f"?{query}" if query else "")


async def error_page(request: Request, exc: Exception) -> Response:
    """An HTTPException as a page (its headers kept: Allow, Retry-After); a path with
    a trailing slash that only answers without one is redirected there."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404 and (target := without_slash(request)) is not None:
        return RedirectResponse(target, status_code=308)
    key = message_key(exc.status_code, str(exc.detail))
    context = {"status": exc.status_code, "message": i18n.t(language(request), key)}
    headers = dict(exc.headers or {})
    return render(request, "error.html.j2", context, status_code=exc.status_code, headers=headers)


async def server_error(request: Request, exc: Exception) -> Response:
    """A failure: logged by uvicorn; the reader gets a plain page. Sent outside the
    middleware, so it carries the security headers itself."""
    headers = {"Content-Security-Policy": CSP, **HEADERS}
    try:
        return render(
            request,
            "error.html.j2",
            {"status": 500, "message": i18n.t(language(request), "error.500")},
            status_code=500,
            headers=headers,
        )
    except Exception:  # the page itself failed: plain text
        log.exception("web: the error page failed")
        return PlainTextResponse("500 Internal Server Error", status_code=500, headers=headers)


def create_app(settings_path: Path, *, clock: Callable[[], datetime] = utcnow) -> Starlette:
    """The web application for the config file ``settings_path`` (read now: a bad file
    raises ConfigError; read again whenever it changes). ``clock``: the time sessions
    are issued and checked with (tests pass their own)."""
    state = AppState(settings=LiveSettings(Path(settings_path)), clock=clock)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings = state.settings.current()
        log.info("web: serving %s (archive %s)", settings.path, settings.archive_dir)
        yield

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(BodyLimit),
            Middleware(SessionMiddleware),
        ],
        exception_handlers={HTTPException: error_page, Exception: server_error},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # error_page does it, below base_url's folder
    app.state.trendwatch = state
    return app
