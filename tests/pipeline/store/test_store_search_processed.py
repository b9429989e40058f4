"""Search over articles the real process job indexed (spaCy's lemmas), on SQLite and
PostgreSQL: what a reader of the /search page cares about is the same on both (the
article about the word first, a word found through its lemma, a phrase in order, an
excluded word left out, a prefix, the filters, snippets marked); the rank itself
differs (bm25 on SQLite, ts_rank_cd on PostgreSQL), so only the first hit is compared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline import jsonl
from pipeline.process import job as process_job
from pipeline.search.lemmas import LANGUAGES, query_lemmas
from pipeline.search.query import SearchQuery, parse, with_lemmas
from pipeline.search.snippet import Highlight, snippet
from pipeline.settings import load_settings
from pipeline.store import Store
from pipeline.store.search import SearchFilters

pytestmark = pytest.mark.both_databases

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

CONFIG = """
data_dir = "data"
[[watchlists]]
name = "werk"
title = "Werk"
query = "banen OR jobs"
"""

# (id, title, text, source, published, lang)
ARTICLES = [
    (
        "bouw",
        "Gemeente Utrecht bouwt duizend nieuwe woningen",
        "De gemeente laat duizend nieuwe woningen bouwen. Een derde komt in de sociale sector.",
        "Nieuwsblad",
        "2026-11-20T08:00:00+00:00",
        "nl",
    ),
    (
        "huur",
        "Huurders betalen opnieuw meer",
        "De huur van een sociale huurwoning gaat omhoog. Er komen ook woningen bij.",
        "NOS",
        "2026-11-25T10:00:00+00:00",
        "nl",
    ),
    (
        "banen",
        "Supermarkt schrapt honderden banen",
        "Een supermarktketen schrapt driehonderd banen. De vakbond wil een sociaal plan.",
        "NOS",
        "2026-11-10T09:00:00+00:00",
        "nl",
    ),
    (
        "remote",
        "Companies hire more remote workers",
        "Large companies in Europe hired more remote workers this year, a survey finds.",
        "Reuters",
        "2026-11-24T12:00:00+00:00",
        "en",
    ),
]


@pytest.fixture
def indexed(database: str | Path, tmp_path: Path) -> Iterator[tuple[Store, dict[int, str]]]:
    """The articles imported and processed by the real jobs; ids → keys."""
    config = tmp_path / "trendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = load_settings(config)
    fields = ("id", "title", "text", "source", "published", "lang")
    lines = [json.dumps({**dict(zip(fields, a, strict=True)), "url": None}) for a in ARTICLES]
    data = tmp_path / "articles.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Store(database) as store:
        jsonl.import_jsonl(store, data, now=NOW)
        process_job.process(settings, store, now=NOW)
        titles = {a[1]: a[0] for a in ARTICLES}
        rows = store._x("SELECT id, title FROM articles").fetchall()
        yield store, {i: titles[t] for i, t in rows}


def query(text: str, language: str | None = None) -> SearchQuery:
    """``text`` as the web reads it: parsed, with the lemmas of each word."""
    langs = (language,) if language else LANGUAGES
    return with_lemmas(parse(text), lambda word: query_lemmas(word, langs))


def keys(indexed: tuple[Store, dict[int, str]], text: str, **kwargs: object) -> list[str]:
    store, by_id = indexed
    filters = SearchFilters(**kwargs)  # type: ignore[arg-type]
    return [by_id[h.id] for h in store.search(query(text, filters.language), filters).hits]


def test_words_are_found_through_their_lemmas(indexed: tuple[Store, dict[int, str]]) -> None:
    assert sorted(keys(indexed, "woning")) == ["bouw", "huur"]
    assert keys(indexed, "woningen")[0] == "bouw"  # in its title: first
    assert keys(indexed, "baan") == ["banen"]  # "banen" only
    assert keys(indexed, "company", language="en") == ["remote"]  # "companies" only
    assert keys(indexed, "worker") == ["remote"]


def test_the_syntax(indexed: tuple[Store, dict[int, str]]) -> None:
    def found(text: str) -> list[str]:
        return sorted(keys(indexed, text))

    assert found('"nieuwe woningen"') == ["bouw"]
    assert found('"woningen nieuwe"') == []
    assert found("sociale") == ["banen", "bouw", "huur"]
    assert found("sociale -huur") == ["banen", "bouw"]
    assert found("woning -Utrecht") == ["huur"]
    assert found("banen OR workers") == ["banen", "remote"]
    assert found("supermarkt*") == ["banen"]
    assert found("banen OR huur vakbond") == ["banen"]


def test_filters_and_newest_first(indexed: tuple[Store, dict[int, str]]) -> None:
    everything = "sociale OR workers"
    assert sorted(keys(indexed, everything, source="NOS")) == ["banen", "huur"]
    assert keys(indexed, everything, language="en") == ["remote"]
    assert keys(indexed, everything, watchlist="werk") == ["banen"]
    start, end = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC)
    assert sorted(keys(indexed, everything, start=start, end=end)) == ["bouw", "remote"]
    store, by_id = indexed
    newest = store.search(query(everything), sort="newest")
    assert [by_id[h.id] for h in newest.hits] == ["huur", "remote", "bouw", "banen"]


def test_snippets_mark_what_was_found(indexed: tuple[Store, dict[int, str]]) -> None:
    store, _ = indexed
    found = query("woning")
    hit = store.search(found).hits[0]
    segments = snippet(hit.text, Highlight.of(found), lambda w: query_lemmas(w, ("nl",)))
    assert ("woningen", True) in segments
