"""Editions and deliveries on SQLite and PostgreSQL: one edition per key, and a delivery
that only one runner can claim."""

from __future__ import annotations

import pytest

from pipeline.store import Store
from store_support import NOW, edition_row

pytestmark = pytest.mark.both_databases


def _edition(store: Store) -> int:
    return store.add_edition(edition_row())


def test_a_new_delivery_is_made_already_claimed_and_only_once(store: Store) -> None:
    edition = _edition(store)
    made = store.start_delivery(edition, "a@example.org", NOW, "smtp", "<m@x>")
    assert made is not None
    row = store.delivery(made)
    assert (row.status, row.attempts, row.transport, row.message_id) == (
        "sending",
        1,
        "smtp",
        "<m@x>",
    )
    # as ensure_delivery + claim_delivery leave it
    other = store.ensure_delivery(edition, "b@example.org", NOW)
    assert store.claim_delivery(other.id, "smtp", "<m@x>")
    claimed = store.delivery(other.id)
    assert (claimed.status, claimed.attempts, claimed.created) == ("sending", 1, row.created)
    # a second runner (or a second try) gets nothing and changes nothing
    store.finish_delivery(made, "sent", NOW)
    assert store.start_delivery(edition, "a@example.org", NOW, "smtp", "<n@x>") is None
    assert store.start_delivery(edition, "b@example.org", NOW, "smtp", "<n@x>") is None
    assert store.delivery(made).status == "sent" and store.delivery(made).message_id == "<m@x>"
    assert store.delivered_to(edition) == {"a@example.org", "b@example.org"}


def test_edition_key_is_unique_and_delivery_claimed_once(store: Store) -> None:
    row = edition_row()
    first = store.add_edition(row)
    assert store.add_edition({**row, "title": "other"}) == first
    assert len(store.editions()) == 1
    d = store.ensure_delivery(first, "a@example.org", NOW)
    assert store.ensure_delivery(first, "a@example.org", NOW).id == d.id
    assert store.claim_delivery(d.id, "outbox", "<m@x>") is True
    assert store.claim_delivery(d.id, "outbox", "<m@x>") is False  # second runner loses
    store.finish_delivery(d.id, "sent", NOW)
    assert store.delivery(d.id).status == "sent"
    assert store.delivery_counts() == {"sent": 1}
