"""PostgreSQL for the tests: the server that ``.ci/postgres.sh`` starts, found through
``$TRENDWATCH_TEST_POSTGRES_URL``, and a fresh empty database per test on it.

Without that variable the tests that need PostgreSQL are skipped, saying how to start
one; in CI (``$CI`` set, as ``.ci/run`` does) its absence is a failure instead."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pipeline.store import Store

POSTGRES_URL_ENV = "TRENDWATCH_TEST_POSTGRES_URL"
NO_SERVER = (
    f"PostgreSQL tests need ${POSTGRES_URL_ENV}: start a throw-away server with"
    ' `eval "$(.ci/postgres.sh start)"` (README, "Run the tests")'
)


def in_ci(environ: Mapping[str, str]) -> bool:
    """True where a missing PostgreSQL is a failure, not a skip (``CI`` set, not 0/false)."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def server_url(environ: Mapping[str, str] = os.environ) -> str:
    """The test server's URL; skips the test without one (fails it in CI)."""
    url = environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        if in_ci(environ):
            pytest.fail(f"{NO_SERVER}; in CI it must be set", pytrace=False)
        pytest.skip(NO_SERVER)
    return url


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new empty database on the server at ``url``, dropped afterwards; yields its URL."""
    import psycopg

    name = f"tw_test_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(url, name)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# tables in an order their foreign keys accept (articles' story links come after stories)
COPIED = (
    "sources",
    "articles",
    "watchlists",
    "matches",
    "editions",
    "deliveries",
    "stories",
    "article_features",
    "trends",
    "cluster_stories",
    "subscribers",
    "subscribe_requests",
)
LATER = ("story_id", "duplicate_of")  # article columns set once the rows exist


def query(store: Store, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of a statement of the test's own, on either database (``?`` parameters),
    committed at once outside a transaction."""
    cursor = store._x(sql, params)
    return [tuple(row) for row in cursor.fetchall()] if cursor.description else []


@contextmanager
def as_on(store: Store, database: str | Path) -> Iterator[Store]:
    """``store`` itself when ``database`` is a SQLite file (the test's backend is SQLite),
    else the PostgreSQL database at ``database`` with ``store``'s rows copied into it."""
    if isinstance(database, Path):
        yield store
        return
    with Store(database) as other:
        copy_into(store, other)
        yield other


def copy_into(source: Store, target: Store) -> None:
    """Every row of ``source`` (a SQLite store) into ``target`` (an empty PostgreSQL
    one), ids kept, and ``target``'s search index rebuilt: the same data on the other
    database, for tests that read both. (A test's helper, not ``migrate-db``.)"""
    with target.transaction():
        for table in COPIED:
            rows = source._rows(f"SELECT * FROM {table}")
            if not rows:
                continue
            if table == "articles":
                rows = [{**r, **dict.fromkeys(LATER)} for r in rows]
            names = list(rows[0])
            target._many(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [tuple(r[n] for n in names) for r in rows],
            )
            if "id" in names:
                target._x(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
        target._many(
            "UPDATE articles SET story_id = ?, duplicate_of = ? WHERE id = ?",
            source._x("SELECT story_id, duplicate_of, id FROM articles").fetchall(),
        )
        for key, value in source._x("SELECT key, value FROM state").fetchall():
            target.set_state(key, value)
        target._x(
            "INSERT INTO article_search (id, title, text, lemmas, tags, language)"
            " SELECT a.id, a.title, a.text, coalesce((SELECT string_agg(t.key, ' ')"
            " FROM jsonb_object_keys(f.terms::jsonb) AS t(key)), ''),"
            " 'twsource' || a.source_id || ' twlang' || f.language, f.language"
            " FROM articles a JOIN article_features f ON f.article_id = a.id"
            " WHERE a.processed_at IS NOT NULL"
        )
