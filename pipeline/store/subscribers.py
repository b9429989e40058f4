"""The ``subscribers`` and ``subscribe_requests`` tables: subscriptions made on the web,
every unsubscribe, and the requests that wait for their confirmation.

One ``subscribers`` row per address (keyed by :func:`email_key`: stripped and
case-folded) that confirmed a subscription on the web or unsubscribed, whether it came
from the web or from the config file. ``status`` is active or unsubscribed;
``token_version`` is the version its links are signed with (``digests.tokens``): 0 for
an address without a row, raised by every unsubscribe, so links made before stop
working. An unsubscribe is a row of its own, so reloading the config never undoes it.

A subscribe form makes a ``subscribe_requests`` row: what was asked for, a random
``nonce`` (the version of its confirmation token) and when it expires. Confirming uses
it up once (:meth:`SubscribersMixin.confirm_request`); a newer request for the same
address replaces the older ones; requests expired more than :data:`REQUEST_RETENTION`
ago are deleted when the next one comes in (they hold an address and a name).

Changes that a token authorises are compare-and-set on the token's version
(:meth:`~SubscribersMixin.unsubscribe`, :meth:`~SubscribersMixin.update_preferences`):
of two requests with the same link only the first changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.store.connection import StoreBase
from pipeline.store.values import iso, json_text, typed_row

ACTIVE = "active"
UNSUBSCRIBED = "unsubscribed"
REQUEST_RETENTION = timedelta(days=30)  # an expired or used request is kept this long


def email_key(email: str) -> str:
    """The form an address is unique in: stripped and case-folded (as the tokens' ids)."""
    return email.strip().casefold()


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a subscriber chooses: name, the digest's language, watchlists and weekday
    (0 = Monday; None: the schedule's)."""

    name: str
    language: str
    watchlists: tuple[str, ...]
    digest_weekday: int | None = None


@dataclass(frozen=True, slots=True)
class SubscriberRecord:
    """An address's subscription as the store keeps it; see ``Store.subscriber_record``."""

    email_key: str
    email: str
    name: str
    language: str
    watchlists: tuple[str, ...]
    digest_weekday: int | None
    status: str  # ACTIVE or UNSUBSCRIBED
    token_version: int
    consent: str | None  # the consent line agreed to (web subscriptions)
    created: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None  # the last unsubscribe
    updated: datetime

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def preferences(self) -> Preferences:
        return Preferences(self.name, self.language, self.watchlists, self.digest_weekday)


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    """A subscribe form's request; see ``Store.subscribe_request``."""

    id: int
    nonce: int
    email_key: str
    email: str
    name: str
    language: str
    watchlists: tuple[str, ...]
    digest_weekday: int | None
    consent: str
    created: datetime
    expires: datetime
    used_at: datetime | None
    outcome: str | None  # "confirmed", "replaced" or None (open)

    @property
    def preferences(self) -> Preferences:
        return Preferences(self.name, self.language, self.watchlists, self.digest_weekday)


class SubscribersMixin(StoreBase):
    """Subscriptions: web subscribers, unsubscribes, token versions, requests."""

    # --- reads ---------------------------------------------------------------------

    def subscriber_record(self, email: str) -> SubscriberRecord | None:
        """The row of ``email`` (any case), or None: never subscribed on the web and
        never unsubscribed (a config subscriber at token version 0)."""
        row = self._one("SELECT * FROM subscribers WHERE email_key = ?", [email_key(email)])
        return typed_row(SubscriberRecord, row) if row else None

    def subscriber_records(self, status: str | None = None) -> list[SubscriberRecord]:
        """Every row (or those of one ``status``), oldest first."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._rows(f"SELECT * FROM subscribers {where} ORDER BY created, email_key", params)
        return [typed_row(SubscriberRecord, r) for r in rows]

    def subscribe_request(self, nonce: int) -> SubscribeRequest | None:
        row = self._one("SELECT * FROM subscribe_requests WHERE nonce = ?", [nonce])
        return typed_row(SubscribeRequest, row) if row else None

    def open_request_count(self, now: datetime) -> int:
        """Requests neither used nor expired at ``now``: waiting for a confirmation."""
        row = self._x(
            "SELECT count(*) FROM subscribe_requests WHERE used_at IS NULL AND expires > ?",
            [iso(now)],
        ).fetchone()
        return int(row[0])

    # --- writes --------------------------------------------------------------------

    def add_subscribe_request(
        self,
        email: str,
        preferences: Preferences,
        *,
        consent: str,
        nonce: int,
        now: datetime,
        expires: datetime,
    ) -> SubscribeRequest:
        """Keep what a subscribe form asked for until it is confirmed: the address's
        open requests are replaced by this one; long-expired ones are deleted."""
        key = email_key(email)
        with self.transaction():
            self._x(
                "DELETE FROM subscribe_requests WHERE expires < ?", [iso(now - REQUEST_RETENTION)]
            )
            self._x(
                "UPDATE subscribe_requests SET used_at = ?, outcome = 'replaced'"
                " WHERE email_key = ? AND used_at IS NULL",
                [iso(now), key],
            )
            self._x(
                "INSERT INTO subscribe_requests (nonce, email_key, email, name, language,"
                " watchlists, digest_weekday, consent, created, expires)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    nonce,
                    key,
                    email.strip(),
                    preferences.name,
                    preferences.language,
                    json_text(list(preferences.watchlists)),
                    preferences.digest_weekday,
                    consent,
                    iso(now),
                    iso(expires),
                ],
            )
        request = self.subscribe_request(nonce)
        assert request is not None
        return request

    def confirm_request(self, nonce: int, now: datetime) -> SubscriberRecord | None:
        """Use up the open, unexpired request ``nonce``: its address becomes an active
        subscriber with its preferences (its token version kept). None when the request
        was used, replaced or expired already (or another request confirmed it first)."""
        now_param = self.dialect.moment(":now")
        with self.transaction():
            used = self._x(
                "UPDATE subscribe_requests SET used_at = ?, outcome = 'confirmed'"
                " WHERE nonce = ? AND used_at IS NULL AND expires > ?",
                [iso(now), nonce, iso(now)],
            )
            if used.rowcount != 1:
                return None
            self._x(
                "INSERT INTO subscribers (email_key, email, name, language, watchlists,"
                " digest_weekday, status, consent, created, confirmed_at, updated)"
                " SELECT email_key, email, name, language, watchlists, digest_weekday,"
                f" 'active', consent, {now_param}, {now_param}, {now_param}"
                " FROM subscribe_requests WHERE nonce = :nonce"
                " ON CONFLICT (email_key) DO UPDATE SET email = excluded.email,"
                " name = excluded.name, language = excluded.language,"
                " watchlists = excluded.watchlists, digest_weekday = excluded.digest_weekday,"
                " status = 'active', consent = excluded.consent,"
                " confirmed_at = excluded.confirmed_at, updated = excluded.updated",
                {"now": iso(now), "nonce": nonce},
            )
            key = self._x(
                "SELECT email_key FROM subscribe_requests WHERE nonce = ?", [nonce]
            ).fetchone()[0]
        return self.subscriber_record(key)

    def unsubscribe(
        self, email: str, *, version: int, now: datetime, preferences: Preferences
    ) -> bool:
        """Unsubscribe ``email`` if its token version is still ``version``: the status
        becomes unsubscribed and the version goes up by one, so every link made before
        is stale. An address without a row (a config subscriber at version 0) gets one,
        with ``preferences`` (what the config said) for the record. False: nothing
        changed (already unsubscribed, or another version)."""
        key = email_key(email)
        with self.transaction():
            changed = self._x(
                "UPDATE subscribers SET status = 'unsubscribed',"
                " token_version = token_version + 1, unsubscribed_at = ?, updated = ?"
                " WHERE email_key = ? AND token_version = ? AND status = 'active'",
                [iso(now), iso(now), key, version],
            )
            if changed.rowcount == 1:
                return True
            if version != 0:
                return False
            inserted = self._x(
                "INSERT INTO subscribers (email_key, email, name, language, watchlists,"
                " digest_weekday, status, token_version, created, unsubscribed_at, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, 'unsubscribed', 1, ?, ?, ?)"
                " ON CONFLICT (email_key) DO NOTHING",
                [
                    key,
                    email.strip(),
                    preferences.name,
                    preferences.language,
                    json_text(list(preferences.watchlists)),
                    preferences.digest_weekday,
                    iso(now),
                    iso(now),
                    iso(now),
                ],
            )
            return inserted.rowcount == 1

    def update_preferences(
        self, email: str, *, version: int, preferences: Preferences, now: datetime
    ) -> bool:
        """Change an active subscriber's preferences if its token version is still
        ``version``; False when nothing changed hands (no such active row)."""
        with self.transaction():
            changed = self._x(
                "UPDATE subscribers SET name = ?, language = ?, watchlists = ?,"
                " digest_weekday = ?, updated = ?"
                " WHERE email_key = ? AND token_version = ? AND status = 'active'",
                [
                    preferences.name,
                    preferences.language,
                    json_text(list(preferences.watchlists)),
                    preferences.digest_weekday,
                    iso(now),
                    email_key(email),
                    version,
                ],
            )
            return changed.rowcount == 1
