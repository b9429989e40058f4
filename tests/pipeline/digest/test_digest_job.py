"""The digest job end to end: store → edition → SMTP (real aiosmtpd) or outbox, once."""

from __future__ import annotations

import email
import email.policy
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from crawlers.entries import Entry
from pipeline.cli import cli
from pipeline.digest import job as digest_job
from pipeline.process import job as process_job
from pipeline.store import Store
from postgres_support import query
from tests_support import REPO

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # Thursday of ISO week 48

WATCHLISTS = """
[[watchlists]]
name = "social-media-werk"
title = "Social media op het werk"
query = '"social media" werk'
[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = 'thuiswerken OR "hybride werken"'
[[subscribers]]
email = "sanne@example.nl"
name = "Sanne"
language = "nl"
watchlists = ["social-media-werk", "thuiswerken"]
[[subscribers]]
email = "tom@example.nl"
name = "Tom"
language = "nl"
watchlists = ["social-media-werk", "thuiswerken"]
[[subscribers]]
email = "editor@example.com"
name = "Editor"
language = "en"
watchlists = ["thuiswerken"]
[[sources]]
name = "HR Nieuws"
url = "https://hrnieuws.test.invalid/feed.xml"
language = "nl"
"""


def smtp_toml(port: int) -> str:
    return (
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "Trendwatch <digest@trendwatch.test>"\n'
    )


def article(n: int, title: str, text: str, *, age: timedelta, first_seen_age=None) -> Entry:
    return Entry(
        identity=f"guid:{n}",
        title=title,
        url=f"https://hrnieuws.test.invalid/{n}",
        text=text,
        summary=text,
        published=NOW - age,
        language="nl",
    )


ARTICLES = [
    article(
        1,
        "Werkgevers maken regels voor social media",
        "Medewerkers delen steeds vaker iets over hun werk op social media. Werkgevers"
        " reageren met richtlijnen. Een jurist legt uit wat mag.",
        age=timedelta(days=1),
    ),
    article(
        2,
        "Thuiswerken blijft de norm",
        "Na vijf jaar is thuiswerken voor veel kantoorbanen gewoon geworden.",
        age=timedelta(days=2),
    ),
    article(
        3,
        "Oud nieuws over thuiswerken",
        "Dit artikel over thuiswerken is van vorige maand.",
        age=timedelta(days=9),
    ),
]


def seed(settings, store: Store, entries=ARTICLES, when: datetime = NOW) -> None:
    store.sync_sources(settings.sources, when)
    store.save_entries(store.sources()[0].id, entries, when)
    process_job.process(settings, store, now=when)


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


@pytest.mark.both_databases
def test_digest_is_sent_by_smtp_once_per_subscriber(
    make_settings, smtpd, configured_database: str
) -> None:
    recorder, port = smtpd
    settings = make_settings(smtp_toml(port) + WATCHLISTS)
    with Store(settings.database) as store:
        seed(settings, store)
        report = digest_job.digest(settings, store, now=NOW)
        assert report.ok and len(report.sent) == 3
        assert sorted(report.built) == [
            "2026-W48/en-thuiswerken",
            "2026-W48/nl-social-media-werk_thuiswerken",
        ]

        by_rcpt = {r.rcpt_tos[0]: parse(r.content) for r in recorder.received}
        assert sorted(by_rcpt) == ["editor@example.com", "sanne@example.nl", "tom@example.nl"]
        msg = by_rcpt["sanne@example.nl"]
        assert msg.get_content_type() == "multipart/alternative"
        assert "Sanne" in msg["To"] and "48" in msg["Subject"]
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        for part in (text, html):
            assert "Werkgevers maken regels voor social media" in part
            assert "https://hrnieuws.test.invalid/1" in part
            assert "https://hrnieuws.test.invalid/2" in part
            assert "Oud nieuws" not in part  # older than the seven-day period
        assert "social media, werk" in text  # why it matched
        en = by_rcpt["editor@example.com"].get_body(("plain",)).get_content()
        assert "Thuiswerken blijft de norm" in en and "social media" not in en.lower()

        # a second run the same week sends nothing and builds nothing new
        again = digest_job.digest(settings, store, now=NOW + timedelta(hours=3))
        assert again.sent == [] and len(again.skipped) == 3 and again.built == []
        assert len(recorder.received) == 3
        assert store.delivery_counts() == {"sent": 3}


