"""``trendwatch digest --due`` (the scheduler's digest): each audience gets its edition
once, at its own weekday and time in its own time zone, covering the week up to that
moment; a moment missed by more than the grace period is skipped and logged once.

Every test uses fixed instants: no sleeping and no wall clock."""

from __future__ import annotations

import email
import email.policy
import logging
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

import pytest

from crawlers.entries import Entry
from pipeline.digest import job as digest_job
from pipeline.digest.frozen import edition_from_json
from pipeline.process import job as process_job
from pipeline.store import Store

# "mon 07:00" in Europe/Amsterdam (CET, UTC+1) in ISO week 48 of 2026 and the week after
SLOT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
NEXT_SLOT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
KEY = "2026-W48/nl-werk"
NEXT_KEY = "2026-W49/nl-werk"
MINUTE = timedelta(minutes=1)

WATCHLIST = """
[[watchlists]]
name = "werk"
title = "Werk"
query = "thuiswerken"
[[sources]]
name = "HR Nieuws"
url = "https://hrnieuws.test.invalid/feed.xml"
language = "nl"
"""

ANNA = """
[[subscribers]]
email = "anna@example.nl"
name = "Anna"
language = "nl"
watchlists = ["werk"]
"""

# distinct topics, so that no two articles end up in one story
TOPICS = {
    0: (
        "Vakbond vraagt om thuiswerkvergoeding voor iedereen",
        "De vakbond wil dat elke werknemer die thuiswerken doet een vergoeding krijgt.",
    ),
    1: (
        "Thuiswerken blijft populair bij ambtenaren",
        "Ambtenaren in Den Haag kiezen vaker voor thuiswerken dan voor het kantoor.",
    ),
    2: (
        "Bakkerij in Zwolle schaft thuiswerken af voor administratie",
        "De administratie van een bakkerij in Zwolle stopt met thuiswerken na klachten.",
    ),
    3: (
        "Rechter: werkgever mag thuiswerken niet zomaar verbieden",
        "Een kantonrechter in Utrecht oordeelt over een verbod op thuiswerken.",
    ),
    4: (
        "Ziekenhuis test thuiswerken voor planners",
        "Planners van een ziekenhuis in Groningen proberen een jaar lang thuiswerken.",
    ),
}


def title(n: int) -> str:
    return TOPICS[n][0]


def entry(n: int, published: datetime) -> Entry:
    headline, text = TOPICS[n]
    return Entry(
        identity=f"guid:{n}",
        title=headline,
        url=f"https://hrnieuws.test.invalid/{n}",
        text=text,
        summary=text,
        published=published,
        language="nl",
    )


def seed(settings, entries: list[Entry], fetched: datetime) -> None:
    """Store ``entries`` as fetched at ``fetched`` and process them (match watchlists)."""
    with Store(settings.db_path) as store:
        store.sync_sources(settings.sources, fetched)
        store.save_entries(store.sources()[0].id, entries, fetched)
        process_job.process(settings, store, now=fetched)


def due(settings, now: datetime) -> digest_job.DigestReport:
    with Store(settings.db_path) as store:
        return digest_job.digest(settings, store, now=now, due=True)


