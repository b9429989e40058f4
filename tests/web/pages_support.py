"""Helpers for the story and watchlist page tests: feeds on a local HTTP server, crawled
and processed by the real jobs into a real SQLite file, dated from a given ``now``.

Three sources: ``NOS`` (Dutch), ``Regio`` (Dutch; carries a copy of NOS's Jumbo
article) and ``Wire`` (English; the same Jumbo news in English). NOS also carries
articles on working from home spread over the last months (the watchlist's chart), and
one whose title and text carry script payloads (as literal text after the feed's
escaping, and as markup the sanitizer removes).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from pytest_httpserver import HTTPServer

from articles_support import JUMBO_COPY, JUMBO_EN, JUMBO_NL
from pipeline.crawl import job as crawl_job
from pipeline.process import job as process_job
from pipeline.settings import load_settings
from pipeline.store import Store

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday: ISO week 2026-W48
RSS = "application/rss+xml; charset=utf-8"
SUBSCRIBER = "lezer@example.org"
AUTHOR = "Karin Verslaggever"
# as the feed's title says it: the escaped script stays text, the markup goes
PAYLOAD_TITLE = '&lt;script&gt;window.__xss = "title"&lt;/script&gt; Thuiswerken <b>veilig</b>'
STORED_TITLE = '<script>window.__xss = "title"</script> Thuiswerken veilig'

HOME = [
    "Steeds meer werkgevers in Utrecht staan thuiswerken toe, blijkt uit een peiling onder"
    " tweehonderd bedrijven. Vooral kantoren in de zakelijke dienstverlening doen mee.",
    "De gemeente Rotterdam wil dat ambtenaren minder thuiswerken. Het college vindt dat"
    " teams elkaar te weinig zien en wil drie kantoordagen per week invoeren.",
    "Een nieuwe cao in de metaalsector regelt een vergoeding voor thuiswerken van twee euro"
    " per dag. Vakbonden noemen het een kleine maar belangrijke stap.",
    "Onderzoekers van de universiteit in Tilburg zien dat thuiswerken de files rond de"
    " Randstad op dinsdag en donderdag merkbaar korter heeft gemaakt.",
    "Thuiswerken leidt volgens een arbodienst tot meer rugklachten. Werknemers zitten vaak"
    " aan de keukentafel zonder goede stoel of bureau.",
    "Het kabinet onderzoekt of thuiswerken een wettelijk recht moet worden. De Tweede Kamer"
    " stemde eerder voor een voorstel van GroenLinks en D66.",
    "Bij de Belastingdienst mogen medewerkers voortaan zelf kiezen hoeveel dagen ze"
    " thuiswerken. De dienst wil zo personeel vasthouden.",
]
# weeks before NOW's week with an article on working from home (the chart's bars)
HOME_WEEKS = (0, 0, 1, 2, 4, 9, 20)


@dataclass(frozen=True)
class Item:
    title: str  # plain text; escaped for the feed here
    link: str
    published: datetime
    text: str  # HTML, put in a CDATA section
    author: str = AUTHOR


def rss(items: list[Item], title: str) -> bytes:
    parts = [
        "<item>"
        f"<title>{escape(i.title, quote=False)}</title>"
        f"<link>{escape(i.link)}</link><guid>{escape(i.link)}</guid>"
        f"<author>redactie@example.org ({escape(i.author)})</author>"
        f"<pubDate>{format_datetime(i.published)}</pubDate>"
        f"<description><![CDATA[{i.text}]]></description>"
        "</item>"
        for i in items
    ]
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{escape(title)}</title><link>https://example.test/</link>"
        + "".join(parts)
        + "</channel></rss>"
    ).encode()


def feeds(now: datetime) -> dict[str, list[Item]]:
    """The three feeds' items, dated from ``now``."""
    day = timedelta(days=1)
    home = [
        Item(
            f"Thuiswerken {n + 1}: " + text.split(",")[0].split(".")[0],
            f"https://nos.example/thuiswerken-{n + 1}",
            now - timedelta(weeks=weeks, hours=2 + n),
            f"<p>{text}</p>",
        )
        for n, (weeks, text) in enumerate(zip(HOME_WEEKS, HOME, strict=True))
    ]
    payload = Item(
        PAYLOAD_TITLE,
        "https://nos.example/veilig-thuiswerken",
        now - timedelta(hours=1),
        "<p>Thuiswerken kan veilig.<script>window.__xss = 'text'</script>"
        '<img src="x" onerror="window.__xss = \'img\'"></p>'
        "<p>&lt;script&gt;window.__xss = 'escaped'&lt;/script&gt; blijft tekst.</p>",
    )
    return {
        "nos": [
            Item(
                "Jumbo schrapt 300 banen in Veghel",
                "https://nos.example/jumbo",
                now - day,
                JUMBO_NL,
            ),
            payload,
            *home,
        ],
        "regio": [
            Item(
                "Honderden banen weg bij Jumbo",
                "https://regio.example/jumbo-banen",
                now - day + timedelta(hours=2),
                JUMBO_COPY,
            )
        ],
        "wire": [
            Item(
                "Jumbo to cut 300 jobs in Veghel",
                "https://wire.example/jumbo",
                now - day + timedelta(hours=4),
                JUMBO_EN,
            )
        ],
    }


