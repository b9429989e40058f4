"""Watchlists (``/watchlists``, ``/watchlists/{name}``, ``/watchlists/{name}.atom``):
weekly counts as a chart, rising terms, the latest stories, an Atom feed.

Placeholder: answers 404 "not yet". The developer of the "Watchlists" part of the web
issue replaces this module (keep ``routes``).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from web.routes import not_yet

routes: list[BaseRoute] = [Route("/watchlists{rest:path}", not_yet, name="watchlists")]
