"""Subscriptions: the subscribe form with double opt-in (``/subscribe``, ``/confirm/{token}``),
preferences (``/manage/{token}``) and unsubscribe (``/unsubscribe/{token}``, with the
RFC 8058 one-click POST).

- ``GET /subscribe`` shows the form (address, name, language, the config's watchlists,
  the digest's weekday, a consent line); its ``POST`` (CSRF-checked, rate-limited per
  address and per client address) keeps the request and mails a confirmation link
  that works once for 3 days. The answer is the same page whatever the address (known,
  unknown, unsubscribed): nothing tells who subscribes.
- ``GET /confirm/{token}`` shows what would be confirmed and a button; the ``POST``
  (CSRF) confirms: only then is the subscription active.
- ``GET /unsubscribe/{token}`` shows a button; the ``POST`` unsubscribes at once. That
  POST is also the one-click of RFC 8058 (``List-Unsubscribe=One-Click``, sent by mail
  clients): its token authorises it, so it needs no cookie and no CSRF field, and it
  answers 200 with a page, never a redirect. An unsubscribe raises the subscriber's
  token version: every link made before stops working. Repeating it answers the same.
- ``GET /manage/{token}`` shows the preferences (a form for a web subscriber; the
  config's entry, read only, for the config's) and an unsubscribe button; the ``POST``
  (CSRF) saves them.

A GET never changes anything (mail scanners open links). Links that do not work get a
clear page (:func:`link_problem`): forged or naming nobody (404), expired (410), used
or made before an unsubscribe (410). Every token page is ``noindex`` and ``no-store``.
The decisions are :mod:`pipeline.subscriptions`'; the forms are read by
:mod:`web.subscribe_form`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digests.confirmation import weekday_name
from digests.deliver import DeliveryError
from digests.tokens import CONFIRM, MANAGE, UNSUBSCRIBE, Verdict, make_token
from pipeline import subscriptions
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.subscribers import Preferences, email_key
from web import i18n
from web.csrf import csrf_protect
from web.ratelimit import RateLimiter
from web.security import client_address
from web.state import app_state, settings_of, store_of, url
from web.subscribe_form import FormResult, read_preferences, read_subscription
from web.templating import language, render

log = logging.getLogger("trendwatch.web")

PER_ADDRESS = (3, 3600.0)  # subscribe requests per address per hour
PER_CLIENT = (10, 3600.0)  # per client address (behind [web] trusted_proxies) per hour
TOKEN_PAGE = {"Cache-Control": "no-store"}
_limits_lock = threading.Lock()


@dataclass
class SubscribeLimits:
    """The rate limits of the subscribe form, one set per application."""

    per_address: RateLimiter = field(default_factory=lambda: RateLimiter(*PER_ADDRESS))
    per_client: RateLimiter = field(default_factory=lambda: RateLimiter(*PER_CLIENT))


def limits_of(request: Request) -> SubscribeLimits:
    """The application's :class:`SubscribeLimits` (made on first use; a test may set
    ``app.state.subscribe_limits`` first, with its own clock)."""
    with _limits_lock:
        limits = getattr(request.app.state, "subscribe_limits", None)
        if limits is None:
            limits = request.app.state.subscribe_limits = SubscribeLimits()
    assert isinstance(limits, SubscribeLimits)
    return limits


# --- what the pages show ---------------------------------------------------------------


def _choices(request: Request, settings: Settings) -> dict[str, Any]:
    """The form's options: watchlists, weekdays, the digest's time and time zone."""
    lang = language(request)
    return {
        "watchlists": [(w.name, w.title) for w in settings.watchlists],
        "weekdays": [(day, weekday_name(day, lang)) for day in range(7)],
        "at": f"{settings.schedule.digest_time:%H:%M}",
        "timezone": settings.schedule.timezone,
    }


def _summary(request: Request, settings: Settings, prefs: Preferences) -> dict[str, str]:
    """Preferences as words: the watchlists' titles, the weekday, time and language."""
    lang = language(request)
    titles = {w.name: w.title for w in settings.watchlists}
    weekday = prefs.digest_weekday
    day = settings.schedule.digest_weekday if weekday is None else weekday
    return {
        "watchlists": ", ".join(titles.get(name, name) for name in prefs.watchlists),
        "weekday": weekday_name(day, lang),
        "at": f"{settings.schedule.digest_time:%H:%M}",
        "language": i18n.t(lang, f"subscribe.language.{prefs.language}"),
    }


def _token_page(
    request: Request, name: str, context: dict[str, Any], status: int = 200
) -> Response:
    return render(request, name, context, status_code=status, headers=TOKEN_PAGE, noindex=True)


