"""Helpers for the web tests: a config file, the application under Starlette's
TestClient, an archive with one edition, a fixed clock."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.testclient import TestClient

from digests.archive import archive_entry, write_edition_page, write_indexes
from digests.model import DigestItem, DigestSection, Edition
from digests.render import render_edition
from web.app import create_app

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ADMIN_TOKEN = "correct-horse-battery-staple"  # 28 characters
ADMIN_ENV = "TW_TEST_ADMIN_TOKEN"
SECRET_ENV = "TW_TEST_SECRET"
SECRET = "s3cret-for-the-web-tests-0123456789"
LOCAL = ("127.0.0.1", 50000)
REMOTE = ("203.0.113.7", 50000)

BASE = """
data_dir = "data"
digest_title = "Trendwatch Werk"
secret_env = "TW_TEST_SECRET"
{top}
[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = "thuiswerken"

[[subscribers]]
email = "lezer@example.org"
name = "Lezer"
language = "{language}"
watchlists = ["thuiswerken"]
{web}
"""


def write_config(folder: Path, *, web: str = "", top: str = "", language: str = "nl") -> Path:
    path = folder / "trendwatch.toml"
    text = BASE.format(top=top, web=textwrap.dedent(web), language=language)
    path.write_text(text, encoding="utf-8")
    return path


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def app_for(config: Path, clock: Clock | None = None) -> Starlette:
    return create_app(config, clock=clock or Clock())


def client(
    app: Starlette, *, peer: tuple[str, int] = REMOTE, base_url: str = "http://127.0.0.1:8080"
) -> TestClient:
    return TestClient(app, base_url=base_url, client=peer, follow_redirects=False)


def edition(base_url: str | None, slug: str = "nl-thuiswerken") -> Edition:
    ams = ZoneInfo("Europe/Amsterdam")
    monday = datetime(2026, 11, 23, tzinfo=ams)
    end = monday + timedelta(days=6, hours=23, minutes=59)
    item = DigestItem(
        title="Thuiswerken blijft populair",
        url="https://news.example.nl/thuiswerken",
        source="NU.nl",
        published=monday + timedelta(days=2),
        teaser="Werknemers willen twee dagen per week thuiswerken.",
        matched=("thuiswerken",),
    )
    return Edition(
        key=f"2026-W48/{slug}",
        slug=slug,
        title="Trendwatch Werk",
        language="nl",
        timezone="Europe/Amsterdam",
        period_start=monday,
        period_end=end,
        year=2026,
        week=48,
        sections=(DigestSection(watchlist="thuiswerken", title="Thuiswerken", items=(item,)),),
        built_at=end + timedelta(hours=6),
        base_url=base_url,
    )


def write_archive(archive_dir: Path, editions: list[Edition]) -> None:
    """The archive as `trendwatch digest` writes it: the pages and the indexes."""
    for one in editions:
        write_edition_page(archive_dir, one, render_edition(one).html)
    write_indexes(
        archive_dir,
        [archive_entry(e) for e in editions],
        title="Trendwatch Werk",
        language="nl",
        timezone="Europe/Amsterdam",
    )