def mails(settings) -> list[tuple[str, str]]:
    """Every message in the outbox: (recipient address, plain-text body)."""
    out = []
    for path in sorted(settings.outbox_dir.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        out.append((parseaddr(str(msg["To"]))[1], msg.get_body(("plain",)).get_content()))
    return out


def stored_edition(settings, key: str):
    with Store(settings.db_path) as store:
        row = store.edition(key)
    assert row is not None, key
    return edition_from_json(row.data)


def sent_to(report: digest_job.DigestReport) -> list[str]:
    return sorted(report.sent)


def nothing_happened(report: digest_job.DigestReport) -> bool:
    return report.sent == [] and report.built == [] and report.editions == []


# --- once, at the slot --------------------------------------------------------------


def test_digest_is_sent_once_when_its_slot_has_come(make_settings) -> None:
    settings = make_settings(WATCHLIST + ANNA)
    seed(settings, [entry(1, SLOT - timedelta(days=3))], SLOT - timedelta(days=3))

    # before the slot: nothing built, nothing sent
    for now in (SLOT - timedelta(days=2), SLOT - MINUTE, SLOT - timedelta(microseconds=1)):
        assert nothing_happened(due(settings, now)), now
    assert mails(settings) == []
    with Store(settings.db_path) as store:
        assert store.edition(KEY) is None

    # at the slot: sent
    report = due(settings, SLOT)
    assert report.ok and report.built == [KEY]
    assert sent_to(report) == [f"{KEY} -> anna@example.nl"]
    [(to, text)] = mails(settings)
    assert to == "anna@example.nl" and title(1) in text

    # again: same instant, later within the grace, and later until next week's slot
    for now in (SLOT, SLOT + timedelta(hours=1), SLOT + timedelta(hours=23), NEXT_SLOT - MINUTE):
        report = due(settings, now)
        assert nothing_happened(report) and report.late == [], now
    assert len(mails(settings)) == 1


def test_digest_is_sent_when_the_slot_passed_a_little_while_ago(make_settings) -> None:
    settings = make_settings(WATCHLIST + ANNA)
    seed(settings, [entry(1, SLOT - timedelta(days=3))], SLOT - timedelta(days=3))
    report = due(settings, SLOT + timedelta(minutes=5))
    assert sent_to(report) == [f"{KEY} -> anna@example.nl"]
    assert nothing_happened(due(settings, SLOT + timedelta(minutes=10)))
    assert len(mails(settings)) == 1


# --- too late -------------------------------------------------------------------------


def test_slot_missed_by_more_than_the_grace_is_skipped_and_logged_once(
    make_settings, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="trendwatch")
    settings = make_settings(WATCHLIST + ANNA)  # digest_grace: 24h by default
    seed(settings, [entry(0, SLOT - timedelta(days=10))], SLOT - timedelta(days=10))
    previous = due(settings, SLOT - timedelta(days=7))  # last week's went out as usual
    assert sent_to(previous) != []
    seed(settings, [entry(1, SLOT - timedelta(days=3))], SLOT - timedelta(days=3))

    first = due(settings, SLOT + timedelta(hours=24, minutes=1))
    second = due(settings, SLOT + timedelta(hours=30))
    for report in (first, second):
        assert nothing_happened(report)
        assert report.late == [KEY]
    assert len(mails(settings)) == 1  # last week's only
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and KEY in r.getMessage()]
    assert len(warnings) == 1
    assert "skipped" in warnings[0].getMessage()

    # the next week's slot goes out as usual, with the next week's news
    seed(settings, [entry(2, NEXT_SLOT - timedelta(days=2))], NEXT_SLOT - timedelta(days=2))
    report = due(settings, NEXT_SLOT)
    assert report.late == [] and report.built == [NEXT_KEY]
    assert sent_to(report) == [f"{NEXT_KEY} -> anna@example.nl"]
    [(_, text)] = [m for m in mails(settings) if title(0) not in m[1]]
    assert title(2) in text and title(1) not in text
    assert len([r for r in caplog.records if KEY in r.getMessage()]) == 1


def test_a_new_install_does_not_call_the_last_slot_missed(make_settings, caplog) -> None:
    caplog.set_level(logging.INFO, logger="trendwatch")
    settings = make_settings(WATCHLIST + ANNA)
    report = due(settings, SLOT + timedelta(days=2))  # first run, days after a slot
    assert nothing_happened(report) and report.late == [KEY]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "first digest comes at its next moment" in caplog.text


