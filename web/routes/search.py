"""Search (``/search?q=``): full-text search over the articles, with filters.

Placeholder: answers 404 "not yet". The developer of the "Search" part of the web
issue replaces this module (keep ``routes``).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from web.routes import not_yet

routes: list[BaseRoute] = [Route("/search", not_yet, name="search")]
