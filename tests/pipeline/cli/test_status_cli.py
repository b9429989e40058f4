"""`trendwatch status` as a reader sees it: plain English counts, and a table that
reads well in an 80-column terminal."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console

from crawlers.entries import Entry
from pipeline.cli.i18n import count
from pipeline.cli.status import print_status
from pipeline.cli.status_view import short_time
from pipeline.status import status_data
from pipeline.store import CrawlRecord, Store
from tests_support import trendwatch


def test_plural_in_english() -> None:
    assert count(0, "subscriber") == "0 subscribers"
    assert count(1, "subscriber") == "1 subscriber"
    assert count(2, "subscriber") == "2 subscribers"
    assert count(1, "story") == "1 story"
    assert count(3, "story") == "3 stories"
    assert count(1, "match") == "1 match"


AUDIENCES = """
from = "Trendwatch <digest@example.nl>"
[[watchlists]]
name = "werk"
title = "Werk"
query = "werk"
[[subscribers]]
email = "anne@example.nl"
name = "Anne"
language = "nl"
watchlists = ["werk"]
[[subscribers]]
email = "john@example.com"
name = "John"
language = "en"
watchlists = ["werk"]
[[subscribers]]
email = "jane@example.com"
name = "Jane"
language = "en"
watchlists = ["werk"]
"""


def test_status_counts_subscribers_in_singular_and_plural(make_settings, tmp_path: Path) -> None:
    settings = make_settings(AUDIENCES)
    result = trendwatch("--config", str(settings.path), "status", cwd=tmp_path, columns=200)
    assert result.returncode == 0, result.stderr
    lines = {x.split(":")[0]: x for x in result.stdout.splitlines() if "Next digest" in x}
    assert lines["Next digest nl-werk"].endswith("(1 subscriber)")
    assert lines["Next digest en-werk"].endswith("(2 subscribers)")
    assert "0 articles; this week 0 new articles, 0 matches and 0 stories." in result.stdout


# --- the sources in an 80-column terminal -------------------------------------------

SOURCES = """
from = "Trendwatch <digest@example.nl>"
[schedule]
timezone = "Europe/Amsterdam"
[[sources]]
name = "Werk en Leven"
url = "https://werkenleven.example.org/feed.xml"
[[sources]]
name = "HR Praktijk"
url = "https://hrpraktijk.example.org/rss"
[[sources]]
name = "Oud Nieuws"
url = "https://oudnieuws.example.org/feed"
[[sources]]
name = "Nieuw Blad"
url = "https://nieuwblad.example.org/feed"
[[sources]]
name = "Vakblad Arbeidsmarkt"
url = "https://vakblad.example.org/atom.xml"
[[sources]]
name = "Verhuisd Weekblad"
url = "https://oud.verhuisd.example.org/feed.xml"
[[sources]]
name = "Uitgezet"
url = "https://uitgezet.example.org/feed.xml"
enabled = false
[[sources]]
name = "Rommelig"
url = "https://rommelig.example.org/feed.xml"
"""

# each source's health word in the table, hand-derived from what seed_sources does
HEALTH = {
    "Werk en Leven": "ok",
    "HR Praktijk": "failing (3x)",
    "Oud Nieuws": "gone",
    "Nieuw Blad": "never fetched",
    "Vakblad Arbeidsmarkt": "rate limited",
    "Verhuisd Weekblad": "ok",
    "Uitgezet": "disabled",
    "Rommelig": "warning",
}
WARNING = "malformed feed, 4 entries salvaged: mismatched tag at line 12, column 3"


def seed_sources(settings, store: Store, now: datetime) -> None:
    """Sources in every state: ok (with 1234 articles), failing three times in a row,
    gone (410), never fetched, rate limited (429 with Retry-After), moved (301), switched
    off in the config, and ok with a warning. The last crawl was an hour before ``now``."""
    store.sync_sources(settings.sources, now - timedelta(days=3))
    ids = {r.name: r.id for r in store.sources()}
    t0 = now - timedelta(hours=1)

    def ok(at: datetime, **kwargs: Any) -> CrawlRecord:
        return CrawlRecord(
            ok=True, next_poll=at + timedelta(hours=2), status=200, poll_interval=7200, **kwargs
        )

    entries = [
        Entry(
            identity=f"guid:{n}",
            title=f"Artikel {n}",
            url=f"https://werkenleven.example.org/{n}",
            text="Tekst.",
            summary="Tekst.",
            published=t0,
            language="nl",
        )
        for n in range(1234)
    ]
    store.save_entries(ids["Werk en Leven"], entries, t0)
    store.record_crawl(ids["Werk en Leven"], t0, ok(t0))
    store.record_crawl(ids["HR Praktijk"], t0 - timedelta(days=1), ok(t0 - timedelta(days=1)))
    for k in range(3):
        store.record_crawl(
            ids["HR Praktijk"],
            t0 + timedelta(minutes=k),
            CrawlRecord(
                ok=False,
                next_poll=t0 + timedelta(hours=4),
                status=500,
                errors=k + 1,
                error="HTTP 500 Internal Server Error",
            ),
        )
    store.record_crawl(
        ids["Oud Nieuws"],
        t0,
        CrawlRecord(
            ok=False,
            next_poll=t0,
            status=410,
            errors=1,
            error="HTTP 410 Gone",
            disabled_reason=f"410 Gone on {t0.date().isoformat()}",
        ),
    )
    store.record_crawl(
        ids["Vakblad Arbeidsmarkt"],
        t0,
        CrawlRecord(
            ok=False,
            next_poll=now + timedelta(hours=3),
            status=429,
            errors=1,
            error="HTTP 429 Too Many Requests",
            retry_after=now + timedelta(hours=3),
        ),
    )
    store.record_crawl(
        ids["Verhuisd Weekblad"], t0, ok(t0, moved_to="https://nieuw.verhuisd.example.org/feed.xml")
    )
    store.record_crawl(ids["Rommelig"], t0, ok(t0, warning=WARNING))


NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # 13:00 in Amsterdam (CET)


def render_status(make_settings, width: int) -> list[str]:
    settings = make_settings(SOURCES)
    with Store(settings.db_path) as store:
        seed_sources(settings, store, NOW)
        data = status_data(settings, store, NOW)
    out = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    print_status(out, data, timezone="Europe/Amsterdam", now=NOW)
    return out.export_text().splitlines()


def source_rows(lines: list[str]) -> dict[str, list[str]]:
    """Each source's lines: the line that starts with its name, and the indented
    details lines right under it."""
    rows: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines:
        name = next((n for n in HEALTH if line.startswith(n + " ") or line == n), None)
        if name is not None:
            current = name
            rows[name] = [line]
        elif current is not None and line.startswith("  ") and line.strip():
            rows[current].append(line)
        else:
            current = None
    return rows


def assert_reads_well(lines: list[str], width: int) -> dict[str, list[str]]:
    assert all(len(line) <= width for line in lines), [x for x in lines if len(x) > width]
    rows = source_rows(lines)
    assert set(rows) == set(HEALTH)  # every name whole, at the start of its line
    for name, row in rows.items():
        assert len(row) <= 2, row  # a source takes one line, two with details
        # the health word whole on the source's line, and its article count
        assert f"  {HEALTH[name]}  " in row[0] + "  ", row[0]
    assert " 1234  " in rows["Werk en Leven"][0]
    return rows


def test_status_at_80_columns_breaks_no_word_and_gives_a_source_at_most_two_lines(
    make_settings,
) -> None:
    lines = render_status(make_settings, 80)
    rows = assert_reads_well(lines, 80)
    header = next(x for x in lines if x.startswith("source "))
    assert header.split() == ["source", "type", "health", "articles", "last", "ok", "next", "poll"]
    # details only where there is something to say; times local, without the year
    assert rows["Werk en Leven"][1:] == [] and rows["Nieuw Blad"][1:] == []
    assert rows["Uitgezet"][1:] == []
    assert rows["HR Praktijk"][1:] == ["  error 26 Nov 12:02: HTTP 500 Internal Server Error"]
    assert rows["Oud Nieuws"][1:] == ["  410 Gone on 2026-11-26; not polled any more"]
    assert rows["Vakblad Arbeidsmarkt"][1:] == [
        "  no poll before 26 Nov 16:00; error 26 Nov 12:00: HTTP 429 Too Many Requests"
    ]
    assert rows["Verhuisd Weekblad"][1:] == [
        "  moved to https://nieuw.verhuisd.example.org/feed.xml; put it in the config"
    ]
    assert rows["Rommelig"][1:] == [f"  {WARNING}"]
    hr = rows["HR Praktijk"][0].removeprefix("HR Praktijk").split()
    assert hr == "feed failing (3x) 0 25 Nov 12:00 26 Nov 16:00".split()


def test_status_uses_the_room_of_a_wider_terminal(make_settings) -> None:
    lines = render_status(make_settings, 160)
    rows = assert_reads_well(lines, 160)
    header = next(x for x in lines if x.startswith("source "))
    for column in ("type", "errors", "last error", "next poll", "every"):
        assert f"  {column}" in header
    hr = rows["HR Praktijk"][0].removeprefix("HR Praktijk").split()
    assert hr == "feed failing (3x) 0 3 25 Nov 12:00 26 Nov 12:02 26 Nov 16:00 2h".split()


def test_short_times() -> None:
    tz = ZoneInfo("Europe/Amsterdam")
    assert short_time("2026-11-26T11:00:00+00:00", tz, NOW) == "26 Nov 12:00"
    assert short_time("2025-03-12T10:00:00+00:00", tz, NOW) == "12 Mar 2025"
    assert short_time(None, tz, NOW) == "-"


def test_status_as_a_child_process_at_80_columns_and_json_complete(
    make_settings, tmp_path: Path
) -> None:
    settings = make_settings(SOURCES)
    with Store(settings.db_path) as store:
        seed_sources(settings, store, datetime.now(UTC))
    result = trendwatch("--config", str(settings.path), "status", cwd=tmp_path, columns=80)
    assert result.returncode == 0, result.stderr
    assert_reads_well(result.stdout.splitlines(), 80)
    data = json.loads(
        trendwatch("--config", str(settings.path), "status", "--json", cwd=tmp_path).stdout
    )
    by_name = {s["name"]: s for s in data["sources"]}
    assert by_name["Oud Nieuws"]["health"] == "gone, disabled"
    assert by_name["Uitgezet"]["health"] == "disabled in config"
    assert by_name["Rommelig"]["health"] == "ok, with warning"
    moved = by_name["Verhuisd Weekblad"]
    assert moved["moved_from"] == moved["config_url"] == "https://oud.verhuisd.example.org/feed.xml"
    assert any("(the config still says" in n for n in moved["notes"])
