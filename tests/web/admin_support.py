"""Helpers for the admin pages' tests: a config file with comments, sources, watchlists
and subscribers; a store with processed articles; signing in; the CSRF token of a page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from httpx import Response
from starlette.testclient import TestClient

from crawlers.entries import Entry
from pipeline.settings import load_settings
from pipeline.store import Store
from web_support import ADMIN_TOKEN, NOW

CONFIG = """# Trendwatch for the HR desk. Keep this comment.
data_dir = "data"   # where the database lives
digest_title = "Trendwatch Werk"
secret_env = "TW_TEST_SECRET"
from = "Trendwatch <digest@example.org>"
allow_private_networks = true
{top}
[schedule]
timezone = "Europe/Amsterdam"

[crawl]
per_host_delay = 0

# --- sources ---
[[sources]]
name = "HR Nieuws"
url = "http://127.0.0.1:9/hr.xml"
language = "nl"

[[sources]]
name = "Work News"
url = "http://127.0.0.1:9/work.xml"
language = "en"

# --- watchlists ---
[[watchlists]]
# the oldest one
name = "thuiswerken"
title = "Thuiswerken"
query = 'thuiswerken OR "hybride werken"'   # literal: keep the quotes

[[watchlists]]
name = "banen"
title = "Banen"
query = "banen -stage"
entities = ["Jumbo"]

# --- subscribers ---
[[subscribers]]
email = "anne@example.org"
name = "Anne"
language = "nl"
watchlists = ["thuiswerken", "banen"]
{web}
# a sources add appended this one later
[[sources]]
name = "Later"
url = "http://127.0.0.1:9/later.xml"
"""

# (title, text, days ago, source (its place in the config), language)
ARTICLES = [
    (
        "Thuiswerken blijft de norm",
        "Werkgevers zien dat medewerkers twee dagen thuiswerken.",
        1,
        0,
        "nl",
    ),
    (
        "Jumbo schrapt 300 banen",
        "Supermarktketen Jumbo schrapt banen op het hoofdkantoor.",
        3,
        0,
        "nl",
    ),
    ("Hybride werken vraagt afspraken", "Bij hybride werken horen nieuwe afspraken.", 9, 0, "nl"),
    (
        "Remote work is here to stay",
        "Employers say remote work and hybrid working stay.",
        2,
        1,
        "en",
    ),
    (
        "Managers want the office back",
        "Many managers want staff in the office four days.",
        12,
        1,
        "en",
    ),
    ("Oud nieuws over thuiswerken", "Dit artikel is ouder dan dertig dagen.", 45, 0, "nl"),
]


def write_admin_config(folder: Path, *, web: str = "", top: str = "") -> Path:
    path = folder / "trendwatch.toml"
    path.write_text(CONFIG.format(web=web, top=top), encoding="utf-8")
    return path


def fill_store(
    config: Path,
    articles: list[tuple[str, str, int, int, str]] = ARTICLES,
    *,
    now: datetime = NOW,
) -> list[int]:
    """The articles (dated days before ``now``) saved and marked processed; their ids."""
    settings = load_settings(config)
    with Store(settings.database) as store:
        store.sync_sources(settings.sources, now - timedelta(days=60))
        named = {s.name: s for s in store.sources()}
        sources = [named[s.name] for s in settings.sources]
        for n, (title, text, days, source, language) in enumerate(articles):
            host = ["hrnieuws.test", "worknews.test"][source]
            entry = Entry(
                identity=f"guid:{n}",
                title=title,
                url=f"https://{host}/{n}",
                text=text,
                published=now - timedelta(days=days),
                language=language,
            )
            store.save_entries(sources[source].id, [entry], now - timedelta(days=days))
        ids = [a.id for a in store.articles_to_process(1000)]
        store.save_matches([], processed_ids=ids, now=now)
    return ids


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found[1]


def sign_in(web: TestClient) -> None:
    page = web.get("/admin/login?next=/admin")
    response = web.post(
        "/admin/login",
        data={"csrf": csrf_of(page.text), "token": ADMIN_TOKEN, "next": "/admin"},
    )
    assert response.status_code == 303, response.text


def form_of(web: TestClient, path: str) -> tuple[Response, str]:
    page = web.get(path)
    assert page.status_code == 200, page.text
    return page, csrf_of(page.text)