CONFIG = """
data_dir = "data"
digest_title = "Trendwatch Werk"
secret_env = "TW_TEST_SECRET"
allow_private_networks = true
{top}
[schedule]
timezone = "Europe/Amsterdam"

[crawl]
per_host_delay = 0
timeout = 5

[[sources]]
name = "NOS"
url = "{base}/nos.xml"
language = "nl"

[[sources]]
name = "Regio"
url = "{base}/regio.xml"
language = "nl"

[[sources]]
name = "Wire"
url = "{base}/wire.xml"
language = "en"

[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = "thuiswerken"

[[watchlists]]
name = "jumbo"
title = "Jumbo & banen"
query = "jumbo"

[[watchlists]]
name = "stil"
title = "Stil onderwerp"
query = "zeppelin"

[[subscribers]]
email = "{subscriber}"
name = "Lezer"
language = "nl"
watchlists = ["thuiswerken", "jumbo"]
{web}
"""


def serve_feeds(
    server: HTTPServer, now: datetime, extra: dict[str, list[Item]] | None = None
) -> None:
    """The three feeds dated from ``now`` on ``server`` (with ``extra`` items first)."""
    server.clear()
    for name, items in feeds(now).items():
        items = [*(extra or {}).get(name, []), *items]
        server.expect_request(f"/{name}.xml").respond_with_data(
            rss(items, name.upper()), content_type=RSS
        )


def crawl_and_process(config: Path, now: datetime) -> None:
    """``trendwatch crawl --all`` and ``process`` at ``now``, through the job functions."""
    settings = load_settings(config)
    with Store(settings.database) as store:
        reports = crawl_job.crawl(settings, store, now=now, force=True, parse_pool=False)
        assert all(r.status == "ok" for r in reports), reports
        process_job.process(settings, store, now=now)


def seed(
    folder: Path, server: HTTPServer, now: datetime = NOW, *, web: str = "", top: str = ""
) -> Path:
    """Serve the feeds, write the config, crawl and process at ``now``; the config."""
    serve_feeds(server, now)
    base = server.url_for("").rstrip("/")
    config = folder / "trendwatch.toml"
    text = CONFIG.format(base=base, subscriber=SUBSCRIBER, web=textwrap.dedent(web), top=top)
    config.write_text(text, encoding="utf-8")
    crawl_and_process(config, now)
    return config


def story_of(config: Path, url: str) -> int:
    """The story of the article at ``url``."""
    settings = load_settings(config)
    with Store(settings.database) as store:
        row = store._x("SELECT story_id FROM articles WHERE url = ?", [url]).fetchone()
    assert row and row[0], url
    return int(row[0])


def seeded(folder: Path, now: datetime = NOW, **keys: str) -> Path:
    """:func:`seed` with a feed server of its own, stopped afterwards."""
    server = HTTPServer()
    server.start()
    try:
        return seed(folder, server, now, **keys)
    finally:
        server.clear()
        server.stop()
