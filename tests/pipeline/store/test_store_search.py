"""The search index on real SQLite files: written by ``save_processed`` in its
transaction (and again when an article is processed again), gone with its article,
backfilled by the v5 migration (the v4 fixture becomes searchable); the MATCH
expression quotes whatever is typed; filters, both orders, pages and the count."""

from __future__ import annotations

import random
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.search.query import SearchQuery, Term, parse, with_lemmas
from pipeline.store import SCHEMA_VERSION, ProcessedArticle, Store, match_row
from pipeline.store import search as store_search
from pipeline.store.search import SearchFilters, SearchPage, match_expression
from store_support import NOW, Wl, entry, source_id

pytestmark = pytest.mark.both_databases

FIXTURE = Path(__file__).parents[2] / "fixtures" / "store" / "trendwatch-v4.db"


def processed(id_: int, terms: dict[str, int], lang: str = "nl") -> ProcessedArticle:
    return ProcessedArticle(
        id=id_,
        language=lang,
        entities=[],
        keyphrases=[],
        terms=terms,
        numbers=[],
        links=[],
        minhash=None,
        duplicate_of=None,
        story_id=None,
    )


def save(store: Store, *articles: ProcessedArticle, matches=()) -> None:
    store.save_processed(articles, matches=matches, progress={}, stories=[], state={}, now=NOW)


def lemmatised(text: str, lemmas: dict[str, set[str]] | None = None) -> SearchQuery:
    """``text`` parsed, with the lemmas given here (the web uses the NLP stage's)."""
    return with_lemmas(parse(text), lambda word: (lemmas or {}).get(word.lower(), set()))


def ids(page: SearchPage) -> list[int]:
    return [h.id for h in page.hits]


@pytest.fixture
def three(store: Store) -> Store:
    """Three processed articles: two Dutch (one about houses), one English."""
    sid = source_id(store)
    store.save_entries(
        sid,
        [
            entry(1, title="Nieuwe woningen in Utrecht", text="Er komen duizend woningen bij."),
            entry(2, title="Huur stijgt", text="De huur van woningen stijgt opnieuw."),
            entry(3, title="Companies hire", text="Large companies hire remote workers."),
        ],
        NOW,
    )
    store.sync_watchlists([Wl("wonen", "Wonen", "woningen")])
    save(
        store,
        processed(1, {"woning": 2, "utrecht": 1, "nieuw": 1}),
        processed(2, {"huur": 2, "woning": 1, "stijgen": 1}),
        processed(3, {"company": 2, "hire": 2, "worker": 1}, "en"),
        matches=[match_row(1, "wonen", {"terms": ["woningen"]})],
    )
    return store


def test_processed_articles_are_found_through_their_lemmas(three: Store) -> None:
    # "woning" stands in no text: the lemma column finds both Dutch articles
    woning = three.search(lemmatised("woning"))
    assert sorted(ids(woning)) == [1, 2] and woning.total == 2 and not woning.more
    # the title weighs most: the article with "woningen" in its title comes first
    assert ids(three.search(lemmatised("woningen", {"woningen": {"woning"}}))) == [1, 2]
    assert ids(three.search(lemmatised("company"))) == [3]
    hit = three.search(lemmatised("company")).hits[0]
    assert (hit.title, hit.source, hit.language, hit.url) == (
        "Companies hire",
        "Bron",
        "en",
        "https://x.test/3",
    )
    assert hit.date == NOW - timedelta(hours=3)
    # phrases and exclusions work on the plain text
    assert ids(three.search(parse('"duizend woningen"'))) == [1]
    assert ids(three.search(parse('"woningen duizend"'))) == []
    assert ids(three.search(lemmatised("woning -huur"))) == [1]
    assert sorted(ids(three.search(lemmatised("huur OR companies")))) == [2, 3]
    assert ids(three.search(parse("compan*"))) == [3]


def test_an_article_processed_again_replaces_its_row(three: Store) -> None:
    sid = source_id(three)
    changed = entry(1, title="Nieuwe scholen in Utrecht", text="Er komen drie scholen bij.")
    assert three.save_entries(sid, [changed], NOW).updated == 1
    save(three, processed(1, {"school": 2, "utrecht": 1}))
    assert ids(three.search(lemmatised("woning"))) == [2]
    assert ids(three.search(lemmatised("school"))) == [1]
    # its source and language as they are when it is processed again (a take-over)
    other = three.ensure_source("Ander", "import", "import:Ander", NOW)
    three._x("UPDATE articles SET source_id = ? WHERE id = 1", [other])
    save(three, processed(1, {"school": 2}, "en"))
    school = lemmatised("school")
    assert ids(three.search(school, SearchFilters(source="Ander", language="en"))) == [1]
    assert ids(three.search(school, SearchFilters(source="Bron"))) == []
    key = "id" if three.dialect.name == "postgresql" else "rowid"
    rows = three._x(f"SELECT count(*) FROM article_search WHERE {key} = 1").fetchone()
    assert rows[0] == 1


def test_the_index_is_written_in_the_batch_transaction(three: Store) -> None:
    sid = source_id(three)
    three.save_entries(sid, [entry(4, title="Scholen", text="Drie scholen.")], NOW)
    with pytest.raises(RuntimeError), three.transaction():
        save(three, processed(4, {"school": 1}))
        raise RuntimeError("crash after the batch")
    assert ids(three.search(lemmatised("school"))) == []
    assert three.unprocessed_count() == 1


