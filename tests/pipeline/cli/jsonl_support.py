"""Articles to import as JSON Lines (a Dutch report, its English version) and a config
with one watchlist that matches both: shared by the import/export tests on SQLite and
on PostgreSQL."""

from __future__ import annotations

ARTICLES = [
    {
        "id": "nl-1",
        "title": "Jumbo schrapt 300 banen in Veghel",
        "text": "Supermarktketen Jumbo schrapt 300 banen op het hoofdkantoor in Veghel."
        " De ondernemingsraad van Jumbo is geschrokken. Vakbond FNV wil overleg.",
        "url": "https://nos.example/jumbo?utm_source=rss",
        "published": "2026-11-24T09:00:00Z",
        "source": "NOS",
    },
    {
        "id": "en-1",
        "title": "Jumbo to cut 300 jobs in Veghel",
        "text": "Dutch supermarket chain Jumbo will cut 300 jobs at its head office in"
        " Veghel. The FNV union wants talks with Jumbo management.",
        "url": "https://wire.example/jumbo",
        "published": "2026-11-24T12:00:00Z",
        "lang": "en",
    },
]
CONFIG = """data_dir = "data"
[[watchlists]]
name = "banen"
title = "Banen"
query = "banen OR jobs"
"""