def link_problem(
    request: Request, verdict: Verdict, purpose: str, *, active: bool = True
) -> Response:
    """The page of a link that does not work: forged (404), expired (410), used or
    replaced (a confirmation), from before an unsubscribe, or from an older mail (410)."""
    status, message = 410, "subscribe.link.old"
    if verdict is Verdict.FORGED:
        status, message = 404, "subscribe.link.invalid"
    elif verdict is Verdict.EXPIRED:
        message = "subscribe.link.expired"
    elif purpose == CONFIRM:
        message = "subscribe.link.used"
    elif not active:
        message = "subscribe.link.unsubscribed"
    context = {
        "heading": "subscribe.link.title",
        "message": message,
        "role": "alert",
        "link": "subscribe.link.subscribe",
    }
    return _token_page(request, "subscribe_link.html.j2", context, status)


def _unsubscribed(request: Request) -> Response:
    """You are unsubscribed (now or before): 200, so a repeated one-click POST succeeds."""
    context = {
        "heading": "subscribe.unsubscribe.title",
        "message": "subscribe.unsubscribe.done",
        "role": "status",
        "link": "subscribe.unsubscribe.again",
    }
    return _token_page(request, "subscribe_link.html.j2", context)


# --- /subscribe ------------------------------------------------------------------------


def _form_page(
    request: Request, result: FormResult | None = None, *, message: str = "", status: int = 200
) -> Response:
    settings = settings_of(request)
    values = result.values if result else {}
    context = {
        **_choices(request, settings),
        "values": {
            "email": values.get("email", ""),
            "name": values.get("name", ""),
            "language": values.get("language", language(request)),
            "watchlists": values.get("watchlists", []),
            "weekday": values.get("weekday", str(settings.schedule.digest_weekday)),
            "consent": values.get("consent", False),
        },
        "errors": result.errors if result else {},
        "message": message,
        "unavailable": not settings.base_url,
        "consent": i18n.t(language(request), "subscribe.consent", title=settings.digest_title),
    }
    return render(request, "subscribe.html.j2", context, status_code=status)


def subscribe_page(request: Request) -> Response:
    return _form_page(request)


def _too_many(request: Request, limiter: RateLimiter, key: str, result: FormResult) -> Response:
    response = _form_page(request, result, message="subscribe.too_many", status=429)
    response.headers["Retry-After"] = str(max(1, round(limiter.retry_after(key))))
    return response


@csrf_protect
def subscribe(request: Request) -> Response:
    """Keep the request and mail the confirmation link; the same answer for any address."""
    state = app_state(request)
    settings = settings_of(request)
    now = state.clock()
    if not settings.base_url:  # the links in the mail could not be made
        return _form_page(request, status=503)
    limits = limits_of(request)
    client = client_address(request, settings.web.trusted_proxies)
    result = read_subscription(
        request.state.form,
        [w.name for w in settings.watchlists],
        default_language=language(request),
        default_weekday=settings.schedule.digest_weekday,
    )
    if not limits.per_client.hit(client):
        log.warning("subscribe: too many requests from %s", client)
        return _too_many(request, limits.per_client, client, result)
    if not result.ok or result.email is None or result.preferences is None:
        return _form_page(request, result, message="subscribe.error.form", status=400)
    if not limits.per_address.hit(email_key(result.email)):
        return _too_many(request, limits.per_address, email_key(result.email), result)
    consent = i18n.t(result.preferences.language, "subscribe.consent", title=settings.digest_title)
    pending, link = subscriptions.request_subscription(
        store_of(request),
        state.settings.secret(),
        result.email,
        result.preferences,
        consent=consent,
        base_url=settings.base_url,
        now=now,
    )
    try:
        subscriptions.send_confirmation(settings, pending, link, now)
    except DeliveryError as exc:
        log.error("subscribe: the confirmation mail of request %d failed: %s", pending.id, exc)
        return _form_page(request, result, message="subscribe.error.mail", status=503)
    log.info("subscribe: request %d waits for its confirmation", pending.id)
    return render(request, "subscribe_sent.html.j2", {"email": result.email})


# --- /confirm/{token} ------------------------------------------------------------------


def _confirm(request: Request, *, post: bool) -> Response:
    state = app_state(request)
    settings = settings_of(request)
    store = store_of(request)
    token = request.path_params["token"]
    now = state.clock()
    check = subscriptions.check_confirmation(store, state.settings.secret(), token, now)
    if check.verdict is not Verdict.VALID or check.request is None:
        return link_problem(request, check.verdict, CONFIRM)
    pending = check.request
    context: dict[str, Any] = {
        "email": pending.email,
        "summary": _summary(request, settings, pending.preferences),
        "action": url(request, f"/confirm/{token}"),
        "done": False,
    }
    if post:
        record = store.confirm_request(pending.nonce, now)
        if record is None:  # another request confirmed it a moment ago
            return link_problem(request, Verdict.STALE, CONFIRM)
        manage = make_token(
            state.settings.secret(), record.email, MANAGE, version=record.token_version
        )
        configured = {email_key(s.email) for s in settings.subscribers}
        context |= {
            "done": True,
            "in_config": record.email_key in configured,
            "manage_url": url(request, f"/manage/{manage}"),
        }
        log.info("subscribe: request %d confirmed", pending.id)
    return _token_page(request, "subscribe_confirm.html.j2", context)


