"""procrastinate's own schema across its upgrades: the store's migrations apply the
migrations a newer procrastinate ships to a database whose queue tables an older one
made, record which applied, and apply each once."""

from __future__ import annotations

import psycopg
import pytest

from pipeline.store import Store
from pipeline.store import queue as store_queue
from pipeline.store.queue import migration_version, pending_migrations, queue_migrations
from postgres_support import query

UPGRADE_FROM = "03.04.00"  # the database is made with the migrations before this version


def shape(url: str) -> tuple[list[tuple], list[tuple]]:
    """procrastinate's tables' columns and its functions' signatures."""
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM"
            " information_schema.columns WHERE table_name LIKE 'procrastinate%'"
            " ORDER BY 1, 2"
        ).fetchall()
        functions = conn.execute(
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
            " AND p.proname LIKE 'procrastinate%' ORDER BY 1, 2"
        ).fetchall()
    return columns, functions


def test_pending_migrations_are_the_unapplied_ones_in_order() -> None:
    shipped = ["03.01.00_50_post_b.sql", "03.01.00_01_pre_a.sql", "03.00.00_01_x.sql"]
    assert pending_migrations(shipped, {"03.00.00_01_x.sql"}) == [
        "03.01.00_01_pre_a.sql",
        "03.01.00_50_post_b.sql",
    ]
    assert migration_version("03.01.00_50_post_b.sql") == "03.01.00"


def test_a_queue_made_by_an_older_procrastinate_is_brought_up_to_date(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    with Store(tmp_path / "fresh.db"):
        pass
    shipped = queue_migrations()
    older = [(n, sql) for n, sql in shipped if migration_version(n) < UPGRADE_FROM]
    newer = [n for n, _ in shipped if migration_version(n) >= UPGRADE_FROM]
    assert older and newer
    # the store's own tables first, without the queue's
    with monkeypatch.context() as m:
        m.setattr(store_queue, "queue_schema_sql", lambda: None)
        with Store(postgres_url):
            pass
    # then the queue as an older procrastinate made it, step by step from its first
    # schema, and recorded as an older trendwatch would have
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for _, sql in older:
            conn.execute(sql)  # type: ignore[call-overload]
        conn.execute(
            "CREATE TABLE queue_migrations (name TEXT PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for name, _ in older:
            conn.execute("INSERT INTO queue_migrations (name) VALUES (%s)", [name])
        conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args)"
            " VALUES ('crawl', 'crawl.fetch_source', '{}')"
        )

    with Store(postgres_url) as store:
        assert store.applied_queue_migrations() == [n for n, _ in shipped]
        [(waiting,)] = query(store, "SELECT count(*) FROM procrastinate_jobs")
        assert waiting == 1  # the queue's rows stay
    with Store(postgres_url) as store:  # nothing applied twice
        assert store.applied_queue_migrations() == [n for n, _ in shipped]

    # the upgraded schema has what a fresh one has
    from postgres_support import fresh_database, server_url

    with fresh_database(server_url()) as fresh:
        with Store(fresh):
            pass
        assert shape(postgres_url) == shape(fresh)


def test_a_queue_from_before_the_record_counts_as_made_by_the_first_version_we_used(
    postgres_url: str,
) -> None:
    with Store(postgres_url) as store:
        query(store, "DROP TABLE queue_migrations")
    with Store(postgres_url) as store:
        names = store.applied_queue_migrations()
    assert names == [n for n, _ in queue_migrations()]
    assert all(migration_version(n) <= store_queue.LEGACY_VERSION for n in names)


def test_sqlite_has_no_queue_migrations(tmp_path) -> None:
    with Store(tmp_path / "tw.db") as store:
        assert store.applied_queue_migrations() == []
