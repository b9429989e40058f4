"""The search tests' data: Dutch and English articles imported and processed by the real
jobs (JSON Lines import, then the process stage with spaCy, which fills the search
index), under a config with watchlists."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pipeline import jsonl
from pipeline.process import job as process_job
from pipeline.settings import load_settings
from pipeline.store import Store

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

CONFIG = """
data_dir = "data"
digest_title = "Trendwatch Werk"
secret_env = "TW_TEST_SECRET"
{web}
[schedule]
timezone = "Europe/Amsterdam"

[[watchlists]]
name = "wonen"
title = "Wonen"
query = "woningen OR huur OR housing"

[[watchlists]]
name = "werk"
title = "Werk"
query = "banen OR jobs OR werknemers"

[[subscribers]]
email = "lezer@example.org"
name = "Lezer"
language = "nl"
watchlists = ["wonen"]
"""

SCRIPT = "<script>document.title='pwned'</script>"

# (id, title, text, source, published, lang): "woningen" never stands as "woning", the
# English "companies" never as "company"
ARTICLES = [
    (
        "bouw",
        "Gemeente Utrecht bouwt duizend nieuwe woningen",
        "De gemeente Utrecht laat de komende vijf jaar duizend nieuwe woningen bouwen in"
        " Leidsche Rijn. Wethouder Jansen zegt dat de wachtlijsten te lang zijn geworden."
        " Een derde van de nieuwe woningen komt in de sociale sector.",
        "Utrechts Nieuwsblad",
        "2026-11-20T08:00:00+00:00",
        "nl",
    ),
    (
        "huur",
        "Huurders betalen opnieuw meer",
        "De huur van een sociale huurwoning gaat volgend jaar met gemiddeld vijf procent"
        " omhoog. Huurdersorganisaties zijn boos en vragen de minister om in te grijpen.",
        "NOS",
        "2026-11-25T10:00:00+00:00",
        "nl",
    ),
    (
        "banen",
        "Supermarkt schrapt honderden banen",
        "Een grote supermarktketen schrapt driehonderd banen op het hoofdkantoor. De"
        " vakbond wil snel met de directie om tafel over een sociaal plan voor de"
        " werknemers.",
        "NOS",
        "2026-11-10T09:00:00+00:00",
        "nl",
    ),
    (
        "remote",
        "Companies hire more remote workers",
        "Large companies in Europe hired more remote workers this year, a survey of"
        " employers shows. Most companies now offer two days of working from home, and"
        " workers say they value the flexibility.",
        "Wire",
        "2026-11-24T12:00:00+00:00",
        "en",
    ),
    (
        "housing",
        "Housing shortage grows in Dutch cities",
        "The shortage of affordable housing in Dutch cities grew again this year. Builders"
        " blame rising costs and slow permits; tenants pay more rent every year.",
        "Wire",
        "2026-11-18T07:00:00+00:00",
        "en",
    ),
    (
        "script",
        f"Woningnood {SCRIPT} in de Randstad",
        f"Een artikel over woningnood met een script erin: {SCRIPT} en"
        ' <img src="x" onerror="document.title=\'pwned\'"> als tekst. De woningnood blijft.',
        "Onbekend Blog",
        "2026-11-22T15:00:00+00:00",
        "nl",
    ),
]


def write_search_config(folder: Path, web: str = "") -> Path:
    path = folder / "trendwatch.toml"
    path.write_text(CONFIG.format(web=web), encoding="utf-8")
    return path


def load_articles(config: Path, articles: list[tuple[str, ...]] = ARTICLES) -> None:
    """Import ``articles`` and process them as ``trendwatch process`` does."""
    settings = load_settings(config)
    lines = [
        json.dumps(
            {
                "id": id_,
                "title": title,
                "text": text,
                "source": source,
                "published": published,
                "lang": lang,
                "url": f"https://news.example.org/{id_}",
            }
        )
        for id_, title, text, source, published, lang in articles
    ]
    data = config.parent / "articles.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Store(settings.database) as store:
        jsonl.import_jsonl(store, data, now=NOW)
        process_job.process(settings, store, now=NOW)
