"""The digest queue's decisions and steps in one process (no worker, SQLite, the
outbox): which audiences are due (the scheduler's decision, per time zone), the locks,
who gets a delivery job, a retry's wait, an edition built once, a delivery sent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.digest import job as digest_job
from pipeline.queue.decide import delivery_lock, retry_delay, to_deliver
from pipeline.queue.digest import Senders, deliver_to
from pipeline.store import Store
from pipeline.subscriptions import with_readers
from tests.pipeline.digest.test_digest_job import seed

# Thursday 26 November 2026, 12:00 UTC: 13:00 in Amsterdam, 07:00 in New York
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

CONFIG = """
[schedule]
timezone = "Europe/Amsterdam"
digest = "thu 13:30"
[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = 'thuiswerken OR "hybride werken"'
[[subscribers]]
email = "sanne@example.nl"
name = "Sanne"
language = "nl"
watchlists = ["thuiswerken"]
[[subscribers]]
email = "tom@example.nl"
name = "Tom"
language = "nl"
watchlists = ["thuiswerken"]
[[subscribers]]
email = "ny@example.com"
name = "NY"
language = "nl"
watchlists = ["thuiswerken"]
timezone = "America/New_York"
[[sources]]
name = "HR Nieuws"
url = "https://hrnieuws.test.invalid/feed.xml"
language = "nl"
"""


def test_the_lock_of_a_delivery() -> None:
    key = "2026-W48/nl-a"
    assert delivery_lock(key, "Anna@Example.nl") == delivery_lock(key, "anna@example.nl")
    assert delivery_lock(key, "anna@example.nl") != delivery_lock(key, "bob@example.nl")
    assert delivery_lock(key, "anna@example.nl") != delivery_lock(
        "2026-W49/nl-a", "anna@example.nl"
    )


def test_who_gets_a_delivery_job() -> None:
    readers = {"a@x.nl": False, "b@x.nl": True, "c@x.nl": False}
    emails = ["a@x.nl", "b@x.nl", "c@x.nl", "gone@x.nl"]
    # not a reader any more: none; finished (sent or failed for good): none
    assert to_deliver(emails, readers, 3, finished=["C@x.nl"]) == ["a@x.nl", "b@x.nl"]
    # an empty edition goes only to who asked for empty ones
    assert to_deliver(emails, readers, 0, finished=[]) == ["b@x.nl"]


def test_a_retry_waits_until_its_time_never_less_than_nothing() -> None:
    assert retry_delay(NOW + timedelta(minutes=5), NOW) == timedelta(minutes=5)
    assert retry_delay(NOW - timedelta(minutes=5), NOW) == timedelta(0)
    assert retry_delay(None, NOW) == timedelta(0)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (NOW, []),  # 13:00 in Amsterdam, 07:00 in New York: before both 13:30s
        (NOW + timedelta(minutes=30), ["nl-thuiswerken"]),  # 13:30 in Amsterdam has come
        (
            NOW + timedelta(hours=6, minutes=31),
            ["nl-thuiswerken", "nl-thuiswerken--america-new-york"],
        ),
        (NOW + timedelta(days=2), []),  # both came due more than a day ago: late
    ],
)
def test_the_editions_due_are_the_schedulers_per_time_zone(
    make_settings, now: datetime, due: list[str]
) -> None:
    settings = make_settings(CONFIG)
    with Store(settings.database) as store:
        readers = with_readers(settings, store)
        found = digest_job.due_audiences(readers, store, now)
        assert sorted(found) == due
        report = digest_job.digest(settings, store, now=now, due=True, dry_run=True)
    # the same decision as the digest job's when the scheduler runs it
    assert sorted(k.split("/")[1] for k in report.editions) == due


def test_an_edition_is_built_once_and_each_reader_mailed_once(make_settings) -> None:
    settings = make_settings(CONFIG)
    at = NOW + timedelta(minutes=31)
    with Store(settings.database) as store:
        seed(settings, store, when=NOW - timedelta(hours=1))
        readers = with_readers(settings, store)
        due = digest_job.due_audiences(readers, store, at)
        assert list(due) == ["nl-thuiswerken"]
        [first] = digest_job.build_editions_once(readers, store, at, due)
        [again] = digest_job.build_editions_once(readers, store, at, {**due, "nl-gone": at})
        assert first.built and not again.built and first.edition_id == again.edition_id
        assert first.archive_page and Path(first.archive_page).exists()
        assert again.archive_page is None  # the page is there already
        assert first.edition.item_count > 0

    senders = Senders(settings, 2)  # no [smtp]: the outbox
    key = first.edition.key
    try:
        assert deliver_to(settings, senders, key, "sanne@example.nl", at).status == "sent"
        assert deliver_to(settings, senders, key, "sanne@example.nl", at).status == "skipped"
        assert deliver_to(settings, senders, key, "nobody@example.nl", at).status == "not a reader"
        assert deliver_to(settings, senders, "2026-W01/none", "tom@example.nl", at).status == (
            "no edition"
        )
        late = at + timedelta(days=8)
        assert deliver_to(settings, senders, key, "tom@example.nl", late).status == "given up"
    finally:
        senders.close()
    with Store(settings.database) as store:
        rows = {r.subscriber: r.status for r in store.deliveries(first.edition_id)}
    assert rows == {"sanne@example.nl": "sent", "tom@example.nl": "failed"}
    assert len(list(settings.outbox_dir.rglob("*.eml"))) == 1
