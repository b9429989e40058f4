"""The connection on both databases: a new database gets the current schema once,
transactions commit or roll back as one (nested ones as savepoints), and on PostgreSQL a
database holding other tables, or a newer schema, is refused as a SQLite file is."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from pipeline.search.query import parse
from pipeline.store import SCHEMA_VERSION, ProcessedArticle, Store, StoreError
from postgres_support import query
from store_support import NOW, Src, entry, source_id

pytestmark = pytest.mark.both_databases


def test_a_new_database_gets_the_schema_and_reopening_keeps_it(database: str | Path) -> None:
    with Store(database) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.set_state("k", "v")
    with Store(database) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.state("k") == "v"


def test_a_transaction_commits_whole_or_not_at_all(database: str | Path) -> None:
    with Store(database) as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.set_state("a", "1")  # a nested transaction: a savepoint
            raise RuntimeError("boom")
        assert store.state("a") is None
        with store.transaction():
            store.set_state("a", "1")
            with pytest.raises(RuntimeError), store.transaction():
                store.set_state("b", "2")
                raise RuntimeError("inner only")
        assert (store.state("a"), store.state("b")) == ("1", None)
    with Store(database) as other:
        assert other.state("a") == "1"


def test_two_stores_on_one_database_see_each_others_writes(database: str | Path) -> None:
    with Store(database) as first, Store(database) as second:
        first.set_state("k", "from first")
        assert second.state("k") == "from first"


def test_postgresql_refuses_a_database_that_is_not_trendwatchs(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StoreError, match="holds tables but is not a trendwatch database"):
        Store(postgres_url)


def test_postgresql_refuses_a_newer_schema(postgres_url: str) -> None:
    Store(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE trendwatch_schema SET version = version + 1")
    with pytest.raises(StoreError, match="Upgrade trendwatch"):
        Store(postgres_url)


def test_postgresql_keeps_times_as_timestamptz_and_hides_the_password(postgres_url: str) -> None:
    with Store(postgres_url) as store:
        assert store.path is None and store.location == postgres_url  # no password here
    with psycopg.connect(postgres_url) as conn:
        kinds = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = 'articles'"
            ).fetchall()
        )
    assert kinds["published"] == "timestamp with time zone"
    assert kinds["title"] == "text"


def test_postgresql_indexes_processed_articles_for_full_text_search(postgres_url: str) -> None:
    """The batch's search rows are written on PostgreSQL too, in a ``tsvector`` under the
    article's language (Dutch stems ``woningen`` to what ``woning`` stems to), and
    the search finds it."""
    with Store(postgres_url) as store:
        store.sync_sources([Src("Bron", "https://x.test/feed")], NOW)
        store.save_entries(
            source_id(store), [entry(1, text="Er komen nieuwe woningen in Utrecht.")], NOW
        )
        [article] = store.articles_to_process()
        processed = ProcessedArticle(
            id=article.id,
            language="nl",
            entities=[],
            keyphrases=[],
            terms={"woning": 1, "utrecht": 1},
            numbers=[],
            links=[],
            minhash=None,
            duplicate_of=None,
            story_id=None,
        )
        store.save_processed([processed], matches=[], progress={}, stories=[], state={}, now=NOW)
        found = query(
            store,
            "SELECT id, lemmas, tags FROM article_search"
            " WHERE document @@ to_tsquery('dutch', 'woning')",
        )
        assert found == [(article.id, "utrecht woning", f"twsource{source_id(store)} twlangnl")]
        assert [h.id for h in store.search(parse("woningen")).hits] == [article.id]
