"""The home page (``/``): links to the archive, search, the watchlists and subscribing,
and the list of topics. No personal data."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from web.state import settings_of
from web.templating import render


def home(request: Request) -> Response:
    return render(request, "index.html.j2", {"watchlists": settings_of(request).watchlists})


routes: list[BaseRoute] = [Route("/", home, name="home")]
