"""`trendwatch status` tells what comes next: the scheduler, the next crawl, each
edition's next digest in its own time zone and the next delivery retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.cli import status_data
from pipeline.schedule.locks import RunLockHeld, lock_holder, run_lock
from pipeline.store import Store

CONFIG = """
from = "Trendwatch <digest@example.nl>"
[schedule]
timezone = "Europe/Amsterdam"
digest = "mon 07:00"
[[watchlists]]
name = "werk"
title = "Werk"
query = "werk"
[[sources]]
name = "een"
url = "https://een.test/feed.xml"
[[sources]]
name = "twee"
url = "https://twee.test/feed.xml"
[[subscribers]]
email = "anne@example.nl"
name = "Anne"
language = "nl"
watchlists = ["werk"]
[[subscribers]]
email = "john@example.com"
name = "John"
language = "nl"
watchlists = ["werk"]
timezone = "America/New_York"
[[subscribers]]
email = "fem@example.nl"
name = "Fem"
language = "nl"
watchlists = ["werk"]
digest = "fri 16:00"
"""

# Thursday 26 March 2026, 12:00 UTC: Amsterdam is still on CET (UTC+1) until Sunday,
# New York already on EDT (UTC-4)
NOW = datetime(2026, 3, 26, 12, 0, tzinfo=UTC)


def test_next_digests_per_edition_in_their_own_time_zone(make_settings) -> None:
    settings = make_settings(CONFIG)
    with Store(settings.db_path) as store:
        data = status_data(settings, store, NOW)
    digests = {d["edition"]: d for d in data["next_digests"]}
    assert set(digests) == {"nl-werk", "nl-werk--america-new-york", "nl-werk--fri-1600"}
    # Monday 30 March 07:00 in Amsterdam is CEST by then (UTC+2)
    assert digests["nl-werk"]["at"] == "2026-03-30T05:00:00+00:00"
    assert digests["nl-werk"]["subscribers"] == ["anne@example.nl"]
    assert digests["nl-werk--america-new-york"]["at"] == "2026-03-30T11:00:00+00:00"
    assert digests["nl-werk--fri-1600"]["at"] == "2026-03-27T15:00:00+00:00"  # still CET


def test_next_crawl_and_retry_and_the_scheduler(make_settings) -> None:
    settings = make_settings(CONFIG)
    with Store(settings.db_path) as store:
        store.sync_sources(settings.sources, NOW)
        data = status_data(settings, store, NOW)
        assert data["next_crawl"] == NOW.isoformat()  # never polled: due now
        store.postpone_polls(
            {"een": NOW + timedelta(minutes=20), "twee": NOW + timedelta(minutes=5)}
        )
        data = status_data(settings, store, NOW)
        assert data["next_crawl"] == (NOW + timedelta(minutes=5)).isoformat()
        assert data["next_retry"] is None
    assert data["scheduler"] is None
    assert lock_holder(settings.data_dir) is None
    with run_lock(settings.data_dir):
        with Store(settings.db_path) as store:
            held = status_data(settings, store, NOW)["scheduler"]
        assert held is not None and "pid" in held
        try:
            with run_lock(settings.data_dir):
                raise AssertionError("a second lock on the same data folder")
        except RunLockHeld as exc:
            assert exc.holder == held
    assert lock_holder(settings.data_dir) is None  # released
