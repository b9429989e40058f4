"""The store's part for subscriptions (SQLite and PostgreSQL): the migration, requests that
are confirmed once, replaced or expire, compare-and-set unsubscribes and preference
changes on the token version; and who gets the digest (pipeline.subscriptions.readers):
the config minus unsubscribes, plus the web's."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from pipeline.settings import load_settings
from pipeline.store import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, Store
from pipeline.store.subscribers import REQUEST_RETENTION, Preferences, SubscribeRequest
from pipeline.subscriptions import readers
from subscribe_support import CONFIG_READER, subscribe_config

pytestmark = pytest.mark.both_databases

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DAYS3 = timedelta(days=3)
ANNE = Preferences("Anne", "nl", ("thuiswerken",), 4)


def request(
    store: Store, email: str, nonce: int, when: datetime = NOW, prefs: Preferences = ANNE
) -> SubscribeRequest:
    return store.add_subscribe_request(
        email, prefs, consent="ja", nonce=nonce, now=when, expires=when + DAYS3
    )


def test_a_database_of_schema_4_gets_the_subscription_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    for _, migrate in MIGRATIONS[:4]:
        migrate(db)
    db.execute("PRAGMA user_version = 4")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.conn.commit()
    db.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert {"subscribers", "subscribe_requests"} <= set(store.db.table_names())
        assert store.subscriber_records() == []
    fresh = tmp_path / "data" / "trendwatch.db"
    Store(fresh).close()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600  # it holds addresses


def test_a_request_is_confirmed_once_and_only_before_it_expires(database: str | Path) -> None:
    with Store(database) as store:
        made = request(store, " Anne@Example.nl ", 11)
        assert (made.email, made.email_key, made.watchlists) == (
            "Anne@Example.nl",
            "anne@example.nl",
            ("thuiswerken",),
        )
        assert store.subscriber_record("anne@example.nl") is None  # nothing before confirming
        assert store.open_request_count(NOW) == 1
        late = request(store, "late@example.nl", 12)
        assert store.confirm_request(late.nonce, NOW + DAYS3) is None  # expired
        record = store.confirm_request(11, NOW + timedelta(hours=1))
        assert record is not None and record.active and record.token_version == 0
        assert (record.email, record.digest_weekday, record.consent) == ("Anne@Example.nl", 4, "ja")
        assert store.confirm_request(11, NOW + timedelta(hours=2)) is None  # used
        used = store.subscribe_request(11)
        assert used is not None and used.outcome == "confirmed" and used.used_at is not None
        assert store.open_request_count(NOW + timedelta(hours=2)) == 1  # late's, still open


def test_a_newer_request_replaces_the_open_ones_and_old_ones_are_deleted(
    database: str | Path,
) -> None:
    with Store(database) as store:
        request(store, "anne@example.nl", 1)
        request(store, "ANNE@example.nl", 2, prefs=Preferences("Anne", "en", ("banen",), 0))
        replaced = store.subscribe_request(1)
        assert replaced is not None and replaced.outcome == "replaced"
        assert store.confirm_request(1, NOW) is None
        record = store.confirm_request(2, NOW)
        assert record is not None and record.watchlists == ("banen",) and record.language == "en"
        # a request long expired holds an address and a name: gone with the next request
        later = NOW + DAYS3 + REQUEST_RETENTION + timedelta(seconds=1)
        request(store, "piet@example.nl", 3, when=later)
        assert store.subscribe_request(1) is None and store.subscribe_request(2) is None


def test_unsubscribe_raises_the_version_once(database: str | Path) -> None:
    config_entry = Preferences("Lezer", "nl", ("thuiswerken",))
    with Store(database) as store:
        # an address of the config, without a row, at version 0
        assert not store.unsubscribe(
            "lezer@example.org", version=1, now=NOW, preferences=config_entry
        )
        assert store.unsubscribe("Lezer@example.org", version=0, now=NOW, preferences=config_entry)
        gone = store.subscriber_record("lezer@example.org")
        assert gone is not None and not gone.active and gone.token_version == 1
        assert gone.unsubscribed_at == NOW and gone.watchlists == ("thuiswerken",)
        # the same link again, or an older one: nothing changes
        assert not store.unsubscribe(
            "lezer@example.org", version=0, now=NOW, preferences=config_entry
        )
        assert not store.unsubscribe(
            "lezer@example.org", version=1, now=NOW, preferences=config_entry
        )
        assert store.subscriber_record("lezer@example.org").token_version == 1  # type: ignore[union-attr]
        # subscribing again (confirmed) keeps the version: the old links stay dead
        request(store, "lezer@example.org", 5)
        back = store.confirm_request(5, NOW + timedelta(hours=1))
        assert back is not None and back.active and back.token_version == 1
        assert store.unsubscribe("lezer@example.org", version=1, now=NOW, preferences=config_entry)
        assert store.subscriber_record("lezer@example.org").token_version == 2  # type: ignore[union-attr]


def test_preferences_change_only_for_an_active_row_of_that_version(database: str | Path) -> None:
    new = Preferences("A. de Vries", "en", ("banen", "thuiswerken"), 2)
    with Store(database) as store:
        request(store, "anne@example.nl", 1)
        store.confirm_request(1, NOW)
        assert not store.update_preferences("anne@example.nl", version=1, preferences=new, now=NOW)
        assert store.update_preferences("anne@example.nl", version=0, preferences=new, now=NOW)
        assert store.subscriber_record("anne@example.nl").preferences == new  # type: ignore[union-attr]
        store.unsubscribe("anne@example.nl", version=0, now=NOW, preferences=new)
        assert not store.update_preferences("anne@example.nl", version=1, preferences=ANNE, now=NOW)


def test_readers_are_the_config_minus_unsubscribes_plus_the_web(tmp_path: Path) -> None:
    settings = load_settings(
        subscribe_config(
            tmp_path,
            rest='[[subscribers]]\nemail = "piet@example.org"\nlanguage = "nl"\n'
            'watchlists = ["banen"]\n',
        )
    )
    with Store(settings.database) as store:
        assert [s.email for s in readers(settings, store.subscriber_records())] == [
            CONFIG_READER,
            "piet@example.org",
        ]
        for nonce, email, prefs in (
            (1, "web@example.nl", Preferences("Web", "en", ("thuiswerken", "banen"), 4)),
            (2, "gone@example.nl", ANNE),
            (3, "PIET@example.org", Preferences("Piet", "en", ("thuiswerken",), 6)),
            (4, "stale@example.nl", Preferences("", "nl", ("verdwenen",), 1)),
        ):
            request(store, email, nonce, prefs=prefs)
            store.confirm_request(nonce, NOW)
        store.unsubscribe(CONFIG_READER, version=0, now=NOW, preferences=ANNE)
        store.unsubscribe("gone@example.nl", version=0, now=NOW, preferences=ANNE)
        found = readers(settings, store.subscriber_records())
    by_email = {s.email: s for s in found}
    # the unsubscribed config reader is gone, whatever the config says; the config's
    # entry wins for an address in both; a web reader whose watchlists are gone gets nothing
    assert list(by_email) == ["piet@example.org", "web@example.nl"]
    assert by_email["piet@example.org"].watchlists == ("banen",)
    web = by_email["web@example.nl"]
    assert web.watchlists == ("thuiswerken", "banen")  # the config's order
    assert (web.language, web.digest_weekday, web.digest_time) == ("en", 4, time(7, 0))
    assert settings.digest_time(web).weekday == 4
    assert web.token_version == 0