def test_grace_from_the_config_decides_what_is_late(make_settings) -> None:
    settings = make_settings('[schedule]\ndigest_grace = "2h"\n' + WATCHLIST + ANNA)
    seed(settings, [entry(1, SLOT - timedelta(days=3))], SLOT - timedelta(days=3))
    late = due(settings, SLOT + timedelta(hours=2, minutes=1))
    assert nothing_happened(late) and late.late == [KEY]

    settings = make_settings('[schedule]\ndigest_grace = "3h"\n' + WATCHLIST + ANNA)
    report = due(settings, SLOT + timedelta(hours=2, minutes=30))
    assert report.late == [] and sent_to(report) == [f"{KEY} -> anna@example.nl"]


def test_digest_that_came_due_while_down_covers_the_week_up_to_its_slot(make_settings) -> None:
    settings = make_settings(WATCHLIST + ANNA)  # grace 24h
    before, after = SLOT - timedelta(days=2), SLOT + timedelta(hours=4)
    seed(settings, [entry(1, before)], before)
    seed(settings, [entry(2, after)], after)  # published after the slot, while "down"

    report = due(settings, SLOT + timedelta(hours=23))
    assert report.late == [] and report.built == [KEY]
    assert sent_to(report) == [f"{KEY} -> anna@example.nl"]
    edition = stored_edition(settings, KEY)
    assert edition.period_end == SLOT and edition.period_start == SLOT - timedelta(days=7)
    assert (edition.year, edition.week) == (2026, 48)
    [(_, text)] = mails(settings)
    assert title(1) in text and title(2) not in text

    # the article published after the slot is next week's news
    report = due(settings, NEXT_SLOT + MINUTE)
    assert sent_to(report) == [f"{NEXT_KEY} -> anna@example.nl"]
    assert stored_edition(settings, NEXT_KEY).period_end == NEXT_SLOT
    texts = [text for _, text in mails(settings) if title(2) in text]
    assert len(texts) == 1 and title(1) not in texts[0]


# --- empty weeks ----------------------------------------------------------------------


def test_empty_week_without_send_empty_is_handled_and_not_retried(make_settings) -> None:
    settings = make_settings(WATCHLIST + ANNA)
    report = due(settings, SLOT)
    assert report.built == [KEY] and report.sent == []
    assert report.empty == [f"{KEY} -> anna@example.nl"]
    assert stored_edition(settings, KEY).item_count == 0

    # an article of that week that only turns up after the slot does not reopen it
    seed(settings, [entry(1, SLOT - timedelta(days=1))], SLOT + timedelta(minutes=30))
    for now in (SLOT, SLOT + timedelta(hours=1), SLOT + timedelta(hours=23)):
        report = due(settings, now)
        assert nothing_happened(report) and report.empty == [] and report.late == [], now
    assert mails(settings) == []
    with Store(settings.db_path) as store:
        assert store.deliveries() == []


def test_empty_week_with_send_empty_is_sent_once(make_settings) -> None:
    settings = make_settings(WATCHLIST + ANNA + "send_empty = true\n")
    report = due(settings, SLOT)
    assert report.built == [KEY] and report.empty == []
    assert sent_to(report) == [f"{KEY} -> anna@example.nl"]
    for now in (SLOT, SLOT + timedelta(hours=1), SLOT + timedelta(hours=23)):
        assert nothing_happened(due(settings, now)), now
    assert [to for to, _ in mails(settings)] == ["anna@example.nl"]


# --- audiences with their own moment --------------------------------------------------

TWO_ZONES = """
[[subscribers]]
email = "anna@example.nl"
language = "nl"
watchlists = ["werk"]
timezone = "Europe/Amsterdam"
[[subscribers]]
email = "nick@example.nl"
language = "nl"
watchlists = ["werk"]
timezone = "America/New_York"
"""
NEW_YORK_SLOT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # mon 07:00 EST (UTC-5)
NEW_YORK_KEY = "2026-W48/nl-werk--america-new-york"


