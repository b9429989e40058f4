"""The admin pages (``/admin``...): an overview, the watchlists edited with a live
preview (:mod:`web.routes.admin_watchlists`), the sources' health and adding a source
(:mod:`web.routes.admin_sources`), and the subscribers (here). Every endpoint is
wrapped in :func:`web.auth.require_admin`, and every form carries ``csrf_field()`` and
is checked with :mod:`web.csrf`. The pages hold personal data: ``noindex`` on each.

The subscribers page shows the config's subscribers with their deliveries, those who
signed up on the web, who unsubscribed and when (``pipeline/store/subscribers.py``), and
the deliveries that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pipeline.settings import Settings
from pipeline.status import status_data
from pipeline.store import Store
from pipeline.store.subscribers import ACTIVE, UNSUBSCRIBED
from web.auth import require_admin
from web.routes import admin_sources, admin_watchlists
from web.state import app_state, settings_of, store_of
from web.templating import render

FAILED_SHOWN = 100


@dataclass(frozen=True)
class WebSubscriber:
    """A subscriber who signed up on the web, as this page shows one."""

    email: str
    name: str
    language: str
    watchlists: tuple[str, ...]
    confirmed_at: datetime | None


@dataclass(frozen=True)
class Unsubscribed:
    """Someone who unsubscribed, and when."""

    email: str
    at: datetime


# --- subscribers of the web and unsubscribes (pipeline/store/subscribers.py) -----------


def web_subscribers(store: Store) -> list[WebSubscriber]:
    """The subscribers who signed up on the web and confirmed, oldest first."""
    return [
        WebSubscriber(r.email, r.name, r.language, r.watchlists, r.confirmed_at)
        for r in store.subscriber_records(ACTIVE)
    ]


def unsubscribed(store: Store) -> list[Unsubscribed]:
    """Who unsubscribed (config readers included), and when, newest first."""
    rows = [r for r in store.subscriber_records(UNSUBSCRIBED) if r.unsubscribed_at]
    return sorted(
        (Unsubscribed(r.email, r.unsubscribed_at) for r in rows if r.unsubscribed_at),
        key=lambda u: u.at,
        reverse=True,
    )


# --- the pages ---------------------------------------------------------------------------


def _source_summary(settings: Settings, store: Store, now: datetime) -> tuple[int, int]:
    """(sources, of which failing or disabled)."""
    store.sync_sources(settings.sources, now)
    sources = status_data(settings, store, now)["sources"]
    failing = sum(1 for s in sources if s["health"].startswith(("failing", "gone")))
    return len(sources), failing


def overview(request: Request) -> Response:
    settings = settings_of(request)
    store = store_of(request)
    total, failing = _source_summary(settings, store, app_state(request).clock())
    context = {
        "watchlists": len(settings.watchlists),
        "sources": total,
        "failing": failing,
        "subscribers": len(settings.subscribers) + len(web_subscribers(store)),
        "failed": len(store.failed_deliveries(FAILED_SHOWN)),
    }
    return render(request, "admin.html.j2", context, noindex=True)


def subscribers_page(request: Request) -> Response:
    """Who is subscribed to what, who unsubscribed and when, failed deliveries."""
    settings = settings_of(request)
    store = store_of(request)
    deliveries = {d.subscriber: d for d in store.deliveries_by_subscriber()}
    titles = {w.name: w.title for w in settings.watchlists}
    context = {
        "configured": [
            (s, settings.digest_time(s), deliveries.get(s.email)) for s in settings.subscribers
        ],
        "web": [(s, deliveries.get(s.email)) for s in web_subscribers(store)],
        "unsubscribed": unsubscribed(store),
        "failed": store.failed_deliveries(FAILED_SHOWN),
        "titles": titles,
    }
    return render(request, "admin_subscribers.html.j2", context, noindex=True)


routes: list[BaseRoute] = [
    Route("/admin", require_admin(overview), methods=["GET"], name="admin"),
    Route("/admin/subscribers", require_admin(subscribers_page), methods=["GET"]),
    *admin_watchlists.routes,
    *admin_sources.routes,
]
