"""Subscriptions: who gets the digest, and what a subscriber's links and forms do.

**Who gets the digest** (:func:`readers`, pure, and :func:`with_readers`): the config
file's subscribers, except those who unsubscribed (a row in the store, so an
unsubscribe always wins and reloading the config never undoes it), then the active
subscribers of the web whose address the config does not name (for an address in
both, the config's preferences count). Each reader carries its token version, so the
links in its digest are signed for it. A web subscriber gets the digest on the weekday
it chose, at the schedule's time.

**Links** (:func:`check_link`, :func:`check_confirmation`): a token names a subscriber
(config or store) by its opaque id; it is checked for that address, its purpose and
the address's current token version, and a confirmation token for its request and
expiry (see :mod:`digests.tokens`). The answer is a :class:`~digests.tokens.Verdict`
and, for a genuine token, who it names (:class:`Holder`); a token that names nobody
counts as forged, so an answer never tells whether an address is known.

**Actions**: :func:`request_subscription` keeps a subscribe form's request and signs
its confirmation link (3 days, once); :func:`send_confirmation` mails it through the
digests' transport (SMTP or the outbox); confirming, unsubscribing and changing
preferences are the store's compare-and-set writes on the token's version.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from digests.confirmation import ConfirmationMail, build_confirmation
from digests.mail import make_message_id
from digests.tokens import (
    CONFIRM,
    Verdict,
    check_token,
    make_token,
    names,
    read_token,
    subscriber_url,
)
from pipeline.digest.delivery import open_transport
from pipeline.settings import Settings, Subscriber
from pipeline.store import Store
from pipeline.store.subscribers import (
    Preferences,
    SubscribeRequest,
    SubscriberRecord,
    email_key,
)

CONFIRM_WITHIN = timedelta(days=3)  # a confirmation link works this long, once
_NONCES = 10**18 - 1  # a request's random number: 1 .. 10**18 - 1 (fits a token and SQLite)


# --- who gets the digest ---------------------------------------------------------------


def readers(settings: Settings, records: Iterable[SubscriberRecord]) -> tuple[Subscriber, ...]:
    """The subscribers who get the digest (see the module docstring), config ones
    first, then the web's in the order they subscribed. Pure."""
    by_key = {r.email_key: r for r in records}
    order = [w.name for w in settings.watchlists]
    out: list[Subscriber] = []
    for sub in settings.subscribers:
        record = by_key.pop(email_key(sub.email), None)
        if record is None:
            out.append(sub)
        elif record.active:
            out.append(replace(sub, token_version=record.token_version))
    for record in by_key.values():
        chosen = tuple(name for name in order if name in record.watchlists)
        if not record.active or not chosen:  # unsubscribed, or its watchlists are gone
            continue
        weekday = record.digest_weekday
        out.append(
            Subscriber(
                email=record.email,
                name=record.name,
                language=record.language,
                watchlists=chosen,
                digest_weekday=weekday,
                digest_time=settings.schedule.digest_time if weekday is not None else None,
                token_version=record.token_version,
            )
        )
    return tuple(out)


def with_readers(settings: Settings, store: Store) -> Settings:
    """``settings`` whose subscribers are :func:`readers`: what the digest job, the
    scheduler and ``trendwatch status`` work with."""
    return replace(settings, subscribers=readers(settings, store.subscriber_records()))


# --- links -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """The subscriber a link names: its address, current token version, its row in the
    store (if any) and its entry in the config file (if any)."""

    email: str
    version: int
    record: SubscriberRecord | None
    configured: Subscriber | None

    @property
    def active(self) -> bool:
        """Gets the digest (an unsubscribe in the store wins over the config)."""
        return self.record.active if self.record is not None else self.configured is not None

    @property
    def preferences(self) -> Preferences:
        """What it gets: the config's entry for an address the config names."""
        if self.configured is not None:
            sub = self.configured
            return Preferences(sub.name, sub.language, sub.watchlists, sub.digest_weekday)
        assert self.record is not None
        return self.record.preferences


@dataclass(frozen=True)
class LinkCheck:
    verdict: Verdict
    holder: Holder | None = None  # None for a forged token


@dataclass(frozen=True)
class ConfirmCheck:
    verdict: Verdict
    request: SubscribeRequest | None = None  # None for a forged token


def holders(settings: Settings, store: Store) -> list[Holder]:
    """Everyone a subscriber link may name: the config's subscribers and every address
    in the store (the unsubscribed too, so their old links get a clear answer)."""
    records = {r.email_key: r for r in store.subscriber_records()}
    out = []
    for sub in settings.subscribers:
        record = records.pop(email_key(sub.email), None)
        out.append(Holder(sub.email, record.token_version if record else 0, record, sub))
    out += [Holder(r.email, r.token_version, r, None) for r in records.values()]
    return out