def test_each_time_zone_gets_its_digest_at_its_own_seven_oclock(make_settings) -> None:
    settings = make_settings(WATCHLIST + TWO_ZONES)
    seed(settings, [entry(1, SLOT - timedelta(days=2))], SLOT - timedelta(days=2))

    assert nothing_happened(due(settings, SLOT - MINUTE))
    amsterdam = due(settings, SLOT)
    assert amsterdam.built == [KEY]
    assert sent_to(amsterdam) == [f"{KEY} -> anna@example.nl"]

    # between 07:00 in Amsterdam and 07:00 in New York: nothing for anyone
    seed(settings, [entry(2, SLOT + timedelta(hours=3))], SLOT + timedelta(hours=3))
    for now in (SLOT + timedelta(hours=1), SLOT + timedelta(hours=3), NEW_YORK_SLOT - MINUTE):
        assert nothing_happened(due(settings, now)), now

    new_york = due(settings, NEW_YORK_SLOT)
    assert new_york.built == [NEW_YORK_KEY]
    assert sent_to(new_york) == [f"{NEW_YORK_KEY} -> nick@example.nl"]
    assert nothing_happened(due(settings, NEW_YORK_SLOT + timedelta(hours=5)))

    # two editions, each up to its own moment
    assert stored_edition(settings, KEY).slug == "nl-werk"
    assert stored_edition(settings, KEY).period_end == SLOT
    assert stored_edition(settings, NEW_YORK_KEY).slug == "nl-werk--america-new-york"
    assert stored_edition(settings, NEW_YORK_KEY).period_end == NEW_YORK_SLOT
    got = dict(mails(settings))
    assert sorted(got) == ["anna@example.nl", "nick@example.nl"]
    assert title(1) in got["anna@example.nl"] and title(2) not in got["anna@example.nl"]
    assert title(1) in got["nick@example.nl"] and title(2) in got["nick@example.nl"]


FRIDAY = """
[[subscribers]]
email = "fred@example.nl"
language = "nl"
watchlists = ["werk"]
digest = "fri 16:00"
"""
FRIDAY_SLOT = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # fri 16:00 CET
FRIDAY_KEY = "2026-W48/nl-werk--fri-1600"


def test_subscriber_with_own_weekday_gets_a_separate_edition_on_friday(make_settings) -> None:
    settings = make_settings(WATCHLIST + ANNA + FRIDAY)
    seed(settings, [entry(1, SLOT - timedelta(days=2))], SLOT - timedelta(days=2))

    monday = due(settings, SLOT)
    assert monday.built == [KEY] and sent_to(monday) == [f"{KEY} -> anna@example.nl"]

    seed(settings, [entry(2, SLOT + timedelta(days=2))], SLOT + timedelta(days=2))
    for now in (SLOT + timedelta(hours=1), SLOT + timedelta(days=3), FRIDAY_SLOT - MINUTE):
        assert nothing_happened(due(settings, now)), now

    friday = due(settings, FRIDAY_SLOT)
    assert friday.built == [FRIDAY_KEY]
    assert sent_to(friday) == [f"{FRIDAY_KEY} -> fred@example.nl"]
    assert nothing_happened(due(settings, FRIDAY_SLOT + timedelta(hours=2)))
    edition = stored_edition(settings, FRIDAY_KEY)
    assert edition.slug == "nl-werk--fri-1600" and edition.period_end == FRIDAY_SLOT
    got = dict(mails(settings))
    assert sorted(got) == ["anna@example.nl", "fred@example.nl"]
    assert title(1) in got["fred@example.nl"] and title(2) in got["fred@example.nl"]
    assert title(2) not in got["anna@example.nl"]


# --- daylight saving time -------------------------------------------------------------

SUNDAY_NIGHT = '[schedule]\ndigest = "sun 02:30"\ntimezone = "Europe/Amsterdam"\n'


