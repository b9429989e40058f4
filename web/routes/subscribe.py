"""Subscriptions: the subscribe form with double opt-in (``/subscribe``), preferences
(``/manage/{token}``) and unsubscribe (``/unsubscribe/{token}``, with the RFC 8058
one-click POST).

Placeholder: answers 404 "not yet". The developer of the "Subscriptions" part of the
web issue replaces this module (keep ``routes``); :class:`web.ratelimit.RateLimiter`
and :func:`web.security.client_address` are there for the rate limit.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from web.routes import not_yet

routes: list[BaseRoute] = [Route("/subscribe", not_yet, name="subscribe")]