def check_link(
    settings: Settings, store: Store, secret: bytes, token: str, purpose: str, now: datetime
) -> LinkCheck:
    """What an unsubscribe or manage ``token`` is worth now (see the module docstring)."""
    parsed = read_token(token)
    if parsed is None:
        return LinkCheck(Verdict.FORGED)
    for holder in holders(settings, store):
        if names(secret, parsed, holder.email):
            verdict = check_token(
                secret, parsed, holder.email, purpose, version=holder.version, now=now
            )
            return LinkCheck(verdict, None if verdict is Verdict.FORGED else holder)
    return LinkCheck(Verdict.FORGED)


def check_confirmation(store: Store, secret: bytes, token: str, now: datetime) -> ConfirmCheck:
    """What a confirmation ``token`` is worth now: VALID once, then STALE (used, or
    replaced by a newer request), EXPIRED after 3 days; FORGED for anything else (a
    request deleted long after it expired included)."""
    parsed = read_token(token)
    if parsed is None or parsed.format != 3 or parsed.expires is None:
        return ConfirmCheck(Verdict.FORGED)
    request = store.subscribe_request(parsed.version)
    if request is None:
        return ConfirmCheck(Verdict.FORGED)
    verdict = check_token(secret, parsed, request.email, CONFIRM, version=request.nonce, now=now)
    if verdict is Verdict.VALID and request.used_at is not None:
        verdict = Verdict.STALE
    return ConfirmCheck(verdict, None if verdict is Verdict.FORGED else request)


# --- actions ---------------------------------------------------------------------------


def request_subscription(
    store: Store,
    secret: bytes,
    email: str,
    preferences: Preferences,
    *,
    consent: str,
    base_url: str,
    now: datetime,
) -> tuple[SubscribeRequest, str]:
    """Keep a subscribe form's request (replacing the address's open ones) and sign its
    confirmation link: ``(request, <base_url>/confirm/<token>)``. Nothing is active
    until the link is used (:meth:`Store.confirm_request`)."""
    nonce = secrets.randbelow(_NONCES) + 1
    expires = now + CONFIRM_WITHIN
    request = store.add_subscribe_request(
        email, preferences, consent=consent, nonce=nonce, now=now, expires=expires
    )
    token = make_token(secret, email, CONFIRM, version=nonce, expires=expires)
    return request, subscriber_url(base_url, "confirm", token)


def confirmation_mail(settings: Settings, request: SubscribeRequest, url: str) -> ConfirmationMail:
    """What the confirmation mail of ``request`` says."""
    titles = {w.name: w.title for w in settings.watchlists}
    weekday = request.digest_weekday
    return ConfirmationMail(
        email=request.email,
        name=request.name,
        language=request.language,
        digest_title=settings.digest_title,
        watchlists=tuple(titles.get(name, name) for name in request.watchlists),
        weekday=settings.schedule.digest_weekday if weekday is None else weekday,
        at=settings.schedule.digest_time,
        timezone=settings.schedule.timezone,
        url=url,
        expires=request.expires,
    )


def send_confirmation(
    settings: Settings, request: SubscribeRequest, url: str, now: datetime
) -> str:
    """Mail the confirmation of ``request`` the way digests go (SMTP, else the outbox);
    its transport's name. Raises :class:`digests.deliver.DeliveryError`."""
    key = f"confirm-{request.nonce}"
    domain = settings.sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    msg = build_confirmation(
        confirmation_mail(settings, request, url),
        sender=settings.sender,
        message_id=make_message_id(key, domain),
        date=now,
        template_dir=settings.template_dir,
    )
    transport, kind = open_transport(settings)
    with transport:
        transport.send(msg, key)
    return kind


def unsubscribe(store: Store, holder: Holder, now: datetime) -> bool:
    """Unsubscribe the holder of a valid link (its version goes up: every link made
    before is stale); False when another request did it first."""
    return store.unsubscribe(
        holder.email, version=holder.version, now=now, preferences=holder.preferences
    )


def update_preferences(
    store: Store, holder: Holder, preferences: Preferences, now: datetime
) -> bool:
    """Change a web subscriber's preferences (the config's are the admin's to change)."""
    if holder.configured is not None:
        return False
    return store.update_preferences(
        holder.email, version=holder.version, preferences=preferences, now=now
    )