def test_spring_forward_slot_that_does_not_exist_is_due_after_the_gap(make_settings) -> None:
    # Sunday 29 March 2026: 02:00 CET jumps to 03:00 CEST, so 02:30 never happens;
    # the digest is due at 03:30 CEST = 01:30 UTC
    slot = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    key = "2026-W13/nl-werk"
    settings = make_settings(SUNDAY_NIGHT + WATCHLIST + ANNA)
    seed(settings, [entry(1, slot - timedelta(days=2))], slot - timedelta(days=2))

    for now in (
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 01:30 CET
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 03:00 CEST, just after the jump
        slot - timedelta(seconds=1),
    ):
        assert nothing_happened(due(settings, now)), now
    report = due(settings, slot)
    assert report.built == [key] and sent_to(report) == [f"{key} -> anna@example.nl"]
    assert stored_edition(settings, key).period_end == slot
    assert nothing_happened(due(settings, slot + timedelta(hours=2)))
    assert len(mails(settings)) == 1


def test_fall_back_slot_that_happens_twice_is_sent_once(make_settings) -> None:
    # Sunday 25 October 2026: 03:00 CEST goes back to 02:00 CET, so 02:30 happens at
    # 00:30 UTC and again at 01:30 UTC; the first one counts
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    key = "2026-W43/nl-werk"
    settings = make_settings(SUNDAY_NIGHT + WATCHLIST + ANNA)
    seed(settings, [entry(1, first - timedelta(days=2))], first - timedelta(days=2))

    assert nothing_happened(due(settings, first - timedelta(seconds=1)))
    report = due(settings, first)
    assert report.built == [key] and sent_to(report) == [f"{key} -> anna@example.nl"]
    for now in (first + timedelta(minutes=30), second, second + timedelta(minutes=5)):
        report = due(settings, now)
        assert nothing_happened(report) and report.late == [], now
    assert stored_edition(settings, key).period_end == first
    assert len(mails(settings)) == 1


# --- subscribers who join -------------------------------------------------------------

BERT = """
[[subscribers]]
email = "bert@example.nl"
language = "nl"
watchlists = ["werk"]
"""


def test_subscriber_added_after_the_edition_went_out_gets_the_frozen_edition(
    make_settings,
) -> None:
    settings = make_settings(WATCHLIST + ANNA)
    seed(settings, [entry(1, SLOT - timedelta(days=2))], SLOT - timedelta(days=2))
    report = due(settings, SLOT)
    assert sent_to(report) == [f"{KEY} -> anna@example.nl"]

    # an article of that week turns up late; then Bert joins the same audience
    seed(settings, [entry(2, SLOT - timedelta(hours=1))], SLOT + timedelta(hours=1))
    settings = make_settings(WATCHLIST + ANNA + BERT)
    report = due(settings, SLOT + timedelta(hours=2))
    assert report.built == [] and report.editions == [KEY]
    assert sent_to(report) == [f"{KEY} -> bert@example.nl"]
    assert report.skipped == [f"{KEY} -> anna@example.nl"]

    assert nothing_happened(due(settings, SLOT + timedelta(hours=3)))
    got = mails(settings)
    assert sorted(to for to, _ in got) == ["anna@example.nl", "bert@example.nl"]
    bert = dict(got)["bert@example.nl"]
    assert title(1) in bert and title(2) not in bert  # as built and sent to Anna


@pytest.mark.parametrize("joined", [timedelta(hours=25), timedelta(days=3)])
def test_subscriber_added_after_the_grace_waits_for_next_week(make_settings, joined) -> None:
    settings = make_settings(WATCHLIST + ANNA)
    seed(settings, [entry(1, SLOT - timedelta(days=2))], SLOT - timedelta(days=2))
    due(settings, SLOT)
    settings = make_settings(WATCHLIST + ANNA + BERT)
    report = due(settings, SLOT + joined)
    assert report.sent == [] and report.late == [KEY]
    assert [to for to, _ in mails(settings)] == ["anna@example.nl"]