def test_edition_is_frozen_once_built(make_settings, smtpd) -> None:
    recorder, port = smtpd
    settings = make_settings(smtp_toml(port) + WATCHLISTS)
    with Store(settings.db_path) as store:
        seed(settings, store)
        digest_job.digest(settings, store, now=NOW)
        late = article(
            4, "Nieuw over thuiswerken", "Thuiswerken op vrijdag.", age=timedelta(hours=1)
        )
        seed(settings, store, [late], NOW + timedelta(hours=2))
        report = digest_job.digest(settings, store, now=NOW + timedelta(hours=3))
        assert report.sent == []
        page = settings.archive_dir / "2026" / "W48" / "en-thuiswerken.html"
        assert "Nieuw over thuiswerken" not in page.read_text("utf-8")
    assert len(recorder.received) == 3


def test_temporary_smtp_failure_is_retried_on_the_next_run(make_settings, smtpd) -> None:
    recorder, port = smtpd
    settings = make_settings(smtp_toml(port) + WATCHLISTS)
    recorder.data_reply = "451 4.3.0 Try again later"
    with Store(settings.db_path) as store:
        seed(settings, store)
        first = digest_job.digest(settings, store, now=NOW)
        assert not first.ok and len(first.failed) == 3 and first.sent == []
        assert store.delivery_counts() == {"pending": 3}
        recorder.data_reply = None
        second = digest_job.digest(settings, store, now=NOW + timedelta(hours=1))
        assert len(second.sent) == 3
        third = digest_job.digest(settings, store, now=NOW + timedelta(hours=2))
        assert third.sent == []
    assert len(recorder.received) == 3


def test_permanent_smtp_failure_is_recorded_not_retried(make_settings, smtpd) -> None:
    recorder, port = smtpd
    settings = make_settings(smtp_toml(port) + WATCHLISTS)
    recorder.rcpt_replies["tom@example.nl"] = "550 5.1.1 No such user"
    with Store(settings.db_path) as store:
        seed(settings, store)
        first = digest_job.digest(settings, store, now=NOW)
        assert [f.split(":")[0] for f in first.failed] == [
            "2026-W48/nl-social-media-werk_thuiswerken -> tom@example.nl"
        ]
        assert store.delivery_counts() == {"sent": 2, "failed": 1}
        recorder.rcpt_replies.clear()
        digest_job.digest(settings, store, now=NOW + timedelta(hours=1))
        assert store.delivery_counts() == {"sent": 2, "failed": 1}
    assert sorted(r.rcpt_tos[0] for r in recorder.received) == [
        "editor@example.com",
        "sanne@example.nl",
    ]


def test_smtp_server_down_keeps_deliveries_pending(make_settings) -> None:
    from smtp_support import free_port

    settings = make_settings(smtp_toml(free_port()) + WATCHLISTS)
    with Store(settings.db_path) as store:
        seed(settings, store)
        report = digest_job.digest(settings, store, now=NOW)
        assert len(report.failed) == 3
        assert store.delivery_counts() == {"pending": 3}


@pytest.mark.both_databases
def test_outbox_delivery_and_recovery_after_a_crash(
    make_settings, configured_database: str
) -> None:
    settings = make_settings(WATCHLISTS)
    with Store(settings.database) as store:
        seed(settings, store)
        report = digest_job.digest(settings, store, now=NOW)
        files = sorted(settings.outbox_dir.glob("*.eml"))
        assert len(files) == 3 and len(report.sent) == 3
        # a run that died after writing one file but before recording it
        row = store.deliveries()[0]
        query(store, "UPDATE deliveries SET status = 'sending' WHERE id = ?", [row.id])
        # ... and one that died before writing its file
        lost = store.deliveries()[1]
        query(store, "UPDATE deliveries SET status = 'sending' WHERE id = ?", [lost.id])
        transport_file = [f for f in files if "tom" in f.name]
        transport_file[0].unlink()
        recovered = digest_job.digest(settings, store, now=NOW + timedelta(hours=1))
        assert store.delivery_counts() == {"sent": 3}
        assert len(recovered.sent) == 1  # only the lost message is written again
        assert len(list(settings.outbox_dir.glob("*.eml"))) == 3