def confirm_page(request: Request) -> Response:
    return _confirm(request, post=False)


@csrf_protect
def confirm(request: Request) -> Response:
    return _confirm(request, post=True)


@dataclass(frozen=True)
class _LinkRequest:
    """What an unsubscribe or manage page works with: its token, checked now."""

    settings: Settings
    store: Store
    token: str
    now: datetime
    secret: bytes
    check: subscriptions.LinkCheck


def _link_request(request: Request, purpose: str) -> _LinkRequest:
    state = app_state(request)
    settings = settings_of(request)
    store = store_of(request)
    token = request.path_params["token"]
    now = state.clock()
    secret = state.settings.secret()
    check = subscriptions.check_link(settings, store, secret, token, purpose, now)
    return _LinkRequest(settings, store, token, now, secret, check)


# --- /unsubscribe/{token} --------------------------------------------------------------


def _unsubscribe(request: Request, *, post: bool) -> Response:
    link = _link_request(request, UNSUBSCRIBE)
    store, token, now, secret, check = link.store, link.token, link.now, link.secret, link.check
    holder = check.holder
    if holder is not None and not holder.active and check.verdict in (Verdict.VALID, Verdict.STALE):
        return _unsubscribed(request)  # done before: the same answer again
    if check.verdict is not Verdict.VALID or holder is None:
        return link_problem(request, check.verdict, UNSUBSCRIBE)
    if post:
        if subscriptions.unsubscribe(store, holder, now):
            log.info("unsubscribe: %s", holder.email)
        return _unsubscribed(request)
    manage = make_token(secret, holder.email, MANAGE, version=holder.version)
    context = {
        "email": holder.email,
        "action": url(request, f"/unsubscribe/{token}"),
        "manage_url": url(request, f"/manage/{manage}"),
    }
    return _token_page(request, "subscribe_unsubscribe.html.j2", context)


def unsubscribe_page(request: Request) -> Response:
    return _unsubscribe(request, post=False)


def unsubscribe(request: Request) -> Response:
    """The button's POST and RFC 8058's one-click POST: the token authorises it."""
    return _unsubscribe(request, post=True)


# --- /manage/{token} -------------------------------------------------------------------


def _manage(request: Request, *, post: bool) -> Response:
    link = _link_request(request, MANAGE)
    settings, store, token, now, check = link.settings, link.store, link.token, link.now, link.check
    secret = link.secret
    holder = check.holder
    if check.verdict is not Verdict.VALID or holder is None or not holder.active:
        active = holder.active if holder is not None else True
        return link_problem(request, check.verdict, MANAGE, active=active)
    prefs = holder.preferences
    values = {
        "name": prefs.name,
        "language": prefs.language,
        "watchlists": list(prefs.watchlists),
        "weekday": str(
            settings.schedule.digest_weekday
            if prefs.digest_weekday is None
            else prefs.digest_weekday
        ),
    }
    errors: dict[str, str] = {}
    saved = False
    status = 200
    if post and holder.configured is None:
        result = read_preferences(
            request.state.form,
            [w.name for w in settings.watchlists],
            default_language=prefs.language,
            default_weekday=settings.schedule.digest_weekday,
        )
        values, errors = result.values, result.errors
        if result.preferences is None:
            status = 400
        elif subscriptions.update_preferences(store, holder, result.preferences, now):
            saved, prefs = True, result.preferences
        else:  # unsubscribed by another request meanwhile
            return link_problem(request, Verdict.STALE, MANAGE, active=False)
    unsubscribe_token = make_token(secret, holder.email, UNSUBSCRIBE, version=holder.version)
    context = {
        **_choices(request, settings),
        "email": holder.email,
        "in_config": holder.configured is not None,
        "summary": _summary(request, settings, prefs),
        "values": values,
        "errors": errors,
        "saved": saved,
        "action": url(request, f"/manage/{token}"),
        "unsubscribe_action": url(request, f"/unsubscribe/{unsubscribe_token}"),
    }
    return _token_page(request, "subscribe_manage.html.j2", context, status)


def manage_page(request: Request) -> Response:
    return _manage(request, post=False)


@csrf_protect
def manage(request: Request) -> Response:
    return _manage(request, post=True)


routes: list[BaseRoute] = [
    Route("/subscribe", subscribe_page, methods=["GET"], name="subscribe"),
    Route("/subscribe", subscribe, methods=["POST"], name="subscribe_post"),
    Route("/confirm/{token}", confirm_page, methods=["GET"], name="confirm_page"),
    Route("/confirm/{token}", confirm, methods=["POST"], name="confirm"),
    Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET"], name="unsubscribe_page"),
    Route("/unsubscribe/{token}", unsubscribe, methods=["POST"], name="unsubscribe"),
    Route("/manage/{token}", manage_page, methods=["GET"], name="manage_page"),
    Route("/manage/{token}", manage, methods=["POST"], name="manage"),
]