def test_a_deleted_article_leaves_the_index(three: Store) -> None:
    three._x("DELETE FROM articles WHERE id = 1")
    assert ids(three.search(lemmatised("woning"))) == [2]
    assert three._x("SELECT count(*) FROM article_search").fetchone()[0] == 2


def test_filters_orders_and_pages(three: Store) -> None:
    sid = source_id(three)
    other = three.ensure_source("Ander", "import", "import:Ander", NOW)
    assert other != sid
    three.save_entries(other, [entry(4, title="Woningen overal", text="Woningen.")], NOW)
    save(three, processed(4, {"woning": 1}))
    woning = lemmatised("woning")
    assert sorted(ids(three.search(woning))) == [1, 2, 4]
    assert ids(three.search(woning, SearchFilters(watchlist="wonen"))) == [1]
    assert ids(three.search(woning, SearchFilters(source="Ander"))) == [4]
    assert sorted(ids(three.search(woning, SearchFilters(source="Bron")))) == [1, 2]
    assert ids(three.search(woning, SearchFilters(source="nergens"))) == []
    assert ids(three.search(woning, SearchFilters(language="x y"))) == []
    assert ids(three.search(lemmatised("company"), SearchFilters(language="nl"))) == []
    assert ids(three.search(lemmatised("company"), SearchFilters(language="en"))) == [3]
    # dates: entry n is published n hours before NOW; [start, end)
    window = SearchFilters(start=NOW - timedelta(hours=2), end=NOW - timedelta(hours=1))
    assert ids(three.search(woning, window)) == [2]
    # newest first: by publication date
    assert ids(three.search(woning, sort="newest")) == [1, 2, 4]
    # pages
    first = three.search(woning, sort="newest", limit=2)
    second = three.search(woning, sort="newest", limit=2, offset=2)
    assert (ids(first), ids(second), first.total, second.total) == ([1, 2], [4], 3, 3)


def test_a_search_looks_at_the_most_recent_matches(
    three: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_search, "WINDOW", 1)
    page = three.search(lemmatised("woning"))
    assert (ids(page), page.total, page.more) == ([2], 1, True)  # the later stored one
    monkeypatch.setattr(store_search, "WINDOW", 2)
    page = three.search(lemmatised("woning"), sort="newest")
    assert (ids(page), page.total, page.more) == ([1, 2], 2, False)
    # the window is taken after the filters
    monkeypatch.setattr(store_search, "WINDOW", 1)
    page = three.search(lemmatised("woning"), SearchFilters(watchlist="wonen"))
    assert (ids(page), page.total, page.more) == ([1], 1, False)


def test_the_match_expression_quotes_every_word() -> None:
    query = with_lemmas(
        parse('woningen OR Huis "nieuwe bouw" -huur ver* school'),
        lambda w: {"x"} if w != "school" else {"school"},
    )
    assert match_expression(query, ["twsource1", "twlangnl"]) == (
        '((("woningen" OR lemmas : ("x")) OR ("Huis" OR lemmas : ("x")))'
        ' AND (({title text} : "nieuwe bouw"))'
        ' AND ("ver" *)'
        ' AND ("school")'  # its lemma is itself: the word alone
        ' AND tags : "twsource1" AND tags : "twlangnl")'
        ' NOT (("huur" OR lemmas : ("x")))'
    )
    odd = SearchQuery(groups=((Term(('a"b',)),),))
    assert match_expression(odd) == '("a""b")'
    with pytest.raises(ValueError):
        match_expression(parse("-alleen"))


HOSTILE = [
    "NEAR(a b, 3)",
    "title : x",
    "{title text} : y",
    "a AND OR NOT b",
    "^start",
    "x + y",
    'he said "',
    '""',
    "-",
    "-(a OR b) c",
    "(((",
    "a* *b **",
    "'; DROP TABLE articles; --",
    "\x00\x01 null",
    "ÉÉN één Één",
    "日本語のテキスト",
    "😀 emoji",
    "a" * 600,
    " ".join(["woord"] * 40),
]


@pytest.mark.parametrize("text", HOSTILE)
def test_nothing_typed_reaches_fts5_raw(three: Store, text: str) -> None:
    query = lemmatised(text)
    if not query.empty:
        three.search(query)  # no sqlite3.OperationalError


def test_random_input_never_breaks_the_query(database: str | Path) -> None:
    rng = random.Random(5)
    alphabet = "ab \"-*()|:^{}+.,'OR AND NOT NEAR é\t\n"
    with Store(database) as store:
        for _ in range(500):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40)))
            query = lemmatised(text)
            if not query.empty:
                store.search(query)


def test_a_v4_database_is_migrated_and_its_articles_searchable(tmp_path: Path) -> None:
    path = tmp_path / "data" / "trendwatch.db"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        indexed = store.db.execute("SELECT count(*) FROM article_search").fetchone()[0]
        assert indexed == store.article_count() == 6
        # the fixture says "banen"; its terms hold the lemma "baan"
        found = store.search(lemmatised("baan"))
        assert {h.title for h in found.hits} >= {
            "Jumbo schrapt 300 banen in Veghel",
            "Honderden banen weg bij Jumbo",
        }
        assert ids(store.search(parse('"hybride werken"'))) == [4]
    assert len(list((path.parent / "backups").iterdir())) == 1
