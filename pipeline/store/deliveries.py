"""The ``deliveries`` table: one delivery per edition and subscriber, whose row is the
lock that makes sending happen once (pending, claimed as 'sending', then sent, pending a
retry or failed for good). When to retry is the digest stage's decision
(``pipeline.digest.retry``); this part stores what it decided."""

from __future__ import annotations

from datetime import datetime

from pipeline.store.connection import StoreBase
from pipeline.store.digest_rows import DeliveryRow, UnfinishedDelivery
from pipeline.store.values import from_iso, iso, typed_row


class DeliveriesMixin(StoreBase):
    """Deliveries of editions to subscribers."""

    def ensure_delivery(self, edition_id: int, subscriber: str, now: datetime) -> DeliveryRow:
        """The delivery of an edition to a subscriber, made pending if there was none."""
        with self.transaction():
            self._x(
                "INSERT INTO deliveries (edition_id, subscriber, created) VALUES (?, ?, ?)"
                " ON CONFLICT (edition_id, subscriber) DO NOTHING",
                [edition_id, subscriber, iso(now)],
            )
        row = self._one(
            "SELECT * FROM deliveries WHERE edition_id = ? AND subscriber = ?",
            [edition_id, subscriber],
        )
        assert row is not None
        return typed_row(DeliveryRow, row)

    def start_delivery(
        self, edition_id: int, subscriber: str, now: datetime, transport: str, message_id: str
    ) -> int | None:
        """A delivery made and claimed at once (its first attempt, 'sending', as
        ``ensure_delivery`` then ``claim_delivery`` leave it): its id. None when the
        edition already has a delivery to ``subscriber`` (nothing changed): handle that
        one as it stands."""
        with self.transaction():
            cursor = self._x(
                "INSERT INTO deliveries (edition_id, subscriber, created, status, transport,"
                " message_id, attempts) VALUES (?, ?, ?, 'sending', ?, ?, 1)"
                " ON CONFLICT (edition_id, subscriber) DO NOTHING RETURNING id",
                [edition_id, subscriber, iso(now), transport, message_id],
            )
            row = cursor.fetchone()
            return int(row[0]) if row else None

    def unfinished_deliveries(self) -> list[UnfinishedDelivery]:
        """Deliveries still pending or left 'sending', with their edition, oldest first."""
        rows = self._rows(
            "SELECT d.*, e.key AS edition_key, e.built_at, e.data FROM deliveries d"
            " JOIN editions e ON e.id = d.edition_id"
            " WHERE d.status IN ('pending', 'sending') ORDER BY e.built_at, d.id"
        )
        return [typed_row(UnfinishedDelivery, r) for r in rows]

    def pending_deliveries(self, built_since: datetime) -> list[tuple[str, str, datetime | None]]:
        """(Edition key, subscriber, next attempt) of the deliveries pending a first try
        or a retry, of the editions built since ``built_since``; oldest first."""
        rows = self._rows(
            "SELECT e.key, d.subscriber, d.next_attempt FROM deliveries d"
            " JOIN editions e ON e.id = d.edition_id"
            " WHERE d.status = 'pending' AND e.built_at >= ? ORDER BY d.id",
            [iso(built_since)],
        )
        return [(r["key"], r["subscriber"], _moment(r["next_attempt"])) for r in rows]

    def claim_delivery(self, delivery_id: int, transport: str, message_id: str) -> bool:
        """Move a pending delivery to 'sending'. False when someone else has it or it is
        already done: the row is the lock, so two runs never send the same message."""
        with self.transaction():
            cursor = self._x(
                "UPDATE deliveries SET status = 'sending', transport = ?, message_id = ?,"
                " attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
                [transport, message_id, delivery_id],
            )
            return cursor.rowcount == 1

    def finish_delivery(
        self,
        delivery_id: int,
        status: str,
        now: datetime,
        *,
        error: str | None = None,
        next_attempt: datetime | None = None,
    ) -> None:
        with self.transaction():
            self._x(
                "UPDATE deliveries SET status = ?, last_error = ?, next_attempt = ?,"
                " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
                [status, error, iso(next_attempt), status, iso(now), delivery_id],
            )

    def delivery(self, delivery_id: int) -> DeliveryRow | None:
        row = self._one("SELECT * FROM deliveries WHERE id = ?", [delivery_id])
        return typed_row(DeliveryRow, row) if row else None

    def deliveries(self, edition_id: int | None = None) -> list[DeliveryRow]:
        """Every delivery (of one edition), in the order they were made."""
        if edition_id is None:
            rows = self._rows("SELECT * FROM deliveries ORDER BY id")
        else:
            rows = self._rows(
                "SELECT * FROM deliveries WHERE edition_id = ? ORDER BY id", [edition_id]
            )
        return [typed_row(DeliveryRow, r) for r in rows]

    def delivery_counts(self) -> dict[str, int]:
        """How many deliveries there are in each status."""
        rows = self._rows("SELECT status, count(*) AS n FROM deliveries GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    def delivered_to(self, edition_id: int) -> set[str]:
        """Subscribers with a delivery of this edition in any state."""
        rows = self._x(
            "SELECT subscriber FROM deliveries WHERE edition_id = ?", [edition_id]
        ).fetchall()
        return {r[0] for r in rows}

    def next_delivery_attempt(self) -> datetime | None:
        """The earliest retry time of a pending delivery (None: nothing is waiting)."""
        row = self._x(
            "SELECT min(coalesce(next_attempt, created)) FROM deliveries"
            " WHERE status IN ('pending', 'sending')"
        ).fetchone()
        return from_iso(row[0]) if row and row[0] else None


def _moment(value: datetime | str | None) -> datetime | None:
    return value if isinstance(value, datetime) or value is None else from_iso(value)