@pytest.mark.both_databases
def test_the_archive_command_rewrites_the_pages_the_digest_wrote(
    make_settings, configured_database: str, tmp_path
) -> None:
    """``trendwatch archive`` (after a lost folder, or a template change) writes every
    stored edition's page, the indexes and the feed again, from the database whichever
    it is: the same files as the digest job wrote, and with the config's templates."""
    settings = make_settings(WATCHLISTS)
    with Store(settings.database) as store:
        seed(settings, store)
        digest_job.digest(settings, store, now=NOW)
    archive = settings.archive_dir

    def files() -> dict[str, bytes]:
        return {str(p.relative_to(archive)): p.read_bytes() for p in archive.rglob("*.*")}

    def rebuild() -> str:
        config = ["--config", str(tmp_path / "trendwatch.toml"), "archive"]
        result = CliRunner().invoke(cli, config)
        assert result.exit_code == 0, result.output
        return result.output

    written = files()
    editions = ["2026/W48/en-thuiswerken.html", "2026/W48/nl-social-media-werk_thuiswerken.html"]
    assert set(editions) < set(written) and "feed.xml" in written
    shutil.rmtree(archive)
    assert f"Wrote {len(written)} files" in rebuild()
    assert files() == written

    # a template changed: the pages follow it, the mails already sent do not matter
    templates = tmp_path / "templates"
    templates.mkdir()
    shipped = (REPO / "digests" / "templates" / "edition.html.j2").read_text("utf-8")
    changed = shipped.replace('<body class="body">', '<body class="body"><p>Huisstijl 2027</p>')
    (templates / "edition.html.j2").write_text(changed, encoding="utf-8")
    config = tmp_path / "trendwatch.toml"
    config.write_text(f'template_dir = "{templates}"\n' + config.read_text("utf-8"), "utf-8")
    rebuild()
    for page in editions:
        assert b"Huisstijl 2027" in files()[page]


def test_dry_run_writes_archive_and_sends_nothing(make_settings, smtpd) -> None:
    recorder, port = smtpd
    settings = make_settings(smtp_toml(port) + WATCHLISTS)
    with Store(settings.db_path) as store:
        seed(settings, store)
        report = digest_job.digest(settings, store, now=NOW, dry_run=True)
        assert report.sent == [] and store.deliveries() == []
    assert recorder.received == []
    index = (settings.archive_dir / "index.html").read_text("utf-8")
    assert "2026/W48/nl-social-media-werk_thuiswerken.html" in index
    page = settings.archive_dir / "2026" / "W48" / "nl-social-media-werk_thuiswerken.html"
    html = page.read_text("utf-8")
    assert "Werkgevers maken regels voor social media" in html
    assert "sanne@example.nl" not in html and "Sanne" not in html  # no personal data


@pytest.mark.parametrize(
    ("published_days_ago", "first_seen_days_ago", "included"),
    [(1, 0, True), (8, 0, False), (6, 6, True), (None, 2, True), (None, 8, False)],
)
def test_period_uses_publication_date_else_first_seen(
    make_settings, published_days_ago, first_seen_days_ago, included
) -> None:
    settings = make_settings(WATCHLISTS)
    seen = NOW - timedelta(days=first_seen_days_ago)
    entry = Entry(
        identity="guid:x",
        title="Thuiswerken in de zorg",
        url="https://hrnieuws.test.invalid/x",
        text="Thuiswerken in de zorg is lastig.",
        published=None if published_days_ago is None else NOW - timedelta(days=published_days_ago),
        language="nl",
    )
    with Store(settings.db_path) as store:
        seed(settings, store, [entry], seen)
        rows = store.matched_articles("thuiswerken", NOW - timedelta(days=7), NOW)
        # the digest job reads every watchlist's at once: the same rows
        every = store.period_matches(NOW - timedelta(days=7), NOW)
    assert (len(rows) == 1) is included
    assert every == ({"thuiswerken": rows} if included else {})


def test_backdated_entries_are_left_out(make_settings) -> None:
    """An entry first seen today but published 40 days earlier is old news."""
    settings = make_settings(WATCHLISTS)
    entry = Entry(
        identity="guid:old",
        title="Thuiswerken",
        url="https://hrnieuws.test.invalid/old",
        text="Thuiswerken.",
        published=NOW - timedelta(days=40),
        language="nl",
    )
    with Store(settings.db_path) as store:
        seed(settings, store, [entry], NOW)
        assert store.matched_articles("thuiswerken", NOW - timedelta(days=60), NOW) == []
        assert store.period_matches(NOW - timedelta(days=60), NOW) == {}


def test_smtp_delivery_interrupted_mid_send_is_sent_on_the_next_run(make_settings, smtpd) -> None:
    recorder, port = smtpd
    settings = make_settings(smtp_toml(port) + WATCHLISTS)
    with Store(settings.db_path) as store:
        seed(settings, store)
        digest_job.digest(settings, store, now=NOW)
        assert len(recorder.received) == 3
        # a run that claimed tom's delivery and died before the server answered
        tom = next(d for d in store.deliveries() if d.subscriber == "tom@example.nl")
        store.db.execute("UPDATE deliveries SET status = 'sending' WHERE id = ?", [tom.id])
        store.db.conn.commit()
        report = digest_job.digest(settings, store, now=NOW + timedelta(hours=1))
        assert [s.split(" -> ")[1] for s in report.sent] == ["tom@example.nl"]
        assert store.delivery_counts() == {"sent": 3}
    resent = [parse(r.content) for r in recorder.received if r.rcpt_tos == ["tom@example.nl"]]
    assert len(resent) == 2 and resent[0]["Message-ID"] == resent[1]["Message-ID"]
