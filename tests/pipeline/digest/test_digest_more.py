"""The stories beyond a section's quota, end to end: processed in a real SQLite store,
built into the edition by the digest job, left out of the mail (which links to them)
and shown on the archive page the job writes; and an edition stored before they were
kept, sent and archived again without a link to stories it does not hold."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from crawlers.entries import Entry
from pipeline.digest import fit
from pipeline.digest import job as digest_job
from pipeline.process import job as process_job
from pipeline.store import Store

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # Thursday of ISO week 48
BASE = "https://digest.example.org"
PAGE = "2026/W48/nl-thuiswerken.html"  # the edition's archive page
CONFIG = f"""
base_url = "{BASE}"
secret_env = "TW_TEST_SECRET"
[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = "thuiswerken"
[[subscribers]]
email = "sanne@example.nl"
name = "Sanne"
language = "nl"
watchlists = ["thuiswerken"]
[[sources]]
name = "HR Nieuws"
url = "https://hrnieuws.test.invalid/feed.xml"
language = "nl"
"""
# Eight stories on different subjects that all mention thuiswerken, newest first: with
# one article each they are equally big, so the store's order (newest first) decides
# the mail's top 5; the three oldest are left out of it.
STORIES = [
    (
        "Gemeente Utrecht betaalt bureaustoel voor thuiswerken",
        "Utrecht vergoedt ambtenaren"
        " voortaan een bureaustoel en een scherm. Wethouder Jansen wil dat thuiswerken gezond"
        " blijft.",
    ),
    (
        "Rabobank schrapt vaste werkplekken",
        "De Rabobank in Eindhoven heeft niet langer een"
        " bureau per medewerker. Volgens de bank maakt thuiswerken de helft van de plekken"
        " overbodig.",
    ),
    (
        "Philips meet energieverbruik thuis",
        "Philips onderzoekt in Amsterdam wat thuiswerken"
        " kost aan stroom en gas. Medewerkers krijgen een slimme meter van het bedrijf.",
    ),
    (
        "Treinreizigers mijden de maandag",
        "De NS ziet op maandag veel minder reizigers in de"
        " spits tussen Zwolle en Schiphol. Thuiswerken aan het begin van de week is populair.",
    ),
    (
        "Vakbond CNV wil recht op onbereikbaarheid",
        "CNV vraagt minister De Vries om een wet"
        " die mailen na zes uur verbiedt. Thuiswerken maakt de grens tussen werk en privé vaag.",
    ),
    (
        "Kantoorpanden in Rotterdam staan leeg",
        "In Rotterdam staat een vijfde van de"
        " kantoren leeg. Makelaar Verhoeven wijt dat aan thuiswerken en wil woningen bouwen.",
    ),
    (
        "Kinderopvang in Groningen past tijden aan",
        "Kinderdagverblijven in Groningen openen"
        " later nu ouders vaker thuiswerken. Directeur Bakker ziet minder kinderen om zeven uur.",
    ),
    (
        "Belastingdienst controleert thuiswerkvergoeding",
        "De Belastingdienst in Apeldoorn"
        " controleert of werkgevers de vergoeding voor thuiswerken juist uitkeren aan personeel.",
    ),
]
SHOWN = [title for title, _ in STORIES[:5]]
LEFT_OUT = [title for title, _ in STORIES[5:]]
SECRET = "a-secret-of-at-least-16-bytes"


def entries() -> list[Entry]:
    return [
        Entry(
            identity=f"guid:{n}",
            title=title,
            url=f"https://hrnieuws.test.invalid/{n}",
            text=text,
            summary=text,
            published=NOW - timedelta(hours=6 + 12 * n),
            language="nl",
        )
        for n, (title, text) in enumerate(STORIES)
    ]


def seed(settings, store: Store) -> None:
    """The eight stories, stored and processed."""
    store.sync_sources(settings.sources, NOW)
    store.save_entries(store.sources()[0].id, entries(), NOW)
    process_job.process(settings, store, now=NOW)


class Section(HTMLParser):
    """The item titles in the section with id ``anchor``, and its "more" link(s)."""

    def __init__(self, anchor: str) -> None:
        super().__init__()
        self.anchor = anchor
        self.found = False
        self.titles: list[str] = []
        self.more: list[tuple[str, str | None]] = []
        self._depth = 0  # <td> nesting inside the section
        self._in: str | None = None
        self._text: list[str] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "td" and (self._depth or a.get("id") == self.anchor):
            self.found = True
            self._depth += 1
        if not self._depth:
            return
        classes = a.get("class", "").split()
        if tag == "h3" and "item-title" in classes:
            self._in, self._text = "title", []
        if tag == "p" and "more" in classes:
            self._in, self._text, self._href = "more", [], None
        if tag == "a" and self._in == "more":
            self._href = a.get("href")

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._depth:
            self._depth -= 1
        if self._in and tag in ("h3", "p"):
            text = " ".join("".join(self._text).split())
            if self._in == "title":
                self.titles.append(text)
            else:
                self.more.append((text, self._href))
            self._in = None


def section(html: str, anchor: str = "s-thuiswerken") -> Section:
    parser = Section(anchor)
    parser.feed(html)
    assert parser.found, f"no section #{anchor}"
    return parser


def mail_parts(settings) -> tuple[str, str]:
    [eml] = sorted(settings.outbox_dir.glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    return msg.get_body(("html",)).get_content(), msg.get_body(("plain",)).get_content()


def test_the_mail_links_to_the_stories_beyond_its_quota_on_the_archive_page(
    make_settings, monkeypatch
) -> None:
    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    settings = make_settings(CONFIG)
    with Store(settings.db_path) as store:
        seed(settings, store)
        report = digest_job.digest(settings, store, now=NOW)
    assert report.ok and report.built == ["2026-W48/nl-thuiswerken"]
    html, text = mail_parts(settings)
    mail = section(html)
    assert mail.titles == SHOWN
    href = f"{BASE}/archive/{PAGE}#s-thuiswerken"
    assert mail.more == [("+3 meer in het archief", href)]
    lines = text.splitlines()
    assert lines[lines.index("+3 meer in het archief:") + 1] == href
    for title in LEFT_OUT:
        assert title not in html and title not in " ".join(text.split())
    # the page the link names is the one the job wrote, and it shows all eight
    archive_html = (settings.archive_dir / PAGE).read_text("utf-8")
    archive = section(archive_html)
    assert archive.titles == SHOWN + LEFT_OUT
    assert archive.more == []
    assert "meer in het archief" not in archive_html


def test_an_edition_stored_with_its_top_5_only_is_sent_and_archived_without_a_dead_link(
    make_settings, monkeypatch
) -> None:
    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    settings = make_settings(CONFIG)
    with Store(settings.db_path) as store:
        seed(settings, store)
        digest_job.digest(settings, store, now=NOW, dry_run=True)  # built and stored, not sent
    # as the previous code stored it: the top stories and the count of the others
    strip_kept_stories(settings.db_path)
    (settings.archive_dir / PAGE).unlink()
    with Store(settings.db_path) as store:
        report = digest_job.digest(settings, store, now=NOW + timedelta(hours=1))
    assert report.ok and report.built == [] and len(report.sent) == 1
    html, text = mail_parts(settings)
    mail = section(html)
    assert mail.titles == SHOWN
    assert mail.more == [("+3 meer deze week", None)]
    assert "+3 meer deze week\n" in text
    archive_html = (settings.archive_dir / PAGE).read_text("utf-8")  # written again
    archive = section(archive_html)
    assert archive.titles == SHOWN
    assert archive.more == [("+3 meer deze week", None)]
    for part in (html, text, archive_html):
        assert "#s-thuiswerken" not in part and "in het archief" not in part


def strip_kept_stories(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        [(key, data)] = conn.execute("SELECT key, data FROM editions").fetchall()
        edition = json.loads(data)
        for s in edition["sections"]:
            assert len(s.pop("more_items")) == s["more"] == 3
            assert s.pop("more_references") == []
        with conn:
            conn.execute("UPDATE editions SET data = ? WHERE key = ?", [json.dumps(edition), key])
    finally:
        conn.close()


def test_a_mail_that_would_be_clipped_shows_fewer_stories_and_links_to_the_rest(
    make_settings, monkeypatch, tmp_path: Path
) -> None:
    """Mail programs clip a long HTML part (Gmail over about 102 KB), footer and
    unsubscribe link included: the job shows fewer stories in full until it fits, and
    links to the others on the archive page, which shows them all."""
    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    settings = make_settings(CONFIG)
    with Store(settings.db_path) as store:
        seed(settings, store)
        html_path, _ = digest_job.preview(settings, store, "sanne@example.nl", tmp_path, now=NOW)
        full_size = len(html_path.read_bytes())  # the top 5, as the quota has it
        # a limit the top 5 does not fit under
        monkeypatch.setattr(fit, "MAIL_HTML_LIMIT", full_size - 1 + fit.PERSONAL_MARGIN)
        report = digest_job.digest(settings, store, now=NOW)
    assert report.ok and len(report.sent) == 1
    html, text = mail_parts(settings)
    assert len(html.encode("utf-8")) <= full_size - 1
    mail = section(html)
    assert mail.titles == SHOWN[:4]
    href = f"{BASE}/archive/{PAGE}#s-thuiswerken"
    assert mail.more == [("+4 meer in het archief", href)]
    assert f"{BASE}/unsubscribe/" in html  # the footer is all there
    lines = text.splitlines()
    assert lines[lines.index("+4 meer in het archief:") + 1] == href
    archive = section((settings.archive_dir / PAGE).read_text("utf-8"))
    assert archive.titles == SHOWN + LEFT_OUT


def test_a_digest_run_keeps_no_rendered_articles_after_it(
    make_settings, monkeypatch, tmp_path: Path
) -> None:
    """The articles' markup a run renders (shared by its editions and archive pages)
    is dropped when it ends, so a long-running ``trendwatch run`` does not hold it."""
    from digests.templating import environment

    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    settings = make_settings(CONFIG)
    kept = environment(settings.template_dir).globals["item_markup"]
    with Store(settings.db_path) as store:
        seed(settings, store)
        digest_job.preview(settings, store, "sanne@example.nl", tmp_path, now=NOW)
        assert kept.kept > 0  # what a run would drop
        report = digest_job.digest(settings, store, now=NOW)
    assert report.ok and len(report.sent) == 1
    assert kept.kept == 0
    assert "Thuiswerken" in mail_parts(settings)[0]  # rendered as before
