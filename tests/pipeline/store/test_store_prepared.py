"""An article's features and matches as the store writes them (``pipeline.store.prepared``):
made by the caller (where the article was analysed) or by ``save_processed`` itself, the
same text is stored, and it reads back as the features that were given: JSON as
``json.dumps(..., ensure_ascii=False)`` writes it, the keys of ``terms`` sorted."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from pipeline.store import ProcessedArticle, Store, feature_text, match_row
from postgres_support import query
from store_support import NOW, Wl, entry, source_id

pytestmark = pytest.mark.both_databases

ARTICLES = [
    ProcessedArticle(
        id=1,
        language="nl",
        entities=[
            {"text": "Ministerie van SZW", "key": "ministerie van szw", "label": "ORG"},
            {"text": "Zoë Ærø", "key": "zoe aero", "label": "PERSON"},
        ],
        keyphrases=["woningbouw", "café", "sociale huur"],
        terms={"woning": 3, "café": 1, "aanbod": 2, "Zee": 1},  # not in order
        numbers=["1.5", "2000"],
        links=["https://x.test/1", "https://x.test/a?b=c"],
        minhash=b"\x00\x01\xff",
        duplicate_of=None,
        story_id=None,
    ),
    ProcessedArticle(
        id=2,
        language="en",
        entities=[],
        keyphrases=[],
        terms={},
        numbers=[],
        links=[],
        minhash=None,
        duplicate_of=None,
        story_id=None,
    ),
]
WHY = {"terms": ["woningen", "Café"], "location": "title+body", "snippet": "… “woningen” …"}


def stored(store: Store) -> dict[str, list[tuple]]:
    return {
        "features": query(
            store,
            "SELECT article_id, language, entities, keyphrases, terms, numbers, links, minhash"
            " FROM article_features ORDER BY article_id",
        ),
        "search": query(store, "SELECT id, lemmas, tags FROM article_search ORDER BY id")
        if store.dialect.name == "postgresql"
        else query(store, "SELECT rowid, lemmas, tags FROM article_search ORDER BY rowid"),
        "matches": query(
            store, "SELECT article_id, watchlist, terms, location, snippet FROM matches"
        ),
    }


def save(store: Store, articles: list[ProcessedArticle]) -> None:
    store.save_processed(
        articles,
        matches=[match_row(1, "wonen", WHY)],
        progress={},
        stories=[],
        state={},
        now=NOW,
    )


@pytest.fixture
def two(store: Store) -> Store:
    store.save_entries(source_id(store), [entry(1), entry(2)], NOW)
    store.sync_watchlists([Wl("wonen", "Wonen", "woningen")])
    return store


def test_the_features_read_back_as_given_and_as_json_dumps_writes_them(two: Store) -> None:
    save(two, ARTICLES)
    for article in ARTICLES:
        found = two.features(article.id)
        assert found is not None
        assert [dict(e) for e in found.entities] == article.entities
        assert list(found.keyphrases) == article.keyphrases
        assert found.terms == article.terms
        assert (list(found.numbers), list(found.links)) == (article.numbers, article.links)
    first = stored(two)["features"][0]
    dumps = json.dumps
    assert first[2:7] == (
        dumps(ARTICLES[0].entities, ensure_ascii=False),
        dumps(ARTICLES[0].keyphrases, ensure_ascii=False),
        dumps(ARTICLES[0].terms, ensure_ascii=False, sort_keys=True),
        dumps(ARTICLES[0].numbers, ensure_ascii=False),
        dumps(ARTICLES[0].links, ensure_ascii=False),
    )
    search = stored(two)["search"]
    assert [row[1] for row in search] == ["Zee aanbod café woning", ""]
    assert stored(two)["matches"] == [
        (1, "wonen", dumps(WHY["terms"], ensure_ascii=False), WHY["location"], WHY["snippet"])
    ]


def test_features_made_by_the_caller_are_stored_as_the_store_makes_them(two: Store) -> None:
    save(two, ARTICLES)
    by_store = stored(two)
    made = [
        replace(a, text=feature_text(a.entities, a.keyphrases, a.terms, a.numbers, a.links))
        for a in ARTICLES
    ]
    two.reset_processing()
    save(two, made)
    assert stored(two) == by_store
    # the text given is what is stored: the store does not make it again
    text = made[1].text
    assert text is not None
    save(two, [made[0], replace(made[1], text=text._replace(keyphrases='["given"]'))])
    again = two.features(2)
    assert again is not None and again.keyphrases == ("given",)
